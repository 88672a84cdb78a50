// Resizing and space/depth rearrangement. TF's resize ops are NHWC; ONNX's Resize names TF's
// coordinate rules exactly: align_corners, half_pixel (bilinear), tf_half_pixel_for_nn (nearest),
// asymmetric (neither), and nearest rounding as TF does it (floor, or half away from zero with
// align_corners).
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

}  // namespace

void register_image_converters(ConverterRegistry& r) {
  r.add_all({"ResizeBilinear", "ResizeNearestNeighbor"}, convert_resize);
  r.add_all({"SpaceToDepth", "DepthToSpace"}, convert_depth_space);
}

}  // namespace tffreeze::onnx_export
