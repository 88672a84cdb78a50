// ONNX deploy targets (src/targets/onnx_rules.h): for each target a model it accepts and models
// it rejects with the rule named; the rewrites that make a model acceptable; `check MODEL.onnx`
// on the command line; the generated training models' exports pass TensorRT's table; and the
// measured truth for OpenCV: every export `check --target opencv` accepts runs in OpenCV 4.6
// (cv2.dnn.readNetFromONNX, a child process) to onnxruntime's numbers, and the rules agree with
// the installed OpenCV on a sample of tools/measure_opencv_onnx.py's cases.
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "common/tensor.h"
#include "export/onnx/context.h"
#include "io/model.h"
#include "io/npy.h"
#include "io/onnx_file.h"
#include "onnx_support.h"
#include "runtime/executor.h"
#include "runtime/verify.h"
#include "support.h"
#include "targets/onnx_rules.h"

namespace tffreeze {
namespace {

using onnx_export::set_int;
using onnx_export::set_ints;
using onnx_export::set_string;

// --- small ONNX models ---

struct Value {
  std::string name;
  std::vector<std::int64_t> shape;  // empty: no shape declared
  int type = onnx::TensorProto::FLOAT;
};

onnx::NodeProto node(const std::string& op, std::vector<std::string> inputs, std::vector<std::string> outputs = {"y"}) {
  onnx::NodeProto n;
  n.set_op_type(op);
  n.set_name(op + "_" + outputs.front());
  for (const auto& i : inputs) n.add_input(i);
  for (const auto& o : outputs) n.add_output(o);
  return n;
}

onnx::TensorProto ints(const std::string& name, std::vector<std::int64_t> values, bool scalar = false) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::INT64);
  if (!scalar) t.add_dims(static_cast<std::int64_t>(values.size()));
  for (auto v : values) t.add_int64_data(v);
  return t;
}

onnx::TensorProto floats(const std::string& name, std::vector<std::int64_t> dims, int type = onnx::TensorProto::FLOAT) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(type);
  std::int64_t n = 1;
  for (auto d : dims) t.add_dims(d), n *= d;
  for (std::int64_t i = 0; i < n; ++i) {
    if (type == onnx::TensorProto::DOUBLE) t.add_double_data(0.25 * static_cast<double>(i % 7) - 0.5);
    else t.add_float_data(0.25f * static_cast<float>(i % 7) - 0.5f);
  }
  return t;
}

void add_value(onnx::ValueInfoProto* v, const Value& value) {
  v->set_name(value.name);
  auto* tensor = v->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(value.type);
  if (value.shape.empty()) return;
  for (auto d : value.shape) tensor->mutable_shape()->add_dim()->set_dim_value(d);
}

onnx::ModelProto model(int opset, std::vector<onnx::NodeProto> nodes, std::vector<Value> inputs, std::vector<Value> outputs,
                       std::vector<onnx::TensorProto> initializers = {}) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("onnx_targets_test");
  auto* o = m.add_opset_import();
  o->set_domain("");
  o->set_version(opset);
  auto* g = m.mutable_graph();
  g->set_name("g");
  for (auto& n : nodes) *g->add_node() = std::move(n);
  for (const auto& i : inputs) add_value(g->add_input(), i);
  for (const auto& v : outputs) add_value(g->add_output(), v);
  for (auto& t : initializers) *g->add_initializer() = std::move(t);
  return m;
}

const Value kX{"x", {1, 3, 8, 8}};
const Value kY{"y", {1, 4, 8, 8}};

onnx::NodeProto conv(const std::string& in = "x", const std::string& out = "y", bool kernel_shape = true) {
  onnx::NodeProto n = node("Conv", {in, "w", "b"}, {out});
  if (kernel_shape) set_ints(&n, "kernel_shape", {3, 3});
  set_ints(&n, "pads", {1, 1, 1, 1});
  return n;
}
std::vector<onnx::TensorProto> conv_weights() { return {floats("w", {4, 3, 3, 3}), floats("b", {4})}; }

targets::OnnxCheck check(const onnx::ModelProto& m, const std::string& target) {
  return targets::check_onnx_target(m, targets::find_onnx_target(target));
}

// Every rejection on one line each, for failure messages and substring matches.
std::string rules(const targets::OnnxCheck& c) {
  std::string out;
  for (const auto& r : c.rejections) out += r.node + " (" + r.op + "): " + r.rule + "\n";
  return out;
}

void expect_rejects(const onnx::ModelProto& m, const std::string& target, const std::string& node, const std::string& rule) {
  auto c = check(m, target);
  EXPECT_NE(rules(c).find(node), std::string::npos) << target << ": want node " << node << " rejected; got:\n" << rules(c);
  EXPECT_NE(rules(c).find(rule), std::string::npos) << target << ": want rule '" << rule << "'; got:\n" << rules(c);
}

// --- onnxruntime ---

TEST(OnnxTargets, OnnxruntimeAcceptsStandardOps) {
  auto m = model(17, {conv("x", "c"), node("Relu", {"c"}, {"r"}), node("GlobalAveragePool", {"r"}, {"y"})}, {kX}, {{"y", {1, 4, 1, 1}}},
                 conv_weights());
  EXPECT_EQ(rules(check(m, "onnxruntime")), "");
  EXPECT_EQ(rules(check(m, "generic")), "") << "generic means onnxruntime for ONNX files";
  // Ops newer than Debian's ONNX schemas (opset 17) count at the opset that introduced them.
  EXPECT_EQ(rules(check(model(20, {node("Gelu", {"x"})}, {kX}, {kY}), "onnxruntime")), "");
}

TEST(OnnxTargets, OnnxruntimeRejectsUnknownOpsDomainsAndOpsets) {
  expect_rejects(model(17, {node("FancyRelu", {"x"})}, {kX}, {kY}), "onnxruntime", "FancyRelu_y", "not a standard ONNX op at opset 17");
  onnx::NodeProto custom = node("Relu", {"x"});
  custom.set_domain("com.example");
  expect_rejects(model(17, {custom}, {kX}, {kY}), "onnxruntime", "Relu_y", "domain com.example");
  expect_rejects(model(11, {node("Relu", {"x"})}, {kX}, {kY}), "onnxruntime", "(model)", "opset 11");
  expect_rejects(model(17, {node("Gelu", {"x"})}, {kX}, {kY}), "onnxruntime", "Gelu_y", "needs opset 20");
  expect_rejects(model(17, {node("Upsample", {"x", "s"})}, {kX}, {kY}, {floats("s", {4})}), "onnxruntime", "Upsample_y", "deprecated");
}

// --- TensorRT (its published operator table) ---

TEST(OnnxTargets, TensorrtAcceptsTableOpsWithConstantAxes) {
  onnx::NodeProto slice = node("Slice", {"r", "starts", "ends", "axes"}, {"y"});
  auto m = model(17, {conv("x", "c"), node("Relu", {"c"}, {"r"}), slice}, {kX}, {{"y", {1, 4, 4, 8}}},
                 {floats("w", {4, 3, 3, 3}), floats("b", {4}), ints("starts", {0}), ints("ends", {INT64_MAX}), ints("axes", {2})});
  auto c = check(m, "tensorrt");
  EXPECT_EQ(rules(c), "") << "Slice ends of INT64_MAX: TensorRT 8.6 clamps them to INT32_MAX, which means the same";
  EXPECT_NE(targets::find_onnx_target("tensorrt").verdict_basis.find("not measured"), std::string::npos);
}

TEST(OnnxTargets, TensorrtRejectsWhatTheTableRules) {
  // axes must be an initializer
  auto computed_axes = model(17, {node("Shape", {"x"}, {"s"}), node("Slice", {"s", "st", "en"}, {"a"}), node("Slice", {"x", "st", "en", "a"})},
                             {kX}, {kY}, {ints("st", {1}), ints("en", {2})});
  expect_rejects(computed_axes, "tensorrt", "Slice_y", "Slice's `axes` must be an initializer");
  auto reduce = model(18, {node("Shape", {"x"}, {"s"}), node("Slice", {"s", "st", "en"}, {"a"}), node("ReduceMean", {"x", "a"})}, {kX}, {kY},
                      {ints("st", {3}), ints("en", {4})});
  expect_rejects(reduce, "tensorrt", "ReduceMean_y", "ReduceMean's `axes` must be an initializer");
  // TopK: K a constant below 3840
  expect_rejects(model(17, {node("TopK", {"x", "k"}, {"y", "i"})}, {kX}, {kY}, {ints("k", {5000})}), "tensorrt", "TopK_y", "less than 3840");
  // unsupported ops, types, opsets, resize modes
  expect_rejects(model(17, {node("Unique", {"x"})}, {kX}, {kY}), "tensorrt", "Unique_y", "unsupported (N in onnx-tensorrt's operator table)");
  expect_rejects(model(17, {node("Gelu", {"x"})}, {kX}, {kY}), "tensorrt", "Gelu_y", "TensorRT 8.6");
  expect_rejects(model(17, {node("Add", {"x", "c"})}, {{"x", {2, 2}, onnx::TensorProto::DOUBLE}}, {{"y", {2, 2}, onnx::TensorProto::DOUBLE}},
                       {floats("c", {2, 2}, onnx::TensorProto::DOUBLE)}),
                 "tensorrt", "Add_y", "Add on DOUBLE");
  expect_rejects(model(17, {node("Relu", {"x"})}, {{"x", {2}, onnx::TensorProto::UINT64}}, {kY}), "tensorrt", "x", "UINT64");
  expect_rejects(model(17, {node("Add", {"x", "c"})}, {{"x", {2}, onnx::TensorProto::INT64}}, {{"y", {2}, onnx::TensorProto::INT64}},
                       {ints("c", {1, std::int64_t{1} << 40})}),
                 "tensorrt", "Add_y", "beyond INT32, which TensorRT 8.6 clamps");
  expect_rejects(model(8, {node("Relu", {"x"})}, {kX}, {kY}), "tensorrt", "(model)", "opsets 9 to 20");
  onnx::NodeProto cubic = node("Resize", {"x", "", "", "sizes"});
  set_string(&cubic, "mode", "cubic");
  expect_rejects(model(17, {cubic}, {kX}, {kY}, {ints("sizes", {1, 3, 16, 16})}), "tensorrt", "Resize_y", "Resize mode cubic");
  onnx::NodeProto dilated = node("MaxPool", {"x"});
  set_ints(&dilated, "kernel_shape", {2, 2});
  set_ints(&dilated, "dilations", {2, 2});
  expect_rejects(model(17, {dilated}, {kX}, {kY}), "tensorrt", "MaxPool_y", "dilations");
}

TEST(OnnxTargets, TensorrtRewritesSortedTopKAndUnreadIndices) {
  onnx::NodeProto topk = node("TopK", {"x", "k"}, {"y", "i"});
  set_int(&topk, "sorted", 0);
  onnx::NodeProto pool = node("MaxPool", {"x"}, {"p", "idx"});
  set_ints(&pool, "kernel_shape", {2, 2});
  auto m = model(17, {topk, pool}, {kX}, {kY, {"p", {1, 3, 7, 7}}}, {ints("k", {3})});
  expect_rejects(m, "tensorrt", "TopK_y", "`sorted` must be 1");
  const auto& target = targets::find_onnx_target("tensorrt");
  auto changes = targets::make_onnx_acceptable(&m, target);
  EXPECT_EQ(changes.size(), 2u);
  EXPECT_EQ(rules(check(m, "tensorrt")), "");
  EXPECT_EQ(m.graph().node(1).output_size(), 1) << "MaxPool's unread Indices output dropped";
}

// --- OpenCV (measured) ---

TEST(OnnxTargets, OpencvAcceptsMeasuredForms) {
  onnx::NodeProto reduce = node("ReduceMean", {"r"}, {"y"});
  set_ints(&reduce, "axes", {2, 3});
  set_int(&reduce, "keepdims", 1);
  auto m = model(17, {conv("x", "c"), node("Relu", {"c"}, {"r"}), reduce}, {kX}, {{"y", {1, 4, 1, 1}}}, conv_weights());
  EXPECT_EQ(rules(check(m, "opencv")), "");
  EXPECT_NE(targets::find_onnx_target("opencv").verdict_basis.find("measured"), std::string::npos);
}

TEST(OnnxTargets, OpencvRejectsMeasuredFailures) {
  auto clip = model(17, {conv("x", "c"), node("Clip", {"c", "lo", "hi"})}, {kX}, {kY},
                    {floats("w", {4, 3, 3, 3}), floats("b", {4}), floats("lo", {}), floats("hi", {})});
  expect_rejects(clip, "opencv", "Clip_y", "Clip with min/max inputs");
  expect_rejects(model(17, {conv("x", "y", false)}, {kX}, {kY}, conv_weights()), "opencv", "Conv_y", "kernel_shape");
  expect_rejects(model(17, {conv()}, {kX}, {{"y", {}}}, conv_weights()), "opencv", "y", "needs a shape on every graph output");
  auto sum = model(17, {conv("x", "c"), node("ReduceSum", {"c", "axes"})}, {kX}, {{"y", {1, 4, 1, 1}}},
                   {floats("w", {4, 3, 3, 3}), floats("b", {4}), ints("axes", {2, 3})});
  expect_rejects(sum, "opencv", "ReduceSum_y", "ReduceSum's axes input");
  onnx::NodeProto resize = node("Resize", {"x", "", "", "sizes"});
  set_string(&resize, "mode", "nearest");
  set_string(&resize, "coordinate_transformation_mode", "tf_half_pixel_for_nn");
  expect_rejects(model(17, {resize}, {kX}, {{"y", {1, 3, 16, 16}}}, {ints("sizes", {1, 3, 16, 16})}), "opencv", "Resize_y",
                 "tf_half_pixel_for_nn");
  expect_rejects(model(17, {node("Where", {"x", "x", "x"})}, {kX}, {kY}), "opencv", "Where_y", "has no Where");
  expect_rejects(model(17, {node("Einsum", {"x"})}, {kX}, {kY}), "opencv", "Einsum_y", "has no Einsum");
}

TEST(OnnxTargets, OpencvRewritesSqueezeAndIdentityOfWeights) {
  onnx::NodeProto pool = node("GlobalAveragePool", {"x"}, {"p"});
  auto m = model(17, {pool, node("Squeeze", {"p", "axes"}, {"s"}), node("Identity", {"bias"}, {"bias_id"}), node("Add", {"s", "bias_id"})},
                 {kX}, {{"y", {1, 3}}}, {ints("axes", {2, 3}), floats("bias", {3})});
  expect_rejects(m, "opencv", "Squeeze_s", "Squeeze from opset 13");
  expect_rejects(m, "opencv", "Identity_bias_id", "Identity of a weight");
  auto changes = targets::make_onnx_acceptable(&m, targets::find_onnx_target("opencv"));
  EXPECT_EQ(changes.size(), 2u);
  EXPECT_EQ(rules(check(m, "opencv")), "");
  EXPECT_EQ(rules(check(m, "onnxruntime")), "") << "the rewritten model is still standard ONNX";
}

// Relu6 (Clip from 0 to a constant) becomes Relu(x) - Relu(x - 6); a Clip from another lower bound
// stays, and is still rejected. onnxruntime computes the same numbers before and after.
TEST(OnnxTargets, OpencvRewritesRelu6Clips) {
  onnx::TensorProto zero = floats("zero", {}), six = floats("six", {}), lo = floats("lo", {});
  zero.set_float_data(0, 0.0f);
  six.set_float_data(0, 6.0f);
  lo.set_float_data(0, -1.0f);
  auto m = model(17, {conv("x", "c"), node("Clip", {"c", "zero", "six"}, {"r6"}), node("Clip", {"r6", "lo", "six"}, {"y"})}, {kX}, {kY},
                 {floats("w", {4, 3, 3, 3}), floats("b", {4}), zero, six, lo});
  for (auto& t : *m.mutable_graph()->mutable_initializer())
    if (t.name() == "w")
      for (int i = 0; i < t.float_data_size(); ++i) t.set_float_data(i, 3.0f * t.float_data(i));  // values beyond 6 too
  expect_rejects(m, "opencv", "Clip_r6", "Clip with min/max inputs");
  const onnx::ModelProto before = m;
  auto changes = targets::make_onnx_acceptable(&m, targets::find_onnx_target("opencv"));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_NE(changes[0].find("1 Clip(x, 0, hi)"), std::string::npos) << changes[0];
  int clips = 0, relus = 0;
  for (const auto& n : m.graph().node()) clips += n.op_type() == "Clip", relus += n.op_type() == "Relu";
  EXPECT_EQ(clips, 1);  // the one from -1
  EXPECT_EQ(relus, 2);
  expect_rejects(m, "opencv", "Clip_y", "Clip with min/max inputs");
  EXPECT_EQ(rules(check(m, "onnxruntime")), "");
  REQUIRE_ONNXRUNTIME();
  const std::string dir = test::temp_dir();
  io::save_onnx(before, dir + "/before.onnx", false);
  io::save_onnx(m, dir + "/after.onnx", false);
  Tensor x{tf::DT_FLOAT, {1, 3, 8, 8}, std::string(192 * 4, '\0'), {}, {}};
  for (int i = 0; i < 192; ++i) {
    const float v = static_cast<float>(i % 11) - 4.0f;
    std::memcpy(x.bytes.data() + 4 * i, &v, 4);
  }
  auto a = test::run_onnxruntime(dir + "/before.onnx", {{"x", x}}, {"y"}), b = test::run_onnxruntime(dir + "/after.onnx", {{"x", x}}, {"y"});
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_TRUE(runtime::compare_tensors(b[0], a[0], 1e-6, 1e-6).within_tolerance);
}

// --- the command line ---

TEST(OnnxTargets, CheckCommandNamesNodesAndRules) {
  const std::string dir = test::temp_dir();
  io::save_onnx(model(17, {node("Unique", {"x"})}, {kX}, {kY}), dir + "/bad.onnx", false);
  auto r = test::run_cli({"check", dir + "/bad.onnx", "--target", "tensorrt"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("Unique_y (Unique): op Unique is unsupported"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not measured"), std::string::npos) << "the verdict says it comes from the table: " << r.out;
  io::save_onnx(model(17, {node("Relu", {"x"})}, {kX}, {{"y", {1, 3, 8, 8}}}), dir + "/ok.onnx", false);
  for (const char* target : {"onnxruntime", "generic", "tensorrt", "opencv"}) {
    r = test::run_cli({"check", dir + "/ok.onnx", "--target", target});
    EXPECT_EQ(r.exit_code, 0) << target << ": " << r.out << r.err;
  }
  r = test::run_cli({"check", dir + "/ok.onnx", "--target", "tflite"});
  EXPECT_EQ(r.exit_code, 2) << "tflite is a TF target only";
  test::write_bytes(dir + "/broken.onnx", std::string("\x0a\xff\xff\xff\x0f", 5));
  r = test::run_cli({"check", dir + "/broken.onnx", "--target", "opencv"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("broken.onnx"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// --- generated training models ---

std::vector<std::string> generated(const std::string& model, const std::string& image_size) {
  const std::string dir = test::temp_dir();
  auto gen = test::run_process({TFFREEZE_MODELGEN_BIN, model, "--out", dir, "--width-multiplier", "0.25", "--classes", "10", "--image-size", image_size});
  EXPECT_EQ(gen.exit_code, 0) << gen.err;
  std::vector<std::string> args = {"freeze", dir + "/model.ckpt.meta"};
  std::istringstream in(test::read_bytes(dir + "/freeze.args"));
  for (std::string a; in >> a;) args.push_back(a);
  args.push_back("--optimize");
  return args;
}

const std::vector<std::pair<std::string, std::string>> kGenerated = {{"inception_v3", "107"}, {"mobilenet_v1", "64"}, {"resnet50_v1", "64"}};

TEST(OnnxTargets, GeneratedModelsPassTensorrtsTable) {
  for (const auto& [name, size] : kGenerated) {
    auto args = generated(name, size);
    const std::string out = test::temp_dir() + "/m.onnx";
    auto plain = args;
    plain.insert(plain.end(), {"-o", out});
    auto r = test::run_cli(plain);
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
    r = test::run_cli({"check", out, "--target", "tensorrt"});
    EXPECT_EQ(r.exit_code, 0) << name << ":\n" << r.out;
    auto targeted = args;
    targeted.insert(targeted.end(), {"--target", "tensorrt", "-o", out + ".trt.onnx"});
    r = test::run_cli(targeted);
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
  }
}

bool opencv_python_available() { return test::run_process({"/usr/bin/python3", "-c", "import cv2, numpy, onnx"}).exit_code == 0; }

#define REQUIRE_OPENCV_PYTHON()                                                                         \
  if (!opencv_python_available()) {                                                                     \
    if (test::in_ci()) FAIL() << "python3-opencv or python3-onnx missing (CI=true)";                    \
    GTEST_SKIP() << "Debian's python3-opencv / python3-onnx not installed";                             \
  }

Tensor random_input(std::vector<std::int64_t> shape) {
  Tensor t{tf::DT_FLOAT, std::move(shape), {}, {}};
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1, 1);
  t.bytes.resize(static_cast<std::size_t>(t.num_elements()) * 4);
  for (std::int64_t i = 0; i < t.num_elements(); ++i) {
    float v = u(rng);
    std::memcpy(t.bytes.data() + 4 * i, &v, 4);
  }
  return t;
}

// How far `got` is from `want`: "" within 1e-4 relative to max(1, |want|), else what differs.
std::string differs(const Tensor& got, const Tensor& want, const std::string& who) {
  if (got.num_elements() != want.num_elements()) return who + " gives " + std::to_string(got.num_elements()) + " values";
  double scale = 1, worst = 0;
  for (std::int64_t i = 0; i < want.num_elements(); ++i) scale = std::max(scale, std::abs(element_as_double(want, i)));
  for (std::int64_t i = 0; i < want.num_elements(); ++i) worst = std::max(worst, std::abs(element_as_double(got, i) - element_as_double(want, i)));
  return worst <= 1e-4 * scale ? "" : who + ": max abs difference " + std::to_string(worst);
}

// OpenCV (a child process) and onnxruntime on the ONNX file, our executor on the frozen TF graph,
// all on the same input; "" when both runtimes agree with the executor.
std::string opencv_disagrees(const std::string& model_path, const tf::GraphDef& frozen) {
  onnx::ModelProto m = io::load_onnx(model_path);
  const auto& in = m.graph().input(0);
  std::vector<std::int64_t> shape;
  for (const auto& d : in.type().tensor_type().shape().dim()) shape.push_back(d.has_dim_value() ? d.dim_value() : 1);
  const std::string dir = test::temp_dir(), x = dir + "/x.npy", out = m.graph().output(0).name();
  Tensor input = random_input(shape);
  io::write_npy(input, x);
  auto cv = test::run_process({"/usr/bin/python3", std::string(TFFREEZE_SOURCE_DIR) + "/tools/opencv_run.py", model_path, dir + "/cv", "--input",
                               in.name() + "=" + x, "--output", out},
                              120);
  if (cv.exit_code != 0) return "OpenCV: " + cv.err + (cv.signal ? " (signal " + std::to_string(cv.signal) + ")" : "");
  Tensor theirs = io::read_npy(dir + "/cv/" + test::file_safe(out) + ".npy");
  auto ort = test::run_onnxruntime(model_path, {{in.name(), input}}, {out});
  if (ort.empty()) return "onnxruntime failed";
  const Tensor ours = runtime::Executor(frozen).run({{in.name(), input}}, {out}).front();
  return differs(theirs, ours, "OpenCV") + differs(ort[0], ours, "onnxruntime");
}

// The frozen TF graph (no optimization) the generated model's freeze.args give.
tf::GraphDef frozen_graph(std::vector<std::string> args) {
  args.erase(std::remove(args.begin(), args.end(), "--optimize"), args.end());
  const std::string pb = test::temp_dir() + "/frozen.pb";
  args.insert(args.end(), {"-o", pb});
  auto r = test::run_cli(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return io::load_model(pb).graph();
}

TEST(OnnxTargets, OpencvRunsEveryGeneratedExportCheckAccepts) {
  REQUIRE_OPENCV_PYTHON();
  REQUIRE_ONNXRUNTIME();
  int accepted = 0;
  for (const auto& [name, size] : kGenerated) {
    auto args = generated(name, size);
    const tf::GraphDef frozen = frozen_graph(args);
    for (const std::string target : {"onnxruntime", "opencv"}) {
      const std::string out = test::temp_dir() + "/m.onnx";
      auto run = args;
      run.insert(run.end(), {"--target", target, "-o", out});
      auto r = test::run_cli(run);
      if (target == "opencv" && r.exit_code == 1) {
        // Refused: the check names what OpenCV cannot run, and nothing is written.
        EXPECT_NE(r.out.find("target opencv rejects"), std::string::npos) << r.out;
        EXPECT_FALSE(std::filesystem::exists(out));
        std::cout << "[ info ] " << name << " --target opencv: refused (" << r.err.substr(0, 160) << ")\n";
        continue;
      }
      ASSERT_EQ(r.exit_code, 0) << name << " " << target << ": " << r.err;
      auto c = test::run_cli({"check", out, "--target", "opencv"});
      if (c.exit_code != 0) continue;
      ++accepted;
      EXPECT_EQ(opencv_disagrees(out, frozen), "") << name << " exported for " << target << ": check --target opencv accepts it";
      std::cout << "[ info ] " << name << " for " << target << ": check --target opencv accepts; OpenCV and onnxruntime agree with the executor on the frozen graph\n";
    }
  }
  EXPECT_GE(accepted, 2) << "the opencv target must make some generated models acceptable";
}

// The rules against the installed OpenCV, on a cheap sample of the measurement's cases: where
// check accepts, OpenCV must have loaded and computed onnxruntime's numbers.
TEST(OnnxTargets, OpencvRulesAgreeWithInstalledOpencv) {
  REQUIRE_OPENCV_PYTHON();
  REQUIRE_ONNXRUNTIME();
  const std::string sample =
      "Conv|Clip|ReduceMean axes [2, 3]|ReduceSum axes [1]|Squeeze|Resize linear half_pixel|Resize nearest asymmetric floor|"
      "Resize nearest tf_half|Gemm|MatMul const|Concat|of a weight|output without shape|Add const per-channel|Add 2-D const|Mul const last|"
      "Div const first|Max const scalar|"
      "Split|Slice steps|Gather|AveragePool";
  auto r = test::run_process({"/usr/bin/python3", std::string(TFFREEZE_SOURCE_DIR) + "/tools/measure_opencv_onnx.py", "--check", TFFREEZE_BIN,
                              "--only", sample},
                             1200);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("check --target opencv accepts 0 case(s) OpenCV fails"), std::string::npos) << r.out;
  auto pos = r.out.find("check --target opencv rejects");
  std::cout << "[ info ] " << (pos == std::string::npos ? r.out : r.out.substr(pos, 400)) << "\n";
}

}  // namespace
}  // namespace tffreeze
