// Volumetric (3-D) convolutions and pooling in NDHWC or NCDHW (Conv3D, Conv3DBackpropInput(V2),
// MaxPool3D, AvgPool3D): im2col + GEMM (runtime/gemm.h); and 2-D MaxPoolWithArgmax.
#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

#include "common/dtype.h"
#include "common/window_size.h"
#include "runtime/dispatch.h"
#include "runtime/gemm.h"

namespace tffreeze::runtime {
namespace {


bool channels_first(const KernelContext& ctx) { return ctx.attr_string("data_format", "NDHWC") == "NCDHW"; }

// [N, A, B] -> [N, B, A] for any fixed-size dtype: NCDHW <-> NDHWC.
Tensor swap_inner(const KernelContext& ctx, const Tensor& x, std::int64_t A, std::int64_t B, std::vector<std::int64_t> shape) {
  const std::int64_t N = x.shape[0], e = dtype_size(x.dtype);
  if (e == 0) ctx.unsupported("dtype " + dtype_name(x.dtype));
  Tensor out = make_tensor(ctx, x.dtype, std::move(shape));
  const char* in = x.bytes.data();
  char* o = out.bytes.data();
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t a = 0; a < A; ++a)
      for (std::int64_t b = 0; b < B; ++b)
        std::memcpy(o + ((n * B + b) * A + a) * e, in + ((n * A + a) * B + b) * e, static_cast<std::size_t>(e));
  return out;
}

// The input in NDHWC: x itself (not a copy), or its NDHWC form, made in `converted`.
const Tensor& input_ndhwc(const KernelContext& ctx, const Tensor& x, Tensor* converted) {
  if (x.shape.size() != 5) ctx.fail("input must be 5-D, is " + dims_string(x.shape));
  if (!channels_first(ctx)) return x;
  const auto& s = x.shape;
  *converted = swap_inner(ctx, x, s[1], s[2] * s[3] * s[4], {s[0], s[2], s[3], s[4], s[1]});
  return *converted;
}

Tensor output_layout(const KernelContext& ctx, Tensor y) {
  if (!channels_first(ctx)) return y;
  const auto& s = y.shape;
  return swap_inner(ctx, y, s[1] * s[2] * s[3], s[4], {s[0], s[4], s[1], s[2], s[3]});
}

struct Geometry {
  std::int64_t N = 0, C = 0;
  std::array<std::int64_t, 3> in{}, k{}, out{}, stride{}, dilation{}, pad{};
  std::int64_t in_voxels() const { return in[0] * in[1] * in[2]; }
  std::int64_t out_voxels() const { return out[0] * out[1] * out[2]; }
  std::int64_t taps() const { return k[0] * k[1] * k[2]; }
};

// Spatial value i (0..2) of a 5-value attr in data_format order; 1 when the attr is absent.
std::int64_t spatial(const KernelContext& ctx, const std::vector<std::int64_t>& v, int i) {
  if (v.empty()) return 1;
  if (v.size() != 5) ctx.fail("strides, dilations and ksize need 5 values");
  const std::size_t batch = 0, channel = channels_first(ctx) ? 1 : 4;
  if (v[batch] != 1 || v[channel] != 1) ctx.unsupported("strides, dilations or windows across batch or channels");
  return v[static_cast<std::size_t>(channels_first(ctx) ? i + 2 : i + 1)];
}

// Output sizes and leading paddings (TensorFlow's SAME / VALID rules) of an NDHWC input.
Geometry geometry(const KernelContext& ctx, const std::vector<std::int64_t>& ndhwc, const std::array<std::int64_t, 3>& k,
                  const std::vector<std::int64_t>& strides, const std::vector<std::int64_t>& dilations) {
  Geometry g;
  g.N = ndhwc[0];
  g.C = ndhwc[4];
  const std::string padding = ctx.attr_string("padding", "VALID");
  constexpr std::int64_t kLimit = std::int64_t{1} << 30;
  for (int i = 0; i < 3; ++i) {
    const std::size_t u = static_cast<std::size_t>(i);
    g.in[u] = ndhwc[u + 1];
    g.k[u] = k[u];
    g.stride[u] = spatial(ctx, strides, i);
    g.dilation[u] = spatial(ctx, dilations, i);
    for (std::int64_t v : {g.k[u], g.stride[u], g.dilation[u]})
      if (v < 1 || v > kLimit) ctx.fail("window sizes, strides and dilations must be in [1, 2^30]");
    const std::int64_t eff = (g.k[u] - 1) * g.dilation[u] + 1;
    if (padding == "VALID") {
      auto out = valid_window_output(g.in[u], eff, g.stride[u]);
      if (!out) ctx.fail(negative_window_output(g.in[u], eff, g.stride[u]));
      g.out[u] = *out;
    } else if (padding == "SAME") {
      g.out[u] = (g.in[u] + g.stride[u] - 1) / g.stride[u];
      g.pad[u] = std::max<std::int64_t>((g.out[u] - 1) * g.stride[u] + eff - g.in[u], 0) / 2;
    } else {
      ctx.fail("padding '" + padding + "'");
    }
  }
  return g;
}

// Calls f(tap, voxel) for every window tap of output voxel `o`: voxel is the input voxel's
// flat index, or -1 where the tap falls in the padding.
template <class F>
void for_each_tap(const Geometry& g, std::int64_t o, F f) {
  const std::int64_t ow = o % g.out[2], oh = (o / g.out[2]) % g.out[1], od = o / (g.out[2] * g.out[1]);
  std::int64_t tap = 0;
  for (std::int64_t kd = 0; kd < g.k[0]; ++kd) {
    const std::int64_t id = od * g.stride[0] + kd * g.dilation[0] - g.pad[0];
    for (std::int64_t kh = 0; kh < g.k[1]; ++kh) {
      const std::int64_t ih = oh * g.stride[1] + kh * g.dilation[1] - g.pad[1];
      for (std::int64_t kw = 0; kw < g.k[2]; ++kw, ++tap) {
        const std::int64_t iw = ow * g.stride[2] + kw * g.dilation[2] - g.pad[2];
        const bool inside = id >= 0 && id < g.in[0] && ih >= 0 && ih < g.in[1] && iw >= 0 && iw < g.in[2];
        f(tap, inside ? (id * g.in[1] + ih) * g.in[2] + iw : -1);
      }
    }
  }
}

// Calls f(voxel) for the input voxels of output voxel `o`'s window (no dilation), in row-major
// order, skipping the padding.
template <class F>
void for_each_inside(const Geometry& g, std::int64_t o, F f) {
  const std::array<std::int64_t, 3> at = {o / (g.out[2] * g.out[1]), (o / g.out[2]) % g.out[1], o % g.out[2]};
  std::array<std::int64_t, 3> lo{}, hi{};
  for (std::size_t i = 0; i < 3; ++i) {
    const std::int64_t start = at[i] * g.stride[i] - g.pad[i];
    lo[i] = std::max<std::int64_t>(start, 0);
    hi[i] = std::min(start + g.k[i], g.in[i]);
  }
  for (std::int64_t id = lo[0]; id < hi[0]; ++id)
    for (std::int64_t ih = lo[1]; ih < hi[1]; ++ih)
      for (std::int64_t iw = lo[2]; iw < hi[2]; ++iw) f((id * g.in[1] + ih) * g.in[2] + iw);
}

// Rows of output voxels handled per GEMM, so the patch matrix stays near 4M values.
std::int64_t tile_rows(std::int64_t voxels, std::int64_t patch) {
  return std::max<std::int64_t>(1, std::min<std::int64_t>(voxels, (std::int64_t{1} << 22) / std::max<std::int64_t>(patch, 1)));
}

// NDHWC input, [KD,KH,KW,C,OC] filter -> NDHWC output.
template <class T>
void conv3d_ndhwc(const Geometry& g, std::int64_t OC, const T* in, const T* filter, T* out) {
  const std::int64_t patch = g.taps() * g.C, voxels = g.out_voxels(), tile = tile_rows(voxels, patch);
  std::vector<T> cols(static_cast<std::size_t>(tile * patch));
  for (std::int64_t n = 0; n < g.N; ++n) {
    const T* img = in + n * g.in_voxels() * g.C;
    for (std::int64_t p0 = 0; p0 < voxels; p0 += tile) {
      const std::int64_t rows = std::min(tile, voxels - p0);
      for (std::int64_t r = 0; r < rows; ++r) {
        T* row = cols.data() + r * patch;
        for_each_tap(g, p0 + r, [&](std::int64_t tap, std::int64_t v) {
          if (v < 0) std::fill_n(row + tap * g.C, g.C, T(0));
          else std::copy_n(img + v * g.C, g.C, row + tap * g.C);
        });
      }
      gemm(cols.data(), filter, out + (n * voxels + p0) * OC, {rows, patch, OC});
    }
  }
}

// The gradient of conv3d_ndhwc with respect to its input: patches = dy * F^T, scattered back.
template <class T>
void conv3d_backprop_ndhwc(const Geometry& g, std::int64_t OC, const T* dy, const T* filter, T* dx) {
  const std::int64_t patch = g.taps() * g.C, voxels = g.out_voxels(), tile = tile_rows(voxels, patch);
  std::vector<T> cols(static_cast<std::size_t>(tile * patch));
  for (std::int64_t n = 0; n < g.N; ++n) {
    T* img = dx + n * g.in_voxels() * g.C;
    for (std::int64_t p0 = 0; p0 < voxels; p0 += tile) {
      const std::int64_t rows = std::min(tile, voxels - p0);
      gemm(dy + (n * voxels + p0) * OC, filter, cols.data(), {rows, OC, patch, false, true});
      for (std::int64_t r = 0; r < rows; ++r) {
        const T* row = cols.data() + r * patch;
        for_each_tap(g, p0 + r, [&](std::int64_t tap, std::int64_t v) {
          if (v < 0) return;
          T* dst = img + v * g.C;
          for (std::int64_t c = 0; c < g.C; ++c) dst[c] += row[tap * g.C + c];
        });
      }
    }
  }
}

void check_filter(const KernelContext& ctx, const Tensor& filter, std::int64_t channels, tf::DataType dtype) {
  if (filter.shape.size() != 5) ctx.fail("filter must be 5-D [KD,KH,KW,C,OC], is " + dims_string(filter.shape));
  if (filter.dtype != dtype) ctx.fail("filter dtype differs from the input's");
  if (filter.shape[3] != channels) {
    ctx.fail("filter expects " + std::to_string(filter.shape[3]) + " input channels, input has " + std::to_string(channels));
  }
}

void conv3d(KernelContext& ctx) {
  Tensor converted;
  const Tensor& x = input_ndhwc(ctx, ctx.input(0), &converted);
  const Tensor& f = ctx.input(1);
  check_filter(ctx, f, x.shape[4], x.dtype);
  Geometry g = geometry(ctx, x.shape, {f.shape[0], f.shape[1], f.shape[2]}, ctx.attr_ints("strides"), ctx.attr_ints("dilations"));
  charge_work(ctx, {g.N, g.out_voxels(), g.taps(), g.C, f.shape[4]});
  Tensor y = make_tensor(ctx, x.dtype, {g.N, g.out[0], g.out[1], g.out[2], f.shape[4]});
  if (y.num_elements() > 0 && x.num_elements() > 0)  // else the window sizes need not be real
    dispatch_float(ctx, x.dtype, [&](auto t) {
    using T = decltype(t);
    conv3d_ndhwc<T>(g, f.shape[4], data<T>(x), data<T>(f), data<T>(y));
  });
  ctx.output(0) = output_layout(ctx, std::move(y));
}

// Conv3DBackpropInputV2 takes the input's shape as a tensor; the deprecated V1 takes the input.
void conv3d_backprop_input(KernelContext& ctx) {
  const bool v2 = ctx.node().op() == "Conv3DBackpropInputV2";
  const std::vector<std::int64_t> sizes = v2 ? ctx.input_ints(0) : ctx.input(0).shape;
  const Tensor& f = ctx.input(1);
  Tensor converted;
  const Tensor& dy = input_ndhwc(ctx, ctx.input(2), &converted);
  if (sizes.size() != 5) ctx.fail("input_sizes must have 5 values");
  for (std::int64_t s : sizes)
    if (s < 0) ctx.fail("input_sizes must not be negative");
  const bool cf = channels_first(ctx);
  const std::vector<std::int64_t> ndhwc = cf ? std::vector<std::int64_t>{sizes[0], sizes[2], sizes[3], sizes[4], sizes[1]} : sizes;
  check_filter(ctx, f, ndhwc[4], dy.dtype);
  Geometry g = geometry(ctx, ndhwc, {f.shape[0], f.shape[1], f.shape[2]}, ctx.attr_ints("strides"), ctx.attr_ints("dilations"));
  const std::int64_t OC = f.shape[4];
  if (dy.shape != std::vector<std::int64_t>{g.N, g.out[0], g.out[1], g.out[2], OC}) {
    ctx.fail("out_backprop " + dims_string(dy.shape) + " does not fit input_sizes and filter " + dims_string(f.shape));
  }
  charge_work(ctx, {g.N, g.out_voxels(), g.taps(), g.C, OC});
  Tensor dx = make_tensor(ctx, dy.dtype, ndhwc);
  if (dx.num_elements() > 0 && dy.num_elements() > 0)  // else the window sizes need not be real
    dispatch_float(ctx, dy.dtype, [&](auto t) {
    using T = decltype(t);
    conv3d_backprop_ndhwc<T>(g, OC, data<T>(dy), data<T>(f), data<T>(dx));
  });
  ctx.output(0) = output_layout(ctx, std::move(dx));
}

// MaxPool3D / AvgPool3D; the average is over the window's cells inside the input (SAME).
template <bool kMax>
void pool3d(KernelContext& ctx) {
  Tensor converted;
  const Tensor& x = input_ndhwc(ctx, ctx.input(0), &converted);
  auto ksize = ctx.attr_ints("ksize");
  if (ksize.size() != 5) ctx.fail("ksize must have 5 values");
  Geometry g = geometry(ctx, x.shape, {spatial(ctx, ksize, 0), spatial(ctx, ksize, 1), spatial(ctx, ksize, 2)}, ctx.attr_ints("strides"), {});
  charge_work(ctx, {g.N, g.out_voxels(), g.taps(), g.C});
  Tensor y = make_tensor(ctx, x.dtype, {g.N, g.out[0], g.out[1], g.out[2], g.C});
  if (y.num_elements() > 0) dispatch_float(ctx, x.dtype, [&](auto t) {
    using T = decltype(t);
    const T* in = data<T>(x);
    T* out = data<T>(y);
    for (std::int64_t n = 0; n < g.N; ++n)
      for (std::int64_t o = 0; o < g.out_voxels(); ++o) {
        T* dst = out + (n * g.out_voxels() + o) * g.C;
        std::fill_n(dst, g.C, kMax ? std::numeric_limits<T>::lowest() : T(0));
        std::int64_t count = 0;
        for_each_inside(g, o, [&](std::int64_t v) {
          ++count;
          const T* src = in + (n * g.in_voxels() + v) * g.C;
          for (std::int64_t c = 0; c < g.C; ++c) dst[c] = kMax ? std::max(dst[c], src[c]) : dst[c] + src[c];
        });
        if (!kMax && count)
          for (std::int64_t c = 0; c < g.C; ++c) dst[c] /= static_cast<T>(count);
      }
  });
  ctx.output(0) = output_layout(ctx, std::move(y));
}

// 2-D max pooling (NHWC) that also returns the flat index of each maximum, the first one in
// row-major window order; with include_batch_in_index the index counts the batch too.
void max_pool_with_argmax(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.shape.size() != 4) ctx.fail("input must be 4-D NHWC, is " + dims_string(x.shape));
  auto ksize = ctx.attr_ints("ksize");
  auto strides = ctx.attr_ints("strides");
  if (ksize.size() != 4 || strides.size() != 4) ctx.fail("ksize and strides need 4 values");
  if (ksize[0] != 1 || ksize[3] != 1 || strides[0] != 1 || strides[3] != 1) ctx.unsupported("pooling across batch or channels");
  // A 2-D pool is a 3-D one with a depth of 1.
  const std::vector<std::int64_t> nhwc = {x.shape[0], 1, x.shape[1], x.shape[2], x.shape[3]};
  Geometry g = geometry(ctx, nhwc, {1, ksize[1], ksize[2]}, {1, 1, strides[1], strides[2], 1}, {});
  const tf::DataType index_type = ctx.attr_type("Targmax", tf::DT_INT64);
  if (index_type != tf::DT_INT64 && index_type != tf::DT_INT32) ctx.fail("Targmax must be int32 or int64");
  const bool with_batch = ctx.attr_bool("include_batch_in_index", false);
  charge_work(ctx, {g.N, g.out_voxels(), g.taps(), g.C});
  Tensor y = make_tensor(ctx, x.dtype, {g.N, g.out[1], g.out[2], g.C});
  Tensor arg = make_tensor(ctx, index_type, {g.N, g.out[1], g.out[2], g.C});
  if (y.num_elements() > 0) dispatch_numeric(ctx, x.dtype, [&](auto t) {
    using T = decltype(t);
    const T* in = data<T>(x);
    T* out = data<T>(y);
    std::vector<std::int64_t> best(static_cast<std::size_t>(g.C));
    for (std::int64_t n = 0; n < g.N; ++n)
      for (std::int64_t o = 0; o < g.out_voxels(); ++o) {
        const std::int64_t at = (n * g.out_voxels() + o) * g.C;
        std::fill_n(out + at, g.C, std::numeric_limits<T>::lowest());
        std::fill(best.begin(), best.end(), -1);
        for_each_inside(g, o, [&](std::int64_t v) {
          const std::int64_t base = ((with_batch ? n * g.in_voxels() : 0) + v) * g.C;
          for (std::int64_t c = 0; c < g.C; ++c) {
            const T value = in[(n * g.in_voxels() + v) * g.C + c];
            if (out[at + c] < value || best[static_cast<std::size_t>(c)] < 0) {
              out[at + c] = value;
              best[static_cast<std::size_t>(c)] = base + c;
            }
          }
        });
        for (std::int64_t c = 0; c < g.C; ++c) {
          const std::int64_t b = best[static_cast<std::size_t>(c)];
          if (index_type == tf::DT_INT64) data<std::int64_t>(arg)[at + c] = b;
          else data<std::int32_t>(arg)[at + c] = static_cast<std::int32_t>(b);
        }
      }
  });
  ctx.output(0) = std::move(y);
  ctx.output(1) = std::move(arg);
}

}  // namespace

void register_volume_kernels(KernelRegistry& r) {
  r.add("Conv3D", conv3d);
  r.add("Conv3DBackpropInput", conv3d_backprop_input);
  r.add("Conv3DBackpropInputV2", conv3d_backprop_input);
  r.add("MaxPool3D", pool3d<true>);
  r.add("AvgPool3D", pool3d<false>);
  r.add("MaxPoolWithArgmax", max_pool_with_argmax);
}

}  // namespace tffreeze::runtime
