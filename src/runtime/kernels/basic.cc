// Constants, identities, control flow (Switch), Cast, random numbers.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>

#include <Eigen/Core>

#include "common/dtype.h"
#include "graph/mapped_constants.h"
#include "runtime/dispatch.h"

namespace tffreeze::runtime {
namespace {

void const_kernel(KernelContext& ctx) {
  Tensor t = graph::constant_value(ctx.node());
  if (t.dtype == tf::DT_HALF || t.dtype == tf::DT_BFLOAT16) {  // half on load: computed in float32
    Tensor wide = make_tensor(ctx, tf::DT_FLOAT, t.shape);
    for (std::int64_t i = 0, n = t.num_elements(); i < n; ++i) data<float>(wide)[i] = static_cast<float>(element_as_double(t, i));
    t = std::move(wide);
  }
  ctx.output(0) = std::move(t);
}

// A computed input that no one reads afterwards is moved, not copied (Switch too).
void identity(KernelContext& ctx) { ctx.output(0) = ctx.take_input(0); }

void identity_n(KernelContext& ctx) {
  for (int i = 0; i < ctx.num_inputs(); ++i) ctx.output(i) = ctx.take_input(i);
}

void no_op(KernelContext&) {}

void check_numerics(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  dispatch_float(ctx, x.dtype, [&](auto t) {
    using T = decltype(t);
    const T* p = data<T>(x);
    for (std::int64_t i = 0, n = x.num_elements(); i < n; ++i) {
      if (!std::isfinite(p[i])) ctx.fail("CheckNumerics: " + ctx.attr_string("message", "") + " (found " + std::to_string(p[i]) + ")");
    }
  });
  ctx.output(0) = x;
}

// Assert: no outputs; fails with its data (at most `summarize` values each) when the condition is false.
void assert_kernel(KernelContext& ctx) {
  const Tensor& cond = ctx.input(0);
  if (cond.dtype != tf::DT_BOOL || cond.num_elements() != 1) ctx.fail("Assert's condition must be a scalar bool");
  if (cond.bytes[0] != 0) return;
  const std::int64_t summarize = ctx.attr_int("summarize", 3);
  std::string message = "assertion failed:";
  for (int i = 1; i < ctx.num_inputs(); ++i) {
    const Tensor& t = ctx.input(i);
    const std::int64_t n = t.dtype == tf::DT_STRING ? static_cast<std::int64_t>(t.strings.size()) : t.num_elements();
    message += " [";
    for (std::int64_t k = 0; k < std::min(n, summarize); ++k) {
      std::ostringstream v;
      if (t.dtype == tf::DT_STRING) v << t.strings[static_cast<std::size_t>(k)];
      else v << element_as_double(t, k);
      message += (k ? " " : "") + v.str();
    }
    message += n > summarize ? "...]" : "]";
  }
  ctx.fail(message);
}

void switch_kernel(KernelContext& ctx) {
  const Tensor& pred = ctx.input(1);
  if (pred.dtype != tf::DT_BOOL || pred.num_elements() != 1) ctx.fail("predicate must be a scalar bool");
  const bool taken = pred.bytes[0] != 0;
  ctx.output(0);
  ctx.output(1);
  ctx.output(taken ? 1 : 0) = ctx.take_input(0);  // the other output stays dtype-less: dead
}

// Float to integer as TensorFlow's x86-64 build converts (cvttss2si): NaN and values out of range
// give the "integer indefinite" minimum; narrower types wrap through int32, uint32 through int64.
template <class I, class S>
I truncate_x86(S v) {
  constexpr S lo = static_cast<S>(std::numeric_limits<I>::min());  // -2^31 or -2^63, exact
  if (!(v >= lo && v < -lo)) return std::numeric_limits<I>::min();
  return static_cast<I>(v);
}

template <class D, class S>
D float_to_int(S v) {
  if constexpr (std::is_same_v<D, std::int64_t>) {
    return truncate_x86<std::int64_t>(v);
  } else if constexpr (std::is_same_v<D, std::uint64_t>) {
    constexpr S two63 = static_cast<S>(9223372036854775808.0);
    if (!(v >= two63)) return static_cast<D>(truncate_x86<std::int64_t>(v));
    return static_cast<D>(truncate_x86<std::int64_t>(v - two63)) ^ (std::uint64_t{1} << 63);
  } else if constexpr (std::is_same_v<D, std::uint32_t>) {
    return static_cast<D>(truncate_x86<std::int64_t>(v));
  } else {
    return static_cast<D>(truncate_x86<std::int32_t>(v));
  }
}

template <class From, class To>
To convert(From v) {
  if constexpr (std::is_same_v<To, bool>) return v != From{};
  else if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) return float_to_int<To>(v);
  else return static_cast<To>(v);
}

// Cast(Truncate=true) to a float type with fewer mantissa bits drops the extra bits first
// (TensorFlow's LSBZeroSetter), so the conversion truncates instead of rounding.
template <class S>
S drop_mantissa_bits(S v, int keep_digits) {
  using U = std::conditional_t<sizeof(S) == 8, std::uint64_t, std::uint32_t>;
  const int drop = std::numeric_limits<S>::digits - keep_digits;
  if (drop <= 0 || std::isnan(v)) return v;
  U bits;
  std::memcpy(&bits, &v, sizeof v);
  bits &= ~((U{1} << drop) - 1);
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

int mantissa_digits(tf::DataType t) {
  switch (t) {
    case tf::DT_HALF: return 11;
    case tf::DT_BFLOAT16: return 8;
    case tf::DT_FLOAT: return 24;
    default: return 53;
  }
}

// float32 rounded to half or bfloat16 precision: the executor computes both in float32.
float round_to(tf::DataType t, float v) {
  if (t == tf::DT_HALF) return static_cast<float>(Eigen::half(v));
  if (t == tf::DT_BFLOAT16) return static_cast<float>(Eigen::bfloat16(v));
  return v;
}

Tensor widened(const KernelContext& ctx, const Tensor& x) {
  if (x.dtype != tf::DT_HALF && x.dtype != tf::DT_BFLOAT16) return x;
  Tensor wide = make_tensor(ctx, tf::DT_FLOAT, x.shape);
  for (std::int64_t i = 0, n = x.num_elements(); i < n; ++i) data<float>(wide)[i] = static_cast<float>(element_as_double(x, i));
  return wide;
}

// Every real dtype to every other; half and bfloat16 results are float32 values rounded to them.
void cast(KernelContext& ctx) {
  const tf::DataType to = ctx.attr_type("DstT", tf::DT_FLOAT);
  if (ctx.input(0).dtype == to) {
    ctx.output(0) = ctx.input(0);
    return;
  }
  const Tensor src = widened(ctx, ctx.input(0));
  const bool narrow = to == tf::DT_HALF || to == tf::DT_BFLOAT16;
  const bool truncate = ctx.attr_bool("Truncate", false);
  Tensor out = make_tensor(ctx, narrow ? tf::DT_FLOAT : to, src.shape);
  dispatch_real(ctx, src.dtype, [&](auto s) {
    using S = decltype(s);
    dispatch_real(ctx, out.dtype, [&](auto d) {
      using D = decltype(d);
      const S* in = data<S>(src);
      D* o = data<D>(out);
      for (std::int64_t i = 0, n = src.num_elements(); i < n; ++i) {
        S v = in[i];
        if constexpr (std::is_floating_point_v<S>) {
          if (truncate) v = drop_mantissa_bits(v, mantissa_digits(to));
        }
        o[i] = convert<S, D>(v);
        if constexpr (std::is_same_v<D, float>) o[i] = round_to(to, o[i]);
      }
    });
  });
  ctx.output(0) = std::move(out);
}

// Random numbers: deterministic for a given (seed, seed2), not TensorFlow's Philox stream.
template <class Fill>
void random_kernel(KernelContext& ctx, Fill fill) {
  auto shape = ctx.input_ints(0);
  tf::DataType dtype = ctx.attr_type("dtype", tf::DT_FLOAT);
  Tensor out = make_tensor(ctx, dtype, shape);
  std::mt19937_64 rng(static_cast<std::uint64_t>(ctx.attr_int("seed", 0)) * 1000003u + static_cast<std::uint64_t>(ctx.attr_int("seed2", 0)));
  dispatch_float(ctx, dtype, [&](auto t) {
    using T = decltype(t);
    T* o = data<T>(out);
    for (std::int64_t i = 0, n = out.num_elements(); i < n; ++i) o[i] = static_cast<T>(fill(rng));
  });
  ctx.output(0) = std::move(out);
}

void random_uniform(KernelContext& ctx) {
  std::uniform_real_distribution<double> d(0.0, 1.0);
  random_kernel(ctx, [&](auto& rng) { return d(rng); });
}
void random_normal(KernelContext& ctx) {
  std::normal_distribution<double> d(0.0, 1.0);
  random_kernel(ctx, [&](auto& rng) { return d(rng); });
}
void truncated_normal(KernelContext& ctx) {
  std::normal_distribution<double> d(0.0, 1.0);
  random_kernel(ctx, [&](auto& rng) {
    double v;
    do v = d(rng);
    while (std::abs(v) > 2.0);
    return v;
  });
}

}  // namespace

std::int64_t normalize_axis(const KernelContext& ctx, std::int64_t axis, std::int64_t rank) {
  std::int64_t a = axis < 0 ? axis + rank : axis;
  // A scalar has no axis (TF refuses squeezing, splitting, concatenating or gathering one).
  if (a < 0 || a >= rank) ctx.fail("axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
  return a;
}

void register_basic_kernels(KernelRegistry& r) {
  r.add("Const", const_kernel);
  for (const char* op : {"Identity", "StopGradient", "PreventGradient", "Snapshot", "PlaceholderWithDefault", "RefIdentity"}) {
    r.add(op, identity);
  }
  r.add("IdentityN", identity_n);
  r.add("NoOp", no_op);
  r.add("ControlTrigger", no_op);
  r.add("CheckNumerics", check_numerics);
  r.add("Assert", assert_kernel);
  r.add("Switch", switch_kernel);
  r.add("RefSwitch", switch_kernel);
  r.add("Cast", cast);
  r.add("RandomUniform", random_uniform);
  r.add("RandomStandardNormal", random_normal);
  r.add("TruncatedNormal", truncated_normal);
}

}  // namespace tffreeze::runtime
