// Row-major matrix products for the kernels (MatMul, BatchMatMul, the convolutions), on the same
// OpenMP threads as the rest of the executor: float32 goes to oneDNN, whose kernels are generated
// at run time for the CPU's widest vectors (AVX-512 where there is one: 2x OpenBLAS's Haswell
// kernel on an AVX-512 machine, bench/gemm.cc, BENCHMARKS.md); float64 to OpenBLAS, which oneDNN
// does not cover.
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
