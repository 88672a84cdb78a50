#include "runtime/gemm.h"

#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>

#include <algorithm>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>

namespace tffreeze::runtime {
namespace {

// float64 products (OpenBLAS). Measured on the convolutions' float32 shapes when OpenBLAS ran
// those too: its own threading splits them unevenly (bench/gemm.cc: 60-190 GFLOP/s on 2
// threads); the rows of C split over the OpenMP threads, one single-threaded product each
// (OpenBLAS's OpenMP build stays on the calling thread inside a parallel region), reach 195-205.
// Fewer rows than this a thread are left to OpenBLAS, which then splits the columns.
constexpr std::int64_t kMinRowsPerThread = 64;

// BLAS takes int dimensions: every one here is a dimension of a tensor of at most 2 GiB
// (kMaxExpandedTensorBytes), so below 2^31 when the other two are not zero.
template <class T, class Blas>
void blas_rows(const T* a, const T* b, T* c, const GemmShape& s, std::int64_t r0, std::int64_t r1, Blas blas) {
  blas(CblasRowMajor, s.transpose_a ? CblasTrans : CblasNoTrans, s.transpose_b ? CblasTrans : CblasNoTrans, static_cast<int>(r1 - r0),
       static_cast<int>(s.n), static_cast<int>(s.k), T(1), s.transpose_a ? a + r0 : a + r0 * s.k, static_cast<int>(s.transpose_a ? s.m : s.k), b,
       static_cast<int>(s.transpose_b ? s.k : s.n), s.accumulate ? T(1) : T(0), c + r0 * s.n, static_cast<int>(s.n));
}

template <class T, class Blas>
void blas_gemm(const T* a, const T* b, T* c, const GemmShape& s, Blas blas) {
  if (s.m == 0 || s.n == 0) return;
  if (s.k == 0) {
    if (!s.accumulate) std::fill(c, c + s.m * s.n, T(0));
    return;
  }
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (threads == 1 || s.m < kMinRowsPerThread * threads) {
    blas_rows(a, b, c, s, 0, s.m, blas);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const std::int64_t t = omp_get_thread_num(), n = omp_get_num_threads();
    blas_rows(a, b, c, s, s.m * t / n, s.m * (t + 1) / n, blas);
  }
}

}  // namespace

// oneDNN threads a product over the OpenMP threads itself, evenly for these shapes (2 threads:
// 300-400 GFLOP/s here, as fast as rows split by hand), and runs it on the calling thread alone
// inside a parallel region.
void gemm(const float* a, const float* b, float* c, const GemmShape& s) {
  if (s.m == 0 || s.n == 0) return;
  if (s.k == 0) {
    if (!s.accumulate) std::fill(c, c + s.m * s.n, 0.0f);
    return;
  }
  const dnnl_status_t status = dnnl_sgemm(s.transpose_a ? 'T' : 'N', s.transpose_b ? 'T' : 'N', s.m, s.n, s.k, 1.0f, a, s.transpose_a ? s.m : s.k, b,
                                          s.transpose_b ? s.k : s.n, s.accumulate ? 1.0f : 0.0f, c, s.n);
  if (status == dnnl_out_of_memory) throw std::bad_alloc();
  if (status != dnnl_success) throw std::logic_error("oneDNN's sgemm failed (status " + std::to_string(static_cast<int>(status)) + ")");
}
void gemm(const double* a, const double* b, double* c, const GemmShape& s) { blas_gemm(a, b, c, s, cblas_dgemm); }

GemmWarmup::GemmWarmup() {
  try {
    thread_ = std::thread([] {
      omp_set_num_threads(1);  // this thread's own setting
      const float a[4] = {}, b[4] = {};
      float c[4];
      // A failure here is the caller's to meet: its own product fails the same way and says so.
      dnnl_sgemm('N', 'N', 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2);
    });
  } catch (const std::system_error&) {
    // No thread to spare (a process limit): the first product makes the kernels itself.
  }
}

GemmWarmup::~GemmWarmup() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace tffreeze::runtime
