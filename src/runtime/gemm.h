// Row-major matrix products for the kernels (MatMul, BatchMatMul, the convolutions), on the same
// OpenMP threads as the rest of the executor: float32 goes to oneDNN, whose kernels are generated
// at run time for the CPU's widest vectors (AVX-512 where there is one: 2x OpenBLAS's Haswell
// kernel on an AVX-512 machine, bench/gemm.cc, BENCHMARKS.md); float64 to OpenBLAS, which oneDNN
// does not cover.
#pragma once

#include <cstdint>
#include <thread>

namespace tffreeze::runtime {

// C (m x n) = op(A) * op(B), or C += op(A) * op(B) when `accumulate`. op(A) is m x k and op(B)
// k x n; A, B and C are dense row-major (transposed: A is k x m, B is n x k).
struct GemmShape {
  std::int64_t m = 0, k = 0, n = 0;
  bool transpose_a = false, transpose_b = false, accumulate = false;
};

void gemm(const float* a, const float* b, float* c, const GemmShape& s);
void gemm(const double* a, const double* b, double* c, const GemmShape& s);

// oneDNN generates its kernels on the first float32 product of a process: 45-60 ms here, most of
// a MobileNet's first pass, so that a proof paid it on top of its two passes. A GemmWarmup has a
// background thread do one tiny product, so the kernels are made while the caller does other work
// (the passes that come before a proof); a product started meanwhile waits for them. On one
// OpenMP thread, so that it takes one core. The destructor waits for the thread.
class GemmWarmup {
 public:
  GemmWarmup();
  ~GemmWarmup();
  GemmWarmup(const GemmWarmup&) = delete;
  GemmWarmup& operator=(const GemmWarmup&) = delete;

 private:
  std::thread thread_;
};

}  // namespace tffreeze::runtime
