// fold_constants(max_bytes=N): evaluate nodes whose inputs are all constants with the
// executor's kernels and replace them by Const nodes of the same name. Stateful and random ops,
// control flow and the graph's inputs are never folded; a result larger than max_bytes (default
// 16 MiB) that is also larger than its inputs is left alone, so folding cannot bloat the file.
#include <optional>
#include <set>

#include <cstring>

#include "common/dtype.h"
#include "graph/function_graph.h"
#include "graph/node_builders.h"
#include "graph/shape_inference.h"
#include "graph/op_registry.h"
#include "passes/graph_edit.h"
#include "passes/pass.h"
#include "runtime/kernel.h"

namespace tffreeze::passes {
namespace {

bool foldable_op(const std::string& op) {
  static const std::set<std::string> kNever = {"Const", "Placeholder", "PlaceholderWithDefault", "Switch", "Merge", "NoOp",
                                               "Enter", "Exit", "NextIteration", "LoopCond", "Assert", "Print", "PrintV2"};
  // Functional ops run library functions (not available to a kernel here); tensor lists are
  // variants, which a Const cannot hold.
  const bool functional = graph::is_functional_while(op) || graph::is_functional_if(op) || graph::is_functional_case(op) ||
                          op == "PartitionedCall" || op == "StatefulPartitionedCall";
  if (kNever.count(op) || functional || op.rfind("TensorList", 0) == 0) return false;
  const auto* def = graph::OpRegistry::global().find(op);
  if (def && def->is_stateful()) return false;
  return runtime::KernelRegistry::global().find(op) != nullptr;
}

std::int64_t byte_size(const Tensor& t) {
  std::int64_t n = static_cast<std::int64_t>(t.bytes.size());
  for (const auto& s : t.strings) n += static_cast<std::int64_t>(s.size());
  return n;
}

// Ops whose output shapes follow from their input shapes alone, given the listed operands as
// constants (shape, axis, perm, paddings, ...). Shapes of tensors computed by these from inputs
// of fully-defined shape are static, so Shape/Size/Rank of them fold (grappler's
// "materialize shapes").
const std::map<std::string, std::vector<int>>& shape_only_ops() {
  static const std::map<std::string, std::vector<int>> kOps = [] {
    std::map<std::string, std::vector<int>> m;
    for (const char* op : {"Add", "AddV2", "Sub", "Mul", "RealDiv", "Div", "Maximum", "Minimum", "Pow", "SquaredDifference", "BiasAdd",
                           "Relu", "Relu6", "Elu", "Selu", "LeakyRelu", "Sigmoid", "Tanh", "Softplus", "Softsign", "Exp", "Log", "Sqrt",
                           "Rsqrt", "Square", "Neg", "Abs", "Floor", "Ceil", "Round", "Sign", "Reciprocal", "Erf", "Identity", "Cast",
                           "Softmax", "LogSoftmax", "MatMul", "BatchMatMul", "BatchMatMulV2", "Conv2D", "DepthwiseConv2dNative",
                           "MaxPool", "AvgPool", "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3", "LRN", "AddN", "ZerosLike",
                           "OnesLike", "Pack", "Unpack", "Squeeze", "Select", "SelectV2", "Equal", "NotEqual", "Greater", "GreaterEqual",
                           "Less", "LessEqual", "LogicalAnd", "LogicalOr", "LogicalNot", "ClipByValue", "_FusedConv2D", "_FusedMatMul",
                           "FusedDepthwiseConv2dNative"})
      m[op] = {};
    for (const char* op : {"Reshape", "Transpose", "ExpandDims", "Pad", "PadV2", "MirrorPad", "Tile", "Mean", "Sum", "Max", "Min", "Prod",
                           "ArgMax", "ArgMin"})
      m[op] = {1};
    m["Split"] = {0};
    m["SplitV"] = {1, 2};
    m["Slice"] = {1, 2};
    m["StridedSlice"] = {1, 2, 3};
    m["GatherV2"] = {2};
    m["Fill"] = {0};
    m["Concat"] = {0};
    m["ConcatV2"] = {-1};  // the last operand
    return m;
  }();
  return kOps;
}

bool is_shape_query(const std::string& op) { return op == "Shape" || op == "Size" || op == "Rank"; }

bool all_zero_float(const Tensor& t) {
  if (t.dtype != tf::DT_FLOAT || t.num_elements() == 0) return false;
  for (std::int64_t i = 0; i < t.num_elements(); ++i)
    if (element_as_double(t, i) != 0) return false;
  return true;
}

// Mul(x, zeros) and Add(x, zeros) with x of static shape simplify (grappler's arithmetic
// rules): the product is zeros, the sum is x when the zeros do not broadcast it larger. The
// product assumes x is finite, as grappler does. Returns the zero operand's slot, or -1.
int zero_operand(const graph::GraphView& view, int i) {
  const std::string& op = view.node(i).op();
  if (op != "Mul" && op != "Add" && op != "AddV2") return -1;
  for (int k : {0, 1}) {
    int c = const_through_identity(view, i, k);
    if (c >= 0 && all_zero_float(const_value(view.node(c)))) return k;
  }
  return -1;
}

// Zeros of a placeholder's fully-defined shape; nullopt otherwise.
std::optional<Tensor> zeros_of_placeholder(const tf::NodeDef& node) {
  if (!node.attr().count("shape") || !node.attr().count("dtype")) return std::nullopt;
  const auto& shape = node.attr().at("shape").shape();
  if (shape.unknown_rank()) return std::nullopt;
  Tensor t{node.attr().at("dtype").type(), {}, {}, {}, {}};
  for (const auto& d : shape.dim()) {
    if (d.size() < 0) return std::nullopt;
    t.shape.push_back(d.size());
  }
  const int esize = dtype_size(t.dtype);
  if (esize == 0 || t.num_elements() > (64 << 20) / esize) return std::nullopt;
  t.bytes.assign(static_cast<std::size_t>(t.num_elements() * esize), '\0');
  return t;
}

// What is known about one tensor: a constant (value decoded on first use) or a static shape
// (zeros materialized only when a kernel must run on it).
struct Known {
  bool constant = false;
  int node = -1;
  graph::Dims shape;
  tf::DataType dtype = tf::DT_FLOAT;
  Tensor zeros;  // shape-only tensors: materialized lazily
};

class FoldState {
 public:
  explicit FoldState(const graph::GraphView& view) : view_(view) {}
  // Decoded constant value of a Const node (cached).
  const Tensor& value(int node) {
    auto it = values_.find(node);
    if (it == values_.end()) it = values_.emplace(node, const_value(view_.node(node))).first;
    return it->second;
  }
  void set_value(int node, Tensor t) { values_[node] = std::move(t); }
  bool has_value(int node) const { return values_.count(node) > 0; }
  std::map<std::pair<int, int>, Known> shaped;

 private:
  const graph::GraphView& view_;
  std::map<int, Tensor> values_;
};

graph::Dims const_shape(const tf::NodeDef& node) {
  graph::Dims d;
  for (const auto& dim : node.attr().at("value").tensor().tensor_shape().dim()) d.push_back(dim.size());
  return d;
}

Tensor& materialize(Known& k) {
  if (k.zeros.shape != k.shape || (k.zeros.bytes.empty() && k.zeros.strings.empty())) {
    k.zeros = Tensor{k.dtype, k.shape, {}, {}, {}};
    const int esize = dtype_size(k.dtype);
    if (k.dtype == tf::DT_STRING) k.zeros.strings.assign(static_cast<std::size_t>(k.zeros.num_elements()), "");
    else k.zeros.bytes.assign(static_cast<std::size_t>(k.zeros.num_elements() * esize), '\0');
  }
  return k.zeros;
}

bool run_kernel(const tf::NodeDef& node, const std::vector<const Tensor*>& inputs, std::vector<Tensor>* outputs, std::string* why) {
  runtime::KernelContext kctx(node, inputs);
  try {
    runtime::KernelRegistry::global().find(node.op())(kctx);
  } catch (const std::exception& e) {
    if (why) *why = e.what();
    return false;
  }
  *outputs = std::move(kctx.outputs());
  return true;
}

PassReport fold_once(tf::GraphDef* graph, const PassContext& ctx) {
  PassReport report;
  const std::int64_t max_bytes = int_arg(ctx, "max_bytes", 16 << 20, 0);
  graph::GraphView view(*graph);
  std::vector<int> order = view.topological_order();
  FoldState state(view);
  // Static shapes are tracked only for what a Shape/Size/Rank query or an x*0 / x+0 needs.
  std::vector<bool> shape_relevant(static_cast<std::size_t>(view.size()), false);
  {
    std::vector<std::string> queried;
    for (int i = 0; i < view.size(); ++i)
      if (is_shape_query(view.node(i).op())) {
        queried.push_back(view.node(i).name());
      } else if (int k = zero_operand(view, i); k >= 0 && view.node(i).input_size() >= 2) {
        queried.push_back(view.node(i).input(1 - k));
      }
    if (!queried.empty()) shape_relevant = view.needed_by(queried);
  }
  auto replace_by_const = [&](int i, Tensor out) {
    const auto& node = view.node(i);
    tf::NodeDef folded = graph::make_const(node.name(), out);
    folded.set_device(node.device());
    *graph->mutable_node(i) = std::move(folded);
    state.set_value(i, std::move(out));
    ++report.changed;
  };
  for (int i : order) {
    const auto& node = view.node(i);
    if (node.op() == "Const") continue;
    const bool relevant = shape_relevant[static_cast<std::size_t>(i)];
    if (node.op() == "Placeholder") {
      if (!relevant) continue;
      if (auto z = zeros_of_placeholder(node)) state.shaped[{i, 0}] = Known{false, i, z->shape, z->dtype, {}};
      continue;
    }
    if (!foldable_op(node.op()) || is_interface(ctx.inputs, node.name())) continue;
    // What each input is: a constant, a tensor of static shape, or unknown.
    std::vector<Known*> known;
    std::vector<Known> const_inputs;
    const_inputs.reserve(static_cast<std::size_t>(node.input_size()));
    bool all_const = !view.inputs(i).empty(), all_known = all_const;
    for (const auto& e : view.inputs(i)) {
      if (e.control()) {  // ordered after something: folding would drop that order
        all_const = all_known = false;
        break;
      }
      const auto& producer = view.node(e.producer);
      if ((producer.op() == "Const" && producer.attr().count("value") && e.output == 0) || (state.has_value(e.producer) && e.output == 0)) {
        Known k{true, e.producer, {}, tf::DT_FLOAT, {}};
        if (producer.op() == "Const") {
          k.shape = const_shape(producer);
          k.dtype = producer.attr().at("value").tensor().dtype();
        } else {
          k.shape = state.value(e.producer).shape;
          k.dtype = state.value(e.producer).dtype;
        }
        const_inputs.push_back(std::move(k));
        known.push_back(&const_inputs.back());
        continue;
      }
      all_const = false;
      auto z = state.shaped.find({e.producer, e.output});
      if (z == state.shaped.end()) {
        all_known = false;
        break;
      }
      known.push_back(&z->second);
    }
    if (!all_known) continue;
    // Input values for a kernel; for a shape rule (shapes_only_ok), only the small constants
    // (axes, sizes): weights are never decoded just to learn a shape.
    auto values_of = [&](bool shapes_only_ok) {
      std::vector<const Tensor*> v;
      for (Known* k : known) {
        std::int64_t n = 1;
        for (auto d : k->shape) n *= d;
        if (k->constant && (!shapes_only_ok || n <= 64)) v.push_back(&state.value(k->node));
        else v.push_back(shapes_only_ok ? nullptr : &materialize(*k));
      }
      return v;
    };

    if (all_const) {  // a real fold
      std::vector<const Tensor*> inputs = values_of(false);
      std::int64_t in_bytes = 0;
      for (const Tensor* t : inputs) in_bytes += byte_size(*t);
      std::vector<Tensor> outs;
      std::string why;
      if (!run_kernel(node, inputs, &outs, &why)) {
        report.refused.push_back("node '" + node.name() + "': evaluating it failed: " + why);
        continue;
      }
      if (outs.size() != 1) continue;  // multi-output nodes keep their structure
      if (byte_size(outs[0]) > max_bytes && byte_size(outs[0]) > in_bytes) {
        report.refused.push_back("node '" + node.name() + "': folded value of " + std::to_string(byte_size(outs[0])) +
                                 " bytes would exceed max_bytes=" + std::to_string(max_bytes));
        continue;
      }
      replace_by_const(i, std::move(outs[0]));
      continue;
    }
    // From here on, some input is known by its shape only.
    if (is_shape_query(node.op())) {
      const graph::Dims& d = known[0]->shape;
      Tensor out;
      const tf::DataType t = node.attr().count("out_type") ? node.attr().at("out_type").type() : tf::DT_INT32;
      if (node.op() == "Shape") {
        out = Tensor{t, {static_cast<std::int64_t>(d.size())}, std::string(d.size() * static_cast<std::size_t>(dtype_size(t)), '\0'), {}, {}};
        for (std::size_t k = 0; k < d.size(); ++k) {
          if (t == tf::DT_INT64) std::memcpy(out.bytes.data() + 8 * k, &d[k], 8);
          else { const std::int32_t v = static_cast<std::int32_t>(d[k]); std::memcpy(out.bytes.data() + 4 * k, &v, 4); }
        }
      } else {
        std::int64_t v = static_cast<std::int64_t>(d.size());
        if (node.op() == "Size") {
          v = 1;
          for (auto x : d) v *= x;
        }
        out = Tensor{t, {}, std::string(static_cast<std::size_t>(dtype_size(t)), '\0'), {}, {}};
        if (t == tf::DT_INT64) std::memcpy(out.bytes.data(), &v, 8);
        else { const std::int32_t w = static_cast<std::int32_t>(v); std::memcpy(out.bytes.data(), &w, 4); }
      }
      replace_by_const(i, std::move(out));
      continue;
    }
    // Shape-like operands (axis, perm, sizes) must be real constants for a static result.
    const auto shape_only = shape_only_ops().find(node.op());
    if (shape_only == shape_only_ops().end()) continue;
    bool params_const = true;
    for (int p : shape_only->second) {
      const std::size_t slot = p == -1 ? known.size() - 1 : static_cast<std::size_t>(p);
      params_const = params_const && slot < known.size() && known[slot]->constant;
    }
    if (!params_const) continue;
    const int zero = zero_operand(view, i);
    if (zero >= 0) {
      // x * 0 folds to zeros; x + 0 is x (an Identity, which remove_nodes takes away).
      std::vector<graph::Dims> shapes;
      for (Known* k : known) shapes.push_back(k->shape);
      auto out_shape = graph::output_shape(node, shapes, values_of(true));
      if (!out_shape) continue;
      const tf::DataType t = known[static_cast<std::size_t>(zero)]->dtype;
      if (node.op() == "Mul") {
        Tensor zeros{t, *out_shape, {}, {}, {}};
        zeros.bytes.assign(static_cast<std::size_t>(zeros.num_elements() * dtype_size(t)), '\0');
        replace_by_const(i, std::move(zeros));
        continue;
      }
      if (*out_shape == known[static_cast<std::size_t>(1 - zero)]->shape && !is_interface(ctx.outputs, node.name())) {
        auto* n = graph->mutable_node(i);
        const std::string x = n->input(1 - zero);
        n->set_op("Identity");
        n->clear_input();
        n->add_input(x);
        state.shaped[{i, 0}] = Known{false, i, *out_shape, t, {}};
        ++report.changed;
        continue;
      }
    }
    if (!relevant) continue;
    // Shape propagation: a shape rule where there is one, else the kernel on zeros.
    std::vector<graph::Dims> shapes;
    for (Known* k : known) shapes.push_back(k->shape);
    const tf::DataType out_type = node.attr().count("T") ? node.attr().at("T").type() : known[0]->dtype;
    if (auto out_shape = graph::output_shape(node, shapes, values_of(true))) {
      state.shaped[{i, 0}] = Known{false, i, *out_shape, out_type, {}};
      continue;
    }
    std::vector<Tensor> outs;
    if (!run_kernel(node, values_of(false), &outs, nullptr)) continue;
    for (std::size_t k = 0; k < outs.size(); ++k)
      state.shaped[{i, static_cast<int>(k)}] = Known{false, i, outs[k].shape, outs[k].dtype, std::move(outs[k])};
  }
  if (report.changed) remove_unneeded(graph, ctx.outputs, ctx.inputs);  // constants nobody reads any more
  return report;
}

// A fold can expose another (x * 0 becomes a constant, then y + that constant is y): repeat
// while something changes, a few rounds at most.
PassReport fold_constants(tf::GraphDef* graph, const PassContext& ctx) {
  PassReport total;
  for (int round = 0; round < 4; ++round) {
    PassReport r = fold_once(graph, ctx);
    total.changed += r.changed;
    if (round == 0 || r.changed == 0) total.refused = r.refused;
    if (r.changed == 0) break;
  }
  return total;
}

}  // namespace

void register_fold_constants(PassRegistry& r) {
  r.add("fold_constants", fold_constants, "evaluate nodes whose inputs are all constants (max_bytes=N caps growth)");
}

}  // namespace tffreeze::passes
