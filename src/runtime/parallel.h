// Splitting element-wise work over the OpenMP threads the matrix products use (OpenBLAS's OpenMP
// build, runtime/gemm.h; `run --threads`/OMP_NUM_THREADS set both). Each thread takes one
// contiguous range, so results are the same as on one thread: nothing is reduced across ranges.
#pragma once

#include <omp.h>

#include <cstdint>

namespace tffreeze::runtime {

// Below this many elements a loop stays on the calling thread (starting threads costs more).
inline constexpr std::int64_t kParallelGrain = std::int64_t{1} << 15;

// f(begin, end) over [0, n), in one range per thread when the work (n items of `cost` element
// operations each) is large.
template <class F>
void parallel_ranges(std::int64_t n, F f, std::int64_t cost = 1) {
  if (n < 2 || n * cost < 2 * kParallelGrain || omp_get_max_threads() == 1 || omp_in_parallel()) {
    f(std::int64_t{0}, n);
    return;
  }
#pragma omp parallel
  {
    const std::int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    f(n * t / threads, n * (t + 1) / threads);
  }
}

// f(i) for every i in [0, n); each f costs about `cost` element operations.
template <class F>
void parallel_for_each(std::int64_t n, F f, std::int64_t cost = 1) {
  parallel_ranges(
      n, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t i = begin; i < end; ++i) f(i);
      },
      cost);
}

}  // namespace tffreeze::runtime
