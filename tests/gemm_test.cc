// The executor's matrix products (runtime/gemm.h) against a naive double-precision sum: every
// combination of transposes and accumulation, with enough rows that they are split over the
// threads, a product racing the kernels' warm-up, and Winograd's 3x3 convolution against the
// direct one on a layer-sized image.
#include <omp.h>

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/gemm.h"
#include "runtime/winograd.h"

namespace tffreeze::runtime {
namespace {

std::vector<float> random_floats(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// float32 (oneDNN) and float64 (OpenBLAS, whose 300 rows split over 2 threads, 64 a thread at least).
template <class T>
void expect_gemm_matches_a_naive_product() {
  const std::int64_t m = 300, k = 37, n = 41;
  auto convert = [](const std::vector<float>& v) { return std::vector<T>(v.begin(), v.end()); };
  const auto a = convert(random_floats(static_cast<std::size_t>(m * k), 1)), b = convert(random_floats(static_cast<std::size_t>(k * n), 2));
  const auto start = convert(random_floats(static_cast<std::size_t>(m * n), 3));
  const int threads_before = omp_get_max_threads();
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    for (int flags = 0; flags < 8; ++flags) {
      const bool ta = flags & 1, tb = flags & 2, acc = flags & 4;
      std::vector<T> c = start;
      gemm(a.data(), b.data(), c.data(), {m, k, n, ta, tb, acc});
      for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
          double want = acc ? start[static_cast<std::size_t>(i * n + j)] : 0.0;
          for (std::int64_t p = 0; p < k; ++p)
            want += static_cast<double>(ta ? a[static_cast<std::size_t>(p * m + i)] : a[static_cast<std::size_t>(i * k + p)]) *
                    (tb ? b[static_cast<std::size_t>(j * k + p)] : b[static_cast<std::size_t>(p * n + j)]);
          ASSERT_NEAR(c[static_cast<std::size_t>(i * n + j)], want, 1e-4) << "threads " << threads << " flags " << flags << " at " << i << "," << j;
        }
    }
  }
  omp_set_num_threads(threads_before);
}

TEST(Gemm, TransposesAccumulationAndRowSplitsMatchANaiveProduct) {
  expect_gemm_matches_a_naive_product<float>();
  expect_gemm_matches_a_naive_product<double>();
}

TEST(Gemm, AnEmptyInnerDimensionGivesZerosOrLeavesTheSum) {
  std::vector<float> c(6, 5.0f);
  gemm(static_cast<const float*>(nullptr), static_cast<const float*>(nullptr), c.data(), {2, 0, 3, false, false, true});
  EXPECT_EQ(c, std::vector<float>(6, 5.0f));
  gemm(static_cast<const float*>(nullptr), static_cast<const float*>(nullptr), c.data(), {2, 0, 3});
  EXPECT_EQ(c, std::vector<float>(6, 0.0f));
}

// The warm-up's thread sets its own OpenMP thread count, not the process's; a product started
// while it generates the kernels waits for them and is right (the test binary's first product,
// when this test runs alone, as ctest runs it).
TEST(Gemm, AWarmupKeepsTheCallersThreadsAndAProductMeanwhileIsRight) {
  const int threads = omp_get_max_threads();
  {
    GemmWarmup warmup;
    expect_gemm_matches_a_naive_product<float>();
  }
  EXPECT_EQ(omp_get_max_threads(), threads);
  GemmWarmup{};  // once the kernels exist
  EXPECT_EQ(omp_get_max_threads(), threads);
}

// Compares conv2d_winograd_3x3 with a direct sum in double precision, on every output element.
void expect_winograd_matches_direct_sum(const Winograd3x3Shape& s) {
  const auto x = random_floats(static_cast<std::size_t>(s.N * s.H * s.W * s.C), 4);
  const auto f = random_floats(static_cast<std::size_t>(9 * s.C * s.OC), 5);
  std::vector<float> y(static_cast<std::size_t>(s.N * s.OH * s.OW * s.OC), 1e30f);  // every element must be written
  conv2d_winograd_3x3(s, x.data(), f.data(), y.data());
  for (std::int64_t n = 0; n < s.N; ++n)
    for (std::int64_t oh = 0; oh < s.OH; ++oh)
      for (std::int64_t ow = 0; ow < s.OW; ++ow)
        for (std::int64_t oc = 0; oc < s.OC; ++oc) {
          double want = 0;
          for (std::int64_t kh = 0; kh < 3; ++kh)
            for (std::int64_t kw = 0; kw < 3; ++kw) {
              const std::int64_t ih = oh + kh - s.pad_top, iw = ow + kw - s.pad_left;
              if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
              for (std::int64_t c = 0; c < s.C; ++c)
                want += static_cast<double>(x[static_cast<std::size_t>(((n * s.H + ih) * s.W + iw) * s.C + c)]) *
                        f[static_cast<std::size_t>(((kh * 3 + kw) * s.C + c) * s.OC + oc)];
            }
          ASSERT_NEAR(y[static_cast<std::size_t>(((n * s.OH + oh) * s.OW + ow) * s.OC + oc)], want, 1e-4 * std::sqrt(s.C))
              << n << "," << oh << "," << ow << "," << oc;
        }
}

TEST(Winograd, MatchesTheDirectConvolutionOnALayerSizedImage) {
  // 2 images of 23x21x32 -> 40 channels, SAME (pad 1): 12x11 tiles, the last row and column half.
  const Winograd3x3Shape s{2, 23, 21, 32, 40, 23, 21, 1, 1};
  ASSERT_TRUE(winograd_3x3_worthwhile(s.C, s.OC, s.OH, s.OW));
  EXPECT_FALSE(winograd_3x3_worthwhile(s.C, s.OC, 7, 7)) << "16 tiles: the direct products are faster";
  EXPECT_FALSE(winograd_3x3_worthwhile(3, s.OC, s.OH, s.OW)) << "3 channels: the transforms would dominate";
  expect_winograd_matches_direct_sum(s);
}

TEST(Winograd, MatchesTheDirectConvolutionAcrossBlocksOfTiles) {
  // 512 -> 16 channels: 248 tiles a block of scratch; a 31x32 VALID output has 16x16 = 256 tiles,
  // so a second block of 8 tiles, starting mid-row, with a half last row.
  expect_winograd_matches_direct_sum({1, 33, 34, 512, 16, 31, 32, 0, 0});
}

}  // namespace
}  // namespace tffreeze::runtime
