// Image ops: bilinear and nearest-neighbour resizing (align_corners / half_pixel_centers),
// DepthToSpace and SpaceToDepth (NHWC).
#include <algorithm>
#include <cmath>

#include "runtime/dispatch.h"

namespace tffreeze::runtime {
namespace {

// Source coordinate of output index `o` (TensorFlow's scaler rules).
float source_coord(std::int64_t o, float scale, bool half_pixel) {
  return half_pixel ? (static_cast<float>(o) + 0.5f) * scale - 0.5f : static_cast<float>(o) * scale;
}

float scale_of(std::int64_t in, std::int64_t out, bool align_corners) {
  return align_corners && out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1) : static_cast<float>(in) / static_cast<float>(out);
}

template <bool kBilinear>
void resize(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto size = ctx.input_ints(1);
  if (x.shape.size() != 4 || size.size() != 2) ctx.fail("images must be [N,H,W,C] and size [2]");
  if (x.dtype != tf::DT_FLOAT) ctx.unsupported("resizing " + dtype_name(x.dtype) + " (float32 only)");
  const std::int64_t N = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape[3], OH = size[0], OW = size[1];
  const bool align = ctx.attr_bool("align_corners", false), half = ctx.attr_bool("half_pixel_centers", false);
  const float sy = scale_of(H, OH, align), sx = scale_of(W, OW, align);
  Tensor y = make_tensor(ctx, tf::DT_FLOAT, {N, OH, OW, C});
  const float* in = data<float>(x);
  float* out = data<float>(y);
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t oh = 0; oh < OH; ++oh)
      for (std::int64_t ow = 0; ow < OW; ++ow) {
        float* o = out + ((n * OH + oh) * OW + ow) * C;
        if constexpr (kBilinear) {
          const float fy = source_coord(oh, sy, half), fx = source_coord(ow, sx, half);
          const auto y0 = static_cast<std::int64_t>(std::floor(fy)), x0 = static_cast<std::int64_t>(std::floor(fx));
          const float dy = fy - static_cast<float>(y0), dx = fx - static_cast<float>(x0);
          auto at = [&](std::int64_t yy, std::int64_t xx) {
            yy = std::clamp<std::int64_t>(yy, 0, H - 1);
            xx = std::clamp<std::int64_t>(xx, 0, W - 1);
            return in + ((n * H + yy) * W + xx) * C;
          };
          const float *a = at(y0, x0), *b = at(y0, x0 + 1), *c = at(y0 + 1, x0), *d = at(y0 + 1, x0 + 1);
          for (std::int64_t k = 0; k < C; ++k) {
            const float top = a[k] + (b[k] - a[k]) * dx, bottom = c[k] + (d[k] - c[k]) * dx;
            o[k] = top + (bottom - top) * dy;
          }
        } else {
          auto pick = [&](std::int64_t o_idx, float s, std::int64_t limit) {
            float f = half ? (static_cast<float>(o_idx) + 0.5f) * s : static_cast<float>(o_idx) * s;
            auto v = static_cast<std::int64_t>(align ? std::round(f) : std::floor(f));
            return std::min(v, limit - 1);
          };
          const float* src = in + ((n * H + pick(oh, sy, H)) * W + pick(ow, sx, W)) * C;
          std::copy_n(src, C, o);
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

}  // namespace

void register_image_kernels(KernelRegistry& r) {
  r.add("ResizeBilinear", resize<true>);
  r.add("ResizeNearestNeighbor", resize<false>);
  r.add("DepthToSpace", depth_space<true>);
  r.add("SpaceToDepth", depth_space<false>);
}

}  // namespace tffreeze::runtime
