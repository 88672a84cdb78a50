// TF op -> ONNX nodes, one converter per TF op (or family), registered by op name in per-family
// files (ops_*.cc) as the executor's kernels and the passes are. Each converter reads a node of
// the (NCHW) TF graph and appends the ONNX nodes that compute the node's outputs under their TF
// tensor names; it throws Error (exit 4) for an attribute variant ONNX cannot express.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "export/onnx/context.h"

namespace tffreeze::onnx_export {

using Converter = void (*)(const tf::NodeDef& node, ExportContext& ctx);

class ConverterRegistry {
 public:
  static const ConverterRegistry& global();
  void add(const std::string& op, Converter c) { converters_[op] = c; }
  // Several TF ops that one converter handles (it dispatches on node.op()).
  void add_all(const std::vector<std::string>& ops, Converter c) {
    for (const auto& op : ops) converters_[op] = c;
  }
  Converter find(const std::string& op) const;
  const std::map<std::string, Converter>& all() const { return converters_; }

 private:
  std::map<std::string, Converter> converters_;
};

// The converter families, one file each (ops_<family>.cc defines register_<family>_converters):
// adding a family is one word here.
#define TFFREEZE_CONVERTER_FAMILIES(X) X(elementwise) X(nn) X(shape) X(reduce) X(image) X(scatter) X(control)
#define TFFREEZE_DECLARE_CONVERTER_FAMILY(family) void register_##family##_converters(ConverterRegistry& r);
TFFREEZE_CONVERTER_FAMILIES(TFFREEZE_DECLARE_CONVERTER_FAMILY)
#undef TFFREEZE_DECLARE_CONVERTER_FAMILY

// ---- helpers shared by the converters -------------------------------------------------------

// The node's data inputs (control inputs dropped), as ONNX value names.
std::vector<std::string> inputs_of(const tf::NodeDef& node);
std::int64_t attr_int(const tf::NodeDef& node, const std::string& name, std::int64_t fallback);
float attr_float(const tf::NodeDef& node, const std::string& name, float fallback);
bool attr_bool(const tf::NodeDef& node, const std::string& name, bool fallback);
std::string attr_string(const tf::NodeDef& node, const std::string& name, const std::string& fallback);
std::vector<std::int64_t> attr_ints(const tf::NodeDef& node, const std::string& name);
tf::DataType attr_type(const tf::NodeDef& node, const std::string& name, tf::DataType fallback);

// Error (exit 4): "node 'x' (Op): what has no ONNX form".
[[noreturn]] void no_onnx_form(const tf::NodeDef& node, const std::string& what);

// Input k of `node` as a constant's integer values (an axis, a shape, paddings); Error (exit 4)
// when it is not a constant.
std::vector<std::int64_t> const_ints(const tf::NodeDef& node, int k, ExportContext& ctx);

// Input k as an int64 ONNX value (shapes, axes, pads, repeats are int64 in ONNX): a new
// initializer when constant (same shape), else a Cast.
std::string int64_input(const tf::NodeDef& node, int k, ExportContext& ctx);

// A one-to-one node: ONNX `op_type` over the node's data inputs, output 0 named after the node.
onnx::NodeProto* emit_same(const tf::NodeDef& node, ExportContext& ctx, const std::string& op_type);

// Casts ONNX value `v` to `to` (a TF dtype) under a fresh name; returns the new value.
std::string cast(ExportContext& ctx, const std::string& v, tf::DataType to, const std::string& name);

}  // namespace tffreeze::onnx_export
