// Latency of tffreeze's executor next to OpenCV DNN on the same frozen graphs, inputs and
// thread count, in one run. Graphs: MobileNet v1 (1.0, 224) and ResNet-18 built with seeded
// random weights (batch norms already folded: conv + bias + activation), plus the real ARM
// DS-CNN keyword spotter. Each pair of outputs is checked to agree before timing.
//   tffreeze-bench-executor [RUNS]
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>

#include "freeze/freeze.h"
#include "io/model.h"
#include "runtime/executor.h"
#include "tools/graph_builder.h"

namespace {

using tffreeze::Tensor;
using tffreeze::tools::Builder;
namespace tf = tffreeze::tf;

struct Net {
  Builder b;
  int counter = 0;
  std::string conv(const std::string& x, int k, int in, int out, int stride, const char* act, bool depthwise = false) {
    std::string scope = "layer" + std::to_string(counter++);
    float fan_in = static_cast<float>(k * k * (depthwise ? 1 : in));
    float a = std::sqrt(3.0f / fan_in);
    std::string w = b.constant(scope + "/weights", {k, k, in, depthwise ? 1 : out}, -a, a);
    auto* c = b.op(scope + "/conv", depthwise ? "DepthwiseConv2dNative" : "Conv2D", {x, w});
    b.ints(c, "strides", {1, stride, stride, 1});
    Builder::attr(c, "padding").set_s("SAME");
    std::string bias = b.constant(scope + "/biases", {depthwise ? in : out}, -0.05f, 0.05f);
    b.op(scope + "/BiasAdd", "BiasAdd", {scope + "/conv", bias});
    if (!act) return scope + "/BiasAdd";
    b.op(scope + "/" + act, act, {scope + "/BiasAdd"});
    return scope + "/" + act;
  }
  std::string input(int size) {
    auto* in = b.op("input", "Placeholder", {}, false);
    Builder::attr(in, "dtype").set_type(tf::DT_FLOAT);
    for (long long d : {1, size, size, 3}) Builder::attr(in, "shape").mutable_shape()->add_dim()->set_size(d);
    return "input";
  }
  std::string classifier(const std::string& x, int channels, int spatial) {
    auto* pool = b.op("pool", "AvgPool", {x});
    b.ints(pool, "ksize", {1, spatial, spatial, 1});
    b.ints(pool, "strides", {1, 1, 1, 1});
    Builder::attr(pool, "padding").set_s("VALID");
    auto* flat = b.op("flatten", "Reshape", {"pool", b.int_constant("flatten/shape", {-1, channels})});
    Builder::attr(flat, "Tshape").set_type(tf::DT_INT32);
    std::string w = b.constant("logits/weights", {channels, 1000}, -0.05f, 0.05f);
    b.op("logits/MatMul", "MatMul", {"flatten", w});
    b.op("logits/BiasAdd", "BiasAdd", {"logits/MatMul", b.constant("logits/biases", {1000}, -0.1f, 0.1f)});
    b.op("predictions", "Softmax", {"logits/BiasAdd"});
    return "predictions";
  }
};

tf::GraphDef mobilenet_v1() {
  Net n;
  std::string x = n.conv(n.input(224), 3, 3, 32, 2, "Relu6");
  int c = 32;
  const int blocks[][2] = {{64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2}, {512, 1}, {512, 1},
                           {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}};
  for (const auto& [out, stride] : blocks) {
    x = n.conv(x, 3, c, c, stride, "Relu6", true);
    x = n.conv(x, 1, c, out, 1, "Relu6");
    c = out;
  }
  n.classifier(x, 1024, 7);
  return n.b.graph;
}

tf::GraphDef resnet18() {
  Net n;
  std::string x = n.conv(n.input(224), 7, 3, 64, 2, "Relu");
  auto* mp = n.b.op("maxpool", "MaxPool", {x});
  n.b.ints(mp, "ksize", {1, 3, 3, 1});
  n.b.ints(mp, "strides", {1, 2, 2, 1});
  Builder::attr(mp, "padding").set_s("SAME");
  x = "maxpool";
  int c = 64;
  for (int stage = 0; stage < 4; ++stage) {
    const int out = 64 << stage;
    for (int block = 0; block < 2; ++block) {
      const int stride = stage > 0 && block == 0 ? 2 : 1;
      std::string shortcut = x;
      if (stride != 1 || c != out) shortcut = n.conv(x, 1, c, out, stride, nullptr);
      std::string y = n.conv(x, 3, c, out, stride, "Relu");
      y = n.conv(y, 3, out, out, 1, nullptr);
      std::string sum = "res" + std::to_string(stage) + "_" + std::to_string(block);
      n.b.op(sum + "/add", "AddV2", {y, shortcut});
      n.b.op(sum + "/relu", "Relu", {sum + "/add"});
      x = sum + "/relu";
      c = out;
    }
  }
  n.classifier(x, 512, 7);
  return n.b.graph;
}

Tensor random_input(std::vector<std::int64_t> shape) {
  Tensor t{tf::DT_FLOAT, std::move(shape), {}, {}};
  t.bytes.resize(static_cast<std::size_t>(t.num_elements()) * 4);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  for (std::int64_t i = 0; i < t.num_elements(); ++i) {
    float v = u(rng);
    std::memcpy(t.bytes.data() + 4 * i, &v, 4);
  }
  return t;
}

cv::Mat to_nchw_blob(const Tensor& t) {
  const int N = static_cast<int>(t.shape[0]), H = static_cast<int>(t.shape[1]), W = static_cast<int>(t.shape[2]),
            C = static_cast<int>(t.shape[3]);
  int dims[4] = {N, C, H, W};
  cv::Mat blob(4, dims, CV_32F);
  const float* p = reinterpret_cast<const float*>(t.bytes.data());
  for (int n = 0; n < N; ++n)
    for (int h = 0; h < H; ++h)
      for (int w = 0; w < W; ++w)
        for (int c = 0; c < C; ++c) blob.ptr<float>()[((n * C + c) * H + h) * W + w] = p[((n * H + h) * W + w) * C + c];
  return blob;
}

template <class F>
double median_ms(int runs, F f) {
  f();
  f();  // warm-up
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

void bench(const std::string& name, const tf::GraphDef& graph, const std::string& input, const Tensor& x, const std::string& output,
           int runs) {
  const std::string file = "/tmp/tffreeze-bench-" + name + ".pb";
  tffreeze::io::save_graph(graph, file);
  cv::dnn::Net net = cv::dnn::readNetFromTensorflow(file);
  cv::Mat blob = to_nchw_blob(x);
  tffreeze::runtime::Executor executor(graph);
  // Agreement first: a fast wrong answer is not a result.
  net.setInput(blob);
  cv::Mat theirs = net.forward();
  Tensor ours = executor.run({{input, x}}, {output})[0];
  double diff = 0;
  for (std::int64_t i = 0; i < ours.num_elements(); ++i) {
    diff = std::max(diff, static_cast<double>(std::abs(theirs.ptr<float>()[i] - reinterpret_cast<const float*>(ours.bytes.data())[i])));
  }
  for (int threads : {1, 2}) {
    cv::setNumThreads(threads);
    omp_set_num_threads(threads);
    double ocv = median_ms(runs, [&] {
      net.setInput(blob);
      net.forward();
    });
    double mine = median_ms(runs, [&] { executor.run({{input, x}}, {output}); });
    std::printf("| %s | %d | %.2f | %.2f | %.2f | %.1e |\n", name.c_str(), threads, mine, ocv, mine / ocv, diff);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 10;
  std::printf("| graph | threads | tffreeze ms | OpenCV DNN ms | ratio | max abs diff |\n| --- | --- | --- | --- | --- | --- |\n");
  bench("mobilenet_v1_1.0_224", mobilenet_v1(), "input", random_input({1, 224, 224, 3}), "predictions", runs);
  bench("resnet18_224", resnet18(), "input", random_input({1, 224, 224, 3}), "predictions", runs);
  const char* dscnn = "../shared/testdata/arm-ml-kws-for-mcu/Pretrained_models/DS_CNN/DS_CNN_S.pb";
  if (argc > 2) dscnn = argv[2];
  try {
    tffreeze::io::Model m = tffreeze::io::load_model(dscnn);
    tffreeze::freeze::FreezeOptions cut;
    cut.outputs = {"labels_softmax"};
    cut.replace_inputs = {"Reshape_1=float32[1,49,10,1]"};
    bench("ds_cnn_s (ARM KWS)", tffreeze::freeze::freeze_model(m, nullptr, cut).graph, "Reshape_1", random_input({1, 49, 10, 1}),
          "labels_softmax", runs * 10);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "skipping DS-CNN: %s\n", e.what());
  }
  return 0;
}
