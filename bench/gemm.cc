// The matrix products behind the executor's convolutions, by Eigen, OpenBLAS and oneDNN (the one
// runtime/gemm.h uses for float32), on the shapes of the generated models' layers: rows are output pixels,
// the inner dimension a patch (or one tap's channels), columns the output channels. Best of 20
// runs each, in one process, at the thread count given. Prints OpenBLAS's kernel, then table rows.
//   tffreeze-bench-gemm THREADS
#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <vector>

namespace {

using RowMap = Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

double best_ms(const std::function<void()>& f) {
  f();
  double best = 1e300;
  for (int i = 0; i < 20; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  omp_set_num_threads(threads);
  struct Shape {
    const char* layer;
    int m, k, n;
  };
  const Shape shapes[] = {{"Inception 35x35, 3x3x64 -> 96", 1225, 576, 96}, {"Inception 35x35, one tap of 64 -> 96", 1225, 64, 96},
                          {"Inception 17x17, 1x7x128 -> 128", 289, 896, 128}, {"Inception 8x8, 3x3x384 -> 384", 64, 3456, 384},
                          {"ResNet 56x56, 3x3x64 -> 64", 3136, 576, 64}, {"ResNet 28x28, 3x3x128 -> 128", 784, 1152, 128},
                          {"MobileNet 112x112, 1x1x64 -> 128", 12544, 64, 128}, {"MobileNet 7x7, 1x1x1024 -> 1024", 49, 1024, 1024},
                          {"ResNet 14x14, 3x3x256 -> 256", 196, 2304, 256}, {"ResNet 7x7, 3x3x512 -> 512", 49, 4608, 512},
                          {"ResNet 56x56, 1x1x64 -> 256", 3136, 64, 256}};
  std::printf("OpenBLAS kernel: %s\n\n", openblas_get_corename());
  std::printf("| layer | m x k x n | threads | Eigen ms (GFLOP/s) | OpenBLAS ms (GFLOP/s) | OpenBLAS, rows split ms (GFLOP/s) | oneDNN ms (GFLOP/s) | oneDNN / best other |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
  for (const Shape& s : shapes) {
    std::vector<float> a(static_cast<std::size_t>(s.m) * s.k), b(static_cast<std::size_t>(s.k) * s.n), c(static_cast<std::size_t>(s.m) * s.n);
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-1, 1);
    for (float& x : a) x = u(rng);
    for (float& x : b) x = u(rng);
    const double eigen = best_ms([&] { RowMap(c.data(), s.m, s.n).noalias() = RowMap(a.data(), s.m, s.k) * RowMap(b.data(), s.k, s.n); });
    const double blas = best_ms([&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s.m, s.n, s.k, 1.0f, a.data(), s.k, b.data(), s.n, 0.0f, c.data(), s.n);
    });
    // The rows split over the threads, one single-threaded product each (OpenBLAS runs on the
    // calling thread inside a parallel region).
    const double split = best_ms([&] {
#pragma omp parallel
      {
        const int t = omp_get_thread_num(), T = omp_get_num_threads();
        const int r0 = static_cast<int>(static_cast<long>(s.m) * t / T), r1 = static_cast<int>(static_cast<long>(s.m) * (t + 1) / T);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, s.n, s.k, 1.0f, a.data() + static_cast<long>(r0) * s.k, s.k, b.data(), s.n,
                    0.0f, c.data() + static_cast<long>(r0) * s.n, s.n);
      }
    });
    const double dnnl = best_ms([&] { dnnl_sgemm('N', 'N', s.m, s.n, s.k, 1.0f, a.data(), s.k, b.data(), s.n, 0.0f, c.data(), s.n); });
    const double mflop = 2.0 * s.m * s.k * s.n / 1e6;
    std::printf("| %s | %d x %d x %d | %d | %.3f (%.0f) | %.3f (%.0f) | %.3f (%.0f) | %.3f (%.0f) | %.2f |\n", s.layer, s.m, s.k, s.n, threads,
                eigen, mflop / eigen, blas, mflop / blas, split, mflop / split, dnnl, mflop / dnnl, dnnl / std::min({eigen, blas, split}));
  }
}
