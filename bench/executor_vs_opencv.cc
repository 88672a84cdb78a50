// Latency of tffreeze's executor next to OpenCV DNN on the same frozen graph, input and thread
// count, in one run (bench/executor_vs_opencv.sh feeds it generated and real models). The two
// outputs are compared before timing: a fast wrong answer is not a result. Prints table rows.
//   tffreeze-bench-executor NAME MODEL.pb INPUT OUTPUT H,W,C [RUNS]
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>
#include <random>
#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>

#include "io/model.h"
#include "runtime/executor.h"
#include "runtime/heap.h"

namespace {

using tffreeze::Tensor;
namespace tf = tffreeze::tf;

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

double median(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

double time_ms(const std::function<void()>& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Medians of `runs` runs of each, taken in turns (a, b, a, b, ...) after two warm-ups each, so
// that a burst of load on a shared machine falls on both sides alike.
std::pair<double, double> interleaved_medians_ms(int runs, const std::function<void()>& a, const std::function<void()>& b) {
  for (int i = 0; i < 2; ++i) a(), b();
  std::vector<double> ta, tb;
  for (int i = 0; i < runs; ++i) {
    ta.push_back(time_ms(a));
    tb.push_back(time_ms(b));
  }
  return {median(ta), median(tb)};
}

double median_ms(int runs, const std::function<void()>& f) {
  f();
  f();  // warm-up
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) ms.push_back(time_ms(f));
  return median(ms);
}

void bench(const std::string& name, const tf::GraphDef& graph, const std::string& input, const Tensor& x, const std::string& output,
           int runs) {
  const std::string file = "/tmp/tffreeze-bench-" + std::to_string(::getpid()) + ".pb";
  tffreeze::io::save_graph(graph, file);
  cv::dnn::Net net;
  try {
    net = cv::dnn::readNetFromTensorflow(file);
    net.setInput(to_nchw_blob(x));
    net.forward();
  } catch (const cv::Exception& e) {
    // OpenCV cannot run it: time ours alone and say why.
    std::string why = e.what();
    why = why.substr(why.find("error:") == std::string::npos ? 0 : why.find("error:"));
    why = why.substr(0, why.find('\n')).substr(0, 90);
    tffreeze::runtime::Executor executor(graph);
    for (int threads : {1, 2}) {
      omp_set_num_threads(threads);
      double mine = median_ms(runs, [&] { executor.run({{input, x}}, {output}); });
      std::printf("| %s | %d | %.2f | OpenCV cannot load it (%s) | - | - |\n", name.c_str(), threads, mine, why.c_str());
    }
    std::remove(file.c_str());
    return;
  }
  std::remove(file.c_str());
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
    auto [mine, ocv] = interleaved_medians_ms(
        runs, [&] { executor.run({{input, x}}, {output}); },
        [&] {
          net.setInput(blob);
          net.forward();
        });
    std::printf("| %s | %d | %.2f | %.2f | %.2f | %.1e |\n", name.c_str(), threads, mine, ocv, mine / ocv, diff);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: tffreeze-bench-executor NAME MODEL.pb INPUT OUTPUT H,W,C [RUNS]\n");
    return 2;
  }
  const std::string name = argv[1], model = argv[2], input = argv[3], output = argv[4];
  std::vector<std::int64_t> shape = {1};
  for (std::string dims = argv[5]; !dims.empty();) {
    const auto comma = dims.find(',');
    shape.push_back(std::stoll(dims.substr(0, comma)));
    dims = comma == std::string::npos ? "" : dims.substr(comma + 1);
  }
  const int runs = argc > 6 ? std::atoi(argv[6]) : 10;
  // As `tffreeze run` does; OpenCV's allocations come from the same heap.
  tffreeze::runtime::reserve_heap_in_large_pages();
  tffreeze::runtime::keep_freed_tensor_memory();
  try {
    bench(name, tffreeze::io::load_model(model).graph(), input, random_input(shape), output, runs);
  } catch (const std::exception& e) {
    std::printf("| %s | - | - | - | - | %s |\n", name.c_str(), e.what());
  }
  return 0;
}
