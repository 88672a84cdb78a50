// Row-major matrix products for the kernels (MatMul, BatchMatMul, the convolutions): float32 and
// float64 go to OpenBLAS, whose kernels run the convolutions' shapes about 1.3x faster than
// Eigen's here (bench/gemm.cc, BENCHMARKS.md), on the same OpenMP threads as the rest of the executor.
#pragma once

#include <cstdint>

namespace tffreeze::runtime {

// C (m x n) = op(A) * op(B), or C += op(A) * op(B) when `accumulate`. op(A) is m x k and op(B)
// k x n; A, B and C are dense row-major (transposed: A is k x m, B is n x k).
struct GemmShape {
  std::int64_t m = 0, k = 0, n = 0;
  bool transpose_a = false, transpose_b = false, accumulate = false;
};

void gemm(const float* a, const float* b, float* c, const GemmShape& s);
void gemm(const double* a, const double* b, double* c, const GemmShape& s);

}  // namespace tffreeze::runtime
