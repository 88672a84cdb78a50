// Shape ops: reshapes, concatenation and splitting, slicing (StridedSlice with every mask),
// gathering, padding, tiling, OneHot and the shape queries. Operands that ONNX wants as int64 inputs
// (shapes, axes, pads, repeats) become int64 initializers when they are constants.
#include <cstring>
#include <limits>

#include "common/dtype.h"
#include "export/onnx/converters.h"

namespace tffreeze::onnx_export {
namespace {

constexpr std::int64_t kToEnd = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kToFront = std::numeric_limits<std::int64_t>::min();

std::int64_t rank_of(ExportContext& ctx, const std::string& tf_input) { return static_cast<std::int64_t>(ctx.info(tf_input).shape.size()); }

// ONNX numbers outputs of a multi-output node like TF: output k of node "x" is "x" or "x:k".
std::vector<std::string> outputs_of(const tf::NodeDef& node, int count) {
  std::vector<std::string> out;
  for (int k = 0; k < count; ++k) out.push_back(ExportContext::output(node, k));
  return out;
}

void convert_reshape(const tf::NodeDef& node, ExportContext& ctx) {
  auto* n = ctx.add_node("Reshape", {inputs_of(node)[0], int64_input(node, 1, ctx)}, {ExportContext::output(node)}, node.name());
  // A 0 in TF's shape is an empty dimension; ONNX reads 0 as "copy the input's" unless allowzero.
  if (const Tensor* shape = ctx.constant(node.input(1)))
    for (std::int64_t i = 0; i < shape->num_elements(); ++i)
      if (element_as_double(*shape, i) == 0) {
        set_int(n, "allowzero", 1);
        break;
      }
}

void convert_squeeze(const tf::NodeDef& node, ExportContext& ctx) {
  auto dims = attr_ints(node, "squeeze_dims");
  if (dims.empty()) dims = attr_ints(node, "axis");
  std::vector<std::string> in = {inputs_of(node)[0]};
  if (!dims.empty()) in.push_back(ctx.add_ints(node.name() + "/axes", dims));
  ctx.add_node("Squeeze", in, {ExportContext::output(node)}, node.name());
}

void convert_expand_dims(const tf::NodeDef& node, ExportContext& ctx) {
  auto axis = const_ints(node, 1, ctx);
  ctx.add_node("Unsqueeze", {inputs_of(node)[0], ctx.add_ints(node.name() + "/axes", axis)}, {ExportContext::output(node)}, node.name());
}

void convert_transpose(const tf::NodeDef& node, ExportContext& ctx) {
  set_ints(ctx.add_node("Transpose", {inputs_of(node)[0]}, {ExportContext::output(node)}, node.name()), "perm", const_ints(node, 1, ctx));
}

void convert_concat(const tf::NodeDef& node, ExportContext& ctx) {
  auto in = inputs_of(node);
  const bool v2 = node.op() == "ConcatV2";
  const auto axis = const_ints(node, v2 ? static_cast<int>(in.size()) - 1 : 0, ctx);
  if (v2) in.pop_back();
  else in.erase(in.begin());
  set_int(ctx.add_node("Concat", in, {ExportContext::output(node)}, node.name()), "axis", axis.at(0));
}

void convert_pack(const tf::NodeDef& node, ExportContext& ctx) {
  auto in = inputs_of(node);
  std::int64_t axis = attr_int(node, "axis", 0);
  if (axis < 0) axis += rank_of(ctx, node.input(0)) + 1;
  const std::string axes = ctx.add_ints(node.name() + "/axes", {axis});
  std::vector<std::string> expanded;
  for (std::size_t k = 0; k < in.size(); ++k)
    expanded.push_back(ctx.add_node("Unsqueeze", {in[k], axes}, {}, node.name() + "/expanded")->output(0));
  set_int(ctx.add_node("Concat", expanded, {ExportContext::output(node)}, node.name()), "axis", axis);
}

onnx::NodeProto* split(const tf::NodeDef& node, ExportContext& ctx, const std::string& x, std::int64_t axis, const std::vector<std::int64_t>& sizes,
                       const std::vector<std::string>& outputs) {
  auto* n = ctx.add_node("Split", {x, ctx.add_ints(node.name() + "/sizes", sizes)}, outputs, node.name());
  set_int(n, "axis", axis);
  return n;
}

void convert_unpack(const tf::NodeDef& node, ExportContext& ctx) {
  const int num = static_cast<int>(attr_int(node, "num", 0));
  std::int64_t axis = attr_int(node, "axis", 0);
  if (axis < 0) axis += rank_of(ctx, node.input(0));
  std::vector<std::string> parts;
  for (int k = 0; k < num; ++k) parts.push_back(ctx.fresh(node.name() + "/part"));
  split(node, ctx, inputs_of(node)[0], axis, std::vector<std::int64_t>(static_cast<std::size_t>(num), 1), parts);
  const std::string axes = ctx.add_ints(node.name() + "/axes", {axis});
  for (int k = 0; k < num; ++k) ctx.add_node("Squeeze", {parts[static_cast<std::size_t>(k)], axes}, {ExportContext::output(node, k)}, node.name() + "/squeeze");
}

void convert_split(const tf::NodeDef& node, ExportContext& ctx) {
  const bool v = node.op() == "SplitV";
  const std::string value = node.input(v ? 0 : 1);
  std::int64_t axis = const_ints(node, v ? 2 : 0, ctx).at(0);
  const auto& shape = ctx.info(value).shape;
  if (axis < 0) axis += static_cast<std::int64_t>(shape.size());
  const std::int64_t dim = shape.at(static_cast<std::size_t>(axis));
  std::vector<std::int64_t> sizes;
  if (v) {
    sizes = const_ints(node, 1, ctx);
    std::int64_t known = 0, unknown = -1;
    for (std::size_t k = 0; k < sizes.size(); ++k) (sizes[k] < 0 ? unknown = static_cast<std::int64_t>(k) : known += sizes[k]);
    if (unknown >= 0) sizes[static_cast<std::size_t>(unknown)] = dim - known;
  } else {
    const std::int64_t n = attr_int(node, "num_split", 1);
    sizes.assign(static_cast<std::size_t>(n), dim / n);
  }
  split(node, ctx, ExportContext::value(value), axis, sizes, outputs_of(node, static_cast<int>(sizes.size())));
}

void convert_slice(const tf::NodeDef& node, ExportContext& ctx) {
  auto begin = const_ints(node, 1, ctx), size = const_ints(node, 2, ctx);
  std::vector<std::int64_t> end, axes;
  for (std::size_t k = 0; k < begin.size(); ++k) {
    end.push_back(size[k] < 0 ? kToEnd : begin[k] + size[k]);
    axes.push_back(static_cast<std::int64_t>(k));
  }
  ctx.add_node("Slice", {inputs_of(node)[0], ctx.add_ints(node.name() + "/starts", begin), ctx.add_ints(node.name() + "/ends", end),
                         ctx.add_ints(node.name() + "/axes", axes)},
               {ExportContext::output(node)}, node.name());
}

// StridedSlice = Slice over the sliced dims, then Squeeze of the shrunk ones, then Unsqueeze of
// the new axes (positions in the output).
struct StridedPlan {
  std::vector<std::int64_t> starts, ends, axes, steps, squeeze, unsqueeze;
};

StridedPlan plan_strided_slice(const tf::NodeDef& node, ExportContext& ctx) {
  auto begin = const_ints(node, 1, ctx), end = const_ints(node, 2, ctx), strides = const_ints(node, 3, ctx);
  const auto bit = [&](const char* mask, std::size_t i) { return (attr_int(node, mask, 0) >> i) & 1; };
  const std::int64_t rank = rank_of(ctx, node.input(0));
  std::int64_t specified = 0;
  for (std::size_t i = 0; i < begin.size(); ++i) specified += !bit("new_axis_mask", i) && !bit("ellipsis_mask", i);
  StridedPlan p;
  std::int64_t dim = 0, out_pos = 0;
  for (std::size_t i = 0; i < begin.size(); ++i) {
    if (bit("ellipsis_mask", i)) {
      dim += rank - specified;
      out_pos += rank - specified;
    } else if (bit("new_axis_mask", i)) {
      p.unsqueeze.push_back(out_pos++);
    } else if (bit("shrink_axis_mask", i)) {
      p.starts.push_back(begin[i]);
      p.ends.push_back(begin[i] == -1 ? kToEnd : begin[i] + 1);
      p.axes.push_back(dim);
      p.steps.push_back(1);
      p.squeeze.push_back(dim++);
    } else {
      const bool forward = strides[i] > 0;
      p.starts.push_back(bit("begin_mask", i) ? (forward ? 0 : kToEnd) : begin[i]);
      p.ends.push_back(bit("end_mask", i) ? (forward ? kToEnd : kToFront) : end[i]);
      p.axes.push_back(dim++);
      p.steps.push_back(strides[i]);
      ++out_pos;
    }
  }
  return p;
}

void convert_strided_slice(const tf::NodeDef& node, ExportContext& ctx) {
  const StridedPlan p = plan_strided_slice(node, ctx);
  const std::string out = ExportContext::output(node), name = node.name();
  std::string x = inputs_of(node)[0];
  const bool squeeze = !p.squeeze.empty(), unsqueeze = !p.unsqueeze.empty();
  if (!p.axes.empty()) {
    x = ctx.add_node("Slice", {x, ctx.add_ints(name + "/starts", p.starts), ctx.add_ints(name + "/ends", p.ends), ctx.add_ints(name + "/axes", p.axes),
                               ctx.add_ints(name + "/steps", p.steps)},
                     squeeze || unsqueeze ? std::vector<std::string>{} : std::vector<std::string>{out}, name)->output(0);
  }
  if (squeeze) x = ctx.add_node("Squeeze", {x, ctx.add_ints(name + "/shrink_axes", p.squeeze)}, unsqueeze ? std::vector<std::string>{} : std::vector<std::string>{out}, name + "/shrink")->output(0);
  if (unsqueeze) ctx.add_node("Unsqueeze", {x, ctx.add_ints(name + "/new_axes", p.unsqueeze)}, {out}, name + "/new_axis");
  if (p.axes.empty() && !squeeze && !unsqueeze) ctx.add_node("Identity", {x}, {out}, name);
}

void convert_gather(const tf::NodeDef& node, ExportContext& ctx) {
  auto in = inputs_of(node);
  std::int64_t axis = 0;
  if (node.op() == "GatherV2") {
    if (attr_int(node, "batch_dims", 0) != 0) no_onnx_form(node, "batch_dims != 0");
    axis = const_ints(node, 2, ctx).at(0);
  }
  set_int(ctx.add_node("Gather", {in[0], in[1]}, {ExportContext::output(node)}, node.name()), "axis", axis);
}

void convert_gather_nd(const tf::NodeDef& node, ExportContext& ctx) {
  ctx.add_node("GatherND", {inputs_of(node)[0], int64_input(node, 1, ctx)}, {ExportContext::output(node)}, node.name());
}

void convert_tile(const tf::NodeDef& node, ExportContext& ctx) {
  ctx.add_node("Tile", {inputs_of(node)[0], int64_input(node, 1, ctx)}, {ExportContext::output(node)}, node.name());
}

// TF paddings [rank, 2] -> ONNX pads [begin_0, begin_1, ..., end_0, end_1, ...].
void convert_pad(const tf::NodeDef& node, ExportContext& ctx) {
  auto paddings = const_ints(node, 1, ctx);
  std::vector<std::int64_t> pads(paddings.size());
  const std::size_t rank = paddings.size() / 2;
  for (std::size_t k = 0; k < rank; ++k) pads[k] = paddings[2 * k], pads[rank + k] = paddings[2 * k + 1];
  auto in = inputs_of(node);
  std::vector<std::string> operands = {in[0], ctx.add_ints(node.name() + "/pads", pads)};
  if (node.op() == "PadV2") operands.push_back(in[2]);
  auto* n = ctx.add_node("Pad", operands, {ExportContext::output(node)}, node.name());
  if (node.op() == "MirrorPad") {
    const std::string mode = attr_string(node, "mode", "REFLECT");
    if (mode != "REFLECT") no_onnx_form(node, "mode " + mode);
    set_string(n, "mode", "reflect");
  }
}

void convert_fill(const tf::NodeDef& node, ExportContext& ctx) {
  ctx.add_node("Expand", {inputs_of(node)[1], int64_input(node, 0, ctx)}, {ExportContext::output(node)}, node.name());
}

void convert_shape_query(const tf::NodeDef& node, ExportContext& ctx) {
  const tf::DataType out_type = attr_type(node, "out_type", tf::DT_INT32);
  const std::string out = ExportContext::output(node);
  if (node.op() == "Rank") {
    Tensor r{tf::DT_INT32, {}, std::string(4, '\0'), {}, {}};
    const auto rank = static_cast<std::int32_t>(rank_of(ctx, node.input(0)));
    std::memcpy(r.bytes.data(), &rank, 4);
    ctx.add_node("Identity", {ctx.add_initializer(node.name() + "/value", r)}, {out}, node.name());
    return;
  }
  const std::string raw = ctx.add_node(node.op(), {inputs_of(node)[0]}, {}, node.name() + "/int64")->output(0);
  set_int(ctx.add_node("Cast", {raw}, {out}, node.name()), "to", onnx_dtype(out_type));
}

// ZerosLike / OnesLike: a constant of x's shape (ConstantOfShape over Shape(x)).
void convert_like(const tf::NodeDef& node, ExportContext& ctx) {
  const tf::DataType t = attr_type(node, "T", tf::DT_FLOAT);
  Tensor value{t, {1}, std::string(static_cast<std::size_t>(dtype_size(t)), '\0'), {}, {}};
  if (value.bytes.empty()) no_onnx_form(node, "dtype " + dtype_name(t));
  if (node.op() == "OnesLike") {
    switch (t) {
      case tf::DT_FLOAT: { const float one = 1; std::memcpy(value.bytes.data(), &one, 4); break; }
      case tf::DT_DOUBLE: { const double one = 1; std::memcpy(value.bytes.data(), &one, 8); break; }
      case tf::DT_INT32: { const std::int32_t one = 1; std::memcpy(value.bytes.data(), &one, 4); break; }
      case tf::DT_INT64: { const std::int64_t one = 1; std::memcpy(value.bytes.data(), &one, 8); break; }
      case tf::DT_BOOL: value.bytes[0] = 1; break;
      default: no_onnx_form(node, "dtype " + dtype_name(t));
    }
  }
  const std::string shape = ctx.add_node("Shape", {inputs_of(node)[0]}, {}, node.name() + "/shape")->output(0);
  auto* c = ctx.add_node("ConstantOfShape", {shape}, {ExportContext::output(node)}, node.name());
  auto* a = c->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  to_onnx_tensor(value, "value", a->mutable_t());
}

// Where(condition): the true coordinates, [N, rank] int64 (ONNX's NonZero answers [rank, N]).
void convert_where(const tf::NodeDef& node, ExportContext& ctx) {
  const std::string nz = ctx.add_node("NonZero", {inputs_of(node)[0]}, {}, node.name() + "/nonzero")->output(0);
  set_ints(ctx.add_node("Transpose", {nz}, {ExportContext::output(node)}, node.name()), "perm", {1, 0});
}

void convert_top_k(const tf::NodeDef& node, ExportContext& ctx) {
  // Unsorted, TF answers in its heap's order, which ONNX does not promise.
  if (!attr_bool(node, "sorted", true)) no_onnx_form(node, "sorted=false (TensorFlow's heap order)");
  auto in = inputs_of(node);
  const std::string k = ctx.add_node("Reshape", {int64_input(node, 1, ctx), ctx.add_ints(node.name() + "/one", {1})}, {}, node.name() + "/k")->output(0);
  const std::string indices = ctx.fresh(node.name() + "/indices");
  auto* t = ctx.add_node("TopK", {in[0], k}, {ExportContext::output(node, 0), indices}, node.name());
  set_int(t, "axis", -1);
  set_int(t, "largest", 1);
  set_int(t, "sorted", 1);
  set_int(ctx.add_node("Cast", {indices}, {ExportContext::output(node, 1)}, node.name() + "/cast"), "to", onnx_dtype(attr_type(node, "index_type", tf::DT_INT32)));
}

void convert_cumsum(const tf::NodeDef& node, ExportContext& ctx) {
  if (node.op() != "Cumsum") no_onnx_form(node, "a cumulative product");
  auto* n = ctx.add_node("CumSum", {inputs_of(node)[0], inputs_of(node)[1]}, {ExportContext::output(node)}, node.name());
  set_int(n, "exclusive", attr_bool(node, "exclusive", false) ? 1 : 0);
  set_int(n, "reverse", attr_bool(node, "reverse", false) ? 1 : 0);
}

void convert_shape_n(const tf::NodeDef& node, ExportContext& ctx) {
  const auto in = inputs_of(node);
  const tf::DataType out_type = attr_type(node, "out_type", tf::DT_INT32);
  for (std::size_t k = 0; k < in.size(); ++k) {
    const std::string raw = ctx.add_node("Shape", {in[k]}, {}, node.name() + "/int64")->output(0);
    set_int(ctx.add_node("Cast", {raw}, {ExportContext::output(node, static_cast<int>(k))}, node.name()), "to", onnx_dtype(out_type));
  }
}

void convert_range(const tf::NodeDef& node, ExportContext& ctx) { emit_same(node, ctx, "Range"); }

// TF's OneHot gives a row of off_value for every index outside [0, depth); ONNX's counts a
// negative index from the end (-1 is depth - 1), so negative indices become depth first. ONNX's
// OneHot picks the positions (onnxruntime computes it for int64 values only) and Where the
// values, which works for every T.
void convert_one_hot(const tf::NodeDef& node, ExportContext& ctx) {
  const auto in = inputs_of(node);
  if (const Tensor* depth = ctx.constant(in[1]); depth && depth->num_elements() == 1 && element_as_double(*depth, 0) <= 0)
    no_onnx_form(node, "depth 0 (onnxruntime's OneHot needs a positive depth)");
  const std::string name = node.name();
  const std::string indices = ctx.info(node.input(0)).dtype == tf::DT_INT64 ? in[0] : cast(ctx, in[0], tf::DT_INT64, name + "/indices_i64");
  const std::string depth = int64_input(node, 1, ctx);
  const std::string negative = ctx.add_node("Less", {indices, ctx.add_ints(name + "/zero", {0}, true)}, {}, name + "/negative")->output(0);
  const std::string safe = ctx.add_node("Where", {negative, depth, indices}, {}, name + "/no_negative")->output(0);
  auto* hot = ctx.add_node("OneHot", {safe, depth, ctx.add_ints(name + "/off_on", {0, 1})}, {}, name + "/positions");
  set_int(hot, "axis", attr_int(node, "axis", -1));
  const std::string mask = cast(ctx, hot->output(0), tf::DT_BOOL, name + "/mask");
  ctx.add_node("Where", {mask, in[2], in[3]}, {ExportContext::output(node)}, name);
}

}  // namespace

void register_shape_converters(ConverterRegistry& r) {
  r.add("Reshape", convert_reshape);
  r.add("Squeeze", convert_squeeze);
  r.add("ExpandDims", convert_expand_dims);
  r.add("Transpose", convert_transpose);
  r.add_all({"ConcatV2", "Concat"}, convert_concat);
  r.add("Pack", convert_pack);
  r.add("Unpack", convert_unpack);
  r.add_all({"Split", "SplitV"}, convert_split);
  r.add("Slice", convert_slice);
  r.add("StridedSlice", convert_strided_slice);
  r.add_all({"Gather", "GatherV2"}, convert_gather);
  r.add("GatherNd", convert_gather_nd);
  r.add("Tile", convert_tile);
  r.add_all({"Pad", "PadV2", "MirrorPad"}, convert_pad);
  r.add("Fill", convert_fill);
  r.add_all({"Shape", "Size", "Rank"}, convert_shape_query);
  r.add("Range", convert_range);
  r.add("OneHot", convert_one_hot);
  r.add_all({"ZerosLike", "OnesLike"}, convert_like);
  r.add("Where", convert_where);
  r.add("TopKV2", convert_top_k);
  r.add("Cumsum", convert_cumsum);
  r.add("ShapeN", convert_shape_n);
}

}  // namespace tffreeze::onnx_export
