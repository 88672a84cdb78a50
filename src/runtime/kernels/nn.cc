// Neural-network kernels: matrix products (OpenBLAS through runtime/gemm.h, on the OpenMP
// threads), convolutions (Winograd F(2x2, 3x3) for 3x3 windows; else one product per filter
// tap, or a patch matrix for small images),
// pooling, batch norm, softmax, and the fused forms that TensorFlow's grappler and the TF.js
// converter emit.
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "common/window_size.h"
#include "runtime/broadcast.h"
#include "runtime/dispatch.h"
#include "runtime/gemm.h"
#include "runtime/parallel.h"
#include "runtime/winograd.h"

namespace tffreeze::runtime {
namespace {


// ---- matrix products ----------------------------------------------------------------------

void matmul(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  if (a.shape.size() != 2 || b.shape.size() != 2) ctx.fail("MatMul needs matrices, got " + dims_string(a.shape) + " and " + dims_string(b.shape));
  const bool ta = ctx.attr_bool("transpose_a", false), tb = ctx.attr_bool("transpose_b", false);
  const std::int64_t m = ta ? a.shape[1] : a.shape[0], k = ta ? a.shape[0] : a.shape[1];
  const std::int64_t k2 = tb ? b.shape[1] : b.shape[0], n = tb ? b.shape[0] : b.shape[1];
  if (k != k2) ctx.fail("inner dimensions differ: " + dims_string(a.shape) + " x " + dims_string(b.shape));
  charge_work(ctx, {m, k, n});
  Tensor out = make_tensor(ctx, a.dtype, {m, n});
  dispatch_float(ctx, a.dtype, [&](auto t) {
    using T = decltype(t);
    gemm(data<T>(a), data<T>(b), data<T>(out), {m, k, n, ta, tb});
  });
  ctx.output(0) = std::move(out);
}

void batch_matmul(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& y = ctx.input(1);
  if (x.shape.size() < 2 || y.shape.size() < 2) ctx.fail("BatchMatMul needs rank >= 2");
  const bool ax = ctx.attr_bool("adj_x", false), ay = ctx.attr_bool("adj_y", false);
  const std::int64_t m = ax ? x.shape.back() : x.shape[x.shape.size() - 2], k = ax ? x.shape[x.shape.size() - 2] : x.shape.back();
  const std::int64_t k2 = ay ? y.shape.back() : y.shape[y.shape.size() - 2], n = ay ? y.shape[y.shape.size() - 2] : y.shape.back();
  if (k != k2) ctx.fail("inner dimensions differ: " + dims_string(x.shape) + " x " + dims_string(y.shape));
  std::vector<std::int64_t> bx(x.shape.begin(), x.shape.end() - 2), by(y.shape.begin(), y.shape.end() - 2);
  auto batch = broadcast_shape(bx, by);
  if (!batch) ctx.fail("batch dimensions do not broadcast");
  auto ix = broadcast_index(bx, *batch), iy = broadcast_index(by, *batch);
  std::vector<std::int64_t> shape = *batch;
  shape.push_back(m);
  shape.push_back(n);
  charge_work(ctx, {static_cast<std::int64_t>(ix.size()), m, k, n});
  Tensor out = make_tensor(ctx, x.dtype, shape);
  dispatch_float(ctx, x.dtype, [&](auto t) {
    using T = decltype(t);
    for (std::size_t b = 0; b < ix.size(); ++b) {
      gemm(data<T>(x) + ix[b] * m * k, data<T>(y) + iy[b] * k * n, data<T>(out) + static_cast<std::int64_t>(b) * m * n, {m, k, n, ax, ay});
    }
  });
  ctx.output(0) = std::move(out);
}

// ---- layout helpers ---------------------------------------------------------------------------

bool is_nchw(const KernelContext& ctx) { return ctx.attr_string("data_format", "NHWC") == "NCHW"; }

// [N, A, B] -> [N, B, A]: NCHW <-> NHWC is this with A, B = C, H*W (or H*W, C).
Tensor swap_inner(const KernelContext& ctx, const Tensor& x, std::int64_t A, std::int64_t B, std::vector<std::int64_t> shape) {
  const std::int64_t N = x.shape[0];
  Tensor out = make_tensor(ctx, x.dtype, std::move(shape));
  const float* in = data<float>(x);
  float* o = data<float>(out);
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t a = 0; a < A; ++a)
      for (std::int64_t b = 0; b < B; ++b) o[(n * B + b) * A + a] = in[(n * A + a) * B + b];
  return out;
}
Tensor to_nhwc(const KernelContext& ctx, const Tensor& x) {
  return swap_inner(ctx, x, x.shape[1], x.shape[2] * x.shape[3], {x.shape[0], x.shape[2], x.shape[3], x.shape[1]});
}
Tensor to_nchw(const KernelContext& ctx, const Tensor& x) {
  return swap_inner(ctx, x, x.shape[1] * x.shape[2], x.shape[3], {x.shape[0], x.shape[3], x.shape[1], x.shape[2]});
}

struct Window {
  std::int64_t out = 0, pad_before = 0;
};

std::int64_t valid_output(const KernelContext& ctx, std::int64_t in, std::int64_t eff, std::int64_t stride) {
  auto out = valid_window_output(in, eff, stride);
  if (!out) ctx.fail(negative_window_output(in, eff, stride));
  return *out;
}

// Output size and leading padding of one spatial dimension (TensorFlow's rules).
Window window(const KernelContext& ctx, std::int64_t in, std::int64_t k, std::int64_t stride, std::int64_t dilation,
              const std::string& padding, std::int64_t explicit_before, std::int64_t explicit_after) {
  if (stride < 1 || dilation < 1 || k < 1) ctx.fail("strides, dilations and kernel sizes must be positive");
  const std::int64_t eff = (k - 1) * dilation + 1;
  Window w;
  if (padding == "VALID") {
    w.out = valid_output(ctx, in, eff, stride);
  } else if (padding == "SAME") {
    w.out = (in + stride - 1) / stride;
    std::int64_t total = std::max<std::int64_t>((w.out - 1) * stride + eff - in, 0);
    w.pad_before = total / 2;
  } else if (padding == "EXPLICIT") {
    w.pad_before = explicit_before;
    std::int64_t span = in + explicit_before + explicit_after;
    w.out = valid_output(ctx, span, eff, stride);
  } else {
    ctx.fail("padding '" + padding + "'");
  }
  return w;
}

struct ConvGeometry {
  std::int64_t N, H, W, C, KH, KW, OH, OW, sh, sw, dh, dw, pt, pl;
};

// Strides/dilations/paddings for a 4-D NHWC convolution or pool, from attrs in data_format order.
ConvGeometry geometry(const KernelContext& ctx, const std::vector<std::int64_t>& nhwc, std::int64_t KH, std::int64_t KW,
                      const std::vector<std::int64_t>& strides_attr, const std::vector<std::int64_t>& dilations_attr) {
  const bool nchw = is_nchw(ctx);
  auto pick = [&](const std::vector<std::int64_t>& v, int dim_nhwc) -> std::int64_t {
    if (v.size() != 4) return 1;
    static const int from_nchw[4] = {0, 2, 3, 1};  // NHWC dim -> index in an NCHW-ordered attr
    return v[static_cast<std::size_t>(nchw ? from_nchw[dim_nhwc] : dim_nhwc)];
  };
  ConvGeometry g{nhwc[0], nhwc[1], nhwc[2], nhwc[3], KH, KW, 0, 0, pick(strides_attr, 1), pick(strides_attr, 2),
                 pick(dilations_attr, 1), pick(dilations_attr, 2), 0, 0};
  const std::string padding = ctx.attr_string("padding", "VALID");
  auto explicit_pads = ctx.attr_ints("explicit_paddings");
  auto pad = [&](int dim_nhwc, int side) -> std::int64_t {
    if (explicit_pads.size() != 8) return 0;
    static const int from_nchw[4] = {0, 2, 3, 1};
    return explicit_pads[static_cast<std::size_t>(2 * (nchw ? from_nchw[dim_nhwc] : dim_nhwc) + side)];
  };
  Window wh = window(ctx, g.H, KH, g.sh, g.dh, padding, pad(1, 0), pad(1, 1));
  Window ww = window(ctx, g.W, KW, g.sw, g.dw, padding, pad(2, 0), pad(2, 1));
  g.OH = wh.out;
  g.OW = ww.out;
  g.pt = wh.pad_before;
  g.pl = ww.pad_before;
  return g;
}

// ---- convolutions ----------------------------------------------------------------------------

// A convolution as KH * KW matrix products, one per filter tap, without a patch matrix.
//
// The padded image is split into sh * sw phase images (phase (py, px) holds the padded pixels
// (y * sh + py, x * sw + px)), each Hq x Wq. The pixel that tap (kh, kw) reads for output
// (oh, ow) is then pixel (oh + qy, ow + qx) of phase ((kh * dh) % sh, (kw * dw) % sw), with
// (qy, qx) = ((kh * dh) / sh, (kw * dw) / sw): computed over a grid Wq wide, the outputs' pixels
// for one tap are a single contiguous run, one product with the tap's C x OC filter slice, and the
// grid's extra columns are dropped at the end. The image is copied once (at stride 1 with no
// padding, not at all), where a patch matrix copies it KH * KW / (sh * sw) times.
struct TapGrid {
  std::int64_t Hq, Wq, rows;  // a phase image's size; the outputs (0,0)..(OH-1,OW-1) at width Wq
  std::int64_t phase_floats() const { return Hq * Wq; }
};

TapGrid tap_grid(const ConvGeometry& g) {
  const std::int64_t Hp = (g.OH - 1) * g.sh + (g.KH - 1) * g.dh + 1, Wp = (g.OW - 1) * g.sw + (g.KW - 1) * g.dw + 1;
  const std::int64_t Hq = (Hp + g.sh - 1) / g.sh, Wq = (Wp + g.sw - 1) / g.sw;
  return {Hq, Wq, (g.OH - 1) * Wq + g.OW};
}

// Image n's phase images (zero where the window hangs over the padding), into `dst`.
void split_phases(const ConvGeometry& g, const TapGrid& t, const float* in, std::int64_t n, float* dst) {
  const float* img = in + n * g.H * g.W * g.C;
  parallel_for_each(g.sh * g.sw * t.Hq, [&](std::int64_t r) {
    const std::int64_t phase = r / t.Hq, y = r % t.Hq, py = phase / g.sw, px = phase % g.sw;
    float* row = dst + (phase * t.phase_floats() + y * t.Wq) * g.C;
    const std::int64_t ih = y * g.sh + py - g.pt;
    if (ih < 0 || ih >= g.H) {
      std::fill(row, row + t.Wq * g.C, 0.0f);
      return;
    }
    for (std::int64_t x = 0; x < t.Wq; ++x) {
      const std::int64_t iw = x * g.sw + px - g.pl;
      if (iw < 0 || iw >= g.W) std::fill(row + x * g.C, row + (x + 1) * g.C, 0.0f);
      else std::copy_n(img + (ih * g.W + iw) * g.C, g.C, row + x * g.C);
    }
  }, t.Wq * g.C);
}

// The patch of output pixel q (over all images) as one row: KH * KW runs of C channels, zeros
// where the window hangs over the padding.
void im2col_row(const ConvGeometry& g, const float* in, std::int64_t q, float* dst) {
  const std::int64_t n = q / (g.OH * g.OW), p = q % (g.OH * g.OW), oh = p / g.OW, ow = p % g.OW;
  const float* img = in + n * g.H * g.W * g.C;
  for (std::int64_t kh = 0; kh < g.KH; ++kh) {
    const std::int64_t ih = oh * g.sh + kh * g.dh - g.pt;
    for (std::int64_t kw = 0; kw < g.KW; ++kw, dst += g.C) {
      const std::int64_t iw = ow * g.sw + kw * g.dw - g.pl;
      if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) std::fill(dst, dst + g.C, 0.0f);
      else std::copy_n(img + (ih * g.W + iw) * g.C, g.C, dst);
    }
  }
}

// Patch matrices of at most this many floats (4 MiB: they stay in the caches).
constexpr std::int64_t kPatchFloats = std::int64_t{1} << 20;

// The convolution as one product of a patch matrix (im2col) with the filter, in tiles of output
// pixels: for small images, where the tap products' wide grid would compute many unused columns.
void conv2d_patches(const ConvGeometry& g, std::int64_t OC, const float* in, const float* filter, float* out) {
  const std::int64_t patch = g.KH * g.KW * g.C, total = g.N * g.OH * g.OW;
  const std::int64_t tile = std::clamp<std::int64_t>(kPatchFloats / patch, 1, total);
  const auto cols = std::make_unique_for_overwrite<float[]>(static_cast<std::size_t>(tile * patch));
  for (std::int64_t q0 = 0; q0 < total; q0 += tile) {
    const std::int64_t rows = std::min(tile, total - q0);
    parallel_for_each(rows, [&](std::int64_t r) { im2col_row(g, in, q0 + r, cols.get() + r * patch); }, patch);
    gemm(cols.get(), filter, out + q0 * OC, {rows, patch, OC});
  }
}

// NHWC input, HWIO filter -> NHWC output.
void conv2d_nhwc(const ConvGeometry& g, std::int64_t OC, const float* in, const float* filter, float* out) {
  if (g.N * g.OH * g.OW == 0 || OC == 0) return;
  if (g.KH == 3 && g.KW == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && winograd_3x3_worthwhile(g.C, OC, g.OH, g.OW)) {
    conv2d_winograd_3x3({g.N, g.H, g.W, g.C, OC, g.OH, g.OW, g.pt, g.pl}, in, filter, out);
    return;
  }
  const TapGrid t = tap_grid(g);
  // Stride 1 without padding: the image is its own (only) phase.
  const bool in_place = g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 && t.Wq == g.W && t.Hq <= g.H;
  // The wide grid computes Wq - OW unused columns a row: past an eighth of the work (a 1x7 window
  // on a 17-wide image: 35 %), a patch matrix of the small image costs less.
  if (!in_place && (t.Wq - g.OW) * 8 > g.OW && g.KH * g.KW * g.C <= kPatchFloats) {
    conv2d_patches(g, OC, in, filter, out);
    return;
  }
  // Scratch that is written before it is read: not zero-filled.
  const auto phases = std::make_unique_for_overwrite<float[]>(in_place ? 0 : static_cast<std::size_t>(g.sh * g.sw * t.phase_floats() * g.C));
  const auto wide = std::make_unique_for_overwrite<float[]>(t.Wq == g.OW ? 0 : static_cast<std::size_t>(t.rows * OC));
  for (std::int64_t n = 0; n < g.N; ++n) {
    const float* image = in + n * g.H * g.W * g.C;
    if (!in_place) {
      split_phases(g, t, in, n, phases.get());
      image = phases.get();
    }
    float* result = out + n * g.OH * g.OW * OC;
    float* sums = t.Wq == g.OW ? result : wide.get();
    for (std::int64_t kh = 0; kh < g.KH; ++kh)
      for (std::int64_t kw = 0; kw < g.KW; ++kw) {
        const std::int64_t phase = (kh * g.dh) % g.sh * g.sw + (kw * g.dw) % g.sw;
        const float* tap = image + (phase * t.phase_floats() + (kh * g.dh) / g.sh * t.Wq + (kw * g.dw) / g.sw) * g.C;
        gemm(tap, filter + (kh * g.KW + kw) * g.C * OC, sums, {t.rows, g.C, OC, false, false, kh > 0 || kw > 0});
      }
    if (sums != result)
      parallel_for_each(g.OH, [&](std::int64_t oh) { std::copy_n(wide.get() + oh * t.Wq * OC, g.OW * OC, result + oh * g.OW * OC); }, g.OW * OC);
  }
}

// The input in NHWC: x itself (not a copy), or its NHWC form, made in `converted`.
const Tensor& input_nhwc(const KernelContext& ctx, const Tensor& x, Tensor* converted) {
  if (x.shape.size() != 4) ctx.fail("input must be 4-D, is " + dims_string(x.shape));
  if (x.dtype != tf::DT_FLOAT) ctx.unsupported("convolution of " + dtype_name(x.dtype) + " (float32 only)");
  if (!is_nchw(ctx)) return x;
  *converted = to_nhwc(ctx, x);
  return *converted;
}

// y in the node's layout. Not `nchw ? to_nchw(y) : y`: a conditional expression copies y.
Tensor output_layout(const KernelContext& ctx, Tensor y) {
  if (is_nchw(ctx)) return to_nchw(ctx, y);
  return y;
}

Tensor conv2d_tensor(KernelContext& ctx, const Tensor& x_in, const Tensor& filter) {
  Tensor converted;
  const Tensor& x = input_nhwc(ctx, x_in, &converted);
  if (filter.shape.size() != 4) ctx.fail("filter must be 4-D [KH,KW,C,OC], is " + dims_string(filter.shape));
  if (filter.shape[2] != x.shape[3]) {
    ctx.fail("filter expects " + std::to_string(filter.shape[2]) + " input channels, input has " + std::to_string(x.shape[3]));
  }
  ConvGeometry g = geometry(ctx, x.shape, filter.shape[0], filter.shape[1], ctx.attr_ints("strides"), ctx.attr_ints("dilations"));
  charge_work(ctx, {g.N, g.OH, g.OW, g.KH, g.KW, g.C, filter.shape[3]});
  Tensor y = make_tensor(ctx, tf::DT_FLOAT, {g.N, g.OH, g.OW, filter.shape[3]});
  conv2d_nhwc(g, filter.shape[3], data<float>(x), data<float>(filter), data<float>(y));
  return y;  // NHWC
}

// The outputs ow in [0, OW) whose tap kw falls inside the input row: [begin, end).
std::pair<std::int64_t, std::int64_t> columns_inside(const ConvGeometry& g, std::int64_t kw) {
  const std::int64_t offset = kw * g.dw - g.pl;  // iw = ow * sw + offset
  std::int64_t begin = offset >= 0 ? 0 : (-offset + g.sw - 1) / g.sw;
  std::int64_t end = g.W - offset <= 0 ? 0 : (g.W - offset + g.sw - 1) / g.sw;
  begin = std::min(begin, g.OW);
  return {begin, std::clamp(end, begin, g.OW)};
}

// One output row of a depthwise convolution, tap by tap: each tap is one pass over the row's
// valid pixels (no test per pixel), channels innermost. Every output sums its taps in (kh, kw)
// order, as a pixel-by-pixel loop would.
void depthwise_row(const ConvGeometry& g, std::int64_t M, const float* in, const float* filter, std::int64_t n, std::int64_t oh,
                   float* __restrict out_row) {
  const std::int64_t CM = g.C * M;
  for (std::int64_t kh = 0; kh < g.KH; ++kh) {
    const std::int64_t ih = oh * g.sh + kh * g.dh - g.pt;
    if (ih < 0 || ih >= g.H) continue;
    const float* in_row = in + (n * g.H + ih) * g.W * g.C;
    for (std::int64_t kw = 0; kw < g.KW; ++kw) {
      const float* __restrict fk = filter + (kh * g.KW + kw) * CM;
      const auto [begin, end] = columns_inside(g, kw);
      for (std::int64_t ow = begin; ow < end; ++ow) {
        const float* __restrict px = in_row + (ow * g.sw + kw * g.dw - g.pl) * g.C;
        float* __restrict o = out_row + ow * CM;
        if (M == 1) {
          for (std::int64_t c = 0; c < g.C; ++c) o[c] += px[c] * fk[c];
        } else {
          for (std::int64_t c = 0; c < CM; ++c) o[c] += px[c / M] * fk[c];
        }
      }
    }
  }
}

void depthwise_nhwc(const ConvGeometry& g, std::int64_t M, const float* in, const float* filter, float* out) {
  parallel_for_each(g.N * g.OH, [&](std::int64_t row) {
    depthwise_row(g, M, in, filter, row / g.OH, row % g.OH, out + row * g.OW * g.C * M);
  }, g.OW * g.C * M * g.KH * g.KW);
}

Tensor depthwise_tensor(KernelContext& ctx, const Tensor& x_in, const Tensor& filter) {
  Tensor converted;
  const Tensor& x = input_nhwc(ctx, x_in, &converted);
  if (filter.shape.size() != 4 || filter.shape[2] != x.shape[3]) {
    ctx.fail("filter " + dims_string(filter.shape) + " does not fit input channels " + std::to_string(x.shape[3]));
  }
  const std::int64_t M = filter.shape[3];
  ConvGeometry g = geometry(ctx, x.shape, filter.shape[0], filter.shape[1], ctx.attr_ints("strides"), ctx.attr_ints("dilations"));
  charge_work(ctx, {g.N, g.OH, g.OW, g.KH, g.KW, g.C, M});
  Tensor y = make_tensor(ctx, tf::DT_FLOAT, {g.N, g.OH, g.OW, g.C * M});
  depthwise_nhwc(g, M, data<float>(x), data<float>(filter), data<float>(y));
  return y;  // NHWC
}

void conv2d(KernelContext& ctx) { ctx.output(0) = output_layout(ctx, conv2d_tensor(ctx, ctx.input(0), ctx.input(1))); }
void depthwise(KernelContext& ctx) { ctx.output(0) = output_layout(ctx, depthwise_tensor(ctx, ctx.input(0), ctx.input(1))); }

// Transposed convolution: the gradient of Conv2D with respect to its input.
void conv2d_backprop_input(KernelContext& ctx) {
  auto sizes = ctx.input_ints(0);
  const Tensor& filter = ctx.input(1);
  Tensor converted;
  const Tensor& dy = input_nhwc(ctx, ctx.input(2), &converted);
  if (sizes.size() != 4 || filter.shape.size() != 4) ctx.fail("input_sizes must have 4 values and the filter 4 dims");
  std::vector<std::int64_t> nhwc = is_nchw(ctx) ? std::vector<std::int64_t>{sizes[0], sizes[2], sizes[3], sizes[1]} : sizes;
  ConvGeometry g = geometry(ctx, nhwc, filter.shape[0], filter.shape[1], ctx.attr_ints("strides"), ctx.attr_ints("dilations"));
  const std::int64_t OC = filter.shape[3];
  if (filter.shape[2] != g.C || dy.shape[3] != OC || dy.shape[1] != g.OH || dy.shape[2] != g.OW || dy.shape[0] != g.N) {
    ctx.fail("out_backprop " + dims_string(dy.shape) + " does not fit input_sizes and filter " + dims_string(filter.shape));
  }
  charge_work(ctx, {g.N, g.OH, g.OW, g.KH, g.KW, g.C, OC});
  Tensor x = make_tensor(ctx, tf::DT_FLOAT, nhwc);
  const std::int64_t patch = g.KH * g.KW * g.C, pixels = g.OH * g.OW;
  std::vector<float> cols(static_cast<std::size_t>(pixels * patch));
  for (std::int64_t n = 0; n < g.N; ++n) {
    gemm(data<float>(dy) + n * pixels * OC, data<float>(filter), cols.data(), {pixels, OC, patch, false, true});
    float* img = data<float>(x) + n * g.H * g.W * g.C;
    for (std::int64_t p = 0; p < pixels; ++p) {
      const std::int64_t oh = p / g.OW, ow = p % g.OW;
      const float* src = cols.data() + p * patch;
      for (std::int64_t kh = 0; kh < g.KH; ++kh) {
        const std::int64_t ih = oh * g.sh + kh * g.dh - g.pt;
        for (std::int64_t kw = 0; kw < g.KW; ++kw, src += g.C) {
          const std::int64_t iw = ow * g.sw + kw * g.dw - g.pl;
          if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
          float* dst = img + (ih * g.W + iw) * g.C;
          for (std::int64_t c = 0; c < g.C; ++c) dst[c] += src[c];
        }
      }
    }
  }
  ctx.output(0) = output_layout(ctx, std::move(x));
}

// ---- bias, batch norm, fused post-ops ------------------------------------------------------------

// Adds a per-channel vector along the channel axis (last for NHWC, 1 for NCHW).
void add_channel(const KernelContext& ctx, Tensor* x, const Tensor& bias, bool nchw) {
  const std::int64_t rank = static_cast<std::int64_t>(x->shape.size());
  const std::int64_t c_axis = nchw ? 1 : rank - 1;
  const std::int64_t C = x->shape[static_cast<std::size_t>(c_axis)];
  if (bias.num_elements() != C) ctx.fail("bias of " + std::to_string(bias.num_elements()) + " values for " + std::to_string(C) + " channels");
  std::int64_t inner = 1;
  for (std::int64_t d = c_axis + 1; d < rank; ++d) inner *= x->shape[static_cast<std::size_t>(d)];
  dispatch_numeric(ctx, x->dtype, [&](auto t) {
    using T = decltype(t);
    T* p = data<T>(*x);
    const T* b = data<T>(bias);
    const std::int64_t outer = C * inner != 0 ? x->num_elements() / (C * inner) : 0;
    // [outer, C, inner] without a division per element; NHWC (inner 1) runs along C.
    parallel_for_each(outer, [&](std::int64_t o) {
      T* block = p + o * C * inner;
      if (inner == 1) {
        for (std::int64_t c = 0; c < C; ++c) block[c] = static_cast<T>(block[c] + b[c]);
        return;
      }
      for (std::int64_t c = 0; c < C; ++c)
        for (std::int64_t k = 0; k < inner; ++k) block[c * inner + k] = static_cast<T>(block[c * inner + k] + b[c]);
    }, C * inner);
  });
}

void bias_add(KernelContext& ctx) {
  Tensor x = ctx.take_input(0);
  if (ctx.input(1).dtype != x.dtype) ctx.fail("bias dtype differs from the value's");
  add_channel(ctx, &x, ctx.input(1), ctx.node().op() == "BiasAdd" && is_nchw(ctx) && x.shape.size() >= 3);
  ctx.output(0) = std::move(x);
}

// y = (x - mean) * scale / sqrt(var + eps) + offset, per channel (float32 compute).
void batch_norm_apply(const KernelContext& ctx, Tensor* x, const Tensor& scale, const Tensor& offset, const Tensor& mean,
                      const Tensor& var, float eps, bool nchw) {
  const std::int64_t rank = static_cast<std::int64_t>(x->shape.size());
  const std::int64_t c_axis = nchw ? 1 : rank - 1;
  const std::int64_t C = x->shape[static_cast<std::size_t>(c_axis)];
  for (const Tensor* p : {&scale, &offset, &mean, &var}) {
    if (p->num_elements() != C || p->dtype != tf::DT_FLOAT) ctx.fail("batch norm parameters must be float32 with " + std::to_string(C) + " values");
  }
  std::vector<float> mul(static_cast<std::size_t>(C)), add(static_cast<std::size_t>(C));
  for (std::int64_t c = 0; c < C; ++c) {
    mul[c] = data<float>(scale)[c] / std::sqrt(data<float>(var)[c] + eps);
    add[c] = data<float>(offset)[c] - data<float>(mean)[c] * mul[c];
  }
  std::int64_t inner = 1;
  for (std::int64_t d = c_axis + 1; d < rank; ++d) inner *= x->shape[static_cast<std::size_t>(d)];
  float* p = data<float>(*x);
  const std::int64_t outer = C * inner != 0 ? x->num_elements() / (C * inner) : 0;
  const float* __restrict m = mul.data();
  const float* __restrict a = add.data();
  parallel_for_each(outer, [&](std::int64_t o) {
    float* __restrict block = p + o * C * inner;
    if (inner == 1) {  // channels last: one vector loop over the channels (5x faster than the nested loops)
      for (std::int64_t c = 0; c < C; ++c) block[c] = block[c] * m[c] + a[c];
      return;
    }
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t k = 0; k < inner; ++k) block[c * inner + k] = block[c * inner + k] * m[c] + a[c];
  }, C * inner);
}

void fused_batch_norm(KernelContext& ctx) {
  Tensor x = ctx.take_input(0);
  if (x.dtype != tf::DT_FLOAT) ctx.unsupported("batch norm of " + dtype_name(x.dtype) + " (float32 only)");
  const bool nchw = is_nchw(ctx);
  const float eps = ctx.attr_float("epsilon", 1e-4f);
  Tensor mean = ctx.input(3), var = ctx.input(4);
  if (ctx.attr_bool("is_training", true)) {  // statistics of this batch, as training mode computes
    const std::int64_t rank = static_cast<std::int64_t>(x.shape.size());
    const std::int64_t c_axis = nchw ? 1 : rank - 1;
    const std::int64_t C = x.shape[static_cast<std::size_t>(c_axis)];
    std::int64_t inner = 1;
    for (std::int64_t d = c_axis + 1; d < rank; ++d) inner *= x.shape[static_cast<std::size_t>(d)];
    mean = make_tensor(ctx, tf::DT_FLOAT, {C});
    var = make_tensor(ctx, tf::DT_FLOAT, {C});
    std::vector<double> sum(static_cast<std::size_t>(C)), sq(static_cast<std::size_t>(C));
    const std::int64_t n = x.num_elements(), per = n / std::max<std::int64_t>(C, 1);
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t c = (i / inner) % C;
      double v = data<float>(x)[i];
      sum[c] += v;
      sq[c] += v * v;
    }
    for (std::int64_t c = 0; c < C; ++c) {
      double m = sum[c] / per;
      data<float>(mean)[c] = static_cast<float>(m);
      data<float>(var)[c] = static_cast<float>(sq[c] / per - m * m);
    }
  }
  batch_norm_apply(ctx, &x, ctx.input(1), ctx.input(2), mean, var, eps, nchw);
  ctx.output(0) = std::move(x);
  ctx.output(1) = mean;
  ctx.output(2) = var;
  ctx.output(3) = mean;
  ctx.output(4) = var;
  if (ctx.node().op() == "FusedBatchNormV3") ctx.output(5) = make_tensor(ctx, tf::DT_FLOAT, {0});
}

void batch_norm_global(KernelContext& ctx) {
  Tensor x = ctx.input(0);
  const Tensor& m = ctx.input(1);
  const Tensor& v = ctx.input(2);
  const Tensor& beta = ctx.input(3);
  Tensor gamma = ctx.input(4);
  if (!ctx.attr_bool("scale_after_normalization", false)) {
    gamma = make_tensor(ctx, tf::DT_FLOAT, {m.num_elements()});
    std::fill_n(data<float>(gamma), m.num_elements(), 1.0f);
  }
  batch_norm_apply(ctx, &x, gamma, beta, m, v, ctx.attr_float("variance_epsilon", 0.001f), false);
  ctx.output(0) = std::move(x);
}

template <class F>
void map_float(Tensor* x, F f) {
  float* p = data<float>(*x);
  parallel_ranges(x->num_elements(), [&](std::int64_t i0, std::int64_t i1) {
    for (std::int64_t i = i0; i < i1; ++i) p[i] = f(p[i]);
  });
}

// The post-ops of _FusedConv2D / _FusedMatMul / FusedDepthwiseConv2dNative, applied in NHWC or
// [rows, channels] layout: args start at input 2.
void apply_fused_ops(KernelContext& ctx, Tensor* y) {
  auto ops = ctx.attr_strings("fused_ops");
  int arg = 2;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const std::string& op = ops[i];
    if (op == "BiasAdd" || op == "Add") {
      add_channel(ctx, y, ctx.input(arg++), false);
    } else if (op == "FusedBatchNorm") {
      batch_norm_apply(ctx, y, ctx.input(arg), ctx.input(arg + 1), ctx.input(arg + 2), ctx.input(arg + 3), ctx.attr_float("epsilon", 1e-4f), false);
      arg += 4;
    } else if (op == "Relu") {
      map_float(y, [](float v) { return v > 0 ? v : 0.0f; });
    } else if (op == "Relu6") {
      map_float(y, [](float v) { return std::min(std::max(v, 0.0f), 6.0f); });
    } else if (op == "Elu") {
      map_float(y, [](float v) { return v < 0 ? std::expm1(v) : v; });
    } else if (op == "LeakyRelu") {
      const float alpha = ctx.attr_float("leakyrelu_alpha", 0.2f);
      map_float(y, [alpha](float v) { return v < 0 ? alpha * v : v; });
    } else if (op == "Sigmoid") {
      map_float(y, [](float v) { return 1.0f / (1.0f + std::exp(-v)); });
    } else if (op == "Tanh") {
      map_float(y, [](float v) { return std::tanh(v); });
    } else if (op == "Prelu") {
      const Tensor& alpha = ctx.input(arg++);
      const std::int64_t C = y->shape.back();
      float* p = data<float>(*y);
      const float* a = data<float>(alpha);
      const bool per_channel = alpha.num_elements() == C;
      for (std::int64_t k = 0, n = y->num_elements(); k < n; ++k) {
        const float s = per_channel ? a[k % C] : a[0];
        if (p[k] < 0) p[k] *= s;
      }
    } else {
      ctx.unsupported("fused op '" + op + "'");
    }
  }
}

void fused_conv2d(KernelContext& ctx) {
  Tensor y = conv2d_tensor(ctx, ctx.input(0), ctx.input(1));
  apply_fused_ops(ctx, &y);
  ctx.output(0) = output_layout(ctx, std::move(y));
}

void fused_depthwise(KernelContext& ctx) {
  Tensor y = depthwise_tensor(ctx, ctx.input(0), ctx.input(1));
  apply_fused_ops(ctx, &y);
  ctx.output(0) = output_layout(ctx, std::move(y));
}

void fused_matmul(KernelContext& ctx) {
  matmul(ctx);
  Tensor y = std::move(ctx.output(0));
  apply_fused_ops(ctx, &y);
  ctx.output(0) = std::move(y);
}

void prelu(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& alpha = ctx.input(1);
  auto shape = broadcast_shape(x.shape, alpha.shape);
  if (!shape || *shape != x.shape) ctx.fail("alpha " + dims_string(alpha.shape) + " does not broadcast to " + dims_string(x.shape));
  auto ia = broadcast_index(alpha.shape, x.shape);
  Tensor y = x;
  float* p = data<float>(y);
  for (std::int64_t i = 0, n = y.num_elements(); i < n; ++i)
    if (p[i] < 0) p[i] *= data<float>(alpha)[ia[static_cast<std::size_t>(i)]];
  ctx.output(0) = std::move(y);
}

// ---- softmax and pooling -------------------------------------------------------------------------

// One row of (Log)Softmax in TensorFlow's steps (SoftmaxEigenImpl, softmax_op_functor.h), each
// computed in A: shifted = x - max; log: shifted - log(sum(exp(shifted))); else exp(shifted) * (1 / sum).
// A is Eigen::half for a half node (stored widened to float32): TF's CPU kernel rounds every step to half.
template <class A, class T>
void softmax_row(T* row, std::int64_t C, bool take_log) {
  using std::exp;
  using std::log;
  A mx = A(row[0]);
  for (std::int64_t c = 1; c < C; ++c) mx = mx < A(row[c]) ? A(row[c]) : mx;
  A sum = A(0);
  for (std::int64_t c = 0; c < C; ++c) sum = sum + A(exp(A(A(row[c]) - mx)));
  const A scale = take_log ? A(log(sum)) : A(A(1) / sum);
  for (std::int64_t c = 0; c < C; ++c) {
    const A shifted = A(A(row[c]) - mx);
    row[c] = static_cast<T>(static_cast<float>(take_log ? A(shifted - scale) : A(A(exp(shifted)) * scale)));
  }
}

void softmax(KernelContext& ctx) {
  Tensor y = ctx.input(0);
  if (y.shape.empty()) ctx.fail("softmax needs rank >= 1");
  const bool take_log = ctx.node().op() == "LogSoftmax", half = ctx.attr_type("T", y.dtype) == tf::DT_HALF;
  dispatch_float(ctx, y.dtype, [&](auto t) {
    using T = decltype(t);
    const std::int64_t C = y.shape.back(), rows = C ? y.num_elements() / C : 0;
    T* p = data<T>(y);
    for (std::int64_t r = 0; r < rows; ++r) {
      if (half) softmax_row<Eigen::half>(p + r * C, C, take_log);
      else softmax_row<T>(p + r * C, C, take_log);
    }
  });
  ctx.output(0) = std::move(y);
}

// One output row of a 2-D max or average pool (NHWC); the average is over the window's cells
// inside the input (SAME padding counts only those).
template <bool kMax>
void pool_row(const ConvGeometry& g, const float* in, std::int64_t n, std::int64_t oh, float* __restrict out_row) {
  for (std::int64_t ow = 0; ow < g.OW; ++ow) {
    float* __restrict o = out_row + ow * g.C;
    std::fill(o, o + g.C, kMax ? -std::numeric_limits<float>::infinity() : 0.0f);
    std::int64_t count = 0;
    for (std::int64_t kh = 0; kh < g.KH; ++kh) {
      const std::int64_t ih = oh * g.sh + kh - g.pt;
      if (ih < 0 || ih >= g.H) continue;
      for (std::int64_t kw = 0; kw < g.KW; ++kw) {
        const std::int64_t iw = ow * g.sw + kw - g.pl;
        if (iw < 0 || iw >= g.W) continue;
        const float* __restrict px = in + ((n * g.H + ih) * g.W + iw) * g.C;
        ++count;
        for (std::int64_t c = 0; c < g.C; ++c) o[c] = kMax ? std::max(o[c], px[c]) : o[c] + px[c];
      }
    }
    if (!kMax && count)
      for (std::int64_t c = 0; c < g.C; ++c) o[c] /= static_cast<float>(count);
  }
}

void pool(KernelContext& ctx) {
  Tensor converted;
  const Tensor& x = input_nhwc(ctx, ctx.input(0), &converted);
  const bool is_max = ctx.node().op() == "MaxPool";
  auto ksize = ctx.attr_ints("ksize");
  if (ksize.size() != 4) ctx.fail("ksize must have 4 values");
  const bool nchw = is_nchw(ctx);
  const std::int64_t KH = ksize[nchw ? 2 : 1], KW = ksize[nchw ? 3 : 2];
  if ((nchw ? ksize[1] : ksize[3]) != 1 || ksize[0] != 1) ctx.unsupported("pooling across batch or channels");
  ConvGeometry g = geometry(ctx, x.shape, KH, KW, ctx.attr_ints("strides"), {});
  charge_work(ctx, {g.N, g.OH, g.OW, g.C, KH, KW});
  Tensor y = make_tensor(ctx, tf::DT_FLOAT, {g.N, g.OH, g.OW, g.C});
  const float* in = data<float>(x);
  float* out = data<float>(y);
  parallel_for_each(g.N * g.OH, [&](std::int64_t row) {
    if (is_max) pool_row<true>(g, in, row / g.OH, row % g.OH, out + row * g.OW * g.C);
    else pool_row<false>(g, in, row / g.OH, row % g.OH, out + row * g.OW * g.C);
  }, g.OW * g.C * KH * KW);
  ctx.output(0) = output_layout(ctx, std::move(y));
}

}  // namespace

void register_nn_kernels(KernelRegistry& r) {
  r.add("MatMul", matmul);
  r.add("BatchMatMul", batch_matmul);
  r.add("BatchMatMulV2", batch_matmul);
  r.add("BatchMatMulV3", batch_matmul);
  r.add("Conv2D", conv2d);
  r.add("DepthwiseConv2dNative", depthwise);
  r.add("Conv2DBackpropInput", conv2d_backprop_input);
  r.add("BiasAdd", bias_add);
  r.add("BiasAddV1", bias_add);
  r.add("FusedBatchNorm", fused_batch_norm);
  r.add("FusedBatchNormV2", fused_batch_norm);
  r.add("FusedBatchNormV3", fused_batch_norm);
  r.add("BatchNormWithGlobalNormalization", batch_norm_global);
  r.add("_FusedConv2D", fused_conv2d);
  r.add("FusedDepthwiseConv2dNative", fused_depthwise);
  r.add("_FusedMatMul", fused_matmul);
  r.add("Prelu", prelu);
  r.add("Softmax", softmax);
  r.add("LogSoftmax", softmax);
  r.add("MaxPool", pool);
  r.add("AvgPool", pool);
}

}  // namespace tffreeze::runtime
