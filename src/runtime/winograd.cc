#include "runtime/winograd.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <memory>
#include <vector>

#include "runtime/gemm.h"
#include "runtime/parallel.h"

namespace tffreeze::runtime {
namespace {

constexpr int kPositions = 16;  // transformed 4x4 positions, one matrix product each
constexpr std::int64_t kLanes = 16;  // channels transformed together (one AVX-512 vector)
// Transformed inputs and products of at most this many floats (8 MiB) at a time: the image is
// done in blocks of tiles, so the scratch stays in the caches and does not grow with the image.
constexpr std::int64_t kScratchFloats = std::int64_t{1} << 21;
constexpr std::int64_t kMinBlockTiles = 128;  // rows enough for each product to run at speed

struct TileBlock {
  std::int64_t first, count;  // tiles [first, first + count) of an image, row-major over 2x2 tiles
};

// U = G g G^T for every (c, oc): u[p * C * OC + c * OC + oc], G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1].
std::vector<float> transform_filter(const float* g, std::int64_t C, std::int64_t OC) {
  const std::int64_t plane = C * OC;
  std::vector<float> u(static_cast<std::size_t>(kPositions * plane));
  float* __restrict out = u.data();
  parallel_ranges((plane + kLanes - 1) / kLanes, [&](std::int64_t b0, std::int64_t b1) {
    for (std::int64_t k0 = b0 * kLanes; k0 < std::min(b1 * kLanes, plane); k0 += kLanes) {
      const std::int64_t L = std::min(kLanes, plane - k0);
      float t[4][3][kLanes];
      for (int j = 0; j < 3; ++j) {  // G g, a column j of the window at a time
        const float* g0 = g + (0 * 3 + j) * plane + k0;
        const float* g1 = g + (1 * 3 + j) * plane + k0;
        const float* g2 = g + (2 * 3 + j) * plane + k0;
        for (std::int64_t l = 0; l < L; ++l) {
          t[0][j][l] = g0[l];
          t[1][j][l] = 0.5f * (g0[l] + g1[l] + g2[l]);
          t[2][j][l] = 0.5f * (g0[l] - g1[l] + g2[l]);
          t[3][j][l] = g2[l];
        }
      }
      for (int i = 0; i < 4; ++i)  // (G g) G^T
        for (std::int64_t l = 0; l < L; ++l) {
          out[(i * 4 + 0) * plane + k0 + l] = t[i][0][l];
          out[(i * 4 + 1) * plane + k0 + l] = 0.5f * (t[i][0][l] + t[i][1][l] + t[i][2][l]);
          out[(i * 4 + 2) * plane + k0 + l] = 0.5f * (t[i][0][l] - t[i][1][l] + t[i][2][l]);
          out[(i * 4 + 3) * plane + k0 + l] = t[i][2][l];
        }
    }
  }, 64 * kLanes);
  return u;
}

// V = B^T d B for the 4x4 input block of every tile of image n, every channel:
// v[p * T * C + t * C + c], B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
void transform_input(const Winograd3x3Shape& s, const float* image, std::int64_t tiles_w, TileBlock block, float* v) {
  const std::int64_t C = s.C, plane = block.count * C;
  const std::vector<float> zeros(static_cast<std::size_t>(C), 0.0f);  // a pixel of the padding
  parallel_for_each(block.count, [&](std::int64_t t) {
    const std::int64_t tile = block.first + t;
    const std::int64_t y0 = (tile / tiles_w) * 2 - s.pad_top, x0 = (tile % tiles_w) * 2 - s.pad_left;
    const float* px[4][4];  // the block's pixels
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        const std::int64_t y = y0 + i, x = x0 + j;
        px[i][j] = y >= 0 && y < s.H && x >= 0 && x < s.W ? image + (y * s.W + x) * C : zeros.data();
      }
    float* __restrict o = v + t * C;
    for (std::int64_t c0 = 0; c0 < C; c0 += kLanes) {  // kLanes channels at a time, as vectors
      const std::int64_t L = std::min(kLanes, C - c0);
      float b[4][4][kLanes];
      for (int j = 0; j < 4; ++j) {  // B^T d
        const float *d0 = px[0][j] + c0, *d1 = px[1][j] + c0, *d2 = px[2][j] + c0, *d3 = px[3][j] + c0;
        for (std::int64_t l = 0; l < L; ++l) {
          b[0][j][l] = d0[l] - d2[l];
          b[1][j][l] = d1[l] + d2[l];
          b[2][j][l] = d2[l] - d1[l];
          b[3][j][l] = d1[l] - d3[l];
        }
      }
      for (int i = 0; i < 4; ++i)  // (B^T d) B
        for (std::int64_t l = 0; l < L; ++l) {
          o[(i * 4 + 0) * plane + c0 + l] = b[i][0][l] - b[i][2][l];
          o[(i * 4 + 1) * plane + c0 + l] = b[i][1][l] + b[i][2][l];
          o[(i * 4 + 2) * plane + c0 + l] = b[i][2][l] - b[i][1][l];
          o[(i * 4 + 3) * plane + c0 + l] = b[i][1][l] - b[i][3][l];
        }
    }
  }, 16 * C);
}

// Y = A^T m A for every tile and output channel, A^T = [1 1 1 0; 0 1 -1 -1], into the tile's 2x2
// outputs that lie inside OH x OW.
void transform_output(const Winograd3x3Shape& s, const float* m, std::int64_t tiles_w, TileBlock block, float* out) {
  const std::int64_t OC = s.OC, plane = block.count * OC;
  parallel_for_each(block.count, [&](std::int64_t t) {
    const std::int64_t tile = block.first + t;
    const std::int64_t y0 = (tile / tiles_w) * 2, x0 = (tile % tiles_w) * 2;
    const bool has_x1 = x0 + 1 < s.OW, has_y1 = y0 + 1 < s.OH;
    // A tile past the output's edge writes its outside values to a scratch row.
    std::vector<float> spill(has_x1 && has_y1 ? 0 : static_cast<std::size_t>(3 * OC));
    float* y00 = out + (y0 * s.OW + x0) * OC;
    float* y01 = has_x1 ? y00 + OC : spill.data();
    float* y10 = has_y1 ? y00 + s.OW * OC : spill.data() + OC;
    float* y11 = has_x1 && has_y1 ? y00 + (s.OW + 1) * OC : spill.data() + 2 * OC;
    const float* p = m + t * OC;
    for (std::int64_t c0 = 0; c0 < OC; c0 += kLanes) {
      const std::int64_t L = std::min(kLanes, OC - c0);
      float a[2][4][kLanes];
      for (int j = 0; j < 4; ++j) {  // A^T m
        const float *m0 = p + (0 * 4 + j) * plane + c0, *m1 = p + (1 * 4 + j) * plane + c0, *m2 = p + (2 * 4 + j) * plane + c0,
                    *m3 = p + (3 * 4 + j) * plane + c0;
        for (std::int64_t l = 0; l < L; ++l) {
          a[0][j][l] = m0[l] + m1[l] + m2[l];
          a[1][j][l] = m1[l] - m2[l] - m3[l];
        }
      }
      for (std::int64_t l = 0; l < L; ++l) {  // (A^T m) A
        y00[c0 + l] = a[0][0][l] + a[0][1][l] + a[0][2][l];
        y01[c0 + l] = a[0][1][l] - a[0][2][l] - a[0][3][l];
        y10[c0 + l] = a[1][0][l] + a[1][1][l] + a[1][2][l];
        y11[c0 + l] = a[1][1][l] - a[1][2][l] - a[1][3][l];
      }
    }
  }, 16 * OC);
}

// M_p = V_p U_p for the 16 positions p. The products are independent: spread over the threads,
// each single-threaded inside.
void multiply_positions(std::int64_t rows, const Winograd3x3Shape& s, const float* u, const float* v, float* m) {
#pragma omp parallel for schedule(static) if (omp_get_max_threads() > 1 && !omp_in_parallel())
  for (int p = 0; p < kPositions; ++p) {
    gemm(v + p * rows * s.C, u + p * s.C * s.OC, m + p * rows * s.OC, {rows, s.C, s.OC});
  }
}

}  // namespace

bool winograd_3x3_worthwhile(std::int64_t C, std::int64_t OC, std::int64_t OH, std::int64_t OW) {
  return C >= 16 && OC >= 16 && ((OH + 1) / 2) * ((OW + 1) / 2) >= 128;
}

void conv2d_winograd_3x3(const Winograd3x3Shape& s, const float* in, const float* filter, float* out) {
  const std::int64_t tiles_h = (s.OH + 1) / 2, tiles_w = (s.OW + 1) / 2, tiles = tiles_h * tiles_w;
  if (tiles == 0 || s.OC == 0) return;
  const std::vector<float> u = transform_filter(filter, s.C, s.OC);
  const std::int64_t block_tiles = std::min(std::max(kScratchFloats / (kPositions * (s.C + s.OC)), kMinBlockTiles), tiles);
  // Written before they are read: not zero-filled (8 MiB for every layer).
  const auto v = std::make_unique_for_overwrite<float[]>(static_cast<std::size_t>(kPositions * block_tiles * s.C));
  const auto m = std::make_unique_for_overwrite<float[]>(static_cast<std::size_t>(kPositions * block_tiles * s.OC));
  for (std::int64_t n = 0; n < s.N; ++n) {
    for (std::int64_t first = 0; first < tiles; first += block_tiles) {
      const TileBlock block{first, std::min(block_tiles, tiles - first)};
      transform_input(s, in + n * s.H * s.W * s.C, tiles_w, block, v.get());
      multiply_positions(block.count, s, u.data(), v.get(), m.get());
      transform_output(s, m.get(), tiles_w, block, out + n * s.OH * s.OW * s.OC);
    }
  }
}

}  // namespace tffreeze::runtime
