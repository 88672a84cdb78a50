// The reference executor: kernels against hand-computed values and a naive reference
// convolution, cond dead-tensor semantics, and the closed forms the fixtures state.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

#include "common/error.h"
#include "freeze/freeze.h"
#include "graph/op_registry.h"
#include "io/model.h"
#include "io/npy.h"
#include "graph/builder.h"
#include "runtime/executor.h"
#include "runtime/kernel.h"
#include "support.h"

namespace tffreeze::runtime {
namespace {

Tensor floats(std::vector<std::int64_t> shape, std::vector<float> values) {
  Tensor t{tf::DT_FLOAT, std::move(shape), std::string(values.size() * 4, '\0'), {}};
  if (!values.empty()) std::memcpy(t.bytes.data(), values.data(), values.size() * 4);
  return t;
}
Tensor ints(std::vector<std::int64_t> shape, std::vector<std::int32_t> values) {
  Tensor t{tf::DT_INT32, std::move(shape), std::string(values.size() * 4, '\0'), {}};
  if (!values.empty()) std::memcpy(t.bytes.data(), values.data(), values.size() * 4);
  return t;
}
std::vector<float> values_of(const Tensor& t) {
  std::vector<float> v;
  for (std::int64_t i = 0; i < t.num_elements(); ++i) v.push_back(static_cast<float>(element_as_double(t, i)));
  return v;
}

// A graph under construction: constants and ops, evaluated with the executor.
struct G : graph::GraphBuilder {
  tf::NodeDef* op(const std::string& name, const std::string& op, std::vector<std::string> inputs) {
    return node(name, op, std::move(inputs));
  }
  Tensor eval(const std::string& fetch, const std::map<std::string, Tensor>& feeds = {}) {
    return Executor(graph()).run(feeds, {fetch})[0];
  }
};

void ints_attr(tf::NodeDef* n, const std::string& key, std::vector<std::int64_t> v) {
  for (auto x : v) (*n->mutable_attr())[key].mutable_list()->add_i(x);
}

TEST(Kernels, BroadcastingArithmeticAndComparison) {
  G g;
  g.constant("a", floats({2, 3}, {1, 2, 3, 4, 5, 6}));
  g.constant("b", floats({3}, {10, 20, 30}));
  g.op("add", "AddV2", {"a", "b"});
  EXPECT_EQ(values_of(g.eval("add")), (std::vector<float>{11, 22, 33, 14, 25, 36}));
  g.constant("c", floats({2, 1}, {2, 4}));
  g.op("div", "RealDiv", {"a", "c"});
  EXPECT_EQ(values_of(g.eval("div")), (std::vector<float>{0.5f, 1, 1.5f, 1, 1.25f, 1.5f}));
  g.op("gt", "Greater", {"a", "c"});
  Tensor gt = g.eval("gt");
  EXPECT_EQ(gt.dtype, tf::DT_BOOL);
  EXPECT_EQ(values_of(gt), (std::vector<float>{0, 0, 1, 0, 1, 1}));
  g.constant("x", ints({4}, {-7, -7, 7, 7}));
  g.constant("y", ints({4}, {2, -2, 2, -2}));
  g.op("fd", "FloorDiv", {"x", "y"})->mutable_attr()->at("T").set_type(tf::DT_INT32);
  g.op("fm", "FloorMod", {"x", "y"})->mutable_attr()->at("T").set_type(tf::DT_INT32);
  EXPECT_EQ(values_of(g.eval("fd")), (std::vector<float>{-4, 3, 3, -4}));
  EXPECT_EQ(values_of(g.eval("fm")), (std::vector<float>{1, -1, 1, -1}));
  g.constant("z", floats({2}, {1, 2}));
  g.op("bad", "AddV2", {"a", "z"});
  try {
    g.eval("bad");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("node 'bad' (AddV2): shapes [2,3] and [2] do not broadcast"), std::string::npos) << e.what();
  }
}

TEST(Kernels, ActivationsAndSoftmax) {
  G g;
  g.constant("x", floats({1, 4}, {-2, -0.5f, 3, 8}));
  g.op("relu6", "Relu6", {"x"});
  g.op("leaky", "LeakyRelu", {"x"});
  g.op("sm", "Softmax", {"x"});
  EXPECT_EQ(values_of(g.eval("relu6")), (std::vector<float>{0, 0, 3, 6}));
  EXPECT_EQ(values_of(g.eval("leaky")), (std::vector<float>{-0.4f, -0.1f, 3, 8}));
  auto sm = values_of(g.eval("sm"));
  float sum = 0;
  for (float v : sm) sum += v;
  EXPECT_NEAR(sum, 1.0f, 1e-6);
  EXPECT_NEAR(sm[3] / sm[2], std::exp(5.0f), 1e-2);
}

// Naive NHWC convolution, written independently of the kernel (no im2col, no GEMM).
std::vector<float> naive_conv(const std::vector<float>& x, int N, int H, int W, int C, const std::vector<float>& f, int KH, int KW, int OC,
                              int sh, int sw, int dh, int dw, bool same) {
  auto out_size = [&](int in, int k, int s, int d) { return same ? (in + s - 1) / s : (in - (k - 1) * d - 1) / s + 1; };
  int OH = out_size(H, KH, sh, dh), OW = out_size(W, KW, sw, dw);
  int pt = same ? std::max((OH - 1) * sh + (KH - 1) * dh + 1 - H, 0) / 2 : 0;
  int pl = same ? std::max((OW - 1) * sw + (KW - 1) * dw + 1 - W, 0) / 2 : 0;
  std::vector<float> out(static_cast<std::size_t>(N * OH * OW * OC), 0.0f);
  for (int n = 0; n < N; ++n)
    for (int oh = 0; oh < OH; ++oh)
      for (int ow = 0; ow < OW; ++ow)
        for (int oc = 0; oc < OC; ++oc) {
          double acc = 0;
          for (int kh = 0; kh < KH; ++kh)
            for (int kw = 0; kw < KW; ++kw)
              for (int c = 0; c < C; ++c) {
                int ih = oh * sh + kh * dh - pt, iw = ow * sw + kw * dw - pl;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                acc += x[((n * H + ih) * W + iw) * C + c] * f[((kh * KW + kw) * C + c) * OC + oc];
              }
          out[((n * OH + oh) * OW + ow) * OC + oc] = static_cast<float>(acc);
        }
  return out;
}

TEST(Kernels, Conv2DMatchesANaiveReference) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1, 1);
  struct Case {
    int H, W, C, KH, KW, OC, sh, sw, dh, dw;
    bool same;
  };
  for (Case c : {Case{7, 6, 3, 3, 3, 4, 1, 1, 1, 1, true}, Case{9, 9, 2, 3, 2, 5, 2, 3, 1, 1, true}, Case{8, 7, 3, 3, 3, 2, 1, 1, 2, 2, false},
                 Case{5, 5, 1, 1, 1, 3, 2, 2, 1, 1, false}, Case{10, 4, 4, 5, 3, 3, 3, 1, 1, 1, true},
                 // strides and dilations together (taps land in different phase images), a window
                 // larger than the image, and images large enough that the products and the
                 // phase split run on several threads
                 Case{11, 9, 2, 3, 3, 3, 2, 2, 2, 2, true}, Case{12, 10, 3, 3, 2, 2, 3, 2, 2, 3, false}, Case{3, 2, 2, 5, 4, 2, 2, 1, 1, 1, true},
                 Case{40, 38, 8, 3, 3, 16, 1, 1, 1, 1, true}, Case{41, 40, 8, 3, 3, 16, 2, 2, 1, 1, true}, Case{40, 40, 6, 7, 1, 5, 1, 1, 1, 1, true},
                 // 3x3 windows with 16 channels or more (Winograd): odd sizes leave half tiles
                 Case{9, 7, 16, 3, 3, 16, 1, 1, 1, 1, true}, Case{10, 11, 17, 3, 3, 18, 1, 1, 1, 1, false}, Case{1, 2, 16, 3, 3, 20, 1, 1, 1, 1, true},
                 Case{30, 29, 24, 3, 3, 32, 1, 1, 1, 1, true}}) {
    std::vector<float> x(static_cast<std::size_t>(2 * c.H * c.W * c.C)), f(static_cast<std::size_t>(c.KH * c.KW * c.C * c.OC));
    for (auto& v : x) v = u(rng);
    for (auto& v : f) v = u(rng);
    G g;
    g.constant("x", floats({2, c.H, c.W, c.C}, x));
    g.constant("f", floats({c.KH, c.KW, c.C, c.OC}, f));
    auto* conv = g.op("conv", "Conv2D", {"x", "f"});
    ints_attr(conv, "strides", {1, c.sh, c.sw, 1});
    ints_attr(conv, "dilations", {1, c.dh, c.dw, 1});
    (*conv->mutable_attr())["padding"].set_s(c.same ? "SAME" : "VALID");
    auto got = values_of(g.eval("conv"));
    auto want = naive_conv(x, 2, c.H, c.W, c.C, f, c.KH, c.KW, c.OC, c.sh, c.sw, c.dh, c.dw, c.same);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-4) << i;
    // The same in NCHW gives the transposed result.
    auto* nchw_in = g.op("x_nchw", "Transpose", {"x", g.constant("perm", ints({4}, {0, 3, 1, 2}))});
    (void)nchw_in;
    auto* conv2 = g.op("conv_nchw", "Conv2D", {"x_nchw", "f"});
    ints_attr(conv2, "strides", {1, 1, c.sh, c.sw});
    ints_attr(conv2, "dilations", {1, 1, c.dh, c.dw});
    (*conv2->mutable_attr())["padding"].set_s(c.same ? "SAME" : "VALID");
    (*conv2->mutable_attr())["data_format"].set_s("NCHW");
    g.op("back", "Transpose", {"conv_nchw", g.constant("perm2", ints({4}, {0, 2, 3, 1}))});
    auto nchw = values_of(g.eval("back"));
    for (std::size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(nchw[i], want[i], 1e-4) << i;
  }
}

TEST(Kernels, DepthwiseAndPooling) {
  G g;
  g.constant("x", floats({1, 2, 2, 2}, {1, 10, 2, 20, 3, 30, 4, 40}));
  g.constant("f", floats({1, 1, 2, 2}, {1, 2, 3, 4}));  // channel 0 -> x1,x2; channel 1 -> x3,x4
  auto* dw = g.op("dw", "DepthwiseConv2dNative", {"x", "f"});
  ints_attr(dw, "strides", {1, 1, 1, 1});
  (*dw->mutable_attr())["padding"].set_s("VALID");
  EXPECT_EQ(values_of(g.eval("dw")), (std::vector<float>{1, 2, 30, 40, 2, 4, 60, 80, 3, 6, 90, 120, 4, 8, 120, 160}));
  auto* mp = g.op("mp", "MaxPool", {"x"});
  ints_attr(mp, "ksize", {1, 2, 2, 1});
  ints_attr(mp, "strides", {1, 2, 2, 1});
  (*mp->mutable_attr())["padding"].set_s("VALID");
  EXPECT_EQ(values_of(g.eval("mp")), (std::vector<float>{4, 40}));
  auto* ap = g.op("ap", "AvgPool", {"x"});
  ints_attr(ap, "ksize", {1, 3, 3, 1});
  ints_attr(ap, "strides", {1, 1, 1, 1});
  (*ap->mutable_attr())["padding"].set_s("SAME");  // averages only the valid cells: all 4
  EXPECT_EQ(values_of(g.eval("ap")), (std::vector<float>{2.5f, 25, 2.5f, 25, 2.5f, 25, 2.5f, 25}));
}

// TensorFlow's GetWindowedOutputSize: a VALID window wider than the input is an error when the
// size (in - window + stride) / stride is negative, and an empty output when it is 0 (a fuzzed
// conv1d whose filter outgrew its input came out empty here, and the ONNX export then failed).
TEST(Kernels, ValidWindowWiderThanTheInput) {
  auto conv = [](std::int64_t stride) {
    G g;
    g.constant("x", floats({1, 1, 3, 1}, {1, 2, 3}));
    g.constant("f", floats({1, 5, 1, 1}, {1, 1, 1, 1, 1}));
    auto* c = g.op("conv", "Conv2D", {"x", "f"});
    ints_attr(c, "strides", {1, 1, stride, 1});
    (*c->mutable_attr())["padding"].set_s("VALID");
    return g.eval("conv");
  };
  EXPECT_EQ(conv(3).shape, (std::vector<std::int64_t>{1, 1, 0, 1}));  // (3 - 5 + 3) / 3 = 0
  try {
    conv(1);  // (3 - 5 + 1) / 1 = -1
    FAIL() << "computed a negative size";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("computed output size would be negative: -1 [input size 3, effective filter size 5, stride 1]"),
              std::string::npos) << e.what();
  }
  G g;
  g.constant("x", floats({1, 3, 3, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9}));
  auto* mp = g.op("mp", "MaxPool", {"x"});
  ints_attr(mp, "ksize", {1, 2, 5, 1});  // (3 - 5 + 1) / 1 = -1
  ints_attr(mp, "strides", {1, 1, 1, 1});
  (*mp->mutable_attr())["padding"].set_s("VALID");
  EXPECT_THROW(g.eval("mp"), Error);
  (*mp->mutable_attr())["ksize"].mutable_list()->set_i(2, 3);
  EXPECT_EQ(values_of(g.eval("mp")), (std::vector<float>{6, 9}));
}

// Integer sums and products wrap around in their type, as TensorFlow's do (a fuzzed
// int32 product went through a double that overflowed int: undefined behaviour).
TEST(Kernels, IntegerReductionsWrapAround) {
  G g;
  g.constant("big", ints({5}, {1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30}));
  g.constant("neg", ints({3}, {-7, 2, 3}));
  g.constant("axis", ints({}, {0}));
  auto reduce = [&](const std::string& op, const std::string& x) {
    g.op(op + "_" + x, op, {x, "axis"})->mutable_attr()->at("T").set_type(tf::DT_INT32);
    return g.eval(op + "_" + x).get<std::int32_t>(0);
  };
  EXPECT_EQ(reduce("Sum", "big"), 1 << 30);  // 5 * 2^30 - 2^32
  EXPECT_EQ(reduce("Mean", "big"), (1 << 30) / 5);
  EXPECT_EQ(reduce("Prod", "big"), 0);  // 2^150 mod 2^32
  EXPECT_EQ(reduce("Prod", "neg"), -42);
  EXPECT_EQ(reduce("Mean", "neg"), 0);  // -2 / 3, truncated
}

TEST(Kernels, BatchNormBiasAndMatMul) {
  G g;
  g.constant("x", floats({1, 1, 2, 2}, {1, 2, 3, 4}));
  g.constant("scale", floats({2}, {2, 1}));
  g.constant("offset", floats({2}, {0, 1}));
  g.constant("mean", floats({2}, {1, 2}));
  g.constant("var", floats({2}, {4, 1}));
  auto* bn = g.op("bn", "FusedBatchNormV3", {"x", "scale", "offset", "mean", "var"});
  (*bn->mutable_attr())["epsilon"].set_f(0);
  (*bn->mutable_attr())["is_training"].set_b(false);
  EXPECT_EQ(values_of(g.eval("bn")), (std::vector<float>{0, 1, 2, 3}));  // 2*(x-1)/2, (x-2)/1+1
  g.op("bias", "BiasAdd", {"x", "offset"});
  EXPECT_EQ(values_of(g.eval("bias")), (std::vector<float>{1, 3, 3, 5}));
  g.constant("a", floats({2, 3}, {1, 2, 3, 4, 5, 6}));
  g.constant("b", floats({2, 3}, {1, 0, 1, 0, 1, 0}));
  (*g.op("mm", "MatMul", {"a", "b"})->mutable_attr())["transpose_b"].set_b(true);
  Tensor mm = g.eval("mm");
  EXPECT_EQ(mm.shape, (std::vector<std::int64_t>{2, 2}));
  EXPECT_EQ(values_of(mm), (std::vector<float>{4, 2, 10, 5}));
}

TEST(Kernels, ShapeManipulation) {
  G g;
  g.constant("x", floats({2, 3, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
  g.op("t", "Transpose", {"x", g.constant("perm", ints({3}, {2, 0, 1}))});
  Tensor t = g.eval("t");
  EXPECT_EQ(t.shape, (std::vector<std::int64_t>{2, 2, 3}));
  EXPECT_EQ(values_of(t), (std::vector<float>{0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11}));
  // x[1, ::-2, 1] with shrink on dims 0 and 2
  auto* ss = g.op("ss", "StridedSlice", {"x", g.constant("b", ints({3}, {1, -1, 1})), g.constant("e", ints({3}, {2, 0, 2})),
                                         g.constant("s", ints({3}, {1, -2, 1}))});
  (*ss->mutable_attr())["Index"].set_type(tf::DT_INT32);
  (*ss->mutable_attr())["shrink_axis_mask"].set_i(5);
  (*ss->mutable_attr())["end_mask"].set_i(2);
  Tensor sl = g.eval("ss");
  EXPECT_EQ(sl.shape, (std::vector<std::int64_t>{2}));
  EXPECT_EQ(values_of(sl), (std::vector<float>{11, 7}));
  // x[..., 0] (ellipsis) and x[:, tf.newaxis]
  auto* el = g.op("el", "StridedSlice", {"x", g.constant("b2", ints({2}, {0, 0})), g.constant("e2", ints({2}, {0, 1})),
                                         g.constant("s2", ints({2}, {1, 1}))});
  (*el->mutable_attr())["ellipsis_mask"].set_i(1);
  (*el->mutable_attr())["shrink_axis_mask"].set_i(2);
  Tensor e = g.eval("el");
  EXPECT_EQ(e.shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(values_of(e), (std::vector<float>{0, 2, 4, 6, 8, 10}));
  auto* split = g.op("split", "Split", {g.constant("axis", ints({}, {1})), "x"});
  (*split->mutable_attr())["num_split"].set_i(3);
  EXPECT_EQ(values_of(g.eval("split:2")), (std::vector<float>{4, 5, 10, 11}));
  auto* cat = g.op("cat", "ConcatV2", {"split:2", "split:0", g.constant("axis1", ints({}, {1}))});
  (*cat->mutable_attr())["N"].set_i(2);
  EXPECT_EQ(values_of(g.eval("cat")), (std::vector<float>{4, 5, 0, 1, 10, 11, 6, 7}));
  g.op("mean", "Mean", {"x", g.constant("axes", ints({2}, {0, 2}))});
  EXPECT_EQ(values_of(g.eval("mean")), (std::vector<float>{3.5f, 5.5f, 7.5f}));
  g.op("top", "TopKV2", {g.constant("row", floats({2, 4}, {3, 9, 1, 9, 0, -1, 5, 2})), g.constant("k", ints({}, {3}))});
  EXPECT_EQ(values_of(g.eval("top")), (std::vector<float>{9, 9, 3, 5, 2, 0}));
  EXPECT_EQ(values_of(g.eval("top:1")), (std::vector<float>{1, 3, 0, 2, 3, 0}));  // ties keep index order
  g.op("am", "ArgMax", {"x", g.constant("dim", ints({}, {1}))});
  EXPECT_EQ(values_of(g.eval("am")), (std::vector<float>{2, 2, 2, 2}));
  for (auto type : {tf::DT_INT16, tf::DT_UINT16, tf::DT_INT32}) {  // each of TF's output types (int16 overflowed here)
    auto* am = g.op("am_" + std::to_string(type), "ArgMin", {"x", "dim"});
    (*am->mutable_attr())["output_type"].set_type(type);
    Tensor t = g.eval(am->name());
    EXPECT_EQ(t.dtype, type);
    EXPECT_EQ(values_of(t), (std::vector<float>{0, 0, 0, 0}));
  }
  g.op("g", "GatherV2", {"x", g.constant("idx", ints({2}, {2, 0})), g.constant("gaxis", ints({}, {1}))});
  EXPECT_EQ(values_of(g.eval("g")), (std::vector<float>{4, 5, 0, 1, 10, 11, 6, 7}));
  auto* pad = g.op("pad", "MirrorPad", {g.constant("v", floats({3}, {1, 2, 3})), g.constant("p", ints({1, 2}, {2, 1}))});
  (*pad->mutable_attr())["mode"].set_s("REFLECT");
  EXPECT_EQ(values_of(g.eval("pad")), (std::vector<float>{3, 2, 1, 2, 3, 2}));
  g.op("r", "Reshape", {"x", g.constant("shape", ints({2}, {-1, 4}))});
  EXPECT_EQ(g.eval("r").shape, (std::vector<std::int64_t>{3, 4}));
  g.op("tile", "Tile", {"v", g.constant("m", ints({1}, {2}))});
  EXPECT_EQ(values_of(g.eval("tile")), (std::vector<float>{1, 2, 3, 1, 2, 3}));
}

TEST(Kernels, ResizeBilinearAlignCornersAndHalfPixel) {
  G g;
  g.constant("img", floats({1, 1, 2, 1}, {0, 10}));
  g.constant("size", ints({2}, {1, 4}));
  (*g.op("ac", "ResizeBilinear", {"img", "size"})->mutable_attr())["align_corners"].set_b(true);
  auto ac = values_of(g.eval("ac"));
  EXPECT_NEAR(ac[1], 10.0f / 3, 1e-5);
  EXPECT_EQ(ac[3], 10.0f);
  (*g.op("hp", "ResizeBilinear", {"img", "size"})->mutable_attr())["half_pixel_centers"].set_b(true);
  EXPECT_EQ(values_of(g.eval("hp")), (std::vector<float>{0, 2.5f, 7.5f, 10}));
}

// The taken output of a Switch is its input's tensor, not a copy: a reader of it that could write
// in place must not, since the input is read again afterwards.
TEST(Executor, SwitchSharesItsInputWithoutLettingAReaderOverwriteIt) {
  G g;
  g.constant("x", floats({3}, {1, -2, 3}));
  g.op("x2", "Square", {"x"});  // computed, so in-place writes would be allowed on a tensor of its own
  g.constant("pred", Tensor{tf::DT_BOOL, {}, std::string(1, '\1'), {}});
  g.op("sw", "Switch", {"x2", "pred"});
  g.op("neg", "Neg", {"sw:1"});
  g.op("sum", "AddV2", {"neg", "x2"});
  EXPECT_EQ(values_of(g.eval("sum")), (std::vector<float>{0, 0, 0}));
  g.constant("bad", floats({2}, {1, 0}));
  g.op("sw_bad", "Switch", {"x2", "bad"});
  try {
    Executor(g.graph()).run({}, {"sw_bad:1"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("predicate must be a scalar bool"), std::string::npos) << e.what();
  }
}

TEST(Executor, CondTakesOneBranchAndFeedsOverrideNodes) {
  G g;
  auto* x = g.graph().add_node();
  x->set_name("x");
  x->set_op("Placeholder");
  (*x->mutable_attr())["dtype"].set_type(tf::DT_FLOAT);
  Tensor t{tf::DT_BOOL, {}, std::string(1, '\1'), {}};
  g.constant("pred", t);
  g.op("sw", "Switch", {"x", "pred"});
  g.op("neg", "Neg", {"sw:0"});     // false branch: dead
  g.op("sq", "Square", {"sw:1"});   // true branch
  g.op("merge", "Merge", {"neg", "sq"});
  (*g.graph().mutable_node(4)->mutable_attr())["N"].set_i(2);
  auto out = g.eval("merge", {{"x", floats({2}, {3, -4})}});
  EXPECT_EQ(values_of(out), (std::vector<float>{9, 16}));
  Tensor which = Executor(g.graph()).run({{"x", floats({1}, {1})}}, {"merge:1"})[0];
  EXPECT_EQ(values_of(which), (std::vector<float>{1}));
  try {
    Executor(g.graph()).run({{"x", floats({1}, {1})}}, {"neg"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not taken"), std::string::npos) << e.what();
  }
  try {
    Executor(g.graph()).run({}, {"sq"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("input 'x' was not fed"), std::string::npos) << e.what();
  }
  g.op("odd", "NoSuchOp", {"x"});
  try {
    Executor(g.graph()).run({{"x", floats({1}, {1})}}, {"odd"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("node 'odd': no kernel for op NoSuchOp"), std::string::npos) << e.what();
  }
}

// ---- closed forms stated by the fixtures ----

TEST(ClosedForms, HalfPlusTwoFrozenComputesHalfXPlusTwo) {
  const std::string serving = "tensorflow-serving/tensorflow_serving/servables/tensorflow/testdata/";
  for (const char* dir : {"saved_model_half_plus_two_2_versions", "saved_model_half_plus_two_cpu", "saved_model_half_plus_two_cpu_with_saved_model_config",
                          "saved_model_half_plus_two_gpu", "saved_model_half_plus_two_gpu_trt", "saved_model_half_plus_two_mkl",
                          "saved_model_half_plus_two_mlmd", "saved_model_half_plus_three"}) {
    REQUIRE_FIXTURE(path, serving + dir + "/00000123");
    io::Model model = io::load_model(path);
    auto ckpt = io::checkpoint::open_checkpoint(path);
    auto frozen = freeze::freeze_model(model, ckpt.get(), {});
    const float b = std::string(dir).find("three") != std::string::npos ? 3.0f : 2.0f;
    Tensor y = Executor(frozen.graph).run({{"x", floats({3, 1}, {0, 1, -4})}}, {"y"})[0];
    EXPECT_EQ(values_of(y), (std::vector<float>{b, 0.5f + b, -2 + b})) << dir;
  }
}

TEST(ClosedForms, CondTestIs34AndOpenVinoSwitchMergeIsXMinus4) {
  REQUIRE_FIXTURE(cond, "scisharp-tensorflow-net/graph/cond_test.meta");
  io::Model m = io::load_model(cond);
  EXPECT_EQ(values_of(Executor(m.graph()).run({}, {"cond/Merge"})[0]), (std::vector<float>{34}));
  REQUIRE_FIXTURE(sm, "openvino/models_pbtxt/model_switch_merge_several_cond_flows.pbtxt");
  io::Model o = io::load_model(sm);
  Tensor y = Executor(o.graph()).run({{"x", floats({2}, {10, -1.5f})}}, {"AddV2_1"})[0];
  EXPECT_EQ(values_of(y), (std::vector<float>{6, -5.5f}));
}

TEST(ClosedForms, SamsungDepthwiseBatchNorm) {
  REQUIRE_FIXTURE(path, "samsung-one/res/TensorFlowTests/NET_0004/test.pbtxt");
  io::Model m = io::load_model(path);
  const tf::NodeDef* input = nullptr;
  for (const auto& n : m.graph().node())
    if (n.op() == "Placeholder") input = &n;
  ASSERT_NE(input, nullptr);
  std::vector<std::int64_t> shape;
  for (const auto& d : input->attr().at("shape").shape().dim()) shape.push_back(d.size() < 0 ? 1 : d.size());
  Tensor x{tf::DT_FLOAT, shape, {}, {}};
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> xs(static_cast<std::size_t>(x.num_elements()));
  for (auto& v : xs) v = u(rng);
  x = floats(shape, xs);
  Tensor conv = Executor(m.graph()).run({{input->name(), x}}, {"depthwise"})[0];
  Tensor out = Executor(m.graph()).run({{input->name(), x}}, {"FusedBatchNorm"})[0];
  ASSERT_EQ(conv.shape, out.shape);
  for (std::int64_t i = 0; i < out.num_elements(); ++i) {
    const double c = element_as_double(conv, i);
    EXPECT_NEAR(element_as_double(out, i), 2 + 2 * (c - 2) / std::sqrt(2.001), 1e-4);  // MANIFEST.md
  }
  // The conv itself: every filter value is 1, so each output sums a 2x2 window of its channel.
  EXPECT_GT(conv.num_elements(), 0);
}

TEST(ClosedForms, TfjsSmallestModelGivesColumnSums) {
  REQUIRE_FIXTURE(path, "tensorflow-tfjs/tfjs-inference/test_data/model.json");
  io::Model m = io::load_model(path);
  Tensor y = Executor(m.graph()).run({{"Placeholder", floats({2, 2}, {1, 1, 1, 1})}}, {"MatMul"})[0];
  auto v = values_of(y);
  EXPECT_NEAR(v[0], 0.7568f, 1e-4);
  EXPECT_NEAR(v[1], -0.1835f, 1e-4);
  EXPECT_EQ(v[0], v[2]);
}

TEST(RunCli, WritesNpyAndChecksInputs) {
  REQUIRE_FIXTURE(path, "tensorflow-tfjs/tfjs-inference/test_data/model.json");
  std::string dir = test::temp_dir();
  Tensor x = floats({2, 2}, {1, 1, 1, 1});
  io::write_npy(x, dir + "/x.npy");
  auto r = test::run_cli({"run", path, "-i", "Placeholder=" + dir + "/x.npy", "--out-dir", dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("MatMul:0: float32 [2,2]"), std::string::npos) << r.out;
  EXPECT_TRUE(std::filesystem::exists(dir + "/MatMul_0.npy"));
  auto wrong = test::run_cli({"run", path, "-i", "Nope=" + dir + "/x.npy"});
  EXPECT_EQ(wrong.exit_code, 3);
  EXPECT_NE(wrong.err.find("input 'Nope' is not a node of the graph"), std::string::npos) << wrong.err;
  auto same = test::run_cli({"verify", path, path, "--random", "3"});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  EXPECT_NE(same.out.find("equal within"), std::string::npos);
}

}  // namespace
}  // namespace tffreeze::runtime

namespace tffreeze::runtime {
namespace {

tf::NodeDef* typed(tf::NodeDef* n, const std::string& key, tf::DataType t) {
  (*n->mutable_attr())[key].set_type(t);
  return n;
}

TEST(Kernels, MoreElementwise) {
  G g;
  g.constant("x", floats({4}, {-1, 0, 0.5f, 2}));
  g.op("elu", "Elu", {"x"});
  g.op("selu", "Selu", {"x"});
  g.op("sig", "Sigmoid", {"x"});
  g.op("sp", "Softplus", {"x"});
  g.op("lsm", "LogSoftmax", {"x"});
  auto elu = values_of(g.eval("elu"));
  EXPECT_NEAR(elu[0], std::expm1(-1.0f), 1e-6);
  EXPECT_EQ(elu[3], 2);
  EXPECT_NEAR(values_of(g.eval("selu"))[3], 2 * 1.0507009873554805, 1e-5);
  EXPECT_NEAR(values_of(g.eval("sig"))[1], 0.5f, 1e-7);
  EXPECT_NEAR(values_of(g.eval("sp"))[3], std::log1p(std::exp(2.0f)), 1e-6);
  auto lsm = values_of(g.eval("lsm"));
  double total = 0;
  for (float v : lsm) total += std::exp(v);
  EXPECT_NEAR(total, 1.0, 1e-6);
  g.constant("lo", floats({}, {0}));
  g.constant("hi", floats({}, {1}));
  g.op("clip", "ClipByValue", {"x", "lo", "hi"});
  EXPECT_EQ(values_of(g.eval("clip")), (std::vector<float>{0, 0, 0.5f, 1}));
  g.op("addn", "AddN", {"x", "x", "x"});
  EXPECT_EQ(values_of(g.eval("addn")), (std::vector<float>{-3, 0, 1.5f, 6}));
  g.op("gt0", "Greater", {"x", "lo"});
  g.op("lt1", "Less", {"x", "hi"});
  g.op("both", "LogicalAnd", {"gt0", "lt1"});
  g.op("either", "LogicalOr", {"gt0", "lt1"});
  g.op("notb", "LogicalNot", {"both"});
  EXPECT_EQ(values_of(g.eval("both")), (std::vector<float>{0, 0, 1, 0}));
  EXPECT_EQ(values_of(g.eval("either")), (std::vector<float>{1, 1, 1, 1}));
  EXPECT_EQ(values_of(g.eval("notb")), (std::vector<float>{1, 1, 0, 1}));
  g.op("sel", "SelectV2", {"gt0", "x", "lo"});
  EXPECT_EQ(values_of(g.eval("sel")), (std::vector<float>{0, 0, 0.5f, 2}));
  g.constant("m", floats({2, 2}, {1, 2, 3, 4}));
  g.constant("row", Tensor{tf::DT_BOOL, {2}, std::string("\x01\x00", 2), {}});
  g.op("sel1", "Select", {"row", "m", g.constant("z", floats({2, 2}, {0, 0, 0, 0}))});
  EXPECT_EQ(values_of(g.eval("sel1")), (std::vector<float>{1, 2, 0, 0}));
  typed(g.op("cast", "Cast", {"x"}), "DstT", tf::DT_INT32);
  Tensor c = g.eval("cast");
  EXPECT_EQ(c.dtype, tf::DT_INT32);
  EXPECT_EQ(values_of(c), (std::vector<float>{-1, 0, 0, 2}));
  typed(g.op("castb", "Cast", {"x"}), "DstT", tf::DT_BOOL);
  EXPECT_EQ(values_of(g.eval("castb")), (std::vector<float>{1, 0, 1, 1}));
}

TEST(Kernels, MoreArrayOps) {
  G g;
  g.constant("x", floats({2, 3}, {1, 2, 3, 4, 5, 6}));
  g.op("shape", "ShapeN", {"x", "x"});
  EXPECT_EQ(values_of(g.eval("shape:1")), (std::vector<float>{2, 3}));
  g.op("size", "Size", {"x"});
  g.op("rank", "Rank", {"x"});
  EXPECT_EQ(values_of(g.eval("size")), (std::vector<float>{6}));
  EXPECT_EQ(values_of(g.eval("rank")), (std::vector<float>{2}));
  g.op("fill", "Fill", {g.constant("dims", ints({2}, {2, 2})), g.constant("seven", floats({}, {7}))});
  EXPECT_EQ(values_of(g.eval("fill")), (std::vector<float>{7, 7, 7, 7}));
  g.op("range", "Range", {g.constant("s", ints({}, {3})), g.constant("l", ints({}, {10})), g.constant("d", ints({}, {3}))});
  EXPECT_EQ(values_of(g.eval("range")), (std::vector<float>{3, 6, 9}));
  g.op("ones", "OnesLike", {"x"});
  g.op("zeros", "ZerosLike", {"x"});
  EXPECT_EQ(values_of(g.eval("ones")), (std::vector<float>(6, 1)));
  EXPECT_EQ(values_of(g.eval("zeros")), (std::vector<float>(6, 0)));
  auto* pack = g.op("pack", "Pack", {"x", "x"});
  (*pack->mutable_attr())["axis"].set_i(1);
  Tensor p = g.eval("pack");
  EXPECT_EQ(p.shape, (std::vector<std::int64_t>{2, 2, 3}));
  EXPECT_EQ(values_of(p), (std::vector<float>{1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6}));
  // Inputs of different shapes are refused, as TensorFlow does (a fuzzed Pack of a matrix and a
  // vector at axis 2 inserted past the vector's shape: UBSan).
  auto* mixed = g.op("mixed", "Pack", {"x", "sizes_1d"});
  g.constant("sizes_1d", floats({3}, {1, 2, 3}));
  (*mixed->mutable_attr())["axis"].set_i(2);
  try {
    g.eval("mixed");
    FAIL() << "packed tensors of different shapes";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("values[1] has shape [3], values[0] [2,3]"), std::string::npos) << e.what();
  }
  auto* unpack = g.op("unpack", "Unpack", {"x"});
  (*unpack->mutable_attr())["axis"].set_i(1);
  (*unpack->mutable_attr())["num"].set_i(3);
  Tensor u = g.eval("unpack:2");
  EXPECT_EQ(u.shape, (std::vector<std::int64_t>{2}));
  EXPECT_EQ(values_of(u), (std::vector<float>{3, 6}));
  auto* sv = g.op("sv", "SplitV", {"x", g.constant("sizes", ints({2}, {-1, 2})), g.constant("ax", ints({}, {1}))});
  (*sv->mutable_attr())["num_split"].set_i(2);
  EXPECT_EQ(values_of(g.eval("sv:1")), (std::vector<float>{2, 3, 5, 6}));
  g.op("slice", "Slice", {"x", g.constant("b", ints({2}, {1, 1})), g.constant("sz", ints({2}, {1, -1}))});
  EXPECT_EQ(values_of(g.eval("slice")), (std::vector<float>{5, 6}));
  g.op("pad", "PadV2", {"x", g.constant("p", ints({2, 2}, {0, 1, 1, 0})), g.constant("cv", floats({}, {9}))});
  Tensor padded = g.eval("pad");
  EXPECT_EQ(padded.shape, (std::vector<std::int64_t>{3, 4}));
  EXPECT_EQ(values_of(padded), (std::vector<float>{9, 1, 2, 3, 9, 4, 5, 6, 9, 9, 9, 9}));
  auto* ex = g.op("ex", "ExpandDims", {"x", g.constant("dim", ints({}, {-1}))});
  (void)ex;
  EXPECT_EQ(g.eval("ex").shape, (std::vector<std::int64_t>{2, 3, 1}));
  g.op("sq", "Squeeze", {"ex"});
  EXPECT_EQ(g.eval("sq").shape, (std::vector<std::int64_t>{2, 3}));
  g.op("gnd", "GatherNd", {"x", g.constant("ind", ints({2, 2}, {1, 0, 0, 2}))});
  EXPECT_EQ(values_of(g.eval("gnd")), (std::vector<float>{4, 3}));
  for (const char* op : {"Sum", "Max", "Min", "Prod"}) g.op(std::string("r") + op, op, {"x", g.constant(std::string("a") + op, ints({1}, {1}))});
  EXPECT_EQ(values_of(g.eval("rSum")), (std::vector<float>{6, 15}));
  EXPECT_EQ(values_of(g.eval("rMax")), (std::vector<float>{3, 6}));
  EXPECT_EQ(values_of(g.eval("rMin")), (std::vector<float>{1, 4}));
  EXPECT_EQ(values_of(g.eval("rProd")), (std::vector<float>{6, 120}));
  g.op("amin", "ArgMin", {"x", g.constant("d0", ints({}, {0}))});
  EXPECT_EQ(values_of(g.eval("amin")), (std::vector<float>{0, 0, 0}));
}

TEST(Kernels, SpaceBatchDepthAndNearest) {
  G g;
  g.constant("x", floats({1, 2, 2, 1}, {1, 2, 3, 4}));
  g.op("s2b", "SpaceToBatchND", {"x", g.constant("block", ints({2}, {2, 2})), g.constant("pads", ints({2, 2}, {0, 0, 0, 0}))});
  Tensor s = g.eval("s2b");
  EXPECT_EQ(s.shape, (std::vector<std::int64_t>{4, 1, 1, 1}));  // TensorFlow's documented example
  EXPECT_EQ(values_of(s), (std::vector<float>{1, 2, 3, 4}));
  g.constant("y", floats({1, 3, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  g.op("s2b_pad", "SpaceToBatchND", {"y", g.constant("b2", ints({2}, {2, 2})), g.constant("p2", ints({2, 2}, {1, 0, 0, 0}))});
  g.op("back", "BatchToSpaceND", {"s2b_pad", g.constant("b3", ints({2}, {2, 2})), g.constant("c3", ints({2, 2}, {1, 0, 0, 0}))});
  Tensor back = g.eval("back");
  EXPECT_EQ(back.shape, (std::vector<std::int64_t>{1, 3, 2, 2}));
  EXPECT_EQ(values_of(back), values_of(g.eval("y")));  // round trip through padding and crop
  auto* d2s = g.op("d2s", "DepthToSpace", {g.constant("deep", floats({1, 1, 1, 4}, {1, 2, 3, 4}))});
  (*d2s->mutable_attr())["block_size"].set_i(2);
  Tensor d = g.eval("d2s");
  EXPECT_EQ(d.shape, (std::vector<std::int64_t>{1, 2, 2, 1}));
  EXPECT_EQ(values_of(d), (std::vector<float>{1, 2, 3, 4}));
  auto* s2d = g.op("s2d", "SpaceToDepth", {"d2s"});
  (*s2d->mutable_attr())["block_size"].set_i(2);
  EXPECT_EQ(g.eval("s2d").shape, (std::vector<std::int64_t>{1, 1, 1, 4}));
  g.op("nn", "ResizeNearestNeighbor", {"x", g.constant("sz", ints({2}, {4, 4}))});
  auto nn = values_of(g.eval("nn"));
  EXPECT_EQ(nn[0], 1);
  EXPECT_EQ(nn[3], 2);
  EXPECT_EQ(nn[15], 4);
}

// Naive transposed convolution (scatter), independent of the kernel's GEMM + col2im.
TEST(Kernels, Conv2DBackpropInputMatchesANaiveScatter) {
  const int N = 1, H = 5, W = 4, C = 2, KH = 3, KW = 3, OC = 3, S = 2;
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(-1, 1);
  const int OH = (H + S - 1) / S, OW = (W + S - 1) / S;  // SAME
  std::vector<float> dy(static_cast<std::size_t>(N * OH * OW * OC)), f(static_cast<std::size_t>(KH * KW * C * OC));
  for (auto& v : dy) v = u(rng);
  for (auto& v : f) v = u(rng);
  const int pt = std::max((OH - 1) * S + KH - H, 0) / 2, pl = std::max((OW - 1) * S + KW - W, 0) / 2;
  std::vector<float> want(static_cast<std::size_t>(N * H * W * C), 0);
  for (int oh = 0; oh < OH; ++oh)
    for (int ow = 0; ow < OW; ++ow)
      for (int kh = 0; kh < KH; ++kh)
        for (int kw = 0; kw < KW; ++kw) {
          int ih = oh * S + kh - pt, iw = ow * S + kw - pl;
          if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
          for (int c = 0; c < C; ++c)
            for (int oc = 0; oc < OC; ++oc) want[(ih * W + iw) * C + c] += dy[(oh * OW + ow) * OC + oc] * f[((kh * KW + kw) * C + c) * OC + oc];
        }
  G g;
  auto* t = g.op("t", "Conv2DBackpropInput", {g.constant("sizes", ints({4}, {N, H, W, C})), g.constant("f", floats({KH, KW, C, OC}, f)),
                                              g.constant("dy", floats({N, OH, OW, OC}, dy))});
  ints_attr(t, "strides", {1, S, S, 1});
  (*t->mutable_attr())["padding"].set_s("SAME");
  auto got = values_of(g.eval("t"));
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << i;
}

TEST(Kernels, FusedOpsEqualTheirParts) {
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> x(2 * 5 * 5 * 3), f(3 * 3 * 3 * 4), dwf(3 * 3 * 3 * 2), b(4), b6(6), w(3 * 4);
  for (auto* v : {&x, &f, &dwf, &b, &b6, &w})
    for (auto& e : *v) e = u(rng);
  G g;
  g.constant("x", floats({2, 5, 5, 3}, x));
  g.constant("f", floats({3, 3, 3, 4}, f));
  g.constant("b", floats({4}, b));
  auto conv_attrs = [&](tf::NodeDef* n) {
    ints_attr(n, "strides", {1, 1, 1, 1});
    (*n->mutable_attr())["padding"].set_s("SAME");
    return n;
  };
  conv_attrs(g.op("conv", "Conv2D", {"x", "f"}));
  g.op("bias", "BiasAdd", {"conv", "b"});
  g.op("relu6", "Relu6", {"bias"});
  auto* fused = conv_attrs(g.op("fused", "_FusedConv2D", {"x", "f", "b"}));
  (*fused->mutable_attr())["num_args"].set_i(1);
  (*fused->mutable_attr())["fused_ops"].mutable_list()->add_s("BiasAdd");
  (*fused->mutable_attr())["fused_ops"].mutable_list()->add_s("Relu6");
  auto a = values_of(g.eval("relu6")), c = values_of(g.eval("fused"));
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], c[i], 1e-6);
  g.constant("dwf", floats({3, 3, 3, 2}, dwf));
  g.constant("b6", floats({6}, b6));
  conv_attrs(g.op("dw", "DepthwiseConv2dNative", {"x", "dwf"}));
  g.op("dwb", "BiasAdd", {"dw", "b6"});
  g.constant("alpha", floats({6}, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}));
  g.op("prelu", "Prelu", {"dwb", "alpha"});
  auto* fdw = conv_attrs(g.op("fdw", "FusedDepthwiseConv2dNative", {"x", "dwf", "b6", "alpha"}));
  (*fdw->mutable_attr())["num_args"].set_i(2);
  (*fdw->mutable_attr())["fused_ops"].mutable_list()->add_s("BiasAdd");
  (*fdw->mutable_attr())["fused_ops"].mutable_list()->add_s("Prelu");
  a = values_of(g.eval("prelu"));
  c = values_of(g.eval("fdw"));
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], c[i], 1e-6);
  g.constant("m", floats({2, 3}, {1, 2, 3, 4, 5, 6}));
  g.constant("w", floats({3, 4}, w));
  g.op("mm", "MatMul", {"m", "w"});
  g.op("mmb", "BiasAdd", {"mm", "b"});
  g.op("mmr", "Relu", {"mmb"});
  auto* fmm = g.op("fmm", "_FusedMatMul", {"m", "w", "b"});
  (*fmm->mutable_attr())["fused_ops"].mutable_list()->add_s("BiasAdd");
  (*fmm->mutable_attr())["fused_ops"].mutable_list()->add_s("Relu");
  a = values_of(g.eval("mmr"));
  c = values_of(g.eval("fmm"));
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], c[i], 1e-6);
  // BatchMatMulV2 broadcasts batch dims.
  g.constant("bx", floats({2, 1, 2, 3}, {1, 2, 3, 4, 5, 6, 1, 0, 0, 0, 1, 0}));
  g.constant("by", floats({3, 3, 1}, {1, 1, 1, 0, 1, 0, 2, 0, 0}));
  g.op("bmm", "BatchMatMulV2", {"bx", "by"});
  Tensor bmm = g.eval("bmm");
  EXPECT_EQ(bmm.shape, (std::vector<std::int64_t>{2, 3, 2, 1}));
  EXPECT_EQ(values_of(bmm), (std::vector<float>{6, 15, 2, 5, 2, 8, 1, 1, 0, 1, 2, 0}));
}

TEST(Kernels, ExplicitPaddingNchwPoolingAndSeededRandom) {
  G g;
  g.constant("x", floats({1, 3, 3, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9}));
  g.constant("ones", floats({1, 1, 1, 1}, {1}));
  auto* c = g.op("c", "Conv2D", {"x", "ones"});
  ints_attr(c, "strides", {1, 1, 1, 1});
  (*c->mutable_attr())["padding"].set_s("EXPLICIT");
  ints_attr(c, "explicit_paddings", {0, 0, 1, 0, 0, 1, 0, 0});
  Tensor padded = g.eval("c");
  EXPECT_EQ(padded.shape, (std::vector<std::int64_t>{1, 4, 4, 1}));
  EXPECT_EQ(values_of(padded), (std::vector<float>{0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0}));
  g.op("xn", "Transpose", {"x", g.constant("p", ints({4}, {0, 3, 1, 2}))});
  auto* mp = g.op("mp", "MaxPool", {"xn"});
  ints_attr(mp, "ksize", {1, 1, 2, 2});
  ints_attr(mp, "strides", {1, 1, 1, 1});
  (*mp->mutable_attr())["padding"].set_s("VALID");
  (*mp->mutable_attr())["data_format"].set_s("NCHW");
  EXPECT_EQ(values_of(g.eval("mp")), (std::vector<float>{5, 6, 8, 9}));
  auto* r1 = g.op("r1", "RandomUniform", {g.constant("shape", ints({1}, {5}))});
  (*r1->mutable_attr())["seed"].set_i(42);
  typed(r1, "dtype", tf::DT_FLOAT);
  auto v1 = values_of(g.eval("r1")), v2 = values_of(g.eval("r1"));
  EXPECT_EQ(v1, v2);
  for (float v : v1) EXPECT_TRUE(v >= 0 && v < 1);
  // Half constants are computed in float32.
  tf::GraphDef h;
  auto* hc = h.add_node();
  hc->set_name("h");
  hc->set_op("Const");
  (*hc->mutable_attr())["dtype"].set_type(tf::DT_HALF);
  auto* ht = (*hc->mutable_attr())["value"].mutable_tensor();
  ht->set_dtype(tf::DT_HALF);
  ht->mutable_tensor_shape()->add_dim()->set_size(2);
  ht->add_half_val(0x3c00);  // 1.0
  ht->add_half_val(0xc000);  // -2.0
  Tensor half = Executor(h).run({}, {"h"})[0];
  EXPECT_EQ(half.dtype, tf::DT_FLOAT);
  EXPECT_EQ(values_of(half), (std::vector<float>{1, -2}));
}

TEST(Kernels, EveryRegisteredOpHasAnOpDefinition) {
  // Kernels and the op registry describe the same ops: validate and the executor agree.
  int missing = 0;
  for (const auto& op : KernelRegistry::global().ops()) {
    if (op == "RefIdentity" || op == "Inv") continue;  // legacy aliases
    if (!graph::OpRegistry::global().find(op)) {
      ADD_FAILURE() << "kernel " << op << " has no op definition";
      ++missing;
    }
  }
  EXPECT_EQ(missing, 0);
  EXPECT_GT(KernelRegistry::global().ops().size(), 120u);
}

}  // namespace
}  // namespace tffreeze::runtime

namespace tffreeze::runtime {
namespace {

// Every unary math kernel against the C++ standard library, value by value.
TEST(Kernels, UnaryMathAgainstTheStandardLibrary) {
  const std::vector<float> xs = {-2.5f, -1, -0.25f, 0, 0.3f, 1, 2.5f, 4};
  const std::vector<float> pos = {0.1f, 0.5f, 1, 2, 9};
  struct Case {
    const char* op;
    double (*f)(double);
    bool positive_only;
  };
  const Case cases[] = {
      {"Rsqrt", [](double x) { return 1 / std::sqrt(x); }, true},
      {"Sqrt", [](double x) { return std::sqrt(x); }, true},
      {"Log", [](double x) { return std::log(x); }, true},
      {"Square", [](double x) { return x * x; }, false},
      {"Exp", [](double x) { return std::exp(x); }, false},
      {"Neg", [](double x) { return -x; }, false},
      {"Abs", [](double x) { return std::abs(x); }, false},
      {"Floor", [](double x) { return std::floor(x); }, false},
      {"Ceil", [](double x) { return std::ceil(x); }, false},
      {"Round", [](double x) { return std::nearbyint(x); }, false},  // half to even: -2.5 -> -2
      {"Tanh", [](double x) { return std::tanh(x); }, false},
      {"Sigmoid", [](double x) { return 1 / (1 + std::exp(-x)); }, false},
      {"Relu", [](double x) { return x > 0 ? x : 0.0; }, false},
      {"Reciprocal", [](double x) { return 1 / x; }, true},
      {"Sign", [](double x) { return static_cast<double>((x > 0) - (x < 0)); }, false},
  };
  for (const auto& c : cases) {
    const auto& in = c.positive_only ? pos : xs;
    G g;
    g.constant("x", floats({static_cast<std::int64_t>(in.size())}, in));
    g.op("y", c.op, {"x"});
    auto got = values_of(g.eval("y"));
    for (std::size_t i = 0; i < in.size(); ++i) EXPECT_NEAR(got[i], c.f(in[i]), 1e-5 * std::max(1.0, std::abs(c.f(in[i])))) << c.op << " " << in[i];
  }
}

TEST(Kernels, BinaryMathAndComparisonsOnFloatsAndInts) {
  G g;
  g.constant("a", floats({4}, {1, -2, 3, 4}));
  g.constant("b", floats({4}, {2, 2, 3, 0.5f}));
  const std::pair<const char*, std::vector<float>> float_cases[] = {
      {"Sub", {-1, -4, 0, 3.5f}},       {"Mul", {2, -4, 9, 2}},        {"Maximum", {2, 2, 3, 4}}, {"Minimum", {1, -2, 3, 0.5f}},
      {"Pow", {1, 4, 27, 2}},           {"SquaredDifference", {1, 16, 0, 12.25f}},
      {"Equal", {0, 0, 1, 0}},          {"NotEqual", {1, 1, 0, 1}},    {"LessEqual", {1, 1, 1, 0}}, {"GreaterEqual", {0, 0, 1, 1}},
  };
  for (const auto& [op, want] : float_cases) {
    g.op(op, op, {"a", "b"});
    EXPECT_EQ(values_of(g.eval(op)), want) << op;
  }
  g.constant("i", ints({3}, {7, -7, 9}));
  g.constant("j", ints({3}, {2, 2, 3}));
  for (const auto& [op, want] : std::vector<std::pair<std::string, std::vector<float>>>{{"Div", {3, -3, 3}}, {"Mul", {14, -14, 27}}, {"Maximum", {7, 2, 9}}}) {
    typed(g.op("int" + op, op, {"i", "j"}), "T", tf::DT_INT32);
    Tensor r = g.eval("int" + op);
    EXPECT_EQ(r.dtype, tf::DT_INT32) << op;
    EXPECT_EQ(values_of(r), want) << op;  // integer Div truncates toward zero
  }
  g.constant("mixed", ints({4}, {1, 2, 3, 4}));
  g.op("mismatch", "AddV2", {"a", "mixed"});
  EXPECT_THROW(g.eval("mismatch"), Error);
  // Concat (v1: axis first), IdentityN, CheckNumerics, BatchNormWithGlobalNormalization
  auto* cat = g.op("cat", "Concat", {g.constant("axis", ints({}, {0})), "a", "b"});
  (*cat->mutable_attr())["N"].set_i(2);
  EXPECT_EQ(values_of(g.eval("cat")), (std::vector<float>{1, -2, 3, 4, 2, 2, 3, 0.5f}));
  g.op("idn", "IdentityN", {"a", "b"});
  EXPECT_EQ(values_of(g.eval("idn:1")), (std::vector<float>{2, 2, 3, 0.5f}));
  (*g.op("check", "CheckNumerics", {"a"})->mutable_attr())["message"].set_s("a is fine");
  EXPECT_EQ(values_of(g.eval("check")), (std::vector<float>{1, -2, 3, 4}));
  g.op("inf", "RealDiv", {"a", g.constant("zero", floats({}, {0}))});
  (*g.op("check_inf", "CheckNumerics", {"inf"})->mutable_attr())["message"].set_s("division blew up");
  try {
    g.eval("check_inf");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("division blew up"), std::string::npos) << e.what();
  }
  g.constant("x4", floats({1, 1, 1, 2}, {3, 5}));
  g.constant("m", floats({2}, {1, 1}));
  g.constant("v", floats({2}, {4, 16}));
  g.constant("beta", floats({2}, {10, 20}));
  g.constant("gamma", floats({2}, {2, 4}));
  auto* bng = g.op("bng", "BatchNormWithGlobalNormalization", {"x4", "m", "v", "beta", "gamma"});
  (*bng->mutable_attr())["variance_epsilon"].set_f(0);
  (*bng->mutable_attr())["scale_after_normalization"].set_b(true);
  EXPECT_EQ(values_of(g.eval("bng")), (std::vector<float>{12, 24}));  // (3-1)/2*2+10, (5-1)/4*4+20
  for (const char* op : {"RandomStandardNormal", "TruncatedNormal"}) {
    auto* r = g.op(std::string("r_") + op, op, {g.constant(std::string("s_") + op, ints({1}, {1000}))});
    typed(r, "dtype", tf::DT_FLOAT);
    auto v = values_of(g.eval(std::string("r_") + op));
    double mean = 0;
    for (float f : v) mean += f;
    EXPECT_NEAR(mean / 1000, 0.0, 0.15) << op;
    if (std::string(op) == "TruncatedNormal")
      for (float f : v) EXPECT_LE(std::abs(f), 2.0f);
  }
}

TEST(VerifyCli, DetectsADifference) {
  const std::string serving = "tensorflow-serving/tensorflow_serving/servables/tensorflow/testdata/";
  REQUIRE_FIXTURE(two, serving + "saved_model_half_plus_two_cpu/00000123");
  REQUIRE_FIXTURE(three, serving + "saved_model_half_plus_three/00000123");
  std::string dir = test::temp_dir();
  ASSERT_EQ(test::run_cli({"freeze", two, "-o", dir + "/two.pb"}).exit_code, 0);
  ASSERT_EQ(test::run_cli({"freeze", three, "-o", dir + "/three.pb"}).exit_code, 0);
  auto r = test::run_cli({"verify", dir + "/two.pb", dir + "/three.pb", "--output", "y", "--shape", "x=[4,1]", "--random", "2"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("y: max abs 1"), std::string::npos) << r.out;  // 0.5x+2 vs 0.5x+3
  EXPECT_NE(r.out.find("DIFFERS"), std::string::npos);
  auto same = test::run_cli({"verify", dir + "/two.pb", dir + "/two.pb", "--output", "y"});
  EXPECT_EQ(same.exit_code, 0) << same.out;
  auto bad_shape = test::run_cli({"verify", dir + "/two.pb", dir + "/two.pb", "--shape", "x=[4"});
  EXPECT_EQ(bad_shape.exit_code, 2);
}

}  // namespace
}  // namespace tffreeze::runtime

namespace tffreeze::runtime {
namespace {

TEST(RunCli, InputDtypeAndShapeAreChecked) {
  REQUIRE_FIXTURE(path, "tensorflow-tfjs/tfjs-inference/test_data/model.json");
  std::string dir = test::temp_dir();
  io::write_npy(floats({3, 2}, {1, 1, 1, 1, 1, 1}), dir + "/wrong_shape.npy");
  io::write_npy(ints({2, 2}, {1, 1, 1, 1}), dir + "/wrong_dtype.npy");
  auto shape = test::run_cli({"run", path, "-i", "Placeholder=" + dir + "/wrong_shape.npy"});
  EXPECT_EQ(shape.exit_code, 3);
  EXPECT_EQ(shape.err, "tffreeze: input 'Placeholder' has shape [3,2], the placeholder wants [2,2]\n");
  auto dtype = test::run_cli({"run", path, "-i", "Placeholder=" + dir + "/wrong_dtype.npy"});
  EXPECT_EQ(dtype.exit_code, 3);
  EXPECT_EQ(dtype.err, "tffreeze: input 'Placeholder' is int32, the placeholder wants float32\n");
  const std::string full = test::read_bytes(dir + "/wrong_shape.npy");
  test::write_bytes(dir + "/cut.npy", full.substr(0, full.size() - 4));
  auto cut = test::run_cli({"run", path, "-i", "Placeholder=" + dir + "/cut.npy"});
  EXPECT_EQ(cut.exit_code, 3);
  EXPECT_NE(cut.err.find("cut.npy: .npy shape [3,2] of float32 needs 24 bytes, the file has 20"), std::string::npos) << cut.err;
}

TEST(ConvertCli, TfjsExportFillsDefaultAttributes) {
  REQUIRE_FIXTURE(path, "arm-ml-kws-for-mcu/Pretrained_models/DS_CNN/DS_CNN_S.pb");
  std::string dir = test::temp_dir();
  auto r = test::run_cli({"convert", path, dir + "/model.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("default attributes for TF.js"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir + "/model.weights.bin"));
  // Loading the export back gives the same constants and, for every conv, the attrs TF.js needs.
  io::Model original = io::load_model(path), exported = io::load_model(dir + "/model.json");
  ASSERT_EQ(exported.graph().node_size(), original.graph().node_size());
  int convs = 0;
  for (int i = 0; i < original.graph().node_size(); ++i) {
    const auto& a = original.graph().node(i);
    const auto& b = exported.graph().node(i);
    EXPECT_EQ(a.name(), b.name());
    if (a.op() == "Const" && a.attr().at("dtype").type() == tf::DT_FLOAT) {
      EXPECT_EQ(tensor_from_proto(a.attr().at("value").tensor(), a.name()), tensor_from_proto(b.attr().at("value").tensor(), b.name()));
    }
    if (b.op() == "Conv2D" || b.op() == "DepthwiseConv2dNative") {
      ++convs;
      EXPECT_EQ(b.attr().count("dilations"), 1u) << b.name();
      EXPECT_EQ(b.attr().at("data_format").s(), "NHWC");
    }
  }
  EXPECT_EQ(convs, 9);
}

// tf.one_hot: an index outside [0, depth), negative ones included, gives a row of off_value;
// tf.norm(ord='euclidean'): the EuclideanNorm op.
TEST(Kernels, OneHotAndEuclideanNorm) {
  G g;
  const std::string idx = g.constant("idx", ints({4}, {0, -1, 2, 5}));
  const std::string depth = g.constant("depth", ints({}, {3}));
  g.op("hot", "OneHot", {idx, depth, g.constant("on", floats({}, {5})), g.constant("off", floats({}, {-1}))});
  Tensor hot = g.eval("hot");
  EXPECT_EQ(hot.shape, (std::vector<std::int64_t>{4, 3}));
  EXPECT_EQ(values_of(hot), (std::vector<float>{5, -1, -1, -1, -1, -1, -1, -1, 5, -1, -1, -1}));
  auto* first = g.op("hot0", "OneHot", {idx, depth, "on", "off"});
  (*first->mutable_attr())["axis"].set_i(0);
  EXPECT_EQ(values_of(g.eval("hot0")), (std::vector<float>{5, -1, -1, -1, -1, -1, -1, -1, -1, -1, 5, -1}));
  g.op("bad_depth", "OneHot", {idx, g.constant("minus", ints({}, {-1})), "on", "off"});
  try {
    g.eval("bad_depth");
    FAIL() << "ran";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
  }
  const std::string x = g.constant("x", floats({2, 2}, {3, 4, -6, 8}));
  g.op("rows", "EuclideanNorm", {x, g.constant("ax1", ints({1}, {1}))});
  EXPECT_EQ(values_of(g.eval("rows")), (std::vector<float>{5, 10}));
  auto* cols = g.op("cols", "EuclideanNorm", {x, g.constant("ax0", ints({1}, {0}))});
  (*cols->mutable_attr())["keep_dims"].set_b(true);
  Tensor c = g.eval("cols");
  EXPECT_EQ(c.shape, (std::vector<std::int64_t>{1, 2}));
  EXPECT_FLOAT_EQ(values_of(c)[0], std::sqrt(45.0f));
  g.op("none", "EuclideanNorm", {x, g.constant("no_axes", ints({0}, {}))});
  EXPECT_EQ(values_of(g.eval("none")), (std::vector<float>{3, 4, 6, 8}));
  g.op("int_norm", "EuclideanNorm", {idx, g.constant("ax", ints({1}, {0}))});
  try {
    g.eval("int_norm");
    FAIL() << "ran";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUnsupported);  // TF truncates a sum wrapped in the integer type
  }
}

// Pad copies a row's inside at once and maps the edges; this is TF's definition, element by element:
// output index i of a dimension reads i - before, reflected (REFLECT: without the edge, SYMMETRIC:
// with it) or constant outside.
std::vector<float> naive_pad(const std::vector<float>& x, const std::vector<std::int64_t>& shape, const std::vector<std::int32_t>& pads,
                             const std::string& mode, float constant) {
  const std::size_t rank = shape.size();
  std::vector<std::int64_t> out_shape(rank);
  std::int64_t n = 1;
  for (std::size_t d = 0; d < rank; ++d) n *= out_shape[d] = shape[d] + pads[2 * d] + pads[2 * d + 1];
  std::vector<float> out;
  for (std::int64_t i = 0; i < n; ++i) {
    std::int64_t rest = i, at = 0, stride = 1;
    bool inside = true;
    for (std::size_t d = rank; d-- > 0;) {
      std::int64_t src = rest % out_shape[d] - pads[2 * d];
      rest /= out_shape[d];
      if (src < 0) src = mode == "REFLECT" ? -src : mode == "SYMMETRIC" ? -src - 1 : -1;
      else if (src >= shape[d]) src = mode == "REFLECT" ? 2 * shape[d] - src - 2 : mode == "SYMMETRIC" ? 2 * shape[d] - src - 1 : -1;
      inside = inside && src >= 0;
      at += src * stride;
      stride *= shape[d];
    }
    out.push_back(inside ? x[static_cast<std::size_t>(at)] : constant);
  }
  return out;
}

TEST(Kernels, PadMatchesAnElementwiseReference) {
  const std::vector<std::int64_t> shape{2, 3, 4};
  std::vector<float> x(24);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) + 0.5f;
  // Unpadded trailing dimensions travel with the last padded one: rows of 12, 4 or 24 values.
  const std::vector<std::vector<std::int32_t>> paddings{{0, 0, 0, 0, 0, 0}, {1, 0, 0, 2, 3, 1}, {1, 1, 2, 2, 2, 3},
                                                        {0, 1, 1, 0, 0, 0}, {1, 1, 0, 0, 0, 0}, {0, 0, 2, 1, 0, 0}};
  for (const std::string mode : {"CONSTANT", "REFLECT", "SYMMETRIC"}) {
    for (std::size_t k = 0; k < paddings.size(); ++k) {
      G g;
      g.constant("x", floats(shape, x));
      g.constant("p", ints({3, 2}, paddings[k]));
      if (mode == "CONSTANT") {
        g.op("pad", "PadV2", {"x", "p", g.constant("cv", floats({}, {-7}))});
      } else {
        (*g.op("pad", "MirrorPad", {"x", "p"})->mutable_attr())["mode"].set_s(mode);
      }
      EXPECT_EQ(values_of(g.eval("pad")), naive_pad(x, shape, paddings[k], mode, -7)) << mode << " paddings " << k;
    }
  }
  G g;  // a reflection past the edge is refused, as TF refuses it
  g.constant("v", floats({2}, {1, 2}));
  (*g.op("wide", "MirrorPad", {"v", g.constant("p", ints({1, 2}, {2, 0}))})->mutable_attr())["mode"].set_s("REFLECT");
  EXPECT_THROW(g.eval("wide"), Error);
}

TEST(Kernels, AScalarHasNoAxis) {
  G g;
  g.constant("s", floats({}, {4}));
  ints_attr(g.op("squeeze", "Squeeze", {"s"}), "squeeze_dims", {0});
  (*g.op("cat", "ConcatV2", {"s", "s", g.constant("axis", ints({}, {0}))})->mutable_attr())["N"].set_i(2);
  g.op("gather", "GatherV2", {"s", g.constant("i", ints({1}, {0})), g.constant("gaxis", ints({}, {0}))});
  for (const char* fetch : {"squeeze", "cat", "gather"}) {
    try {
      g.eval(fetch);
      ADD_FAILURE() << fetch << " ran on a scalar";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kBadInput) << fetch;
      EXPECT_NE(std::string(e.what()).find("out of range for rank 0"), std::string::npos) << e.what();
    }
  }
}

TEST(WorkBudget, RefusesWorkBeyondItAndIsUnlimitedByDefault) {
  G g;
  g.constant("a", floats({64, 64}, std::vector<float>(64 * 64, 1)));
  g.op("mm", "MatMul", {"a", "a"});
  g.constant("v", floats({2}, {1, 2}));
  g.op("pad", "Pad", {"v", g.constant("p", ints({1, 2}, {1 << 24, 0}))});
  EXPECT_EQ(values_of(g.eval("mm"))[0], 64.0f);  // unlimited
  set_work_budget(100'000);  // the product is 64^3 = 262,144 multiply-adds
  try {
    g.eval("mm");
    ADD_FAILURE() << "ran beyond the budget";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("node 'mm'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("262144 element operations"), std::string::npos) << e.what();
  }
  set_work_budget(1'000'000);
  EXPECT_EQ(values_of(g.eval("mm"))[0], 64.0f);
  EXPECT_THROW(g.eval("pad"), Error);  // 2^24 + 2 elements to write
  set_unlimited_work();
  EXPECT_EQ(g.eval("pad").num_elements(), (1 << 24) + 2);
}

}  // namespace
}  // namespace tffreeze::runtime
