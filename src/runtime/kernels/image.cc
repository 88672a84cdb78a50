// Image ops with TensorFlow's CPU kernels' arithmetic: resizing (bilinear, nearest, bicubic,
// area; align_corners / half_pixel_centers), DepthToSpace and SpaceToDepth (NHWC), colour
// spaces (RGB <-> HSV, hue / saturation / contrast), ExtractImagePatches, CropAndResize,
// non-max suppression (V1..V5, soft-NMS) and InTopK.
#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <limits>
#include <queue>
#include <type_traits>

#include "common/dtype.h"
#include "common/window_size.h"
#include "runtime/dispatch.h"

namespace tffreeze::runtime {
namespace {

// The values of a numeric (or half) tensor as float32, as TF's kernels read their inputs.
std::vector<float> to_floats(const KernelContext& ctx, const Tensor& x) {
  std::vector<float> v(static_cast<std::size_t>(x.num_elements()));
  if (x.dtype == tf::DT_HALF || x.dtype == tf::DT_BFLOAT16) {
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(element_as_double(x, static_cast<std::int64_t>(i)));
    return v;
  }
  dispatch_numeric(ctx, x.dtype, [&](auto t) {
    using T = decltype(t);
    const T* p = data<T>(x);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(p[i]);
  });
  return v;
}

float scalar_float(const KernelContext& ctx, const Tensor& t, const char* what) {
  if (!t.shape.empty() || t.num_elements() != 1) ctx.fail(std::string(what) + " must be a scalar, is " + dims_string(t.shape));
  return static_cast<float>(element_as_double(t, 0));
}

// ---- resizing -------------------------------------------------------------------------------

float scale_of(std::int64_t in, std::int64_t out, bool align_corners) {
  return align_corners && out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1) : static_cast<float>(in) / static_cast<float>(out);
}

std::int64_t bound(std::int64_t v, std::int64_t limit) { return std::min(limit - 1, std::max<std::int64_t>(0, v)); }

// TensorFlow's ImageResizerState: [N,H,W,C] in, [N,OH,OW,C] out, the scales.
struct Resize {
  std::int64_t N, H, W, C, OH, OW;
  float sy, sx;
  bool align, half;
};

Resize resize_geometry(const KernelContext& ctx, bool has_half_pixel) {
  const Tensor& x = ctx.input(0);
  auto size = ctx.input_ints(1);
  if (x.shape.size() != 4 || size.size() != 2) ctx.fail("images must be [N,H,W,C] and size [2]");
  Resize r{x.shape[0], x.shape[1], x.shape[2], x.shape[3], size[0], size[1], 0, 0, ctx.attr_bool("align_corners", false),
           has_half_pixel && ctx.attr_bool("half_pixel_centers", false)};
  if (r.half && r.align) ctx.fail("if half_pixel_centers is true, align_corners must be false");
  if (r.C <= 0 || r.H <= 0 || r.W <= 0) ctx.fail("input image must have a positive size and channel count");
  if (r.OH <= 0 || r.OW <= 0) ctx.fail("output dimensions must be positive");
  r.sy = scale_of(r.H, r.OH, r.align);
  r.sx = scale_of(r.W, r.OW, r.align);
  return r;
}

void resize_bilinear(KernelContext& ctx) {
  const Resize r = resize_geometry(ctx, true);
  const std::vector<float> in = to_floats(ctx, ctx.input(0));
  Tensor y = make_tensor(ctx, tf::DT_FLOAT, {r.N, r.OH, r.OW, r.C});
  float* out = data<float>(y);
  auto coord = [&](std::int64_t o, float s) { return r.half ? (static_cast<float>(o) + 0.5f) * s - 0.5f : static_cast<float>(o) * s; };
  for (std::int64_t n = 0; n < r.N; ++n)
    for (std::int64_t oh = 0; oh < r.OH; ++oh)
      for (std::int64_t ow = 0; ow < r.OW; ++ow) {
        float* o = out + ((n * r.OH + oh) * r.OW + ow) * r.C;
        const float fy = coord(oh, r.sy), fx = coord(ow, r.sx);
        const auto y0 = static_cast<std::int64_t>(std::floor(fy)), x0 = static_cast<std::int64_t>(std::floor(fx));
        const float dy = fy - static_cast<float>(y0), dx = fx - static_cast<float>(x0);
        auto at = [&](std::int64_t yy, std::int64_t xx) { return in.data() + ((n * r.H + bound(yy, r.H)) * r.W + bound(xx, r.W)) * r.C; };
        const float *a = at(y0, x0), *b = at(y0, x0 + 1), *c = at(y0 + 1, x0), *d = at(y0 + 1, x0 + 1);
        for (std::int64_t k = 0; k < r.C; ++k) {
          const float top = a[k] + (b[k] - a[k]) * dx, bottom = c[k] + (d[k] - c[k]) * dx;
          o[k] = top + (bottom - top) * dy;
        }
      }
  ctx.output(0) = std::move(y);
}

// Nearest neighbour keeps the dtype: element bytes are copied.
void resize_nearest(KernelContext& ctx) {
  const Resize r = resize_geometry(ctx, true);
  const Tensor& x = ctx.input(0);
  const std::int64_t e = dtype_size(x.dtype);
  if (e == 0) ctx.unsupported("resizing " + dtype_name(x.dtype));
  Tensor y = make_tensor(ctx, x.dtype, {r.N, r.OH, r.OW, r.C});
  auto pick = [&](std::int64_t o, float s, std::int64_t limit) {
    const float f = r.half ? (static_cast<float>(o) + 0.5f) * s : static_cast<float>(o) * s;
    return bound(static_cast<std::int64_t>(r.align ? std::round(f) : std::floor(f)), limit);
  };
  for (std::int64_t n = 0; n < r.N; ++n)
    for (std::int64_t oh = 0; oh < r.OH; ++oh)
      for (std::int64_t ow = 0; ow < r.OW; ++ow) {
        const std::int64_t src = ((n * r.H + pick(oh, r.sy, r.H)) * r.W + pick(ow, r.sx, r.W)) * r.C;
        const std::int64_t dst = ((n * r.OH + oh) * r.OW + ow) * r.C;
        std::memcpy(y.bytes.data() + dst * e, x.bytes.data() + src * e, static_cast<std::size_t>(r.C * e));
      }
  ctx.output(0) = std::move(y);
}

// Bicubic: TF's 1024-entry coefficient tables, Keys' a = -0.5 with half_pixel_centers (taps
// outside the image weigh 0, the rest renormalized), else a = -0.75 with clamped taps.
constexpr int kCubicTable = 1024;

std::array<float, (kCubicTable + 1) * 2> cubic_table(double a) {
  std::array<float, (kCubicTable + 1) * 2> t{};
  for (int i = 0; i <= kCubicTable; ++i) {
    float x = static_cast<float>(i * 1.0 / kCubicTable);
    t[static_cast<std::size_t>(i * 2)] = static_cast<float>(((a + 2) * x - (a + 3)) * x * x + 1);
    x += 1.0f;
    t[static_cast<std::size_t>(i * 2 + 1)] = static_cast<float>(((a * x - 5 * a) * x + 8 * a) * x - 4 * a);
  }
  return t;
}

struct CubicTaps {
  std::array<float, 4> w;
  std::array<std::int64_t, 4> i;
};

CubicTaps cubic_taps(float scale, std::int64_t out, std::int64_t limit, bool half_pixel) {
  static const auto keys = cubic_table(-0.5), legacy = cubic_table(-0.75);
  const float f = half_pixel ? (static_cast<float>(out) + 0.5f) * scale - 0.5f : static_cast<float>(out) * scale;
  const auto in = static_cast<std::int64_t>(std::floor(f));
  const long offset = std::lrint((f - static_cast<float>(in)) * kCubicTable);
  const auto& t = half_pixel ? keys : legacy;
  auto at = [&](long k) { return t[static_cast<std::size_t>(k)]; };
  CubicTaps c{{at(offset * 2 + 1), at(offset * 2), at((kCubicTable - offset) * 2), at((kCubicTable - offset) * 2 + 1)}, {}};
  for (int k = 0; k < 4; ++k) {
    c.i[static_cast<std::size_t>(k)] = bound(in - 1 + k, limit);
    if (half_pixel && c.i[static_cast<std::size_t>(k)] != in - 1 + k) c.w[static_cast<std::size_t>(k)] = 0.0f;
  }
  if (half_pixel) {
    const float sum = c.w[0] + c.w[1] + c.w[2] + c.w[3];
    if (std::abs(sum) >= 1000.0f * std::numeric_limits<float>::min()) {
      const float inv = 1.0f / sum;
      for (float& w : c.w) w *= inv;
    }
  }
  return c;
}

void resize_bicubic(KernelContext& ctx) {
  const Resize r = resize_geometry(ctx, true);
  Tensor y = make_tensor(ctx, tf::DT_FLOAT, {r.N, r.OH, r.OW, r.C});
  if (y.num_elements() == 0) return void(ctx.output(0) = std::move(y));
  const std::vector<float> in = to_floats(ctx, ctx.input(0));
  float* out = data<float>(y);
  std::vector<CubicTaps> xs;
  for (std::int64_t ow = 0; ow < r.OW; ++ow) xs.push_back(cubic_taps(r.sx, ow, r.W, r.half));
  for (std::int64_t n = 0; n < r.N; ++n)
    for (std::int64_t oh = 0; oh < r.OH; ++oh) {
      const CubicTaps ty = cubic_taps(r.sy, oh, r.H, r.half);
      for (std::int64_t ow = 0; ow < r.OW; ++ow) {
        const CubicTaps& tx = xs[static_cast<std::size_t>(ow)];
        for (std::int64_t c = 0; c < r.C; ++c) {
          auto value = [&](std::size_t j, std::size_t k) { return in[static_cast<std::size_t>(((n * r.H + ty.i[j]) * r.W + tx.i[k]) * r.C + c)]; };
          std::array<float, 4> col{};  // interpolated along y first, one per x tap
          for (std::size_t k = 0; k < 4; ++k)
            col[k] = value(0, k) * ty.w[0] + value(1, k) * ty.w[1] + value(2, k) * ty.w[2] + value(3, k) * ty.w[3];
          out[((n * r.OH + oh) * r.OW + ow) * r.C + c] = col[0] * tx.w[0] + col[1] * tx.w[1] + col[2] * tx.w[2] + col[3] * tx.w[3];
        }
      }
    }
  ctx.output(0) = std::move(y);
}

// Area: each output pixel averages the input cells its footprint covers, partial cells weighed
// by the covered fraction (TF's ResizeAreaOp, which has no half_pixel_centers).
struct AreaSpan {
  std::int64_t start, end;
  float start_scale, end_minus_one_scale;
};

float area_weight(std::int64_t v, float in0, float in1, float scale) {
  const auto fv = static_cast<float>(v);
  return static_cast<float>(fv < in0 ? (fv + 1 > in1 ? scale : fv + 1 - in0) : (fv + 1 > in1 ? in1 - fv : 1.0));
}

AreaSpan area_span(std::int64_t o, float scale) {
  const float in0 = static_cast<float>(o) * scale, in1 = static_cast<float>(o + 1) * scale;
  AreaSpan s{static_cast<std::int64_t>(std::floor(in0)), static_cast<std::int64_t>(std::ceil(in1)), 0, 0};
  s.start_scale = area_weight(s.start, in0, in1, scale);
  s.end_minus_one_scale = area_weight(s.end - 1, in0, in1, scale);
  return s;
}

void resize_area(KernelContext& ctx) {
  const Resize r = resize_geometry(ctx, false);
  Tensor y = make_tensor(ctx, tf::DT_FLOAT, {r.N, r.OH, r.OW, r.C});
  if (y.num_elements() == 0) return void(ctx.output(0) = std::move(y));
  const std::vector<float> in = to_floats(ctx, ctx.input(0));
  float* out = data<float>(y);
  const auto scale = static_cast<float>(1.0 / (r.sy * r.sx));
  std::vector<AreaSpan> xs;
  for (std::int64_t ow = 0; ow < r.OW; ++ow) xs.push_back(area_span(ow, r.sx));
  for (std::int64_t n = 0; n < r.N; ++n)
    for (std::int64_t oh = 0; oh < r.OH; ++oh) {
      const float in_y = static_cast<float>(oh) * r.sy, in_y1 = static_cast<float>(oh + 1) * r.sy;
      const auto y0 = static_cast<std::int64_t>(std::floor(in_y)), y1 = static_cast<std::int64_t>(std::ceil(in_y1));
      for (std::int64_t ow = 0; ow < r.OW; ++ow) {
        const AreaSpan& s = xs[static_cast<std::size_t>(ow)];
        for (std::int64_t c = 0; c < r.C; ++c) {
          float sum = 0;
          for (std::int64_t i = y0; i < y1; ++i) {
            const float* row = in.data() + (n * r.H + bound(i, r.H)) * r.W * r.C + c;
            float sum_y = row[bound(s.start, r.W) * r.C] * s.start_scale;
            if (s.start + 1 != s.end) {
              for (std::int64_t x = s.start + 1; x < s.end - 1; ++x) sum_y += row[bound(x, r.W) * r.C];
              sum_y += row[bound(s.end - 1, r.W) * r.C] * s.end_minus_one_scale;
            }
            sum += sum_y * area_weight(i, in_y, in_y1, r.sy);
          }
          out[((n * r.OH + oh) * r.OW + ow) * r.C + c] = sum * scale;
        }
      }
    }
  ctx.output(0) = std::move(y);
}

template <bool kToSpace>
void depth_space(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const std::int64_t b = ctx.attr_int("block_size", 2);
  if (ctx.attr_string("data_format", "NHWC") != "NHWC") ctx.unsupported("data_format other than NHWC");
  if (x.shape.size() != 4 || b < 2) ctx.fail("input must be 4-D and block_size >= 2");
  const std::int64_t N = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape[3];
  const std::int64_t e = dtype_size(x.dtype);
  if (kToSpace && C % (b * b)) ctx.fail("depth " + std::to_string(C) + " not divisible by block_size^2");
  if (!kToSpace && (H % b || W % b)) ctx.fail("height and width must be divisible by block_size");
  const std::int64_t OH = kToSpace ? H * b : H / b, OW = kToSpace ? W * b : W / b, OC = kToSpace ? C / (b * b) : C * b * b;
  Tensor y = make_tensor(ctx, x.dtype, {N, OH, OW, OC});
  // DepthToSpace: out[n, h*b+i, w*b+j, c] = in[n, h, w, (i*b+j)*OC + c]; SpaceToDepth is its inverse.
  const std::int64_t SH = kToSpace ? H : OH, SW = kToSpace ? W : OW, SC = kToSpace ? OC : C;
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t h = 0; h < SH; ++h)
      for (std::int64_t w = 0; w < SW; ++w)
        for (std::int64_t i = 0; i < b; ++i)
          for (std::int64_t j = 0; j < b; ++j) {
            const std::int64_t deep = ((n * SH + h) * SW + w) * (SC * b * b) + (i * b + j) * SC;
            const std::int64_t wide = ((n * SH * b + h * b + i) * SW * b + w * b + j) * SC;
            const char* src = x.bytes.data() + (kToSpace ? deep : wide) * e;
            char* dst = y.bytes.data() + (kToSpace ? wide : deep) * e;
            std::memcpy(dst, src, static_cast<std::size_t>(SC * e));
          }
  ctx.output(0) = std::move(y);
}

// ---- colour --------------------------------------------------------------------------------

// Applies f(in3, out3) to every pixel of a [..., 3] image, in the image's float type.
template <class F>
void per_pixel(KernelContext& ctx, bool float32_only, F f) {
  const Tensor& x = ctx.input(0);
  if (x.shape.empty() || x.shape.back() != 3) ctx.fail("the last dimension must be 3 (channels), shape is " + dims_string(x.shape));
  if (float32_only && x.dtype != tf::DT_FLOAT) ctx.unsupported(dtype_name(x.dtype) + " images (TF's CPU kernel is float32 only)");
  Tensor y = make_tensor(ctx, x.dtype, x.shape);
  dispatch_float(ctx, x.dtype, [&](auto t) {
    using T = decltype(t);
    for (std::int64_t p = 0, n = x.num_elements() / 3; p < n; ++p) f(data<T>(x) + 3 * p, data<T>(y) + 3 * p);
  });
  ctx.output(0) = std::move(y);
}

void rgb_to_hsv(KernelContext& ctx) {
  per_pixel(ctx, false, [](const auto* in, auto* out) {
    using T = std::remove_cv_t<std::remove_reference_t<decltype(*in)>>;
    const T r = in[0], g = in[1], b = in[2];
    const T v = std::max(std::max(r, g), b), range = v - std::min(std::min(r, g), b);
    const T norm = (T(1) / range) * (T(1) / T(6));
    T h = r == v ? norm * (g - b) : g == v ? norm * (b - r) + T(2) / T(6) : norm * (r - g) + T(4) / T(6);
    if (!(range > T(0))) h = T(0);
    if (h < T(0)) h += T(1);
    out[0] = h;
    out[1] = v > T(0) ? range / v : T(0);
    out[2] = v;
  });
}

void hsv_to_rgb(KernelContext& ctx) {
  per_pixel(ctx, false, [](const auto* in, auto* out) {
    using T = std::remove_cv_t<std::remove_reference_t<decltype(*in)>>;
    const T h = in[0], s = in[1], v = in[2], dh = h * T(6), one_s = -s + T(1);
    auto clamp01 = [](T a) { return std::min(std::max(a, T(0)), T(1)); };
    const T dr = clamp01(std::abs(dh - T(3)) - T(1)), dg = clamp01(-std::abs(dh - T(2)) + T(2)), db = clamp01(-std::abs(dh - T(4)) + T(2));
    out[0] = (one_s + s * dr) * v;
    out[1] = (one_s + s * dg) * v;
    out[2] = (one_s + s * db) * v;
  });
}

// AdjustHue works on hue in [0, 6) and the value range, as TF's CPU kernel.
void adjust_hue(KernelContext& ctx) {
  if (ctx.input(0).shape.size() < 3) ctx.fail("images must be at least 3-D");
  const float delta = scalar_float(ctx, ctx.input(1), "delta");
  per_pixel(ctx, true, [delta](const auto* p, auto* q) {
    const float r = p[0], g = p[1], b = p[2];
    float vmax, vmid, vmin;
    int category;
    if (r < g) {
      if (b < r) vmax = g, vmid = r, vmin = b, category = 1;
      else if (b > g) vmax = b, vmid = g, vmin = r, category = 3;
      else vmax = g, vmid = b, vmin = r, category = 2;
    } else {
      if (b < g) vmax = r, vmid = g, vmin = b, category = 0;
      else if (b > r) vmax = b, vmid = r, vmin = g, category = 4;
      else vmax = r, vmid = b, vmin = g, category = 5;
    }
    float h = 0;
    if (vmax != vmin) {
      const float ratio = (vmid - vmin) / (vmax - vmin);
      h = static_cast<float>(category) + ((category & 1) == 0 ? ratio : 1 - ratio);
    }
    h += delta * 6;
    if (!std::isfinite(h)) h = std::numeric_limits<float>::quiet_NaN();  // TF would loop forever
    if (std::abs(h) > 64) h = std::fmod(h, 6.0f);
    while (h < 0) h += 6;
    while (h >= 6) h -= 6;
    const int c = std::isnan(h) ? 5 : static_cast<int>(h);
    const float ratio = (c & 1) == 0 ? h - static_cast<float>(c) : 1 - (h - static_cast<float>(c));
    const float mid = vmin + ratio * (vmax - vmin);
    const std::array<std::array<float, 3>, 6> rgb = {{{vmax, mid, vmin}, {mid, vmax, vmin}, {vmin, vmax, mid},
                                                      {vmin, mid, vmax}, {mid, vmin, vmax}, {vmax, vmin, mid}}};
    const auto& o = rgb[static_cast<std::size_t>(std::clamp(c, 0, 5))];
    q[0] = o[0], q[1] = o[1], q[2] = o[2];
  });
}

void adjust_saturation(KernelContext& ctx) {
  if (ctx.input(0).shape.size() < 3) ctx.fail("images must be at least 3-D");
  const float scale = scalar_float(ctx, ctx.input(1), "scale");
  per_pixel(ctx, true, [scale](const auto* p, auto* q) {
    const float r = p[0], g = p[1], b = p[2];
    const float v = std::max(r, std::max(g, b)), range = v - std::min(r, std::min(g, b));
    float s = v > 0 ? range / v : 0;
    const float norm = 1.0f / (6.0f * range);
    float h = r == v ? norm * (g - b) : g == v ? static_cast<float>(norm * (b - r) + 2.0 / 6.0) : static_cast<float>(norm * (r - g) + 4.0 / 6.0);
    if (range <= 0.0) h = 0;
    if (h < 0.0) h = h + 1;
    s = std::min(1.0f, std::max(0.0f, s * scale));
    // HSV -> RGB (TF's adjust_saturation_op.cc)
    const float c = s * v, m = v - c, dh = h * 6;
    const bool finite = std::isfinite(dh);
    const int category = finite ? static_cast<int>(dh) : -1;
    float fmodu = finite ? dh : std::numeric_limits<float>::quiet_NaN();
    while (fmodu <= 0) fmodu += 2.0f;
    while (fmodu >= 2.0f) fmodu -= 2.0f;
    const float x = c * (1 - std::abs(fmodu - 1));
    const std::array<std::array<float, 3>, 6> rgb = {{{c, x, 0}, {x, c, 0}, {0, c, x}, {0, x, c}, {x, 0, c}, {c, 0, x}}};
    const std::array<float, 3> o = category >= 0 && category < 6 ? rgb[static_cast<std::size_t>(category)] : std::array<float, 3>{0, 0, 0};
    q[0] = o[0] + m, q[1] = o[1] + m, q[2] = o[2] + m;
  });
}

// (x - mean) * factor + mean per channel of each image; the mean sums by halving the image
// plane as TF's CPU kernel does.
void adjust_contrast(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.shape.size() < 3) ctx.fail("images must be at least 3-D");
  if (x.dtype != tf::DT_FLOAT) ctx.unsupported(dtype_name(x.dtype) + " images (TF's CPU kernel is float32 only)");
  const float factor = scalar_float(ctx, ctx.input(1), "contrast_factor");
  const std::size_t rank = x.shape.size();
  const std::int64_t C = x.shape[rank - 1], pixels = x.shape[rank - 2] * x.shape[rank - 3];
  const std::int64_t images = pixels * C != 0 ? x.num_elements() / (pixels * C) : 0;
  Tensor y = make_tensor(ctx, tf::DT_FLOAT, x.shape);
  std::vector<float> sum(static_cast<std::size_t>(pixels * C));
  for (std::int64_t i = 0; i < images; ++i) {
    const float* in = data<float>(x) + i * pixels * C;
    float* out = data<float>(y) + i * pixels * C;
    std::int64_t remaining = pixels;
    for (int round = 0; remaining > 1 || round == 0; ++round) {
      const std::int64_t right = remaining / 2, left = remaining - right;
      for (std::int64_t k = 0; k < right * C; ++k) sum[static_cast<std::size_t>(k)] = (round == 0 ? in[left * C + k] + in[k] : sum[static_cast<std::size_t>(k)] + sum[static_cast<std::size_t>(left * C + k)]);
      if (round == 0 && left > right) std::copy_n(in + right * C, C, sum.begin() + right * C);
      remaining = left;
    }
    const float mean_scaling = 1.0f / static_cast<float>(pixels);
    for (std::int64_t k = 0; k < pixels * C; ++k) {
      const float mean = sum[static_cast<std::size_t>(k % C)] * mean_scaling;
      out[k] = mean + factor * (in[k] - mean);
    }
  }
  ctx.output(0) = std::move(y);
}

// ---- patches and crops -----------------------------------------------------------------------

// [N,H,W,C] -> [N,OH,OW,KH*KW*C]: each output pixel holds its (dilated) window, zeros outside.
void extract_image_patches(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto k = ctx.attr_ints("ksizes"), s = ctx.attr_ints("strides"), rate = ctx.attr_ints("rates");
  if (x.shape.size() != 4) ctx.fail("images must be 4-D, is " + dims_string(x.shape));
  if (k.size() != 4 || s.size() != 4 || rate.size() != 4) ctx.fail("ksizes, strides and rates need 4 values");
  if (k[0] != 1 || k[3] != 1 || s[0] != 1 || s[3] != 1 || rate[0] != 1 || rate[3] != 1) ctx.unsupported("patches across batch or depth");
  const std::int64_t e = dtype_size(x.dtype);
  if (e == 0) ctx.unsupported("patches of " + dtype_name(x.dtype));
  const bool same = ctx.attr_string("padding", "VALID") == "SAME";
  const std::int64_t N = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape[3];
  std::array<std::int64_t, 2> out{}, pad{};
  for (std::size_t i = 0; i < 2; ++i) {
    const std::int64_t in = x.shape[i + 1], kk = k[i + 1], ss = s[i + 1], rr = rate[i + 1];
    if (kk < 1 || ss < 1 || rr < 1 || kk > (1 << 30) || ss > (1 << 30) || rr > (1 << 30)) ctx.fail("ksizes, strides and rates must be positive");
    const std::int64_t eff = kk + (kk - 1) * (rr - 1);
    auto valid = valid_window_output(in, eff, ss);
    if (!same && !valid) ctx.fail(negative_window_output(in, eff, ss));
    out[i] = same ? (in + ss - 1) / ss : *valid;
    if (same) pad[i] = std::max<std::int64_t>((out[i] - 1) * ss + eff - in, 0) / 2;
  }
  Tensor y = make_tensor(ctx, x.dtype, {N, out[0], out[1], k[1] * k[2] * C});
  char* dst = y.bytes.data();
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t oh = 0; oh < out[0]; ++oh)
      for (std::int64_t ow = 0; ow < out[1]; ++ow)
        for (std::int64_t kh = 0; kh < k[1]; ++kh)
          for (std::int64_t kw = 0; kw < k[2]; ++kw, dst += C * e) {
            const std::int64_t ih = oh * s[1] + kh * rate[1] - pad[0], iw = ow * s[2] + kw * rate[2] - pad[1];
            if (ih >= 0 && ih < H && iw >= 0 && iw < W) std::memcpy(dst, x.bytes.data() + ((n * H + ih) * W + iw) * C * e, static_cast<std::size_t>(C * e));
          }
  ctx.output(0) = std::move(y);
}

void crop_and_resize(KernelContext& ctx) {
  const Tensor& image = ctx.input(0);
  const Tensor& boxes = ctx.input(1);
  const auto index = ctx.input_ints(2);
  const auto size = ctx.input_ints(3);
  if (image.shape.size() != 4 || image.shape[1] <= 0 || image.shape[2] <= 0) ctx.fail("image must be 4-D with a positive size");
  const auto num_boxes = static_cast<std::int64_t>(index.size());
  if (boxes.dtype != tf::DT_FLOAT || boxes.shape != std::vector<std::int64_t>{num_boxes, 4}) ctx.fail("boxes must be float32 [num_boxes, 4]");
  if (size.size() != 2 || size[0] <= 0 || size[1] <= 0) ctx.fail("crop_size must be 2 positive values");
  const std::string method = ctx.attr_string("method", "bilinear");
  if (method != "bilinear" && method != "nearest") ctx.fail("method must be 'bilinear' or 'nearest'");
  const float extrapolation = ctx.attr_float("extrapolation_value", 0.0f);
  const std::int64_t batch = image.shape[0], H = image.shape[1], W = image.shape[2], C = image.shape[3], CH = size[0], CW = size[1];
  const float* b = data<float>(boxes);
  for (std::int64_t i = 0; i < num_boxes * 4; ++i)
    if (!std::isfinite(b[i])) ctx.fail("boxes contain a value that is not finite");
  for (std::int64_t i : index)
    if (i < 0 || i >= batch) ctx.fail("box_index has values outside [0, batch_size)");
  const std::vector<float> in = to_floats(ctx, image);
  Tensor y = make_tensor(ctx, tf::DT_FLOAT, {num_boxes, CH, CW, C});
  float* out = data<float>(y);
  // One axis of the sampling grid: the source coordinate of crop index `o`.
  auto coord = [](float lo, float hi, std::int64_t o, std::int64_t crop, std::int64_t extent) {
    const float scale = crop > 1 ? (hi - lo) * static_cast<float>(extent - 1) / static_cast<float>(crop - 1) : 0;
    return crop > 1 ? lo * static_cast<float>(extent - 1) + static_cast<float>(o) * scale
                    : static_cast<float>(0.5 * (lo + hi) * static_cast<double>(extent - 1));
  };
  for (std::int64_t k = 0; k < num_boxes; ++k) {
    const float* px = in.data() + index[static_cast<std::size_t>(k)] * H * W * C;
    for (std::int64_t cy = 0; cy < CH; ++cy) {
      const float fy = coord(b[4 * k], b[4 * k + 2], cy, CH, H);
      for (std::int64_t cx = 0; cx < CW; ++cx) {
        float* o = out + ((k * CH + cy) * CW + cx) * C;
        const float fx = coord(b[4 * k + 1], b[4 * k + 3], cx, CW, W);
        if (fy < 0 || fy > static_cast<float>(H - 1) || fx < 0 || fx > static_cast<float>(W - 1)) {
          std::fill_n(o, C, extrapolation);
        } else if (method == "nearest") {
          std::copy_n(px + (static_cast<std::int64_t>(std::round(fy)) * W + static_cast<std::int64_t>(std::round(fx))) * C, C, o);
        } else {
          const auto top = static_cast<std::int64_t>(std::floor(fy)), bottom = static_cast<std::int64_t>(std::ceil(fy));
          const auto left = static_cast<std::int64_t>(std::floor(fx)), right = static_cast<std::int64_t>(std::ceil(fx));
          const float ly = fy - static_cast<float>(top), lx = fx - static_cast<float>(left);
          for (std::int64_t c = 0; c < C; ++c) {
            const float tl = px[(top * W + left) * C + c], tr = px[(top * W + right) * C + c];
            const float bl = px[(bottom * W + left) * C + c], br = px[(bottom * W + right) * C + c];
            const float t = tl + (tr - tl) * lx, bt = bl + (br - bl) * lx;
            o[c] = t + (bt - t) * ly;
          }
        }
      }
    }
  }
  ctx.output(0) = std::move(y);
}

// ---- non-max suppression -------------------------------------------------------------------------

float iou(const float* b, std::int64_t i, std::int64_t j) {
  const float* p = b + 4 * i;
  const float* q = b + 4 * j;
  const float ymin_i = std::min(p[0], p[2]), xmin_i = std::min(p[1], p[3]), ymax_i = std::max(p[0], p[2]), xmax_i = std::max(p[1], p[3]);
  const float ymin_j = std::min(q[0], q[2]), xmin_j = std::min(q[1], q[3]), ymax_j = std::max(q[0], q[2]), xmax_j = std::max(q[1], q[3]);
  const float area_i = (ymax_i - ymin_i) * (xmax_i - xmin_i), area_j = (ymax_j - ymin_j) * (xmax_j - xmin_j);
  if (area_i <= 0 || area_j <= 0) return 0.0f;
  const float inter = std::max(std::min(ymax_i, ymax_j) - std::max(ymin_i, ymin_j), 0.0f) *
                      std::max(std::min(xmax_i, xmax_j) - std::max(xmin_i, xmin_j), 0.0f);
  return inter / (area_i + area_j - inter);
}

struct NmsResult {
  std::vector<std::int32_t> selected;
  std::vector<float> scores;
};

// TF's DoNonMaxSuppressionOp: a priority queue by score (ties: lower index first); soft-NMS
// decays scores by exp(-sim^2 / (2 sigma)) and re-queues the candidate.
NmsResult nms_select(const std::vector<float>& boxes, const std::vector<float>& scores, std::int64_t max_out, float iou_threshold,
                     float score_threshold, float sigma) {
  struct Candidate {
    int box_index;
    float score;
    int suppress_begin_index;
  };
  auto cmp = [](const Candidate& a, const Candidate& b) { return (a.score == b.score && a.box_index > b.box_index) || a.score < b.score; };
  std::priority_queue<Candidate, std::deque<Candidate>, decltype(cmp)> queue(cmp);
  for (std::size_t i = 0; i < scores.size(); ++i)
    if (scores[i] > score_threshold) queue.push(Candidate{static_cast<int>(i), scores[i], 0});
  const bool soft = sigma > 0.0f;
  const float scale = soft ? -0.5f / sigma : 0.0f;
  NmsResult r;
  while (static_cast<std::int64_t>(r.selected.size()) < max_out && !queue.empty()) {
    Candidate next = queue.top();
    const float original = next.score;
    queue.pop();
    bool hard_suppressed = false;
    for (int j = static_cast<int>(r.selected.size()) - 1; j >= next.suppress_begin_index; --j) {
      const float sim = iou(boxes.data(), next.box_index, r.selected[static_cast<std::size_t>(j)]);
      next.score *= soft || sim <= iou_threshold ? std::exp(scale * sim * sim) : 0.0f;
      if (!soft && sim > iou_threshold) {
        hard_suppressed = true;
        break;
      }
      if (next.score <= score_threshold) break;
    }
    next.suppress_begin_index = static_cast<int>(r.selected.size());
    if (hard_suppressed) continue;
    if (next.score == original) {
      r.selected.push_back(next.box_index);
      r.scores.push_back(next.score);
    } else if (next.score > score_threshold) {
      queue.push(next);
    }
  }
  return r;
}

int nms_version(const std::string& op) {
  const char last = op.back();
  return last >= '2' && last <= '5' ? last - '0' : 1;
}

// NonMaxSuppression (V1..V5). Half inputs are computed in float32.
void non_max_suppression(KernelContext& ctx) {
  const int v = nms_version(ctx.node().op());
  const Tensor& boxes = ctx.input(0);
  const Tensor& scores = ctx.input(1);
  if (boxes.shape.size() != 2 || boxes.shape[1] != 4) ctx.fail("boxes must be [num_boxes, 4], is " + dims_string(boxes.shape));
  if (scores.shape != std::vector<std::int64_t>{boxes.shape[0]}) ctx.fail("scores must be [num_boxes], is " + dims_string(scores.shape));
  if (boxes.shape[0] > std::numeric_limits<int>::max()) ctx.fail("too many boxes");
  if (!ctx.input(2).shape.empty()) ctx.fail("max_output_size must be a scalar");
  const std::int64_t max_out = ctx.input_ints(2).at(0);
  if (max_out < 0) ctx.fail("max_output_size must be non-negative");
  const float iou_threshold = v == 1 ? ctx.attr_float("iou_threshold", 0.5f) : scalar_float(ctx, ctx.input(3), "iou_threshold");
  if (!(iou_threshold >= 0 && iou_threshold <= 1)) ctx.fail("iou_threshold must be in [0, 1]");
  const float score_threshold = v >= 3 ? scalar_float(ctx, ctx.input(4), "score_threshold") : std::numeric_limits<float>::lowest();
  const float sigma = v == 5 ? scalar_float(ctx, ctx.input(5), "soft_nms_sigma") : 0.0f;
  if (sigma < 0) ctx.fail("soft_nms_sigma must be >= 0");
  NmsResult r = nms_select(to_floats(ctx, boxes), to_floats(ctx, scores), max_out, iou_threshold, score_threshold, sigma);
  const auto valid = static_cast<std::int32_t>(r.selected.size());
  const bool pad = v >= 4 && ctx.attr_bool("pad_to_max_output_size", false);
  const std::int64_t count = pad ? max_out : static_cast<std::int64_t>(r.selected.size());
  Tensor indices = make_tensor(ctx, tf::DT_INT32, {count});  // padded with zeros
  std::copy(r.selected.begin(), r.selected.end(), data<std::int32_t>(indices));
  ctx.output(0) = std::move(indices);
  if (v == 5) {
    Tensor selected_scores = make_tensor(ctx, tf::DT_FLOAT, {count});
    std::copy(r.scores.begin(), r.scores.end(), data<float>(selected_scores));
    ctx.output(1) = std::move(selected_scores);
  }
  if (v >= 4) {
    Tensor n = make_tensor(ctx, tf::DT_INT32, {});
    data<std::int32_t>(n)[0] = valid;
    ctx.output(v == 5 ? 2 : 1) = std::move(n);
  }
}

// InTopK / InTopKV2: is the target's prediction among the k largest (ties count in its favour)?
// False when the target is out of range or a prediction of the row is not finite.
void in_top_k(KernelContext& ctx) {
  const Tensor& pred = ctx.input(0);
  const auto targets = ctx.input_ints(1);
  if (pred.dtype != tf::DT_FLOAT || pred.shape.size() != 2) ctx.fail("predictions must be a float32 matrix");
  if (static_cast<std::int64_t>(targets.size()) != pred.shape[0] || ctx.input(1).shape.size() != 1) ctx.fail("targets must be [batch]");
  std::int64_t k = 0;
  if (ctx.node().op() == "InTopKV2") {
    if (!ctx.input(2).shape.empty()) ctx.fail("k must be a scalar");
    k = ctx.input_ints(2).at(0);
  } else {
    k = ctx.attr_int("k", 1);
  }
  const std::int64_t classes = pred.shape[1];
  Tensor y = make_tensor(ctx, tf::DT_BOOL, {pred.shape[0]});
  for (std::int64_t b = 0; b < pred.shape[0]; ++b) {
    const float* row = data<float>(pred) + b * classes;
    const std::int64_t t = targets[static_cast<std::size_t>(b)];
    bool cannot_say = t < 0 || t >= classes || !std::isfinite(row[t]);
    std::int64_t more = 0;
    for (std::int64_t c = 0; c < classes && !cannot_say; ++c) {
      if (!std::isfinite(row[c])) cannot_say = true;
      else if (row[c] > row[t] && ++more > k) break;
    }
    y.bytes[static_cast<std::size_t>(b)] = static_cast<char>(!cannot_say && more < k);
  }
  ctx.output(0) = std::move(y);
}

}  // namespace

void register_image_kernels(KernelRegistry& r) {
  r.add("ResizeBilinear", resize_bilinear);
  r.add("ResizeNearestNeighbor", resize_nearest);
  r.add("ResizeBicubic", resize_bicubic);
  r.add("ResizeArea", resize_area);
  r.add("DepthToSpace", depth_space<true>);
  r.add("SpaceToDepth", depth_space<false>);
  r.add("RGBToHSV", rgb_to_hsv);
  r.add("HSVToRGB", hsv_to_rgb);
  r.add("AdjustHue", adjust_hue);
  r.add("AdjustSaturation", adjust_saturation);
  r.add("AdjustContrastv2", adjust_contrast);
  r.add("ExtractImagePatches", extract_image_patches);
  r.add("CropAndResize", crop_and_resize);
  for (const char* op : {"NonMaxSuppression", "NonMaxSuppressionV2", "NonMaxSuppressionV3", "NonMaxSuppressionV4", "NonMaxSuppressionV5"})
    r.add(op, non_max_suppression);
  r.add("InTopK", in_top_k);
  r.add("InTopKV2", in_top_k);
}

}  // namespace tffreeze::runtime
