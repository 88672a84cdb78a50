// Element-wise math with NumPy broadcasting: binary arithmetic and comparisons, unary
// functions, activations, Select, ClipByValue, AddN.
#include <algorithm>
#include <cmath>
#include <functional>

#include "runtime/broadcast.h"
#include "runtime/dispatch.h"
#include "runtime/parallel.h"

namespace tffreeze::runtime {
namespace {

// Where b repeats along a's leading axes (a bias or scale per channel): b's elements are a's
// trailing block, a has the result's shape. The size of that block, else 0.
std::int64_t trailing_block(const std::vector<std::int64_t>& full, const std::vector<std::int64_t>& part) {
  std::size_t first = 0;
  while (first < part.size() && part[first] == 1) ++first;
  const std::size_t rank = part.size() - first;
  if (rank == 0 || rank > full.size()) return 0;
  std::int64_t block = 1;
  for (std::size_t k = 0; k < rank; ++k) {
    if (part[first + k] != full[full.size() - rank + k]) return 0;
    block *= part[first + k];
  }
  return block;
}

// po[i] = f(pa[ia(i)], pb[ib(i)]) over the broadcast `shape` (po may be pa or pb: each element
// is read before it is written, at the same index).
template <class T, class R, class F>
void broadcast_loops(const T* pa, const std::vector<std::int64_t>& a_shape, const T* pb, const std::vector<std::int64_t>& b_shape,
                     const std::vector<std::int64_t>& shape, R* po, F f) {
  std::int64_t n = 1, na = 1, nb = 1;
  for (auto d : shape) n *= d;
  for (auto d : a_shape) na *= d;
  for (auto d : b_shape) nb *= d;
  if (a_shape == b_shape) {
    parallel_ranges(n, [&](std::int64_t i0, std::int64_t i1) { for (std::int64_t i = i0; i < i1; ++i) po[i] = f(pa[i], pb[i]); });
  } else if (nb == 1) {
    const T v = pb[0];
    parallel_ranges(n, [&](std::int64_t i0, std::int64_t i1) { for (std::int64_t i = i0; i < i1; ++i) po[i] = f(pa[i], v); });
  } else if (na == 1) {
    const T v = pa[0];
    parallel_ranges(n, [&](std::int64_t i0, std::int64_t i1) { for (std::int64_t i = i0; i < i1; ++i) po[i] = f(v, pb[i]); });
  } else if (const std::int64_t m = a_shape == shape ? trailing_block(shape, b_shape) : 0; m > 0) {
    parallel_for_each(n / m, [&](std::int64_t o) { for (std::int64_t j = 0; j < m; ++j) po[o * m + j] = f(pa[o * m + j], pb[j]); }, m);
  } else if (const std::int64_t m2 = b_shape == shape ? trailing_block(shape, a_shape) : 0; m2 > 0) {
    parallel_for_each(n / m2, [&](std::int64_t o) { for (std::int64_t j = 0; j < m2; ++j) po[o * m2 + j] = f(pa[j], pb[o * m2 + j]); }, m2);
  } else {
    auto ia = broadcast_index(a_shape, shape), ib = broadcast_index(b_shape, shape);
    for (std::int64_t i = 0; i < n; ++i) po[i] = f(pa[ia[static_cast<std::size_t>(i)]], pb[ib[static_cast<std::size_t>(i)]]);
  }
}

// out = f(a, b) with broadcasting; R is the result type.
template <class T, class R, class F>
Tensor broadcast_binary(KernelContext& ctx, const Tensor& a, const Tensor& b, F f) {
  auto shape = broadcast_shape(a.shape, b.shape);
  if (!shape) ctx.fail("shapes " + dims_string(a.shape) + " and " + dims_string(b.shape) + " do not broadcast");
  Tensor out = make_tensor(ctx, dtype_of<R>(), *shape);
  broadcast_loops(data<T>(a), a.shape, data<T>(b), b.shape, *shape, data<R>(out), f);
  return out;
}

// The same over inputs 0 and 1, the result in an operand's buffer when that operand is dead
// after this node and has the result's shape and type.
template <class T, class R, class F>
Tensor broadcast_inputs(KernelContext& ctx, F f) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  auto shape = broadcast_shape(a.shape, b.shape);
  if (!shape) ctx.fail("shapes " + dims_string(a.shape) + " and " + dims_string(b.shape) + " do not broadcast");
  const std::vector<std::int64_t> a_shape = a.shape, b_shape = b.shape;
  const T* pa = data<T>(a);
  const T* pb = data<T>(b);
  const bool same_type = std::is_same_v<T, R> && a.dtype == dtype_of<R>();
  Tensor out;
  if (same_type && a_shape == *shape && ctx.input_reusable(0)) out = ctx.take_input(0), pa = reinterpret_cast<const T*>(data<R>(out));
  else if (same_type && b_shape == *shape && ctx.input_reusable(1)) out = ctx.take_input(1), pb = reinterpret_cast<const T*>(data<R>(out));
  else out = make_tensor(ctx, dtype_of<R>(), *shape);
  broadcast_loops(pa, a_shape, pb, b_shape, *shape, data<R>(out), f);
  return out;
}

void check_same_dtype(KernelContext& ctx) {
  if (ctx.input(0).dtype != ctx.input(1).dtype) {
    ctx.fail("operand dtypes differ: " + dtype_name(ctx.input(0).dtype) + " and " + dtype_name(ctx.input(1).dtype));
  }
}

template <class Op>
void arithmetic(KernelContext& ctx) {
  check_same_dtype(ctx);
  ctx.output(0) = dispatch_numeric(ctx, ctx.input(0).dtype, [&](auto t) {
    using T = decltype(t);
    return broadcast_inputs<T, T>(ctx, [](T x, T y) { return Op::template apply<T>(x, y); });
  });
}

template <class Op>
void arithmetic_float(KernelContext& ctx) {
  check_same_dtype(ctx);
  ctx.output(0) = dispatch_float(ctx, ctx.input(0).dtype, [&](auto t) {
    using T = decltype(t);
    return broadcast_inputs<T, T>(ctx, [](T x, T y) { return Op::template apply<T>(x, y); });
  });
}

template <class Op>
void comparison(KernelContext& ctx) {
  check_same_dtype(ctx);
  ctx.output(0) = dispatch_any(ctx, ctx.input(0).dtype, [&](auto t) {
    using T = decltype(t);
    return broadcast_inputs<T, bool>(ctx, [](T x, T y) { return Op::template apply<T>(x, y); });
  });
}

template <class Op>
void logical(KernelContext& ctx) {
  if (ctx.input(0).dtype != tf::DT_BOOL || ctx.input(1).dtype != tf::DT_BOOL) ctx.fail("operands must be bool");
  ctx.output(0) = broadcast_inputs<bool, bool>(ctx, [](bool x, bool y) { return Op::apply(x, y); });
}

#define BINARY(Name, expr)                       \
  struct Name {                                  \
    template <class T>                           \
    static T apply(T x, T y) {                   \
      return expr;                               \
    }                                            \
  };
BINARY(AddOp, static_cast<T>(x + y))
BINARY(SubOp, static_cast<T>(x - y))
BINARY(MulOp, static_cast<T>(x * y))
BINARY(MaxOp, std::max(x, y))
BINARY(MinOp, std::min(x, y))
BINARY(SquaredDiffOp, static_cast<T>((x - y) * (x - y)))
BINARY(Atan2Op, std::atan2(x, y))
#undef BINARY

struct DivOp {  // RealDiv/Div: integer division truncates (TF's Div on ints)
  template <class T>
  static T apply(T x, T y) {
    if constexpr (std::is_integral_v<T>) return y == 0 ? T{0} : static_cast<T>(x / y);
    else return x / y;
  }
};
struct DivNoNanOp {
  template <class T>
  static T apply(T x, T y) {
    return y == T{0} ? T{0} : DivOp::apply(x, y);
  }
};
struct FloorDivOp {
  template <class T>
  static T apply(T x, T y) {
    if constexpr (std::is_integral_v<T>) {
      if (y == 0) return T{0};
      T q = static_cast<T>(x / y);
      if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
      return q;
    } else {
      return std::floor(x / y);
    }
  }
};
struct FloorModOp {
  template <class T>
  static T apply(T x, T y) {
    if constexpr (std::is_integral_v<T>) {
      if (y == 0) return T{0};
      T r = static_cast<T>(x % y);
      if (r != 0 && ((r < 0) != (y < 0))) r = static_cast<T>(r + y);
      return r;
    } else {
      T r = std::fmod(x, y);
      if (r != 0 && ((r < 0) != (y < 0))) r += y;
      return r;
    }
  }
};
struct PowOp {
  template <class T>
  static T apply(T x, T y) {
    return static_cast<T>(std::pow(static_cast<double>(x), static_cast<double>(y)));
  }
};
struct TruncateModOp {
  template <class T>
  static T apply(T x, T y) {
    if constexpr (std::is_integral_v<T>) return y == 0 ? T{0} : static_cast<T>(x % y);
    else return std::fmod(x, y);
  }
};

#define COMPARE(Name, expr)        \
  struct Name {                    \
    template <class T>             \
    static bool apply(T x, T y) {  \
      return expr;                 \
    }                              \
  };
COMPARE(EqualOp, x == y)
COMPARE(NotEqualOp, x != y)
COMPARE(LessOp, x < y)
COMPARE(LessEqualOp, x <= y)
COMPARE(GreaterOp, x > y)
COMPARE(GreaterEqualOp, x >= y)
#undef COMPARE

struct AndOp {
  static bool apply(bool x, bool y) { return x && y; }
};
struct OrOp {
  static bool apply(bool x, bool y) { return x || y; }
};

// Unary functions on float/double (and ints where they make sense).
// out = f(x) element by element, in x's buffer when x is dead after this node.
template <class T, class F>
Tensor unary_map(KernelContext& ctx, F f) {
  const Tensor& x = ctx.input(0);
  const T* in = data<T>(x);
  Tensor out = ctx.output_buffer(0, x.dtype, x.shape);
  if (ctx.taken(0)) in = data<T>(out);
  T* o = data<T>(out);
  parallel_ranges(out.num_elements(), [&](std::int64_t i0, std::int64_t i1) {
    for (std::int64_t i = i0; i < i1; ++i) o[i] = static_cast<T>(f(in[i]));
  });
  return out;
}

template <class F>
void unary_float(KernelContext& ctx, F f) {
  ctx.output(0) = dispatch_float(ctx, ctx.input(0).dtype, [&](auto t) { return unary_map<decltype(t)>(ctx, f); });
}

template <class F>
void unary_numeric(KernelContext& ctx, F f) {
  ctx.output(0) = dispatch_numeric(ctx, ctx.input(0).dtype, [&](auto t) { return unary_map<decltype(t)>(ctx, f); });
}

#define UNARY_FLOAT(fn, expr) \
  void fn(KernelContext& ctx) { unary_float(ctx, [&](auto x) { return expr; }); }
#define UNARY_NUMERIC(fn, expr) \
  void fn(KernelContext& ctx) { unary_numeric(ctx, [&](auto x) { return expr; }); }

UNARY_FLOAT(rsqrt, 1 / std::sqrt(x))
UNARY_FLOAT(sqrt_k, std::sqrt(x))
UNARY_FLOAT(exp_k, std::exp(x))
UNARY_FLOAT(log_k, std::log(x))
UNARY_FLOAT(log1p_k, std::log1p(x))
UNARY_FLOAT(expm1_k, std::expm1(x))
UNARY_FLOAT(floor_k, std::floor(x))
UNARY_FLOAT(ceil_k, std::ceil(x))
UNARY_FLOAT(round_k, std::nearbyint(x))  // half to even, like TF's Round
UNARY_FLOAT(reciprocal, 1 / x)
UNARY_FLOAT(sigmoid, 1 / (1 + std::exp(-x)))
UNARY_FLOAT(tanh_k, std::tanh(x))
UNARY_FLOAT(sin_k, std::sin(x))
UNARY_FLOAT(cos_k, std::cos(x))
UNARY_FLOAT(erf_k, std::erf(x))
UNARY_FLOAT(erfc_k, std::erfc(x))
UNARY_FLOAT(tan_k, std::tan(x))
UNARY_FLOAT(asin_k, std::asin(x))
UNARY_FLOAT(acos_k, std::acos(x))
UNARY_FLOAT(atan_k, std::atan(x))
UNARY_FLOAT(sinh_k, std::sinh(x))
UNARY_FLOAT(cosh_k, std::cosh(x))
UNARY_FLOAT(asinh_k, std::asinh(x))
UNARY_FLOAT(acosh_k, std::acosh(x))
UNARY_FLOAT(atanh_k, std::atanh(x))
UNARY_FLOAT(rint_k, std::rint(x))  // half to even
UNARY_FLOAT(softplus, x > 20 ? x : std::log1p(std::exp(x)))
UNARY_FLOAT(softsign, x / (1 + std::abs(x)))
UNARY_FLOAT(elu, x < 0 ? std::expm1(x) : x)
UNARY_FLOAT(selu, x < 0 ? 1.7580993408473768 * std::expm1(x) : 1.0507009873554805 * x)
UNARY_NUMERIC(neg, -x)
UNARY_NUMERIC(abs_k, x < 0 ? -x : x)
UNARY_NUMERIC(square, x * x)
UNARY_NUMERIC(sign, (x > 0) - (x < 0))
UNARY_NUMERIC(relu, x > 0 ? x : decltype(x){0})
UNARY_NUMERIC(relu6, x < 0 ? decltype(x){0} : (x > 6 ? decltype(x){6} : x))

void leaky_relu(KernelContext& ctx) {
  const double alpha = ctx.attr_float("alpha", 0.2f);
  unary_float(ctx, [&](auto x) { return x < 0 ? alpha * x : x; });
}

// IsNan, IsInf, IsFinite: a bool per element of a float tensor.
template <class Pred>
void float_predicate(KernelContext& ctx, Pred pred) {
  const Tensor& x = ctx.input(0);
  Tensor out = make_tensor(ctx, tf::DT_BOOL, x.shape);
  dispatch_float(ctx, x.dtype, [&](auto t) {
    using T = decltype(t);
    for (std::int64_t i = 0, n = x.num_elements(); i < n; ++i) data<bool>(out)[i] = pred(data<T>(x)[i]);
  });
  ctx.output(0) = std::move(out);
}

void is_nan(KernelContext& ctx) { float_predicate(ctx, [](auto v) { return std::isnan(v); }); }
void is_inf(KernelContext& ctx) { float_predicate(ctx, [](auto v) { return std::isinf(v); }); }
void is_finite(KernelContext& ctx) { float_predicate(ctx, [](auto v) { return std::isfinite(v); }); }

void logical_not(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.dtype != tf::DT_BOOL) ctx.fail("operand must be bool");
  Tensor out = make_tensor(ctx, tf::DT_BOOL, x.shape);
  for (std::int64_t i = 0, n = x.num_elements(); i < n; ++i) out.bytes[static_cast<std::size_t>(i)] = x.bytes[static_cast<std::size_t>(i)] ? 0 : 1;
  ctx.output(0) = std::move(out);
}

// SelectV2 broadcasts all three operands; Select allows a vector condition over the first dim.
void select(KernelContext& ctx) {
  Tensor cond = ctx.input(0);
  const Tensor& t = ctx.input(1);
  const Tensor& e = ctx.input(2);
  if (cond.dtype != tf::DT_BOOL) ctx.fail("condition must be bool");
  if (t.dtype != e.dtype) ctx.fail("branches differ in dtype");
  if (ctx.node().op() == "Select" && cond.shape.size() == 1 && t.shape.size() > 1) {
    cond.shape.resize(t.shape.size(), 1);  // [n] -> [n,1,...,1]
  }
  auto s1 = broadcast_shape(cond.shape, t.shape);
  auto shape = s1 ? broadcast_shape(*s1, e.shape) : std::nullopt;
  if (!shape) ctx.fail("shapes " + dims_string(cond.shape) + ", " + dims_string(t.shape) + ", " + dims_string(e.shape) + " do not broadcast");
  auto ic = broadcast_index(cond.shape, *shape), it = broadcast_index(t.shape, *shape), ie = broadcast_index(e.shape, *shape);
  Tensor out = make_tensor(ctx, t.dtype, *shape);
  dispatch_any(ctx, t.dtype, [&](auto tag) {
    using T = decltype(tag);
    for (std::size_t i = 0; i < ic.size(); ++i) data<T>(out)[i] = cond.bytes[static_cast<std::size_t>(ic[i])] ? data<T>(t)[it[i]] : data<T>(e)[ie[i]];
  });
  ctx.output(0) = std::move(out);
}

void clip_by_value(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  dispatch_numeric(ctx, x.dtype, [&](auto tag) {
    using T = decltype(tag);
    Tensor lo = broadcast_binary<T, T>(ctx, x, ctx.input(1), [](T a, T b) { return std::max(a, b); });
    ctx.output(0) = broadcast_binary<T, T>(ctx, lo, ctx.input(2), [](T a, T b) { return std::min(a, b); });
  });
}

void add_n(KernelContext& ctx) {
  Tensor sum = ctx.input(0);
  for (int i = 1; i < ctx.num_inputs(); ++i) {
    if (ctx.input(i).shape != sum.shape || ctx.input(i).dtype != sum.dtype) ctx.fail("AddN inputs differ in shape or dtype");
    dispatch_numeric(ctx, sum.dtype, [&](auto tag) {
      using T = decltype(tag);
      for (std::int64_t k = 0, n = sum.num_elements(); k < n; ++k) data<T>(sum)[k] = static_cast<T>(data<T>(sum)[k] + data<T>(ctx.input(i))[k]);
    });
  }
  ctx.output(0) = std::move(sum);
}

}  // namespace

void register_elementwise_kernels(KernelRegistry& r) {
  r.add("Add", arithmetic<AddOp>);
  r.add("AddV2", arithmetic<AddOp>);
  r.add("Sub", arithmetic<SubOp>);
  r.add("Mul", arithmetic<MulOp>);
  r.add("RealDiv", arithmetic<DivOp>);
  r.add("Div", arithmetic<DivOp>);
  r.add("TruncateDiv", arithmetic<DivOp>);
  r.add("DivNoNan", arithmetic<DivNoNanOp>);
  r.add("FloorDiv", arithmetic<FloorDivOp>);
  r.add("FloorMod", arithmetic<FloorModOp>);
  r.add("Mod", arithmetic<TruncateModOp>);
  r.add("TruncateMod", arithmetic<TruncateModOp>);
  r.add("Maximum", arithmetic<MaxOp>);
  r.add("Minimum", arithmetic<MinOp>);
  r.add("Pow", arithmetic<PowOp>);
  r.add("SquaredDifference", arithmetic<SquaredDiffOp>);
  r.add("Equal", comparison<EqualOp>);
  r.add("NotEqual", comparison<NotEqualOp>);
  r.add("Less", comparison<LessOp>);
  r.add("LessEqual", comparison<LessEqualOp>);
  r.add("Greater", comparison<GreaterOp>);
  r.add("GreaterEqual", comparison<GreaterEqualOp>);
  r.add("LogicalAnd", logical<AndOp>);
  r.add("LogicalOr", logical<OrOp>);
  r.add("LogicalNot", logical_not);
  r.add("Rsqrt", rsqrt);
  r.add("Sqrt", sqrt_k);
  r.add("Exp", exp_k);
  r.add("Log", log_k);
  r.add("Log1p", log1p_k);
  r.add("Expm1", expm1_k);
  r.add("Floor", floor_k);
  r.add("Ceil", ceil_k);
  r.add("Round", round_k);
  r.add("Reciprocal", reciprocal);
  r.add("Inv", reciprocal);
  r.add("Sigmoid", sigmoid);
  r.add("Tanh", tanh_k);
  r.add("Sin", sin_k);
  r.add("Cos", cos_k);
  r.add("Erf", erf_k);
  r.add("Erfc", erfc_k);
  r.add("Tan", tan_k);
  r.add("Asin", asin_k);
  r.add("Acos", acos_k);
  r.add("Atan", atan_k);
  r.add("Sinh", sinh_k);
  r.add("Cosh", cosh_k);
  r.add("Asinh", asinh_k);
  r.add("Acosh", acosh_k);
  r.add("Atanh", atanh_k);
  r.add("Rint", rint_k);
  r.add("Atan2", arithmetic_float<Atan2Op>);
  r.add("Softplus", softplus);
  r.add("Softsign", softsign);
  r.add("Elu", elu);
  r.add("Selu", selu);
  r.add("LeakyRelu", leaky_relu);
  r.add("Neg", neg);
  r.add("Abs", abs_k);
  r.add("Square", square);
  r.add("Sign", sign);
  r.add("Relu", relu);
  r.add("Relu6", relu6);
  r.add("IsNan", is_nan);
  r.add("IsInf", is_inf);
  r.add("IsFinite", is_finite);
  r.add("Select", select);
  r.add("SelectV2", select);
  r.add("ClipByValue", clip_by_value);
  r.add("AddN", add_n);
}

}  // namespace tffreeze::runtime
