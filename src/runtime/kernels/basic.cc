// Constants, identities, control flow (Switch), Cast, random numbers.
#include <cmath>
#include <random>
#include <sstream>

#include "common/dtype.h"
#include "runtime/dispatch.h"

namespace tffreeze::runtime {
namespace {

void const_kernel(KernelContext& ctx) {
  auto it = ctx.node().attr().find("value");
  if (it == ctx.node().attr().end()) ctx.fail("Const has no value");
  Tensor t = tensor_from_proto(it->second.tensor(), "node '" + ctx.node().name() + "'");
  if (t.dtype == tf::DT_HALF || t.dtype == tf::DT_BFLOAT16) {  // half on load: computed in float32
    Tensor wide = make_tensor(ctx, tf::DT_FLOAT, t.shape);
    for (std::int64_t i = 0, n = t.num_elements(); i < n; ++i) data<float>(wide)[i] = static_cast<float>(element_as_double(t, i));
    t = std::move(wide);
  }
  ctx.output(0) = std::move(t);
}

void identity(KernelContext& ctx) { ctx.output(0) = ctx.input(0); }

void identity_n(KernelContext& ctx) {
  for (int i = 0; i < ctx.num_inputs(); ++i) ctx.output(i) = ctx.input(i);
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
  ctx.output(taken ? 1 : 0) = ctx.input(0);  // the other output stays dtype-less: dead
}

template <class From, class To>
To convert(From v) {
  if constexpr (std::is_same_v<To, bool>) return v != From{};
  else return static_cast<To>(v);
}

void cast(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  tf::DataType to = ctx.attr_type("DstT", tf::DT_FLOAT);
  if (x.dtype == to) {
    ctx.output(0) = x;
    return;
  }
  Tensor src = x;
  if (x.dtype == tf::DT_HALF || x.dtype == tf::DT_BFLOAT16) {  // widen to float first
    src = make_tensor(ctx, tf::DT_FLOAT, x.shape);
    for (std::int64_t i = 0, n = x.num_elements(); i < n; ++i) data<float>(src)[i] = static_cast<float>(element_as_double(x, i));
  }
  Tensor out = make_tensor(ctx, to, x.shape);
  dispatch_any(ctx, src.dtype, [&](auto s) {
    using S = decltype(s);
    dispatch_any(ctx, to, [&](auto d) {
      using D = decltype(d);
      const S* in = data<S>(src);
      D* o = data<D>(out);
      for (std::int64_t i = 0, n = src.num_elements(); i < n; ++i) o[i] = convert<S, D>(in[i]);
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
  if (a < 0 || a >= std::max<std::int64_t>(rank, 1)) ctx.fail("axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
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
