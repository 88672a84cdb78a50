// Op definitions (inputs, outputs, attributes with types, defaults and limits) for the ops
// tffreeze understands, written in TensorFlow's REGISTER_OP notation (op_specs.cc) and parsed
// once into OpDef protos. Used by validation, default-attribute filling and the executor.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::graph {

namespace tf = ::tffreeze::tf;

class OpRegistry {
 public:
  // The built-in registry (op_specs.cc).
  static const OpRegistry& global();

  // Parses specs such as
  //   "Conv2D(input: T, filter: T) -> (output: T) | T: {half, float}; padding: {'SAME', 'VALID'}"
  // Throws std::invalid_argument naming the spec on a syntax error.
  void add(std::string_view spec);

  const tf::OpDef* find(std::string_view op) const;
  int size() const { return static_cast<int>(ops_.size()); }

 private:
  std::unordered_map<std::string, tf::OpDef> ops_;
};

// The attr value a node uses: its own, else the op's default, else nullptr.
const tf::AttrValue* attr_or_default(const tf::OpDef& def, const tf::NodeDef& node, std::string_view name);

// How many outputs a node of this op has (number_attr / type_list_attr resolved from the
// node's attrs or defaults); nullopt when an attr it depends on is missing.
std::optional<int> count_outputs(const tf::OpDef& def, const tf::NodeDef& node);
// How many data inputs the node must have by its op's definition (nullopt: its attrs do not say).
std::optional<int> count_inputs(const tf::OpDef& def, const tf::NodeDef& node);

}  // namespace tffreeze::graph
