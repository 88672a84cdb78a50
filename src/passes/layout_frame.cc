#include "passes/layout_frame.h"

#include <set>

#include "common/dtype.h"
#include "graph/shape_inference.h"
#include "passes/graph_edit.h"
#include "runtime/kernel.h"

namespace tffreeze::passes::layout {

std::vector<int> to_channels_first(int rank) {
  std::vector<int> p{0, rank - 1};
  for (int d = 1; d + 1 < rank; ++d) p.push_back(d);
  return p;
}

std::vector<int> to_channels_last(int rank) {
  std::vector<int> p{0};
  for (int d = 2; d < rank; ++d) p.push_back(d);
  p.push_back(1);
  return p;
}

int channels_first_axis(int axis, int rank) { return axis == 0 ? 0 : axis == rank - 1 ? 1 : axis + 1; }

Tensor transpose(const Tensor& in, const std::vector<int>& perm) {
  const int rank = static_cast<int>(in.shape.size());
  if (rank < 2 || static_cast<int>(perm.size()) != rank) return in;
  Tensor out{in.dtype, {}, {}, {}, {}};
  // Input strides, in output-axis order.
  std::int64_t in_stride[8] = {}, stride[8] = {}, idx[8] = {};
  if (rank > 8) return in;
  in_stride[rank - 1] = 1;
  for (int d = rank - 1; d > 0; --d) in_stride[d - 1] = in_stride[d] * in.shape[static_cast<std::size_t>(d)];
  for (int j = 0; j < rank; ++j) {
    stride[j] = in_stride[perm[static_cast<std::size_t>(j)]];
    out.shape.push_back(in.shape[static_cast<std::size_t>(perm[static_cast<std::size_t>(j)])]);
  }
  const std::int64_t n = in.num_elements();
  const bool strings = in.dtype == tf::DT_STRING;
  const std::int64_t esize = strings ? 0 : dtype_size(in.dtype);
  if (strings) out.strings.resize(static_cast<std::size_t>(n));
  else out.bytes.resize(static_cast<std::size_t>(n * esize));
  std::int64_t src = 0;
  for (std::int64_t o = 0; o < n; ++o) {
    if (strings) out.strings[static_cast<std::size_t>(o)] = in.strings[static_cast<std::size_t>(src)];
    else std::memcpy(out.bytes.data() + o * esize, in.bytes.data() + src * esize, static_cast<std::size_t>(esize));
    for (int j = rank - 1; j >= 0; --j) {  // odometer over the output's index
      src += stride[j];
      if (++idx[j] < out.shape[static_cast<std::size_t>(j)]) break;
      src -= stride[j] * idx[j];
      idx[j] = 0;
    }
  }
  return out;
}

namespace {

// Values of tensors up to this size are kept: shape arithmetic (Shape, Pack, StridedSlice of a
// shape) must see real values, while activations are only needed for their shapes.
constexpr std::int64_t kKeepValue = 1024;
// Zeros are not materialized beyond this many elements (the shape stays unknown).
constexpr std::int64_t kMaxZeros = std::int64_t{1} << 24;

bool runnable(const std::string& op) {
  static const std::set<std::string> kNever = {"Placeholder", "PlaceholderWithDefault", "Switch", "Merge", "Enter", "Exit",
                                               "NextIteration", "LoopCond", "NoOp", "Assert", "Print", "PrintV2"};
  if (kNever.count(op)) return false;
  for (const char* stateful : {"Queue", "Iterator", "Variable", "Assign", "TensorList", "TensorArray", "Table", "Call", "While", "If", "Case"})
    if (op.find(stateful) != std::string::npos) return false;
  return runtime::KernelRegistry::global().find(op) != nullptr;
}

bool is_shape_query(const std::string& op) { return op == "Shape" || op == "ShapeN" || op == "Size" || op == "Rank"; }

// Ops whose result size depends on the values, not only the sizes, of their data.
bool data_dependent(const std::string& op) {
  return op == "Where" || op == "Unique" || op == "UniqueV2" || op == "UniqueWithCounts" || op.rfind("NonMaxSuppression", 0) == 0 ||
         op == "DynamicPartition" || op == "DynamicStitch" || op == "ParallelDynamicStitch";
}

Tensor zeros(tf::DataType dtype, const Dims& shape) {
  Tensor t{dtype, shape, {}, {}, {}};
  if (dtype == tf::DT_STRING) t.strings.assign(static_cast<std::size_t>(t.num_elements()), "");
  else t.bytes.assign(static_cast<std::size_t>(t.num_elements() * dtype_size(dtype)), '\0');
  return t;
}

std::int64_t elements(const Dims& d) {
  std::int64_t n = 1;
  for (auto x : d) n *= x;
  return n;
}

}  // namespace

StaticShapes::StaticShapes(const graph::GraphView& view) {
  std::vector<int> order;
  try {
    order = view.topological_order();
  } catch (const std::exception&) {
    return;  // a cycle: nothing is known, every op stays as it is
  }
  for (int i : order) infer(view, i);
}

const StaticShapes::Known* StaticShapes::find(int node, int output) const {
  auto it = known_.find({node, output});
  return it == known_.end() ? nullptr : &it->second;
}

int StaticShapes::rank(int node, int output) const {
  const Known* k = find(node, output);
  return k ? static_cast<int>(k->a.size()) : -1;
}

std::int64_t StaticShapes::dim(int node, int output, int d) const {
  const Known* k = find(node, output);
  if (!k || !k->exact || d < 0 || d >= static_cast<int>(k->a.size())) return -1;
  const auto u = static_cast<std::size_t>(d);
  return k->a[u] == k->b[u] ? k->a[u] : -1;
}

tf::DataType StaticShapes::dtype(int node, int output) const {
  const Known* k = find(node, output);
  return k ? k->dtype : tf::DT_INVALID;
}

const Tensor* StaticShapes::value(int node, int output, int sample) const {
  auto it = values_[sample].find({node, output});
  return it == values_[sample].end() ? nullptr : &it->second;
}

void StaticShapes::from_placeholder(const tf::NodeDef& node, int i) {
  if (!node.attr().count("shape") || !node.attr().count("dtype")) return;
  const auto& shape = node.attr().at("shape").shape();
  if (shape.unknown_rank()) return;
  Known k;
  k.dtype = node.attr().at("dtype").type();
  for (int d = 0; d < shape.dim_size(); ++d) {
    const std::int64_t size = shape.dim(d).size();
    k.a.push_back(size >= 0 ? size : 1);
    k.b.push_back(size >= 0 ? size : d == 0 ? 2 : 1);
    if (size < 0 && d > 0) k.exact = false;
  }
  known_[{i, 0}] = std::move(k);
}

bool StaticShapes::from_rule(const graph::GraphView& view, int i, const std::vector<const Known*>& in) {
  const auto& node = view.node(i);
  Known out;
  for (int s = 0; s < 2; ++s) {
    std::vector<Dims> shapes;
    std::vector<const Tensor*> values;
    for (std::size_t k = 0; k < in.size(); ++k) {
      const graph::Edge& e = *data_input(view, i, static_cast<int>(k));
      shapes.push_back(s == 0 ? in[k]->a : in[k]->b);
      values.push_back(value(e.producer, e.output, s));
    }
    auto dims = graph::output_shape(node, shapes, values);
    if (!dims) return false;
    (s == 0 ? out.a : out.b) = *dims;
  }
  for (const Known* k : in) out.exact = out.exact && k->exact;
  out.dtype = node.attr().count("T") ? node.attr().at("T").type() : in[0]->dtype;
  if (node.op() == "Cast" && node.attr().count("DstT")) out.dtype = node.attr().at("DstT").type();
  known_[{i, 0}] = std::move(out);
  return true;
}

void StaticShapes::from_kernel(const graph::GraphView& view, int i, const std::vector<const Known*>& in) {
  const auto& node = view.node(i);
  std::vector<Tensor> outs[2];
  // Zeros stand in for values not known here. Real values come out only from real values (or
  // from a shape query); an integer operand of unknown value (a size, an axis) or an op whose
  // result size depends on the data makes the output's sizes a guess, so they are not exact.
  bool real = true, guessed = data_dependent(node.op());
  for (int s = 0; s < 2; ++s) {
    std::vector<Tensor> made;
    made.reserve(in.size());
    std::vector<const Tensor*> args;
    for (std::size_t k = 0; k < in.size(); ++k) {
      const graph::Edge& e = *data_input(view, i, static_cast<int>(k));
      if (const Tensor* v = value(e.producer, e.output, s)) {
        args.push_back(v);
        continue;
      }
      const Dims& d = s == 0 ? in[k]->a : in[k]->b;
      if (in[k]->dtype == tf::DT_INVALID || elements(d) > kMaxZeros) return;
      real = false;
      guessed = guessed || in[k]->dtype == tf::DT_INT32 || in[k]->dtype == tf::DT_INT64 || in[k]->dtype == tf::DT_BOOL;
      made.push_back(zeros(in[k]->dtype, d));
      args.push_back(&made.back());
    }
    runtime::KernelContext kctx(node, args);
    try {
      runtime::KernelRegistry::global().find(node.op())(kctx);
    } catch (const std::exception&) {
      return;
    }
    outs[s] = std::move(kctx.outputs());
  }
  bool exact = !guessed;
  for (const Known* k : in) exact = exact && k->exact;
  const bool keep = real || is_shape_query(node.op());
  for (std::size_t o = 0; o < outs[0].size() && o < outs[1].size(); ++o) {
    known_[{i, static_cast<int>(o)}] = Known{outs[0][o].shape, outs[1][o].shape, exact, outs[0][o].dtype};
    for (int s = 0; s < 2; ++s)
      if (keep && outs[s][o].num_elements() <= kKeepValue && !outs[s][o].list) values_[s][{i, static_cast<int>(o)}] = std::move(outs[s][o]);
  }
}

void StaticShapes::infer(const graph::GraphView& view, int i) {
  const auto& node = view.node(i);
  if (node.op() == "Const") {
    if (!node.attr().count("value")) return;
    const auto& proto = node.attr().at("value").tensor();
    Known k;
    k.dtype = proto.dtype();
    for (const auto& d : proto.tensor_shape().dim()) k.a.push_back(d.size());
    k.b = k.a;
    if (elements(k.a) <= kKeepValue) {
      try {
        Tensor v = const_value(node);
        values_[0][{i, 0}] = v;
        values_[1][{i, 0}] = std::move(v);
      } catch (const std::exception&) {
        return;
      }
    }
    known_[{i, 0}] = std::move(k);
    return;
  }
  if (node.op() == "Placeholder") return from_placeholder(node, i);
  int data_inputs = 0;
  for (const auto& name : node.input()) data_inputs += !name.empty() && name[0] != '^';
  std::vector<const Known*> in(static_cast<std::size_t>(data_inputs), nullptr);
  for (const auto& e : view.inputs(i)) {
    if (e.control() || e.input_slot >= data_inputs) continue;
    in[static_cast<std::size_t>(e.input_slot)] = find(e.producer, e.output);
  }
  // Every input must be known (a dangling one never is).
  if (in.empty()) return;
  for (const Known* k : in)
    if (!k) return;
  if (from_rule(view, i, in)) return;
  if (runnable(node.op())) from_kernel(view, i, in);
}

}  // namespace tffreeze::passes::layout
