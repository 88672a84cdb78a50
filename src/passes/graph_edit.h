// Small editing helpers shared by the passes: constants behind Identity chains, rewiring
// consumers, erasing nodes.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/tensor.h"
#include "graph/graph_view.h"

namespace tffreeze::passes {

namespace tf = ::tffreeze::tf;

// The producer of data input `slot` of node i, or nullptr.
const graph::Edge* data_input(const graph::GraphView& view, int i, int slot);

// The Const feeding data input `slot` of node i, looking through Identity nodes; -1 if none.
// `chain` receives the Identity nodes passed through.
int const_through_identity(const graph::GraphView& view, int i, int slot, std::vector<int>* chain = nullptr);

// Number of data and control consumers of node i.
int consumer_count(const graph::GraphView& view, int i);

Tensor const_value(const tf::NodeDef& node);

// Removes the marked nodes (by index), keeping the others in order.
void erase_nodes(tf::GraphDef* graph, const std::vector<bool>& remove);

bool is_interface(const std::vector<std::string>& names, const std::string& node);

// A float tensor's values as floats; a float tensor from values.
std::vector<float> floats_of(const Tensor& t);
Tensor float_tensor(std::vector<std::int64_t> shape, const std::vector<float>& v);

// A constant's dtype, shape and (float32 only) values, read straight from its proto; and the
// reverse, in place. Weights are copied once, not three times.
// A float32 constant's values as its content bytes, so that a pass changes them in place and
// moves them back into the node: a model's weights are copied once, not three times.
struct FloatConst {
  tf::DataType dtype = tf::DT_INVALID;
  std::vector<std::int64_t> shape;
  std::string bytes;  // float32 values; empty unless dtype is float32
  float* values() { return reinterpret_cast<float*>(bytes.data()); }
  std::size_t size() const { return bytes.size() / sizeof(float); }
};
FloatConst read_float_const(const tf::NodeDef& node);
void write_float_const(tf::NodeDef* node, FloatConst&& value);

// A per-channel constant: its values when it is a scalar or has C values along the last axis
// (shapes [C], [1,C], [1,1,1,C]); empty otherwise.
std::vector<float> channel_vector(const Tensor& t, std::size_t C);

// BiasAdd(input, bias) taking the place of `like` (its name, control inputs and device).
tf::NodeDef bias_add_node(const std::string& name, const std::string& input, const std::string& bias, const tf::NodeDef& like,
                          const std::string& data_format = "NHWC");


// A batch of rewiring edits, applied at once by apply_rewrite():
//  - consumers of a tensor in `tensor` read its replacement instead (followed transitively);
//  - a control input "^n" on a node in `control` becomes those control inputs (none: dropped);
//  - data passing through a replaced tensor of node n picks up carried[n] as control inputs;
//  - nodes marked in `remove` are erased; control inputs on erased nodes without an entry in
//    `control` are dropped.
struct Rewrite {
  std::map<std::string, std::string> tensor;  // "n" (output 0) or "n:k" -> replacement input
  std::map<std::string, std::vector<std::string>> control, carried;
  std::vector<bool> remove;
  explicit Rewrite(int nodes) : remove(static_cast<std::size_t>(nodes), false) {}
};
void apply_rewrite(tf::GraphDef* graph, const Rewrite& rw);

// Canonical tensor key as used in Rewrite::tensor: "n" for output 0, else "n:k".
std::string tensor_key(const std::string& input);

// Removes nodes that the outputs do not need (inputs stop the walk). No-op without outputs.
int remove_unneeded(tf::GraphDef* graph, const std::vector<std::string>& outputs, const std::vector<std::string>& inputs);

}  // namespace tffreeze::passes

namespace tffreeze::passes {
struct PassContext;
struct PassReport;
// Bypasses nodes of the given ops that pass their single data input through (Print: input 0),
// except the graph's inputs and outputs. Returns how many; refusals go to the report.
int bypass_pass_through(tf::GraphDef* graph, const PassContext& ctx, const std::set<std::string>& ops, PassReport* report);
}  // namespace tffreeze::passes
