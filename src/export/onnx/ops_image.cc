// Resizing, space/depth rearrangement and non-max suppression. TF's resize ops are NHWC; ONNX's Resize names TF's
// coordinate rules exactly: align_corners, half_pixel (bilinear), tf_half_pixel_for_nn (nearest),
// asymmetric (neither), and nearest rounding as TF does it (floor, or half away from zero with
// align_corners).
#include <limits>

#include "export/onnx/converters.h"
#include "export/onnx/nchw_frame.h"

namespace tffreeze::onnx_export {
namespace {

void convert_resize(const tf::NodeDef& node, ExportContext& ctx) {
  const bool align = attr_bool(node, "align_corners", false), half = attr_bool(node, "half_pixel_centers", false);
  const bool nearest = node.op() == "ResizeNearestNeighbor";
  if (align && half) no_onnx_form(node, "align_corners with half_pixel_centers");
  auto size = const_ints(node, 1, ctx);
  const auto& x = ctx.info(node.input(0)).shape;
  if (size.size() != 2 || x.size() != 4) no_onnx_form(node, "a size that is not [height, width]");
  Frame f = enter_nchw(node, ctx);
  const std::string sizes = ctx.add_ints(node.name() + "/sizes", {x[0], x[3], size[0], size[1]});
  // onnxruntime's CPU Resize has no float64 kernel: resized in float32 (nearest copies values;
  // linear rounds once more, within the tolerance).
  const bool f64 = ctx.info(node.input(0)).dtype == tf::DT_DOUBLE;
  const std::string x_in = f64 ? cast(ctx, f.x, tf::DT_FLOAT, node.name() + "/float") : f.x;
  const std::string resized = f64 ? ctx.fresh(node.name() + "/resized") : f.out;
  auto* r = ctx.add_node("Resize", {x_in, "", "", sizes}, {resized}, node.name());
  if (f64) set_int(ctx.add_node("Cast", {resized}, {f.out}, node.name() + "/double"), "to", onnx::TensorProto::DOUBLE);
  set_string(r, "mode", nearest ? "nearest" : "linear");
  const std::string mode = align ? "align_corners" : !half ? "asymmetric" : nearest ? "tf_half_pixel_for_nn" : "half_pixel";
  set_string(r, "coordinate_transformation_mode", mode);
  if (nearest) set_string(r, "nearest_mode", align ? "round_prefer_ceil" : "floor");
  leave_nchw(node, ctx, f);
}

// TF's NHWC depth order is ONNX's DCR order.
void convert_depth_space(const tf::NodeDef& node, ExportContext& ctx) {
  Frame f = enter_nchw(node, ctx);
  auto* n = ctx.add_node(node.op(), {f.x}, {f.out}, node.name());
  set_int(n, "blocksize", attr_int(node, "block_size", 2));
  if (node.op() == "DepthToSpace") set_string(n, "mode", "DCR");
  leave_nchw(node, ctx, f);
}

// ---- NonMaxSuppression (V1-V5) ------------------------------------------------------------
// ONNX's NonMaxSuppression (center_point_box=0) computes TF's IoU from any diagonal pair of
// corners, suppresses when IoU > threshold, never suppresses by a box of no area, and keeps
// scores > score_threshold, as TF does. The order of equal scores ONNX leaves open: TF takes the
// lower index first, as onnxruntime does since it sorts (index) pairs, but its older heap and
// other runtimes need not. So the boxes are sorted first (TopK keeps equal scores in index order)
// and NonMaxSuppression sees the distinct scores N, N-1, ..., 1 in that order, -1 for the boxes
// TF never considers (score <= threshold, or NaN), and a threshold of 0; its picks are mapped
// back to box indices. Soft-NMS (V5's sigma > 0) re-scores candidates: it has no ONNX form.
int nms_version(const tf::NodeDef& node) {
  const char last = node.op().back();
  return last >= '2' && last <= '5' ? last - '0' : 1;
}

std::string as_float(ExportContext& ctx, const tf::NodeDef& node, int k, const std::string& name) {
  const std::string v = inputs_of(node)[static_cast<std::size_t>(k)];
  return ctx.info(node.input(k)).dtype == tf::DT_FLOAT ? v : cast(ctx, v, tf::DT_FLOAT, name);
}

std::string to_vector(ExportContext& ctx, const std::string& v, const std::string& name) {
  return ctx.add_node("Reshape", {v, ctx.add_ints(name + "_shape", {1})}, {}, name)->output(0);
}

// x padded with zeros at the end to `length` ([1] int64) elements.
std::string pad_to(ExportContext& ctx, const std::string& x, const std::string& length, const std::string& name) {
  const std::string have = ctx.add_node("Shape", {x}, {}, name + "/have")->output(0);
  const std::string more = ctx.add_node("Sub", {length, have}, {}, name + "/more")->output(0);
  auto* pads = ctx.add_node("Concat", {ctx.add_ints(name + "/none", {0}), more}, {}, name + "/pads");
  set_int(pads, "axis", 0);
  return ctx.add_node("Pad", {x, pads->output(0)}, {}, name)->output(0);
}

void convert_nms(const tf::NodeDef& node, ExportContext& ctx) {
  const int v = nms_version(node);
  const std::string name = node.name();
  if (v == 5) {
    const Tensor* sigma = ctx.constant(inputs_of(node)[5]);
    if (!sigma) no_onnx_form(node, "a soft_nms_sigma that is not a constant");
    if (sigma->num_elements() != 1 || element_as_double(*sigma, 0) != 0) no_onnx_form(node, "soft-NMS (soft_nms_sigma != 0)");
  }
  const auto& box_shape = ctx.info(node.input(0)).shape;
  if (box_shape.size() != 2 || box_shape[1] != 4 || box_shape[0] >= (std::int64_t{1} << 24)) no_onnx_form(node, "boxes that are not [N < 2^24, 4]");
  const std::int64_t n = box_shape[0];
  const std::string boxes = as_float(ctx, node, 0, name + "/boxes_f32"), scores = as_float(ctx, node, 1, name + "/scores_f32");
  const std::string threshold = v >= 3 ? as_float(ctx, node, 4, name + "/score_threshold_f32")
                                       : ctx.add_floats(name + "/lowest", {std::numeric_limits<float>::lowest()}, {});
  const std::string kept = ctx.add_node("Greater", {scores, threshold}, {}, name + "/kept")->output(0);
  const std::string key = ctx.add_node("Where", {kept, scores, ctx.add_floats(name + "/minus_inf", {-std::numeric_limits<float>::infinity()}, {})}, {},
                                       name + "/key")->output(0);
  const std::string order = ctx.fresh(name + "/order");
  auto* top = ctx.add_node("TopK", {key, ctx.add_ints(name + "/n", {n})}, {ctx.fresh(name + "/sorted"), order}, name + "/sort");
  set_int(top, "sorted", 1);
  const std::string sorted_boxes = ctx.add_node("Gather", {boxes, order}, {}, name + "/sorted_boxes")->output(0);
  const std::string sorted_kept = ctx.add_node("Gather", {kept, order}, {}, name + "/sorted_kept")->output(0);
  std::vector<float> ranks;
  for (std::int64_t i = n; i > 0; --i) ranks.push_back(static_cast<float>(i));
  const std::string rank = ctx.add_node("Where", {sorted_kept, ctx.add_floats(name + "/ranks", ranks, {n}), ctx.add_floats(name + "/dropped", {-1.0f}, {})},
                                        {}, name + "/rank")->output(0);
  const std::string boxes3 = ctx.add_node("Unsqueeze", {sorted_boxes, ctx.add_ints(name + "/batch_axis", {0})}, {}, name + "/boxes3")->output(0);
  const std::string scores3 = ctx.add_node("Reshape", {rank, ctx.add_ints(name + "/scores_shape", {1, 1, n})}, {}, name + "/scores3")->output(0);
  const std::string max_out = to_vector(ctx, int64_input(node, 2, ctx), name + "/max_output_size");
  const std::string iou = v == 1 ? ctx.add_floats(name + "/iou", {attr_float(node, "iou_threshold", 0.5f)}, {1})
                                 : to_vector(ctx, as_float(ctx, node, 3, name + "/iou_f32"), name + "/iou");
  const std::string picks = ctx.add_node("NonMaxSuppression", {boxes3, scores3, max_out, iou, ctx.add_floats(name + "/zero", {0.0f}, {1})}, {},
                                         name + "/nms")->output(0);
  auto* column = ctx.add_node("Gather", {picks, ctx.add_ints(name + "/box_column", {2}, true)}, {}, name + "/positions");
  set_int(column, "axis", 1);
  const std::string selected = ctx.add_node("Gather", {order, column->output(0)}, {}, name + "/selected")->output(0);
  const bool pad = v >= 4 && attr_bool(node, "pad_to_max_output_size", false);
  const std::string indices = pad ? pad_to(ctx, selected, max_out, name + "/padded") : selected;
  set_int(ctx.add_node("Cast", {indices}, {ExportContext::output(node, 0)}, name), "to", onnx::TensorProto::INT32);
  if (v == 5) {
    const std::string picked = ctx.add_node("Gather", {inputs_of(node)[1], selected}, {}, name + "/picked_scores")->output(0);
    ctx.add_node("Identity", {pad ? pad_to(ctx, picked, max_out, name + "/padded_scores") : picked}, {ExportContext::output(node, 1)}, name + "/scores");
  }
  if (v >= 4) {
    const std::string count = ctx.add_node("Shape", {selected}, {}, name + "/count")->output(0);
    const std::string scalar = ctx.add_node("Squeeze", {count, ctx.add_ints(name + "/count_axis", {0})}, {}, name + "/count_scalar")->output(0);
    set_int(ctx.add_node("Cast", {scalar}, {ExportContext::output(node, v == 5 ? 2 : 1)}, name + "/valid"), "to", onnx::TensorProto::INT32);
  }
}

}  // namespace

void register_image_converters(ConverterRegistry& r) {
  r.add_all({"ResizeBilinear", "ResizeNearestNeighbor"}, convert_resize);
  r.add_all({"SpaceToDepth", "DepthToSpace"}, convert_depth_space);
  r.add_all({"NonMaxSuppression", "NonMaxSuppressionV2", "NonMaxSuppressionV3", "NonMaxSuppressionV4", "NonMaxSuppressionV5"}, convert_nms);
}

}  // namespace tffreeze::onnx_export
