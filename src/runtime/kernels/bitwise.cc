// Bit-level ops: Bitcast between every dtype, Invert, Bitwise*, shifts, PopulationCount, CompareAndBitpack.
// Half and bfloat16 tensors are computed in float32 (const_kernel widens them): Bitcast takes such a
// tensor back to its 16-bit patterns, and widens 16-bit results again.
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include <Eigen/Core>

#include "common/dtype.h"
#include "runtime/broadcast.h"
#include "runtime/binary_broadcast.h"
#include "runtime/dispatch.h"

namespace tffreeze::runtime {
namespace {

bool is_16bit_float(tf::DataType t) { return t == tf::DT_HALF || t == tf::DT_BFLOAT16; }

// The half or bfloat16 bits of a float32 value: rounded to nearest even (exact for a value that came
// from 16 bits), NaN payloads kept.
std::uint16_t bits16(tf::DataType t, float v) {
  std::uint32_t f;
  std::memcpy(&f, &v, 4);
  if (std::isnan(v)) {
    const auto sign = static_cast<std::uint16_t>((f >> 16) & 0x8000u);
    if (t == tf::DT_BFLOAT16) return static_cast<std::uint16_t>((f >> 16) | ((f & 0x7f0000u) ? 0u : 0x40u));
    const std::uint32_t payload = (f >> 13) & 0x3ffu;
    return static_cast<std::uint16_t>(sign | 0x7c00u | (payload ? payload : 0x200u));
  }
  if (t == tf::DT_BFLOAT16) return Eigen::numext::bit_cast<std::uint16_t>(Eigen::bfloat16(v));
  return Eigen::numext::bit_cast<std::uint16_t>(Eigen::half(v));
}

float widen16(tf::DataType t, std::uint16_t bits) {
  if (t == tf::DT_HALF) return half_to_float(bits);
  const std::uint32_t f = std::uint32_t{bits} << 16;
  float v;
  std::memcpy(&v, &f, 4);
  return v;
}

// The element bytes of `x` as dtype `t` stores them.
std::string raw_bytes(const KernelContext& ctx, const Tensor& x, tf::DataType t) {
  if (x.dtype == t) return x.bytes;
  if (!is_16bit_float(t) || x.dtype != tf::DT_FLOAT) ctx.fail("input is " + dtype_name(x.dtype) + " but attr T is " + dtype_name(t));
  std::string out(static_cast<std::size_t>(x.num_elements()) * 2, '\0');
  for (std::int64_t i = 0, n = x.num_elements(); i < n; ++i) {
    const std::uint16_t b = bits16(t, x.get<float>(i));
    std::memcpy(out.data() + 2 * i, &b, 2);
  }
  return out;
}

// A tensor of dtype `t` from its element bytes; half and bfloat16 widen to float32.
Tensor from_raw_bytes(const KernelContext& ctx, tf::DataType t, const std::vector<std::int64_t>& shape, std::string bytes) {
  Tensor out = make_tensor(ctx, is_16bit_float(t) ? tf::DT_FLOAT : t, shape);
  if (!is_16bit_float(t)) {
    out.bytes = std::move(bytes);
    return out;
  }
  for (std::int64_t i = 0, n = out.num_elements(); i < n; ++i) {
    std::uint16_t b;
    std::memcpy(&b, bytes.data() + 2 * i, 2);
    data<float>(out)[i] = widen16(t, b);
  }
  return out;
}

// Half and bfloat16 tensors that arrive as such (placeholders) as float32.
Tensor widened(const KernelContext& ctx, const Tensor& x) {
  if (!is_16bit_float(x.dtype)) return x;
  return from_raw_bytes(ctx, x.dtype, x.shape, x.bytes);
}

// TensorFlow's shapes: equal sizes keep the shape, a larger input type appends a dim of the
// ratio, a smaller one drops the last dim, which must equal the ratio.
void bitcast(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const tf::DataType from = ctx.attr_type("T", x.dtype), to = ctx.attr_type("type", tf::DT_INVALID);
  const int in = dtype_size(from), out = dtype_size(to);
  if (in == 0 || out == 0) ctx.unsupported("Bitcast from " + dtype_name(from) + " to " + dtype_name(to));
  if (std::max(in, out) % std::min(in, out) != 0) ctx.fail("cannot bitcast " + dtype_name(from) + " to " + dtype_name(to));
  std::vector<std::int64_t> shape = x.shape;
  if (in > out) {
    shape.push_back(in / out);
  } else if (in < out) {
    if (shape.empty() || shape.back() != out / in) ctx.fail("cannot bitcast " + dtype_name(from) + " " + dims_string(x.shape) + " to " + dtype_name(to));
    shape.pop_back();
  }
  ctx.output(0) = from_raw_bytes(ctx, to, shape, raw_bytes(ctx, x, from));
}

template <class T, class R = T, class F>
void unary_integer(KernelContext& ctx, F f) {
  const Tensor& x = ctx.input(0);
  Tensor out = make_tensor(ctx, dtype_of<R>(), x.shape);
  for (std::int64_t i = 0, n = x.num_elements(); i < n; ++i) data<R>(out)[i] = static_cast<R>(f(data<T>(x)[i]));
  ctx.output(0) = std::move(out);
}

void invert(KernelContext& ctx) {
  dispatch_integer(ctx, ctx.input(0).dtype, [&](auto t) { unary_integer<decltype(t)>(ctx, [](auto v) { return ~v; }); });
}

void population_count(KernelContext& ctx) {
  dispatch_integer(ctx, ctx.input(0).dtype, [&](auto t) {
    using T = decltype(t);
    unary_integer<T, std::uint8_t>(ctx, [](T v) { return std::popcount(static_cast<std::make_unsigned_t<T>>(v)); });
  });
}

// TensorFlow clamps the shift to [0, bits - 1] and shifts left as unsigned (cwise_ops.h).
template <class T>
int clamped_shift(T y) {
  constexpr int bits = std::numeric_limits<std::make_unsigned_t<T>>::digits;
  if constexpr (std::is_signed_v<T>) {
    if (y < 0) return 0;
  }
  return static_cast<int>(std::min<std::uint64_t>(static_cast<std::uint64_t>(y), bits - 1));
}

struct AndOp {
  template <class T>
  static T apply(T x, T y) { return static_cast<T>(x & y); }
};
struct OrOp {
  template <class T>
  static T apply(T x, T y) { return static_cast<T>(x | y); }
};
struct XorOp {
  template <class T>
  static T apply(T x, T y) { return static_cast<T>(x ^ y); }
};
struct LeftShiftOp {
  template <class T>
  static T apply(T x, T y) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(x) << clamped_shift(y)));
  }
};
struct RightShiftOp {  // arithmetic for signed types (C++20 defines it)
  template <class T>
  static T apply(T x, T y) { return static_cast<T>(x >> clamped_shift(y)); }
};

template <class Op>
void bitwise_binary(KernelContext& ctx) {
  dispatch_integer(ctx, ctx.input(0).dtype, [&](auto t) {
    using T = decltype(t);
    broadcast_binary<T>(ctx, [](T x, T y) { return Op::apply(x, y); });
  });
}

// Each run of 8 along the last dim becomes one byte, the first element in the highest bit:
// input > threshold (a bool input is its own bit).
void compare_and_bitpack(KernelContext& ctx) {
  const Tensor x = widened(ctx, ctx.input(0));
  const Tensor threshold = widened(ctx, ctx.input(1));
  if (!threshold.shape.empty()) ctx.fail("threshold must be a scalar, got " + dims_string(threshold.shape));
  if (x.shape.empty()) ctx.fail("input must be at least a vector");
  if (x.shape.back() % 8 != 0) ctx.fail("inner dimension of " + dims_string(x.shape) + " is not divisible by 8");
  if (x.dtype != threshold.dtype) ctx.fail("input and threshold dtypes differ");
  std::vector<std::int64_t> shape = x.shape;
  shape.back() /= 8;
  Tensor out = make_tensor(ctx, tf::DT_UINT8, shape);
  auto* po = data<std::uint8_t>(out);
  dispatch_any(ctx, x.dtype, [&](auto t) {
    using T = decltype(t);
    const T* in = data<T>(x);
    const T thresh = data<T>(threshold)[0];
    for (std::int64_t i = 0, n = out.num_elements(); i < n; ++i) {
      unsigned byte = 0;
      for (int k = 0; k < 8; ++k) {
        const T v = in[8 * i + k];
        bool bit;
        if constexpr (std::is_same_v<T, bool>) bit = v;
        else bit = v > thresh;
        byte = byte << 1 | (bit ? 1u : 0u);
      }
      po[i] = static_cast<std::uint8_t>(byte);
    }
  });
  ctx.output(0) = std::move(out);
}

}  // namespace

void register_bitwise_kernels(KernelRegistry& r) {
  r.add("Bitcast", bitcast);
  r.add("Invert", invert);
  r.add("PopulationCount", population_count);
  r.add("BitwiseAnd", bitwise_binary<AndOp>);
  r.add("BitwiseOr", bitwise_binary<OrOp>);
  r.add("BitwiseXor", bitwise_binary<XorOp>);
  r.add("LeftShift", bitwise_binary<LeftShiftOp>);
  r.add("RightShift", bitwise_binary<RightShiftOp>);
  r.add("CompareAndBitpack", compare_and_bitpack);
}

}  // namespace tffreeze::runtime
