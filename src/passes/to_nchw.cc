// to_nchw(inputs_as_nchw=a;b, outputs_as_nchw=c): the graph rewritten in the channels-first frame
// (NCHW, NCDHW for 3-D ops) by construction, for exporters whose runtimes are channels-first:
//   - ops with a data_format (Conv2D, DepthwiseConv2dNative, Conv2DBackpropInput, _FusedConv2D,
//     FusedDepthwiseConv2dNative, MaxPool, AvgPool, Conv3D, MaxPool3D, AvgPool3D) run NCHW, their
//     strides/ksize/dilations/paddings permuted; BiasAdd and FusedBatchNorm follow their input;
//   - element-wise ops keep their input's frame; constant operands are transposed (a [C] or [W,C]
//     constant is first expanded to the full rank);
//   - ops with axes (ConcatV2, reductions, ArgMax, Pad, Slice, StridedSlice, Split, Squeeze, Tile,
//     Transpose) get their constant axes rewritten in the NCHW frame;
//   - a Reshape that flattens an NCHW tensor into matrix products keeps the NCHW order and the
//     products' constant weights get their rows permuted instead;
//   - every other op reads NHWC: a Transpose goes back, one per tensor however many read it.
// Names in inputs_as_nchw become NCHW placeholders; the others get a Transpose after them when an
// NCHW op reads them. Outputs keep their names and NHWC layout unless in outputs_as_nchw. Lists
// separate names with ';', '|', or ',' inside quotes ("a,b"). The report's `refused` says why each
// Transpose that stays is there.
#include <algorithm>
#include <numeric>
#include <optional>
#include <set>

#include "common/dtype.h"
#include "graph/node_builders.h"
#include "graph/unique_names.h"
#include "passes/graph_edit.h"
#include "passes/layout_frame.h"
#include "passes/pass.h"

namespace tffreeze::passes {
namespace {

using layout::Dims;
using Ints = std::vector<std::int64_t>;

// How a tensor of the rewritten graph holds its values. kFlat: an NCHW tensor reshaped to
// [N, C*H*W], read only by matrix products whose weights were permuted to match.
enum class Frame { kPlain, kFirst, kFlat };

struct Value {
  std::string name;  // tensor name in the rewritten graph
  Frame frame = Frame::kPlain;
  int rank = -1;
  tf::DataType dtype = tf::DT_INVALID;
};

// nullopt: rewritten in the NCHW frame. A string: the op stays NHWC, for this reason ("" when
// no NCHW tensor reaches it, so there is nothing to say).
using Outcome = std::optional<std::string>;
const Outcome kDone = std::nullopt;
const Outcome kUntouched = std::string();

std::vector<std::string> split_names(const std::string& list) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : list + ";") {
    if (c == ';' || c == '|' || c == ',') {
      const auto b = cur.find_first_not_of(" \t"), e = cur.find_last_not_of(" \t");
      if (b != std::string::npos) out.push_back(cur.substr(b, e - b + 1));
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

std::string data_format_of(const tf::NodeDef& node, const std::string& fallback) {
  auto it = node.attr().find("data_format");
  return it == node.attr().end() ? fallback : it->second.s();
}

const std::set<std::string>& elementwise_ops() {
  static const std::set<std::string> kOps = {
      "Relu", "Relu6", "Elu", "Selu", "LeakyRelu", "Sigmoid", "Tanh", "Softplus", "Softsign", "Identity", "StopGradient", "Snapshot",
      "Neg", "Abs", "Sqrt", "Rsqrt", "Square", "Exp", "Expm1", "Log", "Log1p", "Floor", "Ceil", "Round", "Rint", "Sign", "Reciprocal",
      "Erf", "Sin", "Cos", "Cast", "ZerosLike", "OnesLike", "IsNan", "LogicalNot", "Add", "AddV2", "Sub", "Mul", "RealDiv", "Div",
      "DivNoNan", "Maximum", "Minimum", "SquaredDifference", "Pow", "FloorDiv", "FloorMod", "Greater", "GreaterEqual", "Less",
      "LessEqual", "Equal", "NotEqual", "LogicalAnd", "LogicalOr", "AddN", "ClipByValue", "Select", "SelectV2", "Prelu"};
  return kOps;
}

// Ops that need a data_format and have NCHW kernels: rank and the data input's slot.
struct Windowed {
  int rank, slot;
};
const std::map<std::string, Windowed>& windowed_ops() {
  static const std::map<std::string, Windowed> kOps = {
      {"Conv2D", {4, 0}}, {"DepthwiseConv2dNative", {4, 0}}, {"_FusedConv2D", {4, 0}}, {"FusedDepthwiseConv2dNative", {4, 0}},
      {"Conv2DBackpropInput", {4, 2}}, {"MaxPool", {4, 0}}, {"AvgPool", {4, 0}}, {"Conv3D", {5, 0}}, {"MaxPool3D", {5, 0}},
      {"AvgPool3D", {5, 0}}};
  return kOps;
}

const std::set<std::string>& reduce_ops() {
  static const std::set<std::string> kOps = {"Mean", "Sum", "Max", "Min", "Prod", "EuclideanNorm", "All", "Any", "ArgMax", "ArgMin"};
  return kOps;
}

std::int64_t elements_of(const tf::NodeDef& c) {
  std::int64_t n = 1;
  for (const auto& d : c.attr().at("value").tensor().tensor_shape().dim()) n *= d.size();
  return n;
}

bool is_identity(const std::vector<int>& perm) {
  for (std::size_t j = 0; j < perm.size(); ++j)
    if (perm[j] != static_cast<int>(j)) return false;
  return true;
}

// Values permuted into the channels-first order (v has one entry per axis, or `group` per axis).
Ints permuted(const Ints& v, int rank, int group = 1) {
  Ints out;
  for (int a : layout::to_channels_first(rank))
    for (int g = 0; g < group; ++g) out.push_back(v[static_cast<std::size_t>(a * group + g)]);
  return out;
}

// Axes normalized to [0, rank); nullopt when one is out of range.
std::optional<std::vector<int>> normalized(const Ints& axes, int rank) {
  std::vector<int> out;
  for (auto a : axes) {
    if (a < -rank || a >= rank) return std::nullopt;
    out.push_back(static_cast<int>(a < 0 ? a + rank : a));
  }
  return out;
}

// After dropping `dropped` axes of a channels-first tensor, are the remaining axes in the order
// the channels-last graph has them? (Mean over H,W: [N,C] both ways.)
bool remaining_axes_in_order(const std::vector<int>& dropped, int rank) {
  std::vector<int> kept;
  for (int a : layout::to_channels_first(rank))
    if (std::find(dropped.begin(), dropped.end(), a) == dropped.end()) kept.push_back(a);
  return std::is_sorted(kept.begin(), kept.end());
}

// How an element-wise operand enters the NCHW frame: as it is (NCHW already, or a scalar), as a
// transposed constant, or through a Transpose.
enum class Operand { kAsIs, kConst, kTranspose };

int data_input_count(const tf::NodeDef& node) {
  int n = 0;
  for (const auto& in : node.input()) n += !in.empty() && in[0] != '^';
  return n;
}

class NchwRewriter {
 public:
  NchwRewriter(tf::GraphDef* graph, const PassContext& ctx)
      : graph_(graph), ctx_(ctx), view_(*graph), shapes_(view_), names_(*graph) {
    for (const char* key : {"inputs_as_nchw", "outputs_as_nchw"}) {
      auto it = ctx.args.find(key);
      auto& set = std::string(key) == "inputs_as_nchw" ? inputs_first_ : outputs_first_;
      if (it != ctx.args.end())
        for (auto& n : split_names(it->second)) set.insert(tensor_key(n));  // "x:0" is "x"
    }
  }

  PassReport run();

 private:
  // ---- tensors of the rewritten graph ----
  Value input(int node, int slot) const;
  const tf::NodeDef* const_at(int node, int slot) const;
  std::optional<Ints> ints_at(int node, int slot) const;
  void set_output(int node, int output, Frame frame, int rank);
  std::string first(const Value& v, int rank, const std::string& consumer);
  std::string last(const Value& v);
  std::string transpose_node(const std::string& x, tf::DataType dtype, const std::vector<int>& perm, const std::string& suffix);
  std::string perm_const(const std::vector<int>& perm);
  std::string new_const(const std::string& base, Tensor value);
  std::string ints_like(int node, int slot, const Ints& values, const Dims& shape);
  tf::DataType dtype_of(int node, int output) const;
  int rank_of(int node, int output) const;

  // ---- per-op rewrites ----
  void visit(int i);
  Outcome dispatch(int i);
  Outcome windowed(int i, const Windowed& w);
  Outcome channel_op(int i);
  Outcome elementwise(int i);
  int elementwise_rank(int i, int data_inputs);
  Outcome plan_operand(int i, int slot, int rank, Operand* how) const;
  std::string const_in_first(int i, int slot, int rank);
  Outcome concat(int i);
  Outcome reduce(int i);
  Outcome pad(int i);
  Outcome slice(int i);
  Outcome strided_slice(int i);
  Outcome split(int i);
  Outcome squeeze(int i);
  Outcome tile(int i);
  Outcome transpose_op(int i);
  Outcome plain_transpose(int i);
  Outcome reshape(int i);
  Outcome matmul(int i);
  void keep_nhwc(int i, const std::string& why);
  std::optional<int> first_rank(int i, int slot) const;
  bool feeds_only_nchw(int i, int depth);
  std::optional<int> pulled_rank(int i, int slot);
  bool permute_list_attr(tf::NodeDef* node, const char* key, int rank, int group = 1);
  bool is_output(const std::string& name) const { return is_interface(ctx_.outputs, name); }

  // ---- the interface ----
  void take_inputs_nchw();
  void finish_output(const std::string& tensor);
  void rename(const std::string& from, const std::string& to);

  tf::GraphDef* graph_;
  const PassContext& ctx_;
  graph::GraphView view_;
  layout::StaticShapes shapes_;
  graph::UniqueNames names_;
  std::set<std::string> inputs_first_, outputs_first_;
  std::vector<tf::NodeDef> added_;
  std::map<std::string, Value> values_;                     // original tensor key -> rewritten
  std::map<std::string, std::string> to_first_, to_last_;   // tensor -> its transposed copy
  std::map<std::string, std::string> perms_;                // perm -> its Const
  std::map<int, bool> feeds_nchw_;                          // memo of feeds_only_nchw
  std::map<std::string, Dims> flat_;                        // kFlat tensor -> channels-last dims [H,W,C]
  PassReport report_;
};

// ---- tensors ------------------------------------------------------------------------------------

tf::DataType NchwRewriter::dtype_of(int node, int output) const {
  tf::DataType t = shapes_.dtype(node, output);
  if (t != tf::DT_INVALID) return t;
  const auto& n = view_.node(node);
  for (const char* key : {"T", "dtype"})
    if (n.attr().count(key)) return n.attr().at(key).type();
  return tf::DT_INVALID;
}

int NchwRewriter::rank_of(int node, int output) const { return shapes_.rank(node, output); }

Value NchwRewriter::input(int node, int slot) const {
  const graph::Edge* e = data_input(view_, node, slot);
  if (!e) return Value{view_.node(node).input(slot)};
  const std::string key = tensor_key(view_.node(e->producer).name() + (e->output ? ":" + std::to_string(e->output) : ""));
  auto it = values_.find(key);
  if (it != values_.end()) return it->second;
  return Value{key, Frame::kPlain, rank_of(e->producer, e->output), dtype_of(e->producer, e->output)};
}

const tf::NodeDef* NchwRewriter::const_at(int node, int slot) const {
  const graph::Edge* e = data_input(view_, node, slot);
  if (!e || e->output != 0) return nullptr;
  const auto& p = view_.node(e->producer);
  return p.op() == "Const" && p.attr().count("value") ? &p : nullptr;
}

std::optional<Ints> NchwRewriter::ints_at(int node, int slot) const {
  const tf::NodeDef* c = const_at(node, slot);
  if (!c) return std::nullopt;
  const auto t = c->attr().at("value").tensor().dtype();
  if (t != tf::DT_INT32 && t != tf::DT_INT64) return std::nullopt;
  Tensor v = const_value(*c);
  Ints out;
  for (std::int64_t k = 0; k < v.num_elements(); ++k) out.push_back(static_cast<std::int64_t>(element_as_double(v, k)));
  return out;
}

void NchwRewriter::set_output(int node, int output, Frame frame, int rank) {
  const std::string name = view_.node(node).name() + (output ? ":" + std::to_string(output) : "");
  if (frame != Frame::kPlain) graph_->mutable_node(node)->mutable_attr()->erase("_output_shapes");  // NHWC shapes: stale now
  values_[tensor_key(name)] = Value{name, frame, rank, dtype_of(node, output)};
}

std::string NchwRewriter::new_const(const std::string& base, Tensor value) {
  added_.push_back(graph::make_const(names_.fresh(base), std::move(value)));
  return added_.back().name();
}

// A new integer Const of the dtype the original operand at `slot` had (int32 or int64).
std::string NchwRewriter::ints_like(int node, int slot, const Ints& values, const Dims& shape) {
  const tf::NodeDef* c = const_at(node, slot);
  const tf::DataType t = c ? c->attr().at("value").tensor().dtype() : tf::DT_INT32;
  Tensor v{t, shape, std::string(values.size() * static_cast<std::size_t>(dtype_size(t)), '\0'), {}, {}};
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (t == tf::DT_INT64) std::memcpy(v.bytes.data() + 8 * k, &values[k], 8);
    else { const auto w = static_cast<std::int32_t>(values[k]); std::memcpy(v.bytes.data() + 4 * k, &w, 4); }
  }
  return new_const(view_.node(node).name() + "/nchw_" + (c ? c->name().substr(c->name().rfind('/') + 1) : "axes"), std::move(v));
}

std::string NchwRewriter::perm_const(const std::vector<int>& perm) {
  std::string key;
  for (int p : perm) key += std::to_string(p);
  auto it = perms_.find(key);
  if (it != perms_.end()) return it->second;
  Tensor v{tf::DT_INT32, {static_cast<std::int64_t>(perm.size())}, std::string(perm.size() * 4, '\0'), {}, {}};
  for (std::size_t k = 0; k < perm.size(); ++k) std::memcpy(v.bytes.data() + 4 * k, &perm[k], 4);
  return perms_[key] = new_const("to_nchw/perm_" + key, std::move(v));
}

std::string NchwRewriter::transpose_node(const std::string& x, tf::DataType dtype, const std::vector<int>& perm, const std::string& suffix) {
  std::string base = x;
  std::replace(base.begin(), base.end(), ':', '_');
  tf::NodeDef t;
  t.set_name(names_.fresh(base + suffix));
  t.set_op("Transpose");
  t.add_input(x);
  t.add_input(perm_const(perm));
  (*t.mutable_attr())["T"].set_type(dtype == tf::DT_INVALID ? tf::DT_FLOAT : dtype);
  (*t.mutable_attr())["Tperm"].set_type(tf::DT_INT32);
  added_.push_back(std::move(t));
  return added_.back().name();
}

// The tensor in the channels-first frame: itself, a transposed constant, or a Transpose (one per
// tensor, and none when the tensor is itself a Transpose back from NCHW).
std::string NchwRewriter::first(const Value& v, int rank, const std::string& consumer) {
  if (v.frame == Frame::kFirst) return v.name;
  auto it = to_first_.find(v.name);
  if (it != to_first_.end()) return it->second;
  const int producer = view_.find(graph::parse_input(v.name).node);
  const tf::NodeDef* p = producer >= 0 ? &view_.node(producer) : nullptr;
  if (p && p->op() == "Const" && v.name == p->name()) {
    return to_first_[v.name] = new_const(p->name() + "/nchw", layout::transpose(const_value(*p), layout::to_channels_first(rank)));
  }
  const std::string t = transpose_node(v.name, v.dtype, layout::to_channels_first(rank), "/to_nchw");
  if (!p) {
    report_.refused.push_back("tensor '" + v.name + "': NHWC, and '" + consumer + "' runs NCHW; a Transpose follows it");
  } else if (p->op() == "Placeholder") {
    report_.refused.push_back("node '" + p->name() + "' (Placeholder): the graph input is NHWC and '" + consumer +
                              "' runs NCHW; a Transpose follows it (inputs_as_nchw=" + p->name() + " takes it NCHW instead)");
  } else {
    report_.refused.push_back("node '" + p->name() + "' (" + p->op() + "): gives NHWC and '" + consumer + "' runs NCHW; a Transpose follows it");
  }
  to_last_[t] = v.name;
  return to_first_[v.name] = t;
}

std::string NchwRewriter::last(const Value& v) {
  if (v.frame != Frame::kFirst) return v.name;
  auto it = to_last_.find(v.name);
  if (it != to_last_.end()) return it->second;
  const std::string t = transpose_node(v.name, v.dtype, layout::to_channels_last(v.rank), "/to_nhwc");
  to_first_[t] = v.name;
  return to_last_[v.name] = t;
}

// ---- the walk -----------------------------------------------------------------------------------

PassReport NchwRewriter::run() {
  std::vector<int> order;
  try {
    order = view_.topological_order();
  } catch (const std::exception& e) {
    report_.refused.push_back(std::string("graph: ") + e.what() + "; left NHWC");
    return report_;
  }
  take_inputs_nchw();
  for (int i : order) visit(i);
  std::set<std::string> outputs;  // "y" and "y:0" are one output
  for (const auto& o : ctx_.outputs) outputs.insert(tensor_key(o));
  for (const auto& o : outputs) finish_output(o);
  for (auto& n : added_) *graph_->add_node() = std::move(n);
  if (report_.changed || !added_.empty()) {
    remove_unneeded(graph_, ctx_.outputs, ctx_.inputs);  // the original constants and bypassed Transposes
    PassRegistry::global().find("sort_by_execution_order")->run(graph_, ctx_);
  }
  return report_;
}

void NchwRewriter::visit(int i) {
  const auto& node = view_.node(i);
  if (node.op() == "Const" || node.op() == "Placeholder") return;
  Outcome outcome = dispatch(i);
  if (outcome) keep_nhwc(i, *outcome);
}

Outcome NchwRewriter::dispatch(int i) {
  const std::string& op = view_.node(i).op();
  if (auto w = windowed_ops().find(op); w != windowed_ops().end()) return windowed(i, w->second);
  if (op == "BiasAdd" || op.rfind("FusedBatchNorm", 0) == 0) return channel_op(i);
  if (elementwise_ops().count(op)) return elementwise(i);
  if (reduce_ops().count(op)) return reduce(i);
  if (op == "ConcatV2") return concat(i);
  if (op == "Pad" || op == "PadV2" || op == "MirrorPad") return pad(i);
  if (op == "Slice") return slice(i);
  if (op == "StridedSlice") return strided_slice(i);
  if (op == "Split" || op == "SplitV") return split(i);
  if (op == "Squeeze") return squeeze(i);
  if (op == "Tile") return tile(i);
  if (op == "Transpose") return transpose_op(i);
  if (op == "Reshape") return reshape(i);
  if (op == "MatMul" || op == "_FusedMatMul") return matmul(i);
  if (op == "Softmax" || op == "LogSoftmax") return std::string("runs on the last axis");
  if (op == "Shape" || op == "ShapeN" || op == "Size") return std::string("reads the NHWC shape");
  return std::string("the pass does not know how it uses the axes");
}

// Every NCHW input goes back to NHWC; the outputs stay as TensorFlow wrote them.
void NchwRewriter::keep_nhwc(int i, const std::string& why) {
  auto* node = graph_->mutable_node(i);
  bool transposed = false;
  for (int s = 0; s < node->input_size(); ++s) {
    if (node->input(s).empty() || node->input(s)[0] == '^') continue;
    Value v = input(i, s);
    if (v.frame == Frame::kFlat) v.frame = Frame::kPlain;  // never happens: flattens are checked for their readers
    transposed |= v.frame == Frame::kFirst;
    node->set_input(s, last(v));
  }
  if (transposed)
    report_.refused.push_back("node '" + node->name() + "' (" + node->op() + "): " + (why.empty() ? "left NHWC" : why) +
                              "; its input goes back to NHWC");
}

// Does every reader of node i's output run NCHW (a convolution, or an op that would itself pull
// its input up)? Then node i runs NCHW too and the Transpose moves up to its input: ResNet's Pad
// before conv1 and a preprocessing Sub/Mul leave the Transpose at the graph input.
bool NchwRewriter::feeds_only_nchw(int i, int depth) {
  if (auto it = feeds_nchw_.find(i); it != feeds_nchw_.end()) return it->second;
  bool any = false, all = depth < 8 && !is_output(view_.node(i).name());
  for (const auto& c : view_.consumers(i)) {
    if (!all) break;
    if (c.control()) continue;
    const auto& m = view_.node(c.consumer);
    auto w = windowed_ops().find(m.op());
    const bool nchw_op = w != windowed_ops().end() && c.input_slot == w->second.slot &&
                         data_format_of(m, w->second.rank == 4 ? "NHWC" : "NDHWC") == (w->second.rank == 4 ? "NHWC" : "NDHWC");
    const bool follows = (m.op() == "Pad" || m.op() == "MirrorPad" || m.op() == "PadV2" || elementwise_ops().count(m.op())) &&
                         c.input_slot == 0 && feeds_only_nchw(c.consumer, depth + 1);
    all = nchw_op || follows;
    any = true;
  }
  return feeds_nchw_[i] = all && any;
}

// The rank of a plain rank-4/5 non-constant input at `slot` when node i should run NCHW anyway
// because all its readers do.
std::optional<int> NchwRewriter::pulled_rank(int i, int slot) {
  const Value v = input(i, slot);
  if (v.frame != Frame::kPlain || (v.rank != 4 && v.rank != 5) || const_at(i, slot) || !feeds_only_nchw(i, 0)) return std::nullopt;
  return v.rank;
}

// The rank of the NCHW tensor at `slot`, if it is one.
std::optional<int> NchwRewriter::first_rank(int i, int slot) const {
  Value v = input(i, slot);
  if (v.frame != Frame::kFirst) return std::nullopt;
  return v.rank;
}

bool NchwRewriter::permute_list_attr(tf::NodeDef* node, const char* key, int rank, int group) {
  auto it = node->mutable_attr()->find(key);
  if (it == node->mutable_attr()->end() || it->second.list().i_size() == 0) return true;
  Ints v(it->second.list().i().begin(), it->second.list().i().end());
  if (static_cast<int>(v.size()) != rank * group) return false;
  auto* list = it->second.mutable_list();
  list->clear_i();
  for (auto x : permuted(v, rank, group)) list->add_i(x);
  return true;
}

// ---- layout-sensitive ops -------------------------------------------------------------------------

Outcome NchwRewriter::windowed(int i, const Windowed& w) {
  const auto& node = view_.node(i);
  const std::string last_format = w.rank == 4 ? "NHWC" : "NDHWC";
  if (data_format_of(node, last_format) != last_format) return std::string("already channels-first in the graph");
  Value x = input(i, w.slot);
  if (x.rank >= 0 && x.rank != w.rank) return std::string("its input is not rank " + std::to_string(w.rank));
  for (const char* key : {"strides", "dilations", "ksize"}) {
    auto it = node.attr().find(key);
    if (it != node.attr().end() && it->second.list().i_size() != 0 && it->second.list().i_size() != w.rank)
      return std::string(key) + " does not have one value per axis";
  }
  if (auto it = node.attr().find("explicit_paddings"); it != node.attr().end() && it->second.list().i_size() != 0 &&
                                                        it->second.list().i_size() != 2 * w.rank)
    return std::string("explicit_paddings does not have two values per axis");
  std::string sizes;
  if (node.op() == "Conv2DBackpropInput") {
    auto v = ints_at(i, 0);
    if (!v || v->size() != 4) return std::string("input_sizes is not a constant of 4 values");
    sizes = ints_like(i, 0, permuted(*v, 4), {4});
  }
  const std::string data = first(Value{x.name, x.frame, w.rank, x.dtype}, w.rank, node.name());
  auto* n = graph_->mutable_node(i);
  for (const char* key : {"strides", "dilations", "ksize"}) permute_list_attr(n, key, w.rank);
  permute_list_attr(n, "explicit_paddings", w.rank, 2);  // sizes checked above: nothing changes before every check passed
  (*n->mutable_attr())["data_format"].set_s(w.rank == 4 ? "NCHW" : "NCDHW");
  n->set_input(w.slot, data);
  if (!sizes.empty()) n->set_input(0, sizes);
  set_output(i, 0, Frame::kFirst, w.rank);
  ++report_.changed;
  return kDone;
}

// BiasAdd and FusedBatchNorm act per channel: they follow their input's frame.
Outcome NchwRewriter::channel_op(int i) {
  auto r = first_rank(i, 0);
  if (!r) return kUntouched;
  const auto& node = view_.node(i);
  const bool bias = node.op() == "BiasAdd";
  if (data_format_of(node, "NHWC") != "NHWC") return std::string("already channels-first in the graph");
  if (*r != 4 && !(bias && *r == 5)) return std::string("the NCHW kernel takes rank 4 only");
  auto* n = graph_->mutable_node(i);
  (*n->mutable_attr())["data_format"].set_s("NCHW");  // BiasAdd says NCHW for any rank
  n->set_input(0, input(i, 0).name);
  set_output(i, 0, Frame::kFirst, *r);
  ++report_.changed;
  return kDone;
}

// ---- element-wise ops ------------------------------------------------------------------------------

// The frame rank an element-wise op runs in: that of an NCHW operand, or of its one plain
// non-constant operand when every reader wants NCHW; -1 to stay as it is.
int NchwRewriter::elementwise_rank(int i, int data_inputs) {
  for (int s = 0; s < data_inputs; ++s)
    if (auto r = first_rank(i, s)) return *r;
  for (int s = 0; s < data_inputs; ++s)  // one plain tensor, the rest constants
    if (!const_at(i, s) && input(i, s).rank > 0) {
      auto r = data_inputs == 1 || (data_inputs == 2 && const_at(i, 1 - s)) ? pulled_rank(i, s) : std::nullopt;
      return r ? *r : -1;
    }
  return -1;
}

// How operand `slot` enters the NCHW frame of `rank`; a reason when it cannot.
Outcome NchwRewriter::plan_operand(int i, int slot, int rank, Operand* how) const {
  const Value v = input(i, slot);
  const tf::NodeDef* c = const_at(i, slot);
  const bool broadcasts = view_.node(i).op() != "Select";  // Select (v1) with a vector condition picks rows
  if (v.frame == Frame::kFirst) {
    *how = Operand::kAsIs;
    return v.rank == rank ? kDone : std::string("its operands are NCHW tensors of different ranks");
  }
  if (v.frame == Frame::kFlat) return std::string("reads a flattened NCHW tensor");
  if (v.rank == 0 || (c && elements_of(*c) == 1 && v.rank <= rank)) {
    *how = Operand::kAsIs;  // a scalar broadcasts the same in any frame
    return kDone;
  }
  if (c && v.rank >= 1 && v.rank <= rank && (broadcasts || v.rank == rank)) {
    *how = Operand::kConst;
    return kDone;
  }
  if (!c && v.rank == rank) {
    *how = Operand::kTranspose;
    return kDone;
  }
  return "operand '" + v.name + "' is " + (v.rank < 0 ? std::string("of unknown rank") : "a rank-" + std::to_string(v.rank) + " tensor") +
         " that would broadcast differently in NCHW";
}

// A constant operand in the NCHW frame: [C] or [W,C] first gets leading 1s up to the rank.
std::string NchwRewriter::const_in_first(int i, int slot, int rank) {
  const Value v = input(i, slot);
  if (v.rank == rank) return first(v, rank, view_.node(i).name());  // cached per constant
  const tf::NodeDef* c = const_at(i, slot);
  Tensor t = const_value(*c);
  t.shape.insert(t.shape.begin(), static_cast<std::size_t>(rank - v.rank), 1);  // [C] -> [1,1,1,C]
  return new_const(c->name() + "/nchw", layout::transpose(t, layout::to_channels_first(rank)));
}

Outcome NchwRewriter::elementwise(int i) {
  const auto& node = view_.node(i);
  const int data_inputs = data_input_count(node);
  const int rank = elementwise_rank(i, data_inputs);
  if (rank < 0) return kUntouched;
  std::vector<Operand> how(static_cast<std::size_t>(data_inputs));
  for (int s = 0; s < data_inputs; ++s)  // all operands checked before anything changes
    if (Outcome why = plan_operand(i, s, rank, &how[static_cast<std::size_t>(s)])) return why;
  std::vector<std::string> operands;
  for (int s = 0; s < data_inputs; ++s) {
    const Operand h = how[static_cast<std::size_t>(s)];
    operands.push_back(h == Operand::kConst ? const_in_first(i, s, rank) : h == Operand::kTranspose ? first(input(i, s), rank, node.name())
                                                                                                      : input(i, s).name);
  }
  auto* n = graph_->mutable_node(i);
  for (int s = 0; s < data_inputs; ++s) n->set_input(s, operands[static_cast<std::size_t>(s)]);
  set_output(i, 0, Frame::kFirst, rank);
  ++report_.changed;
  return kDone;
}

// ---- ops with axes ---------------------------------------------------------------------------------

Outcome NchwRewriter::concat(int i) {
  const auto& node = view_.node(i);
  const int n_values = data_input_count(node) - 1;
  int rank = -1;
  for (int s = 0; s < n_values; ++s)
    if (auto r = first_rank(i, s)) rank = *r;
  if (rank < 0) return kUntouched;
  auto axis = ints_at(i, n_values);
  if (!axis || axis->size() != 1) return std::string("the axis is not a constant");
  auto a = normalized(*axis, rank);
  if (!a) return std::string("the axis is out of range");
  for (int s = 0; s < n_values; ++s) {
    Value v = input(i, s);
    if (v.frame == Frame::kFlat || v.rank != rank) return "operand '" + v.name + "' is not a rank-" + std::to_string(rank) + " tensor";
  }
  auto* n = graph_->mutable_node(i);
  for (int s = 0; s < n_values; ++s) n->set_input(s, first(input(i, s), rank, node.name()));
  n->set_input(n_values, ints_like(i, n_values, {layout::channels_first_axis((*a)[0], rank)}, {}));
  set_output(i, 0, Frame::kFirst, rank);
  ++report_.changed;
  return kDone;
}

Outcome NchwRewriter::reduce(int i) {
  auto r = first_rank(i, 0);
  if (!r) return kUntouched;
  const auto& node = view_.node(i);
  const bool arg = node.op() == "ArgMax" || node.op() == "ArgMin";
  const bool keep = !arg && node.attr().count("keep_dims") && node.attr().at("keep_dims").b();
  auto axes = ints_at(i, 1);
  if (!axes) return std::string("the axes are not a constant");
  auto a = normalized(*axes, *r);
  if (!a || (arg && a->size() != 1)) return std::string("the axes are out of range");
  if (!keep && !remaining_axes_in_order(*a, *r)) return std::string("the remaining axes would come out in another order");
  Ints moved;
  for (int x : *a) moved.push_back(layout::channels_first_axis(x, *r));
  const tf::NodeDef* c = const_at(i, 1);
  Dims shape = dims_of(c->attr().at("value").tensor().tensor_shape());
  auto* n = graph_->mutable_node(i);
  n->set_input(0, input(i, 0).name);
  n->set_input(1, ints_like(i, 1, moved, shape));
  std::set<int> distinct(a->begin(), a->end());
  if (keep) set_output(i, 0, Frame::kFirst, *r);
  else set_output(i, 0, Frame::kPlain, *r - static_cast<int>(distinct.size()));
  ++report_.changed;
  return kDone;
}

Outcome NchwRewriter::pad(int i) {
  auto r = first_rank(i, 0);
  if (!r) r = pulled_rank(i, 0);
  if (!r) return kUntouched;
  auto p = ints_at(i, 1);
  if (!p || static_cast<int>(p->size()) != 2 * *r) return std::string("the paddings are not a constant with a row per axis");
  const std::string x = first(input(i, 0), *r, view_.node(i).name());
  auto* n = graph_->mutable_node(i);
  n->set_input(0, x);
  n->set_input(1, ints_like(i, 1, permuted(*p, *r, 2), {*r, 2}));
  set_output(i, 0, Frame::kFirst, *r);
  ++report_.changed;
  return kDone;
}

Outcome NchwRewriter::slice(int i) {
  auto r = first_rank(i, 0);
  if (!r) return kUntouched;
  auto begin = ints_at(i, 1), size = ints_at(i, 2);
  if (!begin || !size || static_cast<int>(begin->size()) != *r || static_cast<int>(size->size()) != *r)
    return std::string("begin and size are not constants with a value per axis");
  auto* n = graph_->mutable_node(i);
  n->set_input(0, input(i, 0).name);
  n->set_input(1, ints_like(i, 1, permuted(*begin, *r), {*r}));
  n->set_input(2, ints_like(i, 2, permuted(*size, *r), {*r}));
  set_output(i, 0, Frame::kFirst, *r);
  ++report_.changed;
  return kDone;
}

Outcome NchwRewriter::strided_slice(int i) {
  auto r = first_rank(i, 0);
  if (!r) return kUntouched;
  const auto& node = view_.node(i);
  auto mask = [&](const char* key) -> std::int64_t { return node.attr().count(key) ? node.attr().at(key).i() : 0; };
  if (mask("ellipsis_mask") || mask("new_axis_mask") || mask("shrink_axis_mask"))
    return std::string("it has an ellipsis, new-axis or shrink mask");
  auto begin = ints_at(i, 1), end = ints_at(i, 2), strides = ints_at(i, 3);
  if (!begin || !end || !strides || begin->size() != end->size() || begin->size() != strides->size() || static_cast<int>(begin->size()) > *r)
    return std::string("begin, end and strides are not constants of one length");
  std::int64_t begin_mask = mask("begin_mask"), end_mask = mask("end_mask");
  for (std::size_t d = begin->size(); d < static_cast<std::size_t>(*r); ++d) {  // implicit axes: whole
    begin->push_back(0);
    end->push_back(0);
    strides->push_back(1);
    begin_mask |= std::int64_t{1} << d;
    end_mask |= std::int64_t{1} << d;
  }
  auto bits = [&](std::int64_t m) {
    std::int64_t out = 0;
    auto q = layout::to_channels_first(*r);
    for (int j = 0; j < *r; ++j) out |= ((m >> q[static_cast<std::size_t>(j)]) & 1) << j;
    return out;
  };
  auto* n = graph_->mutable_node(i);
  n->set_input(0, input(i, 0).name);
  n->set_input(1, ints_like(i, 1, permuted(*begin, *r), {*r}));
  n->set_input(2, ints_like(i, 2, permuted(*end, *r), {*r}));
  n->set_input(3, ints_like(i, 3, permuted(*strides, *r), {*r}));
  (*n->mutable_attr())["begin_mask"].set_i(bits(begin_mask));
  (*n->mutable_attr())["end_mask"].set_i(bits(end_mask));
  set_output(i, 0, Frame::kFirst, *r);
  ++report_.changed;
  return kDone;
}

Outcome NchwRewriter::split(int i) {
  const auto& node = view_.node(i);
  const bool v = node.op() == "SplitV";
  const int data = v ? 0 : 1, axis_slot = v ? 2 : 0;
  auto r = first_rank(i, data);
  if (!r) return kUntouched;
  if (is_output(node.name())) return std::string("a graph output with several results");
  auto axis = ints_at(i, axis_slot);
  if (!axis || axis->size() != 1) return std::string("the axis is not a constant");
  auto a = normalized(*axis, *r);
  if (!a) return std::string("the axis is out of range");
  auto* n = graph_->mutable_node(i);
  n->set_input(data, input(i, data).name);
  n->set_input(axis_slot, ints_like(i, axis_slot, {layout::channels_first_axis((*a)[0], *r)}, {}));
  const int outputs = static_cast<int>(node.attr().count("num_split") ? node.attr().at("num_split").i() : 1);
  for (int k = 0; k < outputs; ++k) set_output(i, k, Frame::kFirst, *r);
  ++report_.changed;
  return kDone;
}

Outcome NchwRewriter::squeeze(int i) {
  auto r = first_rank(i, 0);
  if (!r) return kUntouched;
  const auto& node = view_.node(i);
  const graph::Edge* e = data_input(view_, i, 0);
  Ints dims;
  for (const char* key : {"squeeze_dims", "axis"})
    if (node.attr().count(key))
      for (auto d : node.attr().at(key).list().i()) dims.push_back(d);
  if (dims.empty()) {  // every axis of size 1: the sizes must be known
    for (int d = 0; d < *r; ++d) {
      const std::int64_t size = shapes_.dim(e->producer, e->output, d);
      if (size < 0) return std::string("which axes it drops depends on sizes not known statically");
      if (size == 1) dims.push_back(d);
    }
  }
  auto a = normalized(dims, *r);
  if (!a) return std::string("the axes are out of range");
  if (!remaining_axes_in_order(*a, *r)) return std::string("the remaining axes would come out in another order");
  Ints moved;
  for (int x : *a) moved.push_back(layout::channels_first_axis(x, *r));
  auto* n = graph_->mutable_node(i);
  n->mutable_attr()->erase("axis");
  auto* list = (*n->mutable_attr())["squeeze_dims"].mutable_list();
  list->clear_i();
  for (auto x : moved) list->add_i(x);
  n->set_input(0, input(i, 0).name);
  std::set<int> distinct(a->begin(), a->end());
  set_output(i, 0, distinct.empty() ? Frame::kFirst : Frame::kPlain, *r - static_cast<int>(distinct.size()));
  ++report_.changed;
  return kDone;
}

Outcome NchwRewriter::tile(int i) {
  auto r = first_rank(i, 0);
  if (!r) return kUntouched;
  auto m = ints_at(i, 1);
  if (!m || static_cast<int>(m->size()) != *r) return std::string("the multiples are not a constant with a value per axis");
  auto* n = graph_->mutable_node(i);
  n->set_input(0, input(i, 0).name);
  n->set_input(1, ints_like(i, 1, permuted(*m, *r), {*r}));
  set_output(i, 0, Frame::kFirst, *r);
  ++report_.changed;
  return kDone;
}

// Transpose(x, p) of an NCHW x: the perm composed with the frame's; when the two cancel, the
// Transpose goes away.
Outcome NchwRewriter::transpose_op(int i) {
  auto r = first_rank(i, 0);
  if (!r) return plain_transpose(i);
  auto p = ints_at(i, 1);
  if (!p || static_cast<int>(p->size()) != *r) return std::string("the perm is not a constant");
  auto a = normalized(*p, *r);
  if (!a) return std::string("the perm is out of range");
  const auto q = layout::to_channels_first(*r);
  std::vector<int> plain, first_frame;  // the perm giving the result as TensorFlow had it / in NCHW
  for (int j = 0; j < *r; ++j) {
    plain.push_back(layout::channels_first_axis((*a)[static_cast<std::size_t>(j)], *r));
    first_frame.push_back(layout::channels_first_axis((*a)[static_cast<std::size_t>(q[static_cast<std::size_t>(j)])], *r));
  }
  const Value x = input(i, 0);
  const std::string name = view_.node(i).name();
  if (!is_output(name) && (is_identity(plain) || is_identity(first_frame))) {
    values_[tensor_key(name)] = Value{x.name, is_identity(plain) ? Frame::kPlain : Frame::kFirst, *r, x.dtype};
    ++report_.changed;
    return kDone;
  }
  auto* n = graph_->mutable_node(i);
  n->set_input(0, x.name);
  n->set_input(1, ints_like(i, 1, Ints(plain.begin(), plain.end()), {*r}));
  set_output(i, 0, Frame::kPlain, *r);
  ++report_.changed;
  return kDone;
}

// Transpose(y, [0,2,3,1]) of a plain y (a graph that went NCHW by hand and comes back) is y
// itself in the NCHW frame: the Transpose goes away.
Outcome NchwRewriter::plain_transpose(int i) {
  const Value x = input(i, 0);
  auto p = ints_at(i, 1);
  if (x.frame != Frame::kPlain || (x.rank != 4 && x.rank != 5) || !p || static_cast<int>(p->size()) != x.rank || is_output(view_.node(i).name()))
    return kUntouched;
  const auto last = layout::to_channels_last(x.rank);
  if (!std::equal(p->begin(), p->end(), last.begin())) return kUntouched;
  values_[tensor_key(view_.node(i).name())] = Value{x.name, Frame::kFirst, x.rank, x.dtype};
  ++report_.changed;
  return kDone;
}

// ---- flattening into matrix products ---------------------------------------------------------------

Outcome NchwRewriter::reshape(int i) {
  auto r = first_rank(i, 0);
  if (!r) return kUntouched;
  const graph::Edge* e = data_input(view_, i, 0);
  Dims dims;  // channels-last sizes after the batch: [H, W, C]
  for (int d = 1; d < *r; ++d) dims.push_back(shapes_.dim(e->producer, e->output, d));
  if (std::find(dims.begin(), dims.end(), -1) != dims.end()) return std::string("the sizes of its NCHW input are not known statically");
  const std::int64_t channels = dims.back(), spatial = std::accumulate(dims.begin(), dims.end() - 1, std::int64_t{1}, std::multiplies<>());
  auto* n = graph_->mutable_node(i);
  if (channels == 1 || spatial == 1) {  // NCHW and NHWC hold the values in the same order
    n->set_input(0, input(i, 0).name);
    set_output(i, 0, Frame::kPlain, rank_of(i, 0));
    return kDone;
  }
  auto shape = ints_at(i, 1);
  if (!shape || shape->size() != 2 || (*shape)[1] != channels * spatial || is_output(n->name()))
    return std::string("it does not flatten its NCHW input into a matrix");
  for (const auto& c : view_.consumers(i)) {
    const auto& m = view_.node(c.consumer);
    const bool ta = m.attr().count("transpose_a") && m.attr().at("transpose_a").b();
    if (c.control()) continue;
    const bool tb = m.attr().count("transpose_b") && m.attr().at("transpose_b").b();
    const tf::NodeDef* w = (m.op() == "MatMul" || m.op() == "_FusedMatMul") && c.input_slot == 0 && !ta ? const_at(c.consumer, 1) : nullptr;
    const Dims wd = w ? dims_of(w->attr().at("value").tensor().tensor_shape()) : Dims{};
    if (wd.size() != 2 || wd[tb ? 1 : 0] != channels * spatial)
      return "it flattens its NCHW input for '" + m.name() + "', which is not a matrix product with constant weights that fit";
  }
  n->set_input(0, input(i, 0).name);
  set_output(i, 0, Frame::kFlat, 2);
  flat_[n->name()] = dims;
  ++report_.changed;
  return kDone;
}

// MatMul(flattened NCHW x, W): W's rows taken in the NCHW order, so x @ W' == the original.
Outcome NchwRewriter::matmul(int i) {
  Value x = input(i, 0);
  if (x.frame != Frame::kFlat) return kUntouched;
  const auto& node = view_.node(i);
  const bool tb = node.attr().count("transpose_b") && node.attr().at("transpose_b").b();
  const tf::NodeDef* c = const_at(i, 1);
  Tensor w = const_value(*c);
  const Dims& dims = flat_.at(x.name);
  const std::int64_t k = std::accumulate(dims.begin(), dims.end(), std::int64_t{1}, std::multiplies<>());
  if (w.shape.size() != 2 || w.shape[tb ? 1 : 0] != k) return std::string("the weights do not fit the flattened input");
  const Dims matrix = w.shape;
  const int r = static_cast<int>(dims.size()) + 1;
  std::vector<int> perm;
  if (tb) {  // [M, H, W, C] -> [M, C, H, W]
    w.shape = Dims{matrix[0]};
    w.shape.insert(w.shape.end(), dims.begin(), dims.end());
    perm = layout::to_channels_first(r);
  } else {  // [H, W, C, M] -> [C, H, W, M]
    w.shape = dims;
    w.shape.push_back(matrix[1]);
    perm.push_back(r - 2);
    for (int d = 0; d < r - 2; ++d) perm.push_back(d);
    perm.push_back(r - 1);
  }
  Tensor permuted_w = layout::transpose(w, perm);
  permuted_w.shape = matrix;
  auto* n = graph_->mutable_node(i);
  n->set_input(0, x.name);
  n->set_input(1, new_const(c->name() + "/nchw_rows", std::move(permuted_w)));
  ++report_.changed;
  return kDone;
}

// ---- the interface ----------------------------------------------------------------------------------

void NchwRewriter::take_inputs_nchw() {
  for (const auto& name : inputs_first_) {
    const int i = view_.find(name);
    auto* n = i < 0 ? nullptr : graph_->mutable_node(i);
    const bool shaped = n && n->op() == "Placeholder" && n->attr().count("shape") && !n->attr().at("shape").shape().unknown_rank();
    const int r = shaped ? n->attr().at("shape").shape().dim_size() : -1;
    if (r != 4 && r != 5) {
      report_.refused.push_back("input '" + name + "': not a placeholder of rank 4 or 5; it stays as it is");
      continue;
    }
    Dims dims = dims_of(n->attr().at("shape").shape());
    *(*n->mutable_attr())["shape"].mutable_shape() = shape_proto(permuted(dims, r));
    set_output(i, 0, Frame::kFirst, r);
    ++report_.changed;
  }
}

// Renames node `from` to `to` and every reference to it.
void NchwRewriter::rename(const std::string& from, const std::string& to) {
  auto fix = [&](tf::NodeDef* n) {
    if (n->name() == from) n->set_name(to);
    for (auto& in : *n->mutable_input()) {
      const bool control = !in.empty() && in[0] == '^';
      const std::string body = control ? in.substr(1) : in;
      if (body == from) in = (control ? "^" : "") + to;
      else if (body.rfind(from + ":", 0) == 0) in = to + body.substr(from.size());
    }
  };
  for (auto& n : *graph_->mutable_node()) fix(&n);
  for (auto& n : added_) fix(&n);
  std::map<std::string, std::string> first_moved, last_moved;
  for (auto& [k, v] : to_first_) first_moved[k == from ? to : k] = v == from ? to : v;
  for (auto& [k, v] : to_last_) last_moved[k == from ? to : k] = v == from ? to : v;
  to_first_.swap(first_moved);
  to_last_.swap(last_moved);
}

// An output keeps its name and, unless outputs_as_nchw names it, the layout TensorFlow gave it:
// the producer is renamed and a Transpose takes the output's name.
void NchwRewriter::finish_output(const std::string& tensor) {
  const std::string output = tensor_key(tensor);  // the node's name for output 0
  const int i = view_.find(output);
  if (output.find(':') != std::string::npos || i < 0 || view_.node(i).op() == "Placeholder" || is_interface(ctx_.inputs, output)) return;
  auto it = values_.find(output);
  const Value v = it != values_.end() ? it->second : Value{output, Frame::kPlain, rank_of(i, 0), dtype_of(i, 0)};
  const bool want_first = outputs_first_.count(output) > 0 && (v.rank == 4 || v.rank == 5);
  if (v.name != output || v.frame == Frame::kFlat || (v.frame == Frame::kFirst) == want_first) return;
  const std::string moved = names_.fresh(output + (want_first ? "/nhwc" : "/nchw"));
  rename(output, moved);
  if (want_first) {  // asked for NCHW: a Transpose the user wants, not one to explain
    auto cached = to_first_.find(moved);
    rename(cached != to_first_.end() ? cached->second : transpose_node(moved, v.dtype, layout::to_channels_first(v.rank), "/to_nchw"), output);
    return;
  }
  rename(last(Value{moved, Frame::kFirst, v.rank, v.dtype}), output);
  report_.refused.push_back("output '" + output + "': the graph's interface is NHWC; a Transpose gives it back (outputs_as_nchw=" + output +
                            " keeps it NCHW)");
}

PassReport to_nchw(tf::GraphDef* graph, const PassContext& ctx) { return NchwRewriter(graph, ctx).run(); }

}  // namespace

void register_to_nchw(PassRegistry& r) {
  r.add("to_nchw", to_nchw,
        "rewrite the graph in the NCHW frame: convolutions and pools run NCHW, axes and constants permuted, Transposes only where an "
        "op needs NHWC (inputs_as_nchw=a;b, outputs_as_nchw=c)");
}

}  // namespace tffreeze::passes
