// The ONNX export, op by op: a small TF graph per op and attribute variant is exported, passes
// ONNX's checker (to_onnx runs it), and onnxruntime computes what our executor computes.
#include <cstring>
#include <filesystem>

#include "common/error.h"
#include "export/onnx/converters.h"
#include "export/onnx/export.h"
#include "export/onnx/prepare.h"
#include "graph/builder.h"
#include "io/onnx_file.h"
#include "onnx_support.h"
#include "runtime/executor.h"
#include "runtime/verify.h"

namespace tffreeze {
namespace {

using graph::GraphBuilder;
using test::expect_onnx_matches;

tf::NodeDef* conv(GraphBuilder& b, const std::string& op, const std::string& padding, std::vector<std::int64_t> strides,
                  std::vector<std::int64_t> dilations, const std::string& format = "NHWC") {
  const bool nchw = format == "NCHW";
  b.placeholder("x", tf::DT_FLOAT, nchw ? std::vector<std::int64_t>{2, 3, 9, 8} : std::vector<std::int64_t>{2, 9, 8, 3});
  const std::string w = b.random_constant("w", {3, 2, 3, op == "Conv2D" ? 4 : 2});
  auto* c = b.node("y", op, {"x", w});
  GraphBuilder::set_ints(c, "strides", nchw ? std::vector<std::int64_t>{1, 1, strides[0], strides[1]} : std::vector<std::int64_t>{1, strides[0], strides[1], 1});
  GraphBuilder::set_ints(c, "dilations", nchw ? std::vector<std::int64_t>{1, 1, dilations[0], dilations[1]} : std::vector<std::int64_t>{1, dilations[0], dilations[1], 1});
  GraphBuilder::attr(c, "padding").set_s(padding);
  GraphBuilder::attr(c, "data_format").set_s(format);
  if (padding == "EXPLICIT") {
    GraphBuilder::set_ints(c, "explicit_paddings", nchw ? std::vector<std::int64_t>{0, 0, 0, 0, 1, 2, 0, 1} : std::vector<std::int64_t>{0, 0, 1, 2, 0, 1, 0, 0});
  }
  return c;
}

TEST(OnnxExport, Conv2DPaddingsStridesDilationsAndLayouts) {
  REQUIRE_ONNXRUNTIME();
  for (const std::string format : {"NHWC", "NCHW"})
    for (const std::string padding : {"SAME", "VALID", "EXPLICIT"})
      for (auto [s, d] : std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 1}, {2, 1}, {1, 2}}) {
        SCOPED_TRACE(format + " " + padding + " stride " + std::to_string(s) + " dilation " + std::to_string(d));
        GraphBuilder b;
        conv(b, "Conv2D", padding, {s, s}, {d, d}, format);
        expect_onnx_matches(b.graph(), {"y"});
      }
}

TEST(OnnxExport, DepthwiseConvWithMultiplier) {
  REQUIRE_ONNXRUNTIME();
  for (const std::string padding : {"SAME", "VALID"}) {
    GraphBuilder b;
    conv(b, "DepthwiseConv2dNative", padding, {2, 1}, {1, 1});
    expect_onnx_matches(b.graph(), {"y"});
  }
}

TEST(OnnxExport, PoolingSameAndValid) {
  REQUIRE_ONNXRUNTIME();
  for (const std::string op : {"MaxPool", "AvgPool"})
    for (const std::string padding : {"SAME", "VALID"}) {
      SCOPED_TRACE(op + " " + padding);
      GraphBuilder b;
      b.placeholder("x", tf::DT_FLOAT, {1, 7, 6, 3});
      auto* p = b.node("y", op, {"x"});
      GraphBuilder::set_ints(p, "ksize", {1, 3, 2, 1});
      GraphBuilder::set_ints(p, "strides", {1, 2, 2, 1});
      GraphBuilder::attr(p, "padding").set_s(padding);
      expect_onnx_matches(b.graph(), {"y"});
    }
}

TEST(OnnxExport, BiasAddBatchNormAndActivations) {
  REQUIRE_ONNXRUNTIME();
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {2, 5, 5, 4});
  b.node("bias", "BiasAdd", {"x", b.random_constant("b", {4})});
  b.batch_norm("bn/FusedBatchNormV3", "FusedBatchNormV3", "bias", 4);
  b.node("relu6", "Relu6", {"bn/FusedBatchNormV3"});
  auto* leaky = b.node("leaky", "LeakyRelu", {"relu6"});
  GraphBuilder::attr(leaky, "alpha").set_f(0.3f);
  b.node("elu", "Elu", {"leaky"});
  b.node("selu", "Selu", {"elu"});
  b.node("softplus", "Softplus", {"selu"});
  b.node("sigmoid", "Sigmoid", {"softplus"});
  b.node("tanh", "Tanh", {"sigmoid"});
  b.node("rsqrt", "Rsqrt", {"sigmoid"});
  b.node("square", "Square", {"tanh"});
  b.node("y", "AddN", {"rsqrt", "square", "tanh"});
  expect_onnx_matches(b.graph(), {"y", "relu6", "leaky"});
}

TEST(OnnxExport, BinaryOpsBroadcastAndCompare) {
  REQUIRE_ONNXRUNTIME();
  GraphBuilder b;
  b.placeholder("a", tf::DT_FLOAT, {3, 4});
  b.placeholder("c", tf::DT_FLOAT, {4});
  b.node("add", "AddV2", {"a", "c"});
  b.node("sub", "Sub", {"add", b.scalar("k", 0.5f)});
  b.node("mul", "Mul", {"sub", "c"});
  b.node("div", "RealDiv", {"mul", b.random_constant("d", {4}, 1, 2)});
  b.node("max", "Maximum", {"div", "a"});
  b.node("min", "Minimum", {"max", "c"});
  b.node("sqdiff", "SquaredDifference", {"min", "a"});
  b.node("floordiv", "FloorDiv", {"a", b.random_constant("e", {4}, -2, -1)});
  b.node("floormod", "FloorMod", {"a", b.random_constant("f", {4}, 0.3f, 0.7f)});
  b.node("less", "Less", {"a", "c"});
  b.node("ne", "NotEqual", {"less", "less"});
  b.node("select", "SelectV2", {"less", "a", "sqdiff"});
  expect_onnx_matches(b.graph(), {"sqdiff", "floordiv", "floormod", "ne", "select"});
}

TEST(OnnxExport, IntegerFloorDivAndModFollowTensorFlowsSigns) {
  REQUIRE_ONNXRUNTIME();
  GraphBuilder b;
  b.placeholder("a", tf::DT_INT32, {6});
  Tensor v{tf::DT_INT32, {6}, std::string(24, '\0'), {}, {}};
  const std::int32_t values[6] = {-3, 3, -4, 4, 7, -7};
  std::memcpy(v.bytes.data(), values, 24);
  b.constant("divisor", v);
  b.node("sub", "Sub", {"a", b.ints("five", {5}, true)}, tf::DT_INT32);
  b.node("floordiv", "FloorDiv", {"sub", "divisor"}, tf::DT_INT32);
  b.node("floormod", "FloorMod", {"sub", "divisor"}, tf::DT_INT32);
  b.node("mod", "TruncateMod", {"sub", "divisor"}, tf::DT_INT32);
  expect_onnx_matches(b.graph(), {"floordiv", "floormod", "mod"});
}

TEST(OnnxExport, MatMulTransposesAndBatchMatMul) {
  REQUIRE_ONNXRUNTIME();
  GraphBuilder b;
  b.placeholder("a", tf::DT_FLOAT, {5, 3});
  auto* m = b.node("m", "MatMul", {"a", b.random_constant("w", {4, 3})});
  GraphBuilder::attr(m, "transpose_b").set_b(true);
  auto* m2 = b.node("m2", "MatMul", {"m", b.random_constant("v", {5, 2})});
  GraphBuilder::attr(m2, "transpose_a").set_b(true);
  b.placeholder("x", tf::DT_FLOAT, {2, 3, 4});
  auto* bm = b.node("bm", "BatchMatMulV2", {"x", b.random_constant("y", {1, 3, 4})});
  GraphBuilder::attr(bm, "adj_y").set_b(true);
  b.node("softmax", "Softmax", {"bm"});
  b.node("log_softmax", "LogSoftmax", {"m2"});
  expect_onnx_matches(b.graph(), {"softmax", "log_softmax"});
}

TEST(OnnxExport, Reductions) {
  REQUIRE_ONNXRUNTIME();
  for (bool keep : {false, true}) {
    GraphBuilder b;
    b.placeholder("x", tf::DT_FLOAT, {2, 3, 4});
    std::vector<std::string> outs;
    for (const std::string op : {"Sum", "Mean", "Max", "Min", "Prod"}) {
      auto* r = b.node(op, op, {"x", b.ints(op + "_axes", {1, -1})});
      GraphBuilder::attr(r, "keep_dims").set_b(keep);
      GraphBuilder::attr(r, "Tidx").set_type(tf::DT_INT32);
      outs.push_back(op);
    }
    auto* am = b.node("argmax", "ArgMax", {"x", b.ints("am_axis", {1}, true)});
    GraphBuilder::attr(am, "output_type").set_type(tf::DT_INT32);
    outs.push_back("argmax");
    b.node("positive", "Greater", {"x", b.scalar("zero", 0.0f)});
    auto* any = b.node("any", "Any", {"positive", b.ints("any_axes", {2})}, tf::DT_INVALID);
    GraphBuilder::attr(any, "keep_dims").set_b(keep);
    outs.push_back("any");
    SCOPED_TRACE(keep ? "keep_dims" : "no keep_dims");
    expect_onnx_matches(b.graph(), outs);
  }
}

TEST(OnnxExport, ShapeOps) {
  REQUIRE_ONNXRUNTIME();
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {2, 3, 4});
  b.node("reshape", "Reshape", {"x", b.ints("shape", {6, -1})});
  b.node("expand", "ExpandDims", {"reshape", b.ints("axis", {-1}, true)});
  auto* sq = b.node("squeeze", "Squeeze", {"expand"});
  GraphBuilder::set_ints(sq, "squeeze_dims", {2});
  b.node("transpose", "Transpose", {"x", b.ints("perm", {2, 0, 1})});
  auto* concat = b.node("concat", "ConcatV2", {"x", "x", b.ints("concat_axis", {-1}, true)});
  GraphBuilder::attr(concat, "N").set_i(2);
  auto* pack = b.node("pack", "Pack", {"x", "x", "x"});
  GraphBuilder::attr(pack, "axis").set_i(1);
  GraphBuilder::attr(pack, "N").set_i(3);
  auto* unpack = b.node("unpack", "Unpack", {"x"});
  GraphBuilder::attr(unpack, "num").set_i(3);
  GraphBuilder::attr(unpack, "axis").set_i(1);
  auto* split = b.node("split", "Split", {b.ints("split_axis", {2}, true), "x"});
  GraphBuilder::attr(split, "num_split").set_i(2);
  auto* splitv = b.node("splitv", "SplitV", {"x", b.ints("sizes", {1, -1}), b.ints("splitv_axis", {1}, true)});
  GraphBuilder::attr(splitv, "num_split").set_i(2);
  b.node("slice", "Slice", {"x", b.ints("begin", {0, 1, 1}), b.ints("size", {-1, 2, 2})});
  b.node("tile", "Tile", {"x", b.ints("multiples", {1, 2, 1})});
  b.node("pad", "Pad", {"x", b.ints("paddings", {0, 0, 1, 2, 0, 1}, {3, 2})});
  auto* mirror = b.node("mirror", "MirrorPad", {"x", b.ints("mpaddings", {0, 0, 1, 1, 2, 0}, {3, 2})});
  GraphBuilder::attr(mirror, "mode").set_s("REFLECT");
  auto* gather = b.node("gather", "GatherV2", {"x", b.ints("indices", {2, 0}), b.ints("gather_axis", {2}, true)});
  GraphBuilder::attr(gather, "Tparams").set_type(tf::DT_FLOAT);
  b.node("shape_of", "Shape", {"x"});
  b.node("fill", "Fill", {"shape_of", b.scalar("value", 2.5f)});
  b.node("cast", "Cast", {"shape_of"}, tf::DT_INVALID);
  GraphBuilder::attr(b.graph().mutable_node(b.graph().node_size() - 1), "DstT").set_type(tf::DT_FLOAT);
  expect_onnx_matches(b.graph(), {"squeeze", "transpose", "concat", "pack", "unpack:2", "split:1", "splitv:1", "slice", "tile", "pad", "mirror",
                                  "gather", "fill", "cast"});
}

TEST(OnnxExport, StridedSliceMasks) {
  REQUIRE_ONNXRUNTIME();
  struct Case {
    std::vector<std::int32_t> begin, end, strides;
    int begin_mask, end_mask, ellipsis, new_axis, shrink;
  };
  const std::vector<Case> cases = {
      {{0, 1, 0}, {2, 3, 4}, {1, 1, 2}, 0, 0, 0, 0, 0},        // plain with a step
      {{0, 0, 0}, {0, 0, 0}, {1, -1, 1}, 7, 7, 0, 0, 0},       // masks, reversed axis
      {{1, 0}, {2, 0}, {1, 1}, 0, 2, 0, 0, 1},                 // shrink the first axis
      {{0, -1}, {0, 0}, {1, 1}, 0, 0, 1, 0, 2},                // ellipsis then the last element
      {{0, 0, 1}, {0, 0, 3}, {1, 1, 1}, 1, 1, 0, 2, 0},        // a new axis
      {{-2, 0, 0}, {0, 3, 0}, {1, 1, -2}, 0, 5, 0, 0, 0},      // negative begin, negative step
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    const Case& c = cases[i];
    GraphBuilder b;
    b.placeholder("x", tf::DT_FLOAT, {3, 4, 5});
    auto* s = b.node("y", "StridedSlice", {"x", b.ints("begin", c.begin), b.ints("end", c.end), b.ints("strides", c.strides)});
    GraphBuilder::attr(s, "Index").set_type(tf::DT_INT32);
    GraphBuilder::attr(s, "begin_mask").set_i(c.begin_mask);
    GraphBuilder::attr(s, "end_mask").set_i(c.end_mask);
    GraphBuilder::attr(s, "ellipsis_mask").set_i(c.ellipsis);
    GraphBuilder::attr(s, "new_axis_mask").set_i(c.new_axis);
    GraphBuilder::attr(s, "shrink_axis_mask").set_i(c.shrink);
    expect_onnx_matches(b.graph(), {"y"});
  }
}

TEST(OnnxExport, OpsetsThirteenToTwenty) {
  REQUIRE_ONNXRUNTIME();
  for (int opset : {13, 15, 18, 20}) {
    SCOPED_TRACE("opset " + std::to_string(opset));
    GraphBuilder b;
    b.placeholder("x", tf::DT_FLOAT, {2, 3, 4});
    auto* mean = b.node("mean", "Mean", {"x", b.ints("axes", {1})});
    GraphBuilder::attr(mean, "keep_dims").set_b(true);
    auto* split = b.node("split", "Split", {b.ints("axis", {2}, true), "mean"});
    GraphBuilder::attr(split, "num_split").set_i(2);
    expect_onnx_matches(b.graph(), {"split:1"}, 1e-5, {}, opset);
  }
}

TEST(OnnxExport, OpWithoutOnnxFormIsRefusedNamingEveryOp) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {4});
  b.node("a", "Atan2", {"x", "x"});
  b.node("b", "Betainc", {"a", "a", "a"});
  b.node("y", "Add", {"b", "a"});
  onnx_export::ExportOptions o;
  o.outputs = {"y"};
  try {
    onnx_export::to_onnx(b.graph(), o);
    FAIL() << "exported";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("Atan2 ('a')"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Betainc ('b')"), std::string::npos) << e.what();
  }
  o.opset = 12;
  try {
    onnx_export::to_onnx(b.graph(), o);
    FAIL() << "exported";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUsage);
  }
}

TEST(OnnxExport, ExternalDataPairLoadsInOnnxruntime) {
  REQUIRE_ONNXRUNTIME();
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {2, 64});
  b.node("y", "MatMul", {"x", b.random_constant("w", {64, 32})});
  onnx_export::ExportOptions o;
  o.outputs = {"y"};
  const std::string path = test::temp_dir() + "/external.onnx";
  io::save_onnx(onnx_export::to_onnx(b.graph(), o), path, true);
  ASSERT_TRUE(std::filesystem::exists(path + ".data"));
  EXPECT_EQ(std::filesystem::file_size(path + ".data"), 64u * 32u * 4u);
  EXPECT_LT(std::filesystem::file_size(path), 1024u);
  auto feeds = runtime::random_feeds(runtime::needed_placeholders(b.graph(), {"y"}), {}, 3);
  auto ours = runtime::Executor(b.graph()).run(feeds, {"y"});
  auto theirs = test::run_onnxruntime(path, feeds, {"y"});
  ASSERT_EQ(theirs.size(), 1u);
  EXPECT_TRUE(runtime::compare_tensors(theirs[0], ours[0], 1e-5, 1e-5).within_tolerance);
}


TEST(OnnxExport, ConvTransposeSameAndValid) {
  REQUIRE_ONNXRUNTIME();
  for (const std::string padding : {"SAME", "VALID"})
    for (std::int64_t stride : {1, 2}) {
      SCOPED_TRACE(padding + " stride " + std::to_string(stride));
      GraphBuilder b;
      b.placeholder("x", tf::DT_FLOAT, {2, 4, 5, 3});
      const std::int64_t out_h = padding == "SAME" ? 4 * stride : (4 - 1) * stride + 3, out_w = padding == "SAME" ? 5 * stride : (5 - 1) * stride + 2;
      auto* c = b.node("y", "Conv2DBackpropInput", {b.ints("sizes", {2, static_cast<std::int32_t>(out_h), static_cast<std::int32_t>(out_w), 6}),
                                                    b.random_constant("w", {3, 2, 6, 3}), "x"});
      GraphBuilder::set_ints(c, "strides", {1, stride, stride, 1});
      GraphBuilder::attr(c, "padding").set_s(padding);
      expect_onnx_matches(b.graph(), {"y"});
    }
}

TEST(OnnxExport, ResizeCoordinateModes) {
  REQUIRE_ONNXRUNTIME();
  for (const std::string op : {"ResizeBilinear", "ResizeNearestNeighbor"})
    for (auto [align, half] : std::vector<std::pair<bool, bool>>{{false, false}, {true, false}, {false, true}})
      for (std::vector<std::int32_t> size : {std::vector<std::int32_t>{7, 9}, {3, 2}}) {
        SCOPED_TRACE(op + (align ? " align_corners" : "") + (half ? " half_pixel_centers" : "") + " to " + std::to_string(size[0]));
        GraphBuilder b;
        b.placeholder("x", tf::DT_FLOAT, {1, 4, 5, 2});
        auto* r = b.node("y", op, {"x", b.ints("size", size)});
        GraphBuilder::attr(r, "align_corners").set_b(align);
        GraphBuilder::attr(r, "half_pixel_centers").set_b(half);
        expect_onnx_matches(b.graph(), {"y"});
      }
}

TEST(OnnxExport, DepthAndSpaceRearrangements) {
  REQUIRE_ONNXRUNTIME();
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {1, 4, 6, 8});
  auto* d2s = b.node("d2s", "DepthToSpace", {"x"});
  GraphBuilder::attr(d2s, "block_size").set_i(2);
  auto* s2d = b.node("s2d", "SpaceToDepth", {"d2s"});
  GraphBuilder::attr(s2d, "block_size").set_i(2);
  auto* s2d3 = b.node("s2d3", "SpaceToDepth", {"d2s"});
  GraphBuilder::attr(s2d3, "block_size").set_i(4);
  expect_onnx_matches(b.graph(), {"d2s", "s2d", "s2d3"});
}

TEST(OnnxExport, IndexingOps) {
  REQUIRE_ONNXRUNTIME();
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {3, 5});
  b.node("positive", "Greater", {"x", b.scalar("zero", 0.0f)});
  b.node("where", "Where", {"positive"}, tf::DT_BOOL);
  auto* topk = b.node("topk", "TopKV2", {"x", b.ints("k", {3}, true)});
  GraphBuilder::attr(topk, "sorted").set_b(true);
  auto* cumsum = b.node("cumsum", "Cumsum", {"x", b.ints("axis", {1}, true)});
  GraphBuilder::attr(cumsum, "exclusive").set_b(true);
  GraphBuilder::attr(cumsum, "reverse").set_b(true);
  GraphBuilder::attr(cumsum, "Tidx").set_type(tf::DT_INT32);
  auto* gnd = b.node("gather_nd", "GatherNd", {"x", b.ints("nd", {2, 4, 0, 1}, {2, 2})});
  GraphBuilder::attr(gnd, "Tparams").set_type(tf::DT_FLOAT);
  GraphBuilder::attr(gnd, "Tindices").set_type(tf::DT_INT32);
  b.node("range", "Range", {b.ints("start", {1}, true), b.ints("limit", {11}, true), b.ints("delta", {3}, true)}, tf::DT_INVALID);
  GraphBuilder::attr(b.graph().mutable_node(b.graph().node_size() - 1), "Tidx").set_type(tf::DT_INT32);
  expect_onnx_matches(b.graph(), {"where", "topk", "topk:1", "cumsum", "gather_nd", "range"});
}

TEST(OnnxExport, ShapeQueriesAndConstantsLike) {
  REQUIRE_ONNXRUNTIME();
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {2, 3, 4});
  b.placeholder("v", tf::DT_FLOAT, {5});
  b.node("zeros", "ZerosLike", {"x"});
  b.node("ones", "OnesLike", {"x"});
  auto* shapes = b.node("shapes", "ShapeN", {"x", "v"});
  GraphBuilder::attr(shapes, "N").set_i(2);
  b.node("size", "Size", {"x"});
  b.node("rank", "Rank", {"x"});
  b.node("squeeze_all", "Squeeze", {b.random_constant("c", {1, 3, 1})});
  expect_onnx_matches(b.graph(), {"zeros", "ones", "shapes", "shapes:1", "size", "rank", "squeeze_all"});
}

TEST(OnnxExport, ComposedElementwiseOps) {
  REQUIRE_ONNXRUNTIME();
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {4, 3});
  b.placeholder("rows", tf::DT_BOOL, {4});
  b.node("log1p", "Log1p", {b.node("abs", "Abs", {"x"})->name()});
  b.node("expm1", "Expm1", {"x"});
  b.node("clip", "ClipByValue", {"x", b.scalar("lo", -0.5f), b.scalar("hi", 0.25f)});
  b.node("select_rows", "Select", {"rows", "x", "clip"});
  b.node("tan", "Tan", {"x"});
  b.placeholder("d", tf::DT_DOUBLE, {4});
  b.node("tan64", "Tan", {"d"}, tf::DT_DOUBLE);
  b.node("mod", "FloorMod", {"x", b.scalar("m", -0.3f)});
  expect_onnx_matches(b.graph(), {"log1p", "expm1", "clip", "select_rows", "tan", "tan64", "mod"});
}

TEST(OnnxExport, ScatterFamilyAndSegments) {
  REQUIRE_ONNXRUNTIME();
  GraphBuilder b;
  b.placeholder("v", tf::DT_FLOAT, {5, 3});
  b.placeholder("u", tf::DT_FLOAT, {2, 3});
  b.node("assign", "Assign", {b.random_constant("var", {5, 3}), "v"});
  for (const std::string op : {"ScatterAdd", "ScatterSub", "ScatterMul", "ScatterUpdate"}) {
    auto* n = b.node(op, op, {"assign", b.ints(op + "_i", {4, 1}), "u"});
    GraphBuilder::attr(n, "Tindices").set_type(tf::DT_INT32);
  }
  auto* nd = b.node("nd_sub", "ScatterNdSub", {"assign", b.ints("nd_i", {0, 2, 3, 1}, {2, 2}), b.random_constant("nd_u", {2})});
  GraphBuilder::attr(nd, "Tindices").set_type(tf::DT_INT32);
  auto* seg = b.node("segments", "UnsortedSegmentSum", {"v", b.ints("ids", {2, 0, 2, 1, 0}), b.ints("num", {4}, true)});
  GraphBuilder::attr(seg, "Tindices").set_type(tf::DT_INT32);
  GraphBuilder::attr(seg, "Tnumsegments").set_type(tf::DT_INT32);
  expect_onnx_matches(b.graph(), {"ScatterAdd", "ScatterSub", "ScatterMul", "ScatterUpdate", "nd_sub", "segments"});
}


// Every one-to-one unary converter, on inputs inside each op's domain.
TEST(OnnxExport, UnaryOpsOneToOne) {
  REQUIRE_ONNXRUNTIME();
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {3, 4});                                 // [-1, 1)
  b.node("unit", "Mul", {"x", b.scalar("almost_one", 0.99f)});               // (-1, 1) for asin/atanh
  b.node("positive", "AddV2", {b.node("abs", "Abs", {"x"})->name(), b.scalar("one", 1.0f)});  // [1, 2] for log/acosh
  std::vector<std::string> outputs;
  for (const std::string op : {"Relu", "Exp", "Neg", "Floor", "Ceil", "Round", "Rint", "Sign", "Erf", "Softsign", "Sin", "Cos", "Atan",
                               "Sinh", "Cosh", "Asinh", "Identity", "StopGradient", "Snapshot", "DeepCopy"}) {
    b.node(op, op, {"x"});
    outputs.push_back(op);
  }
  for (const std::string op : {"Asin", "Acos", "Atanh"}) b.node(op, op, {"unit"}), outputs.push_back(op);
  for (const std::string op : {"Log", "Sqrt", "Reciprocal", "Inv", "Acosh"}) b.node(op, op, {"positive"}), outputs.push_back(op);
  b.node("pow", "Pow", {"positive", "x"});
  b.node("div", "Div", {"x", "positive"});
  b.node("is_nan", "IsNan", {"x"});
  b.node("is_inf", "IsInf", {b.node("inf", "RealDiv", {"x", b.scalar("zero", 0.0f)})->name()});
  b.node("not", "LogicalNot", {b.node("less", "Less", {"x", b.scalar("z", 0.0f)})->name()}, tf::DT_INVALID);
  b.node("and", "LogicalAnd", {"not", "is_nan"}, tf::DT_INVALID);
  b.node("or", "LogicalOr", {"not", "is_inf"}, tf::DT_INVALID);
  for (const std::string o : {"pow", "div", "is_nan", "is_inf", "and", "or"}) outputs.push_back(o);
  expect_onnx_matches(b.graph(), outputs);
}

// Integer arithmetic and bfloat16 (computed in float32 and rounded back, as TF does).
TEST(OnnxExport, IntegerAndBfloat16Arithmetic) {
  REQUIRE_ONNXRUNTIME();
  GraphBuilder b;
  b.placeholder("i", tf::DT_INT32, {6});
  b.node("shifted", "Sub", {"i", b.ints("five", {5}, true)}, tf::DT_INT32);
  b.node("tdiv", "TruncateDiv", {"shifted", b.ints("three", {3}, true)}, tf::DT_INT32);
  b.node("imax", "Maximum", {"shifted", b.ints("m", {-2}, true)}, tf::DT_INT32);
  b.placeholder("x", tf::DT_FLOAT, {6});
  auto* to_bf16 = b.node("bf", "Cast", {"x"}, tf::DT_INVALID);
  GraphBuilder::attr(to_bf16, "SrcT").set_type(tf::DT_FLOAT);
  GraphBuilder::attr(to_bf16, "DstT").set_type(tf::DT_BFLOAT16);
  b.node("bf_sum", "AddV2", {"bf", "bf"}, tf::DT_BFLOAT16);
  b.node("bf_prod", "Mul", {"bf_sum", "bf"}, tf::DT_BFLOAT16);
  auto* back = b.node("bf_back", "Cast", {"bf_prod"}, tf::DT_INVALID);
  GraphBuilder::attr(back, "SrcT").set_type(tf::DT_BFLOAT16);
  GraphBuilder::attr(back, "DstT").set_type(tf::DT_FLOAT);
  expect_onnx_matches(b.graph(), {"tdiv", "imax"});
  // bfloat16 keeps 8 significant bits. TensorFlow and the export round every op's result to it;
  // the executor computes bfloat16 in float32 and rounds only at Casts, so the two may differ by
  // a bfloat16 step (2^-8 relative) per op.
  expect_onnx_matches(b.graph(), {"bf_back"}, 1e-2);
}


// The remaining converters' variants: PadV2's value, Concat and Gather of TF 1, ArgMin, ScatterDiv, ScatterMin/Max (opset 18), TensorScatterAdd, SparseTensorDenseAdd.
TEST(OnnxExport, RemainingVariants) {
  REQUIRE_ONNXRUNTIME();
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {3, 4});
  b.node("padv2", "PadV2", {"x", b.ints("paddings", {1, 0, 0, 2}, {2, 2}), b.scalar("pad_value", 7.5f)});
  auto* concat = b.node("concat_v1", "Concat", {b.ints("axis", {0}, true), "x", "x"});
  GraphBuilder::attr(concat, "N").set_i(2);
  auto* gather = b.node("gather_v1", "Gather", {"x", b.ints("rows", {2, 0, 2})});
  GraphBuilder::attr(gather, "Tparams").set_type(tf::DT_FLOAT);
  auto* argmin = b.node("argmin", "ArgMin", {"x", b.ints("am_axis", {0}, true)});
  GraphBuilder::attr(argmin, "output_type").set_type(tf::DT_INT64);
  b.placeholder("u", tf::DT_FLOAT, {2, 4});
  b.node("assign", "Assign", {b.random_constant("var", {3, 4}, 1, 2), "x"});
  std::vector<std::string> outputs = {"padv2", "concat_v1", "gather_v1", "argmin"};
  for (const std::string op : {"ScatterDiv", "ScatterMin", "ScatterMax"}) {
    auto* n = b.node(op, op, {"assign", b.ints(op + "_i", {2, 0}), op == "ScatterDiv" ? b.node("u_away", "AddV2", {"u", b.scalar("two", 2.0f)})->name() : "u"});
    GraphBuilder::attr(n, "Tindices").set_type(tf::DT_INT32);
    outputs.push_back(op);
  }
  auto* ts = b.node("tensor_scatter", "TensorScatterAdd", {"x", b.ints("ts_i", {1, 2}, {2, 1}), "u"});
  GraphBuilder::attr(ts, "Tindices").set_type(tf::DT_INT32);
  auto* sparse = b.node("sparse_add", "SparseTensorDenseAdd",
                        {b.ints("sp_i", {0, 1, 2, 3}, {2, 2}), b.random_constant("sp_v", {2}), b.ints("sp_shape", {3, 4}), "x"});
  GraphBuilder::attr(sparse, "Tindices").set_type(tf::DT_INT32);
  outputs.insert(outputs.end(), {"tensor_scatter", "sparse_add"});
  expect_onnx_matches(b.graph(), outputs, 1e-5, {}, 18);
}


// What the export maps, the executor runs: every converter's op has a kernel (or runs without
// one, as control flow does), so the NCHW TF graph's proof and these tests can run it.
TEST(OnnxExport, EveryMappedOpHasAnExecutorKernel) {
  tf::GraphDef g;
  std::vector<const tf::NodeDef*> nodes;
  for (const auto& [op, converter] : onnx_export::ConverterRegistry::global().all()) {
    auto* n = g.add_node();
    n->set_name("n_" + op);
    n->set_op(op);
  }
  for (const auto& n : g.node()) nodes.push_back(&n);
  std::string missing;
  for (const auto& [op, names] : runtime::ops_without_kernels(g, nodes)) missing += op + " ";
  EXPECT_EQ(missing, "");
  EXPECT_GT(g.node_size(), 120);
}


TEST(OnnxExport, Conv3DAndPooling3D) {
  REQUIRE_ONNXRUNTIME();
  for (const std::string format : {"NDHWC", "NCDHW"})
    for (const std::string padding : {"SAME", "VALID"}) {
      SCOPED_TRACE(format + " " + padding);
      const bool first = format == "NCDHW";
      auto five = [&](std::int64_t d, std::int64_t h, std::int64_t w) {
        return first ? std::vector<std::int64_t>{1, 1, d, h, w} : std::vector<std::int64_t>{1, d, h, w, 1};
      };
      GraphBuilder b;
      b.placeholder("x", tf::DT_FLOAT, first ? std::vector<std::int64_t>{1, 2, 5, 6, 7} : std::vector<std::int64_t>{1, 5, 6, 7, 2});
      auto* c = b.node("conv", "Conv3D", {"x", b.random_constant("w", {2, 3, 2, 2, 3})});
      GraphBuilder::set_ints(c, "strides", five(1, 2, 1));
      GraphBuilder::set_ints(c, "dilations", five(1, 1, 2));
      GraphBuilder::attr(c, "padding").set_s(padding);
      GraphBuilder::attr(c, "data_format").set_s(format);
      for (const std::string op : {"MaxPool3D", "AvgPool3D"}) {
        auto* p = b.node(op, op, {"conv"});
        GraphBuilder::set_ints(p, "ksize", five(2, 2, 3));
        GraphBuilder::set_ints(p, "strides", five(1, 2, 2));
        GraphBuilder::attr(p, "padding").set_s(padding);
        GraphBuilder::attr(p, "data_format").set_s(format);
      }
      expect_onnx_matches(b.graph(), {"conv", "MaxPool3D", "AvgPool3D"});
    }
}

// ---- OneHot, EuclideanNorm, NonMaxSuppression ----------------------------------------------

template <class T>
Tensor values_tensor(tf::DataType dtype, std::vector<std::int64_t> shape, const std::vector<T>& values) {
  Tensor t{dtype, std::move(shape), std::string(values.size() * sizeof(T), '\0'), {}, {}};
  std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

// Exports `graph`, runs it in onnxruntime and our executor on the given feeds, expects equal outputs.
onnx::ModelProto expect_onnx_matches_on(const tf::GraphDef& graph, const std::map<std::string, Tensor>& feeds, const std::vector<std::string>& outputs,
                                        int opset = 17) {
  auto ours = runtime::Executor(graph).run(feeds, outputs);
  onnx_export::ExportOptions options;
  options.opset = opset;
  options.outputs = outputs;
  options.example_feeds = feeds;
  onnx::ModelProto model = onnx_export::to_onnx(graph, options);
  const std::string path = test::temp_dir() + "/model.onnx";
  io::save_onnx(model, path, false);
  auto theirs = test::run_onnxruntime(path, feeds, outputs);
  EXPECT_EQ(theirs.size(), ours.size());
  for (std::size_t i = 0; i < ours.size() && i < theirs.size(); ++i) {
    if (theirs[i].dtype == tf::DT_HALF) {  // the executor keeps halfs as float32 values rounded to half
      std::vector<float> wide;
      for (std::int64_t k = 0; k < theirs[i].num_elements(); ++k) wide.push_back(static_cast<float>(element_as_double(theirs[i], k)));
      theirs[i] = values_tensor(tf::DT_FLOAT, theirs[i].shape, wide);
    }
    auto d = runtime::compare_tensors(theirs[i], ours[i], 0, 1e-5);
    EXPECT_TRUE(d.within_tolerance && theirs[i].shape == ours[i].shape)
        << outputs[i] << ": onnxruntime " << dims_string(theirs[i].shape) << " vs " << dims_string(ours[i].shape) << " " << d.mismatch;
  }
  return model;
}

int count_onnx_op(const onnx::ModelProto& model, const std::string& op) {
  int n = 0;
  for (const auto& node : model.graph().node()) n += node.op_type() == op;
  return n;
}

// Indices outside [0, depth), negative ones included, give rows of off_value, as in TensorFlow
// (ONNX's OneHot would count -1 as depth - 1); every axis; int and float values; both TI.
TEST(OnnxExport, OneHotAxesAndOutOfRangeIndices) {
  REQUIRE_ONNXRUNTIME();
  for (tf::DataType ti : {tf::DT_INT32, tf::DT_INT64})
    for (int axis : {-1, 0, 1, 2}) {
      SCOPED_TRACE("axis " + std::to_string(axis) + (ti == tf::DT_INT64 ? " int64" : " int32"));
      GraphBuilder b;
      b.placeholder("i", ti, {2, 4});
      const std::string depth = b.ints("depth", {3}, true);
      auto* f = b.node("float_hot", "OneHot", {"i", depth, b.scalar("on", 5.5f), b.scalar("off", -1.0f)});
      auto* n = b.node("int_hot", "OneHot", {"i", depth, b.ints("on_i", {7}, true), b.ints("off_i", {-2}, true)}, tf::DT_INT32);
      for (auto* node : {f, n}) {
        GraphBuilder::attr(node, "axis").set_i(axis);
        GraphBuilder::attr(node, "TI").set_type(ti);
      }
      const std::vector<std::int64_t> idx = {0, -1, 2, 3, 1, -3, -4, 2};
      Tensor feed = ti == tf::DT_INT64 ? values_tensor(ti, {2, 4}, idx) : values_tensor(ti, {2, 4}, std::vector<std::int32_t>(idx.begin(), idx.end()));
      expect_onnx_matches_on(b.graph(), {{"i", feed}}, {"float_hot", "int_hot"});
    }
}

TEST(OnnxExport, EuclideanNormAxesAndKeepDims) {
  REQUIRE_ONNXRUNTIME();
  for (int opset : {17, 18})
    for (bool keep : {false, true}) {
      SCOPED_TRACE("opset " + std::to_string(opset) + (keep ? " keep_dims" : ""));
      GraphBuilder b;
      b.placeholder("x", tf::DT_FLOAT, {2, 3, 4});
      std::vector<std::string> outs;
      const std::vector<std::vector<std::int32_t>> axes_sets = {{1, -1}, {0}, {0, 1, 2}, {}};
      for (std::size_t k = 0; k < axes_sets.size(); ++k) {
        const std::string name = "norm" + std::to_string(k);
        auto* r = b.node(name, "EuclideanNorm", {"x", b.ints(name + "_axes", axes_sets[k])});
        GraphBuilder::attr(r, "keep_dims").set_b(keep);
        GraphBuilder::attr(r, "Tidx").set_type(tf::DT_INT32);
        outs.push_back(name);
      }
      expect_onnx_matches(b.graph(), outs, 1e-5, {}, opset);
    }
}

// In an NHWC CNN the reduction runs in the NCHW frame: no Transpose back to NHWC before it.
TEST(OnnxExport, EuclideanNormInNchwFrame) {
  REQUIRE_ONNXRUNTIME();
  for (bool keep : {false, true}) {
    GraphBuilder b;
    conv(b, "Conv2D", "SAME", {1, 1}, {1, 1});
    b.node("relu", "Relu", {"y"});
    auto* spatial = b.node("spatial", "EuclideanNorm", {"relu", b.ints("hw", {1, 2})});
    GraphBuilder::attr(spatial, "keep_dims").set_b(keep);
    auto* channels = b.node("channels", "EuclideanNorm", {"relu", b.ints("c", {-1})});
    GraphBuilder::attr(channels, "keep_dims").set_b(true);
    b.node("scaled", "Mul", {"relu", "channels"});
    expect_onnx_matches(b.graph(), {"spatial", "scaled"});
    tf::GraphDef g = b.graph();
    onnx_export::prepare_for_onnx(&g, {"spatial"}, {{"x"}, {}});
    int transposes = 0;
    for (const auto& n : g.node()) transposes += n.op() == "Transpose";
    EXPECT_EQ(transposes, keep ? 1 : 0) << "keep_dims " << keep << " (an NHWC output keeps its Transpose)";
  }
}

// Boxes with corners in either order, zero area, equal scores (TF takes the lower index first),
// a score threshold that drops some, overlaps over the IoU threshold.
struct NmsCase {
  GraphBuilder b;
  std::map<std::string, Tensor> feeds;
  NmsCase() {
    b.placeholder("boxes", tf::DT_FLOAT, {8, 4});
    b.placeholder("scores", tf::DT_FLOAT, {8});
    feeds["boxes"] = values_tensor<float>(tf::DT_FLOAT, {8, 4},
                                          {0, 0, 1, 1,   0, 0.1f, 1, 1.1f,  2, 2, 1, 1,    0, 10, 1, 11,   0, 0, 1, 1,
                                           1.5f, 1.5f, 0.5f, 0.5f,   3, 3, 3, 4,   1.1f, 2.1f, 2, 1});
    feeds["scores"] = values_tensor<float>(tf::DT_FLOAT, {8}, {0.9f, 0.75f, 0.8f, 0.8f, 0.3f, 0.8f, 0.95f, 0.8f});
    // All equal: TensorFlow picks 0, 2, 3, 5 (lower index first), a plain heap would pick 0, 2, 6, 5.
    b.placeholder("equal", tf::DT_FLOAT, {8});
    feeds["equal"] = values_tensor<float>(tf::DT_FLOAT, {8}, std::vector<float>(8, 0.5f));
  }
  tf::NodeDef* nms(const std::string& name, const std::string& op, int max_out, float iou, float score, bool pad, float sigma = 0,
                   const std::string& scores = "scores") {
    std::vector<std::string> in = {"boxes", scores, b.ints(name + "_max", {max_out}, true)};
    if (op != "NonMaxSuppression") in.push_back(b.scalar(name + "_iou", iou));
    if (op >= "NonMaxSuppressionV3") in.push_back(b.scalar(name + "_score", score));
    if (op == "NonMaxSuppressionV5") in.push_back(b.scalar(name + "_sigma", sigma));
    auto* n = b.node(name, op, in, op == "NonMaxSuppression" ? tf::DT_INVALID : tf::DT_FLOAT);
    if (op == "NonMaxSuppression") GraphBuilder::attr(n, "iou_threshold").set_f(iou);
    else if (op != "NonMaxSuppressionV5") GraphBuilder::attr(n, "T_threshold").set_type(tf::DT_FLOAT);
    if (op >= "NonMaxSuppressionV4") GraphBuilder::attr(n, "pad_to_max_output_size").set_b(pad);
    return n;
  }
};

TEST(OnnxExport, NonMaxSuppressionV1ToV5) {
  REQUIRE_ONNXRUNTIME();
  NmsCase c;
  c.nms("v1", "NonMaxSuppression", 5, 0.5f, 0, false);
  c.nms("v2", "NonMaxSuppressionV2", 8, 0.3f, 0, false);
  c.nms("v3", "NonMaxSuppressionV3", 4, 0.5f, 0.4f, false);
  c.nms("v3_all", "NonMaxSuppressionV3", 20, 0.0f, 0.0f, false);
  c.nms("v3_ties", "NonMaxSuppressionV3", 4, 0.5f, 0.4f, false, 0, "equal");
  c.nms("v4", "NonMaxSuppressionV4", 3, 0.5f, 0.4f, false);
  c.nms("v4_padded", "NonMaxSuppressionV4", 9, 0.5f, 0.4f, true);
  c.nms("v5", "NonMaxSuppressionV5", 4, 0.5f, 0.4f, false);
  c.nms("v5_padded", "NonMaxSuppressionV5", 8, 0.6f, 0.85f, true);
  // max_output_size and iou_threshold fed at run time
  c.b.placeholder("max_out", tf::DT_INT32, {});
  c.b.placeholder("iou", tf::DT_FLOAT, {});
  c.feeds["max_out"] = values_tensor<std::int32_t>(tf::DT_INT32, {}, {6});
  c.feeds["iou"] = values_tensor<float>(tf::DT_FLOAT, {}, {0.2f});
  auto* fed = c.b.node("v4_fed", "NonMaxSuppressionV4", {"boxes", "scores", "max_out", "iou", c.b.scalar("fed_score", 0.1f)});
  GraphBuilder::attr(fed, "T_threshold").set_type(tf::DT_FLOAT);
  GraphBuilder::attr(fed, "pad_to_max_output_size").set_b(true);
  auto ours = runtime::Executor(c.b.graph()).run(c.feeds, {"v3", "v4_padded", "v3_ties"});
  ASSERT_EQ(ours[0].num_elements(), 4);
  EXPECT_EQ(ours[0].get<std::int32_t>(0), 6);  // the best score
  EXPECT_EQ(ours[1].shape, std::vector<std::int64_t>{9});
  ASSERT_EQ(ours[2].num_elements(), 4);
  EXPECT_EQ(ours[2].get<std::int32_t>(2), 3);
  for (int opset : {13, 17, 20}) {
    SCOPED_TRACE("opset " + std::to_string(opset));
    auto model = expect_onnx_matches_on(c.b.graph(), c.feeds,
                           {"v1", "v2", "v3", "v3_all", "v3_ties", "v4", "v4:1", "v4_padded", "v4_padded:1", "v5", "v5:1", "v5:2", "v5_padded", "v5_padded:1", "v5_padded:2",
                            "v4_fed", "v4_fed:1"},
                           opset);
    EXPECT_EQ(count_onnx_op(model, "NonMaxSuppression"), 10);
  }
}

// float16 boxes and scores: computed in float32 by both, the scores come back as float16.
TEST(OnnxExport, NonMaxSuppressionOnHalfs) {
  REQUIRE_ONNXRUNTIME();
  NmsCase c;
  for (const std::string x : {"boxes", "scores"}) {
    auto* h = c.b.node(x + "_h", "Cast", {x}, tf::DT_INVALID);
    GraphBuilder::attr(h, "SrcT").set_type(tf::DT_FLOAT);
    GraphBuilder::attr(h, "DstT").set_type(tf::DT_HALF);
  }
  auto half = [&](const std::string& name, std::uint16_t bits) { return c.b.constant(name, values_tensor<std::uint16_t>(tf::DT_HALF, {}, {bits})); };
  auto* n = c.b.node("v5", "NonMaxSuppressionV5", {"boxes_h", "scores_h", c.b.ints("max", {5}, true), half("iou", 0x3800), half("score", 0x3666), half("sigma", 0)},
                     tf::DT_HALF);
  GraphBuilder::attr(n, "pad_to_max_output_size").set_b(true);
  auto* v3 = c.b.node("v3", "NonMaxSuppressionV3", {"boxes_h", "scores_h", c.b.ints("max3", {4}, true), "iou", "score"}, tf::DT_HALF);
  GraphBuilder::attr(v3, "T_threshold").set_type(tf::DT_HALF);
  expect_onnx_matches_on(c.b.graph(), c.feeds, {"v5", "v5:1", "v5:2", "v3"});
}

TEST(OnnxExport, SoftNonMaxSuppressionIsRefused) {
  NmsCase c;
  c.nms("soft", "NonMaxSuppressionV5", 4, 0.5f, 0.4f, false, 0.5f);
  onnx_export::ExportOptions o;
  o.outputs = {"soft"};
  try {
    onnx_export::to_onnx(c.b.graph(), o);
    FAIL() << "exported";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("soft-NMS"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tffreeze
