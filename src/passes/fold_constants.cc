// fold_constants(max_bytes=N): evaluate nodes whose inputs are all constants with the
// executor's kernels and replace them by Const nodes of the same name. Stateful and random ops,
// control flow and the graph's inputs are never folded; a result larger than max_bytes (default
// 16 MiB) that is also larger than its inputs is left alone, so folding cannot bloat the file.
#include <optional>
#include <set>

#include "common/dtype.h"

#include "graph/node_builders.h"
#include "graph/op_registry.h"
#include "passes/graph_edit.h"
#include "passes/pass.h"
#include "runtime/kernel.h"

namespace tffreeze::passes {
namespace {

bool foldable_op(const std::string& op) {
  static const std::set<std::string> kNever = {"Const", "Placeholder", "PlaceholderWithDefault", "Switch", "Merge", "NoOp",
                                               "Enter", "Exit", "NextIteration", "LoopCond", "Assert", "Print", "PrintV2"};
  if (kNever.count(op)) return false;
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
  Tensor t{node.attr().at("dtype").type(), {}, {}, {}};
  for (const auto& d : shape.dim()) {
    if (d.size() < 0) return std::nullopt;
    t.shape.push_back(d.size());
  }
  const int esize = dtype_size(t.dtype);
  if (esize == 0 || t.num_elements() > (64 << 20) / esize) return std::nullopt;
  t.bytes.assign(static_cast<std::size_t>(t.num_elements() * esize), '\0');
  return t;
}

PassReport fold_once(tf::GraphDef* graph, const PassContext& ctx) {
  PassReport report;
  const std::int64_t max_bytes = int_arg(ctx, "max_bytes", 16 << 20, 0);
  graph::GraphView view(*graph);
  std::vector<int> order = view.topological_order();
  std::map<int, Tensor> values;  // constant value of each node known so far
  // Tensors whose shape (not value) is known, held as zeros of that shape; only for nodes that
  // a Shape/Size/Rank query needs.
  std::map<std::pair<int, int>, Tensor> shaped;
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
  for (int i : order) {
    const auto& node = view.node(i);
    if (node.op() == "Const") {
      values[i] = const_value(node);
      continue;
    }
    if (node.op() == "Placeholder" && shape_relevant[static_cast<std::size_t>(i)]) {
      if (auto z = zeros_of_placeholder(node)) shaped[{i, 0}] = std::move(*z);
      continue;
    }
    if (!foldable_op(node.op()) || is_interface(ctx.inputs, node.name())) continue;
    std::vector<const Tensor*> inputs;
    bool all_const = !view.inputs(i).empty(), all_shaped = all_const;
    const auto shape_only = shape_only_ops().find(node.op());
    for (const auto& e : view.inputs(i)) {
      if (e.control()) {  // ordered after something: folding would drop that order
        all_const = all_shaped = false;
        break;
      }
      auto v = values.find(e.producer);
      if (v != values.end() && e.output == 0) {
        inputs.push_back(&v->second);
        continue;
      }
      all_const = false;
      auto z = shaped.find({e.producer, e.output});
      if (z == shaped.end()) {
        all_shaped = false;
        break;
      }
      inputs.push_back(&z->second);
      // A shape-like operand (axis, perm, sizes) must be a real constant.
      if (!is_shape_query(node.op())) {
        if (shape_only == shape_only_ops().end()) {
          all_shaped = false;
          break;
        }
        const int slot = e.input_slot, last = node.input_size() - 1;
        for (int p : shape_only->second) all_shaped = all_shaped && (p == -1 ? slot != last : slot != p);
        if (!all_shaped) break;
      }
    }
    if (!all_const && all_shaped && zero_operand(view, i) >= 0) {
      // x * 0 folds to zeros; x + 0 is x (an Identity, which remove_nodes takes away).
      const int k = zero_operand(view, i);
      runtime::KernelContext kctx(node, inputs);
      try {
        runtime::KernelRegistry::global().find(node.op())(kctx);
      } catch (const std::exception&) {
        continue;
      }
      Tensor& out = kctx.output(0);
      if (node.op() == "Mul") {
        tf::NodeDef folded = graph::make_const(node.name(), out);
        folded.set_device(node.device());
        *graph->mutable_node(i) = folded;
        values[i] = std::move(out);
        ++report.changed;
        continue;
      }
      if (out.shape == inputs[static_cast<std::size_t>(1 - k)]->shape && !is_interface(ctx.outputs, node.name())) {
        auto* n = graph->mutable_node(i);
        const std::string x = n->input(1 - k);
        n->set_op("Identity");
        n->clear_input();
        n->add_input(x);
        shaped[{i, 0}] = std::move(out);
        ++report.changed;
        continue;
      }
    }
    if (!all_const && all_shaped && !is_shape_query(node.op())) {
      // Shape propagation only: run the kernel on zeros, keep the outputs' shapes.
      if (!shape_relevant[static_cast<std::size_t>(i)]) continue;
      runtime::KernelContext kctx(node, inputs);
      try {
        runtime::KernelRegistry::global().find(node.op())(kctx);
      } catch (const std::exception&) {
        continue;
      }
      for (std::size_t k = 0; k < kctx.outputs().size(); ++k) shaped[{i, static_cast<int>(k)}] = std::move(kctx.outputs()[k]);
      continue;
    }
    if (!all_const && !(all_shaped && is_shape_query(node.op()))) continue;
    std::int64_t in_bytes = 0;
    for (const Tensor* t : inputs) in_bytes += byte_size(*t);
    runtime::KernelContext kctx(node, inputs);
    try {
      runtime::KernelRegistry::global().find(node.op())(kctx);
    } catch (const std::exception& e) {
      report.refused.push_back("node '" + node.name() + "': evaluating it failed: " + e.what());
      continue;
    }
    if (kctx.outputs().size() != 1) continue;  // multi-output nodes keep their structure
    Tensor& out = kctx.output(0);
    if (byte_size(out) > max_bytes && byte_size(out) > in_bytes) {
      report.refused.push_back("node '" + node.name() + "': folded value of " + std::to_string(byte_size(out)) +
                               " bytes would exceed max_bytes=" + std::to_string(max_bytes));
      continue;
    }
    tf::NodeDef folded = graph::make_const(node.name(), out);
    folded.set_device(node.device());
    *graph->mutable_node(i) = folded;
    values[i] = std::move(out);
    ++report.changed;
  }
  if (report.changed) {  // constants nobody reads any more
    graph::GraphView after(*graph);
    std::vector<bool> needed = ctx.outputs.empty() ? std::vector<bool>(static_cast<std::size_t>(after.size()), true)
                                                   : after.needed_by(ctx.outputs, ctx.inputs);
    std::vector<bool> remove(needed.size());
    for (std::size_t k = 0; k < needed.size(); ++k) remove[k] = !needed[k];
    erase_nodes(graph, remove);
  }
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
