// Index and sequence ops: reverse, roll, cumulative sums and products, where, segments, partitions, scatter, bincount, histograms, nth element.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <unordered_set>

#include "common/dtype.h"
#include "runtime/broadcast.h"
#include "runtime/dispatch.h"

namespace tffreeze::runtime {
namespace {

using Shape = std::vector<std::int64_t>;

std::int64_t product(const Shape& v, std::size_t from = 0, std::size_t to = std::string::npos) {
  to = std::min(to, v.size());
  if (from >= to) return 1;
  return std::accumulate(v.begin() + static_cast<std::ptrdiff_t>(from), v.begin() + static_cast<std::ptrdiff_t>(to), std::int64_t{1},
                         std::multiplies<>());
}

Shape strides_of(const Shape& shape) {
  Shape s(shape.size(), 1);
  for (std::size_t d = shape.size(); d-- > 1;) s[d - 1] = s[d] * shape[d];
  return s;
}

// Fails unless elements of t can be moved (a fixed-size dtype or strings).
void check_movable(const KernelContext& ctx, const Tensor& t) {
  if (t.dtype != tf::DT_STRING && dtype_size(t.dtype) == 0) ctx.unsupported("dtype " + dtype_name(t.dtype) + " in a data-movement kernel");
}

// Copies `count` elements of src from `from` to dst at `to` (same dtype).
void copy_elements(Tensor& dst, std::int64_t to, const Tensor& src, std::int64_t from, std::int64_t count = 1) {
  if (src.dtype == tf::DT_STRING) {
    std::copy_n(src.strings.begin() + from, count, dst.strings.begin() + to);
    return;
  }
  const std::int64_t e = dtype_size(src.dtype);
  std::memcpy(dst.bytes.data() + to * e, src.bytes.data() + from * e, static_cast<std::size_t>(count * e));
}

// out[i] = x[source(coords of i in shape)] for every element of a new tensor of `shape`.
template <class Source>
Tensor remap(const KernelContext& ctx, const Tensor& x, const Shape& shape, Source source) {
  check_movable(ctx, x);
  Tensor out = make_tensor(ctx, x.dtype, shape);
  Shape counter(shape.size(), 0);
  for (std::int64_t i = 0, n = out.num_elements(); i < n; ++i) {
    copy_elements(out, i, x, source(counter));
    for (std::size_t d = shape.size(); d-- > 0;) {
      if (++counter[d] < shape[d]) break;
      counter[d] = 0;
    }
  }
  return out;
}

// Integer arithmetic wraps (as TensorFlow's does on every CPU), never overflows.
template <class T>
T add(T a, T b) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) return static_cast<T>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
  else return static_cast<T>(a + b);
}
template <class T>
T sub(T a, T b) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) return static_cast<T>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b));
  else return static_cast<T>(a - b);
}
template <class T>
T mul(T a, T b) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) return static_cast<T>(static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b));
  else return static_cast<T>(a * b);
}
template <class T>
T divide(const KernelContext& ctx, T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    if (b == 0) ctx.fail("integer division by zero");
    if constexpr (std::is_signed_v<T>) {
      if (b == -1) return static_cast<T>(std::uint64_t{0} - static_cast<std::uint64_t>(a));
    }
  }
  return static_cast<T>(a / b);
}

// ---- Reverse, Roll ----

void reverse(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const auto rank = static_cast<std::int64_t>(x.shape.size());
  std::vector<bool> flip(x.shape.size(), false);
  if (ctx.node().op() == "Reverse") {
    const Tensor& dims = ctx.input(1);
    if (dims.dtype != tf::DT_BOOL || dims.num_elements() != rank) ctx.fail("dims must be a bool vector with one value per dimension");
    for (std::int64_t d = 0; d < rank; ++d) flip[static_cast<std::size_t>(d)] = dims.bytes[static_cast<std::size_t>(d)] != 0;
  } else {
    for (auto a : ctx.input_ints(1)) {
      if (rank == 0) ctx.fail("cannot reverse a scalar along axis " + std::to_string(a));
      const auto d = static_cast<std::size_t>(normalize_axis(ctx, a, rank));
      if (flip[d]) ctx.fail("axis " + std::to_string(a) + " specified more than once");
      flip[d] = true;
    }
  }
  const Shape stride = strides_of(x.shape);
  ctx.output(0) = remap(ctx, x, x.shape, [&](const Shape& c) {
    std::int64_t at = 0;
    for (std::size_t d = 0; d < c.size(); ++d) at += (flip[d] ? x.shape[d] - 1 - c[d] : c[d]) * stride[d];
    return at;
  });
}

void roll(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto shifts = ctx.input_ints(1), axes = ctx.input_ints(2);
  const auto rank = static_cast<std::int64_t>(x.shape.size());
  if (shifts.size() != axes.size()) ctx.fail("shift and axis must have the same size");
  if (rank == 0 && !axes.empty()) ctx.fail("cannot roll a scalar");
  Shape total(x.shape.size(), 0);
  for (std::size_t k = 0; k < axes.size(); ++k) {
    const auto d = static_cast<std::size_t>(normalize_axis(ctx, axes[k], rank));
    const std::int64_t n = x.shape[d];
    if (n > 0) total[d] = ((total[d] + shifts[k] % n) % n + n) % n;
  }
  const Shape stride = strides_of(x.shape);
  ctx.output(0) = remap(ctx, x, x.shape, [&](const Shape& c) {
    std::int64_t at = 0;
    for (std::size_t d = 0; d < c.size(); ++d) at += ((c[d] - total[d] + x.shape[d]) % x.shape[d]) * stride[d];
    return at;
  });
}

// ---- Cumsum, Cumprod ----

template <bool kProd>
void cumulative(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto axis = ctx.input_ints(1);
  const auto rank = static_cast<std::int64_t>(x.shape.size());
  if (axis.size() != 1 || rank == 0) ctx.fail("axis must be a scalar and the input at least a vector");
  const auto a = static_cast<std::size_t>(normalize_axis(ctx, axis[0], rank));
  const bool exclusive = ctx.attr_bool("exclusive", false), reverse = ctx.attr_bool("reverse", false);
  const std::int64_t outer = product(x.shape, 0, a), n = x.shape[a], inner = product(x.shape, a + 1);
  Tensor out = make_tensor(ctx, x.dtype, x.shape);
  dispatch_numeric(ctx, x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* in = data<T>(x);
    T* o = data<T>(out);
    for (std::int64_t b = 0; b < outer; ++b)
      for (std::int64_t i = 0; i < inner; ++i) {
        T acc = static_cast<T>(kProd ? 1 : 0);
        for (std::int64_t k = 0; k < n; ++k) {
          const std::int64_t at = (b * n + (reverse ? n - 1 - k : k)) * inner + i;
          if (exclusive) o[at] = acc;
          acc = kProd ? mul(acc, in[at]) : add(acc, in[at]);
          if (!exclusive) o[at] = acc;
        }
      }
  });
  ctx.output(0) = std::move(out);
}

// ---- Where, NthElement, InvertPermutation, ListDiff, LinSpace ----

void where(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  std::vector<std::int64_t> hits;
  dispatch_any(ctx, x.dtype, [&](auto tag) {
    using T = decltype(tag);
    for (std::int64_t i = 0, n = x.num_elements(); i < n; ++i)
      if (x.get<T>(i) != T{}) hits.push_back(i);
  });
  const auto rank = static_cast<std::int64_t>(x.shape.size());
  Tensor out = make_tensor(ctx, tf::DT_INT64, {static_cast<std::int64_t>(hits.size()), rank});
  const Shape stride = strides_of(x.shape);
  std::int64_t* o = data<std::int64_t>(out);
  for (std::size_t k = 0; k < hits.size(); ++k)
    for (std::int64_t d = 0; d < rank; ++d) o[static_cast<std::int64_t>(k) * rank + d] = hits[k] / stride[static_cast<std::size_t>(d)] % x.shape[static_cast<std::size_t>(d)];
  ctx.output(0) = std::move(out);
}

void nth_element(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto nv = ctx.input_ints(1);
  if (nv.size() != 1 || !ctx.input(1).shape.empty()) ctx.fail("n must be a scalar");
  if (x.shape.empty()) ctx.fail("input must be at least rank 1");
  const std::int64_t last = x.shape.back();
  std::int64_t n = nv[0];
  if (n < 0 || n >= last) ctx.fail("n " + std::to_string(n) + " must be in [0, " + std::to_string(last) + ")");
  if (ctx.attr_bool("reverse", false)) n = last - n - 1;
  Tensor out = make_tensor(ctx, x.dtype, Shape(x.shape.begin(), x.shape.end() - 1));
  dispatch_numeric(ctx, x.dtype, [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> row(static_cast<std::size_t>(last));
    for (std::int64_t r = 0, rows = out.num_elements(); r < rows; ++r) {
      std::copy_n(data<T>(x) + r * last, last, row.begin());
      std::nth_element(row.begin(), row.begin() + n, row.end(), [](T a, T b) {
        if constexpr (std::is_floating_point_v<T>) return a < b || (std::isnan(b) && !std::isnan(a));  // NaN last: a strict order
        else return a < b;
      });
      data<T>(out)[r] = row[static_cast<std::size_t>(n)];
    }
  });
  ctx.output(0) = std::move(out);
}

Tensor int_tensor(const KernelContext& ctx, tf::DataType dtype, const std::vector<std::int64_t>& values) {
  Tensor t = make_tensor(ctx, dtype, {static_cast<std::int64_t>(values.size())});
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (dtype == tf::DT_INT64) data<std::int64_t>(t)[i] = values[i];
    else data<std::int32_t>(t)[i] = static_cast<std::int32_t>(values[i]);
  }
  return t;
}

void invert_permutation(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto p = ctx.input_ints(0);
  if (x.shape.size() != 1) ctx.fail("x must be a vector");
  const auto n = static_cast<std::int64_t>(p.size());
  std::vector<std::int64_t> inverse(p.size(), -1);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t v = p[static_cast<std::size_t>(i)];
    if (v < 0 || v >= n) ctx.fail(std::to_string(v) + " is not between 0 and " + std::to_string(n));
    if (inverse[static_cast<std::size_t>(v)] >= 0) ctx.fail(std::to_string(v) + " is duplicated in the input");
    inverse[static_cast<std::size_t>(v)] = i;
  }
  ctx.output(0) = int_tensor(ctx, x.dtype, inverse);
}

void list_diff(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& y = ctx.input(1);
  if (x.shape.size() != 1 || y.shape.size() != 1 || x.dtype != y.dtype) ctx.fail("x and y must be vectors of one dtype");
  std::vector<std::int64_t> kept;
  auto keep_absent = [&](const auto& xs, const auto& ys) {
    std::unordered_set<std::decay_t<decltype(xs[0])>> seen(ys.begin(), ys.end());
    for (std::size_t i = 0; i < xs.size(); ++i)
      if (!seen.count(xs[i])) kept.push_back(static_cast<std::int64_t>(i));
  };
  if (x.dtype == tf::DT_STRING) {
    keep_absent(x.strings, y.strings);
  } else {
    dispatch_any(ctx, x.dtype, [&](auto tag) {
      using T = decltype(tag);
      keep_absent(std::vector<T>(data<T>(x), data<T>(x) + x.num_elements()), std::vector<T>(data<T>(y), data<T>(y) + y.num_elements()));
    });
  }
  Tensor out = make_tensor(ctx, x.dtype, {static_cast<std::int64_t>(kept.size())});
  for (std::size_t k = 0; k < kept.size(); ++k) copy_elements(out, static_cast<std::int64_t>(k), x, kept[k]);
  ctx.output(0) = std::move(out);
  ctx.output(1) = int_tensor(ctx, ctx.attr_type("out_idx", tf::DT_INT32), kept);
}

void lin_space(KernelContext& ctx) {
  const Tensor& start = ctx.input(0);
  auto num = ctx.input_ints(2);
  if (start.num_elements() != 1 || ctx.input(1).num_elements() != 1 || num.size() != 1) ctx.fail("start, stop and num must be scalars");
  if (num[0] <= 0) ctx.fail("Requires num > 0: " + std::to_string(num[0]));
  Tensor out = make_tensor(ctx, start.dtype, {num[0]});
  dispatch_float(ctx, start.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T a = start.get<T>(0), b = ctx.input(1).get<T>(0);
    T* o = data<T>(out);
    o[0] = a;
    if (num[0] == 1) return;
    const T step = (b - a) / static_cast<T>(num[0] - 1);
    for (std::int64_t i = 1; i < num[0] - 1; ++i) o[i] = a + step * static_cast<T>(i);
    o[num[0] - 1] = b;
  });
  ctx.output(0) = std::move(out);
}

// ---- Bincount, HistogramFixedWidth ----

void bincount(KernelContext& ctx) {
  auto arr = ctx.input_ints(0);
  auto size = ctx.input_ints(1);
  const Tensor& weights = ctx.input(2);
  if (size.size() != 1 || size[0] < 0) ctx.fail("size must be a non-negative scalar");
  const bool weighted = weights.num_elements() > 0;
  if (weighted && weights.shape != ctx.input(0).shape) ctx.fail("weights must have the shape of arr, or no elements");
  for (auto v : arr)
    if (v < 0) ctx.fail("Input arr must be non-negative!");
  Tensor out = make_tensor(ctx, weights.dtype, {size[0]});
  dispatch_numeric(ctx, weights.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* o = data<T>(out);
    for (std::size_t i = 0; i < arr.size(); ++i)
      if (arr[i] < size[0]) o[arr[i]] = add(o[arr[i]], weighted ? weights.get<T>(static_cast<std::int64_t>(i)) : T{1});
  });
  ctx.output(0) = std::move(out);
}

void histogram_fixed_width(KernelContext& ctx) {
  const Tensor& values = ctx.input(0);
  const Tensor& range = ctx.input(1);
  auto nbins = ctx.input_ints(2);
  if (range.shape.size() != 1 || range.num_elements() != 2) ctx.fail("value_range should be a vector of 2 elements");
  if (nbins.size() != 1 || nbins[0] <= 0) ctx.fail("nbins should be a positive scalar");
  std::vector<std::int64_t> counts(static_cast<std::size_t>(nbins[0]), 0);
  dispatch_numeric(ctx, values.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T lo = range.get<T>(0), hi = range.get<T>(1);
    if (!(lo < hi)) ctx.fail("value_range should satisfy value_range[0] < value_range[1]");
    const double step = static_cast<double>(hi) / static_cast<double>(nbins[0]) - static_cast<double>(lo) / static_cast<double>(nbins[0]);
    for (std::int64_t i = 0, n = values.num_elements(); i < n; ++i) {
      const T v = values.get<T>(i);
      if constexpr (std::is_floating_point_v<T>)
        if (std::isnan(v)) ctx.fail("Histogram values must not contain NaN");
      const double at = (static_cast<double>(std::min(std::max(v, lo), hi)) - static_cast<double>(lo)) / step;
      const double last = static_cast<double>(nbins[0] - 1);
      ++counts[static_cast<std::size_t>(at < last ? at : last)];  // also a NaN or infinite `at` (step 0)
    }
  });
  ctx.output(0) = int_tensor(ctx, ctx.attr_type("dtype", tf::DT_INT32), counts);
}

// ---- Segment reductions ----

enum class Seg { kSum, kMean, kMax, kMin, kProd };

template <Seg S, class T>
T seg_identity() {
  if constexpr (S == Seg::kProd) return T{1};
  else if constexpr (S == Seg::kMax) return std::numeric_limits<T>::lowest();
  else if constexpr (S == Seg::kMin) return std::numeric_limits<T>::max();
  else return T{0};
}

template <Seg S, class T>
T seg_combine(T acc, T v) {
  if constexpr (S == Seg::kProd) return mul(acc, v);
  else if constexpr (S == Seg::kMax) return std::max(acc, v);
  else if constexpr (S == Seg::kMin) return std::min(acc, v);
  else return add(acc, v);
}

// Reduces rows of `inner` elements of data into `num` segments (segment[r] < 0: row dropped).
// Empty segments hold `empty_is_zero` ? 0 (1 for Prod) : the reduction's identity.
template <Seg S>
Tensor segment_reduce(const KernelContext& ctx, const Tensor& data_t, const std::vector<std::int64_t>& segment, std::int64_t num,
                      Shape shape, bool empty_is_zero) {
  Tensor out = make_tensor(ctx, data_t.dtype, std::move(shape));
  if (out.num_elements() == 0) return out;
  const std::int64_t inner = out.num_elements() / num;
  dispatch_numeric(ctx, data_t.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* o = data<T>(out);
    std::fill_n(o, out.num_elements(), seg_identity<S, T>());
    std::vector<std::int64_t> count(static_cast<std::size_t>(num), 0);
    for (std::size_t r = 0; r < segment.size(); ++r) {
      if (segment[r] < 0) continue;
      ++count[static_cast<std::size_t>(segment[r])];
      const T* in = data<T>(data_t) + static_cast<std::int64_t>(r) * inner;
      T* acc = o + segment[r] * inner;
      for (std::int64_t i = 0; i < inner; ++i) acc[i] = seg_combine<S>(acc[i], in[i]);
    }
    for (std::int64_t s = 0; s < num; ++s) {
      T* acc = o + s * inner;
      const std::int64_t c = count[static_cast<std::size_t>(s)];
      if (c == 0 && empty_is_zero && S != Seg::kProd) std::fill_n(acc, inner, T{0});
      if (S == Seg::kMean && c > 0)
        for (std::int64_t i = 0; i < inner; ++i) acc[i] = divide(ctx, acc[i], static_cast<T>(c));
    }
  });
  return out;
}

// SegmentSum/Mean/Max/Min/Prod: sorted ids over the first dimension; empty segments are 0.
template <Seg S>
void sorted_segment(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto ids = ctx.input_ints(1);
  if (ctx.input(1).shape.size() != 1 || x.shape.empty() || static_cast<std::int64_t>(ids.size()) != x.shape[0])
    ctx.fail("segment_ids should be a vector of the size of data's first dimension");
  for (std::size_t k = 0; k < ids.size(); ++k) {
    if (ids[k] < 0) ctx.fail("segment ids must be >= 0");
    if (k > 0 && ids[k] < ids[k - 1]) ctx.fail("segment ids are not increasing");
  }
  const std::int64_t num = ids.empty() ? 0 : ids.back() + 1;
  Shape shape = x.shape;
  shape[0] = num;
  ctx.output(0) = segment_reduce<S>(ctx, x, ids, num, shape, true);
}

// UnsortedSegmentSum/Max/Min/Prod: ids of any shape prefixing data's; negative ids are dropped.
template <Seg S>
void unsorted_segment(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& ids_t = ctx.input(1);
  auto ids = ctx.input_ints(1), num = ctx.input_ints(2);
  if (num.size() != 1 || num[0] < 0) ctx.fail("num_segments must be a non-negative scalar");
  if (ids_t.shape.size() > x.shape.size() || !std::equal(ids_t.shape.begin(), ids_t.shape.end(), x.shape.begin()))
    ctx.fail("segment_ids.shape " + dims_string(ids_t.shape) + " must be a prefix of data.shape " + dims_string(x.shape));
  for (auto id : ids)
    if (id >= num[0]) ctx.fail("segment id " + std::to_string(id) + " out of range [0, " + std::to_string(num[0]) + ")");
  Shape shape{num[0]};
  shape.insert(shape.end(), x.shape.begin() + static_cast<std::ptrdiff_t>(ids_t.shape.size()), x.shape.end());
  ctx.output(0) = segment_reduce<S>(ctx, x, ids, num[0], shape, false);
}

constexpr std::int64_t kMaxOutputs = 1 << 20;  // outputs of one node

// ---- DynamicPartition, DynamicStitch, ParallelConcat, AccumulateNV2, DeepCopy, Empty ----

void dynamic_partition(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& p_t = ctx.input(1);
  auto parts = ctx.input_ints(1);
  const std::int64_t num = ctx.attr_int("num_partitions", 1);
  if (num < 1 || num > kMaxOutputs) ctx.fail("num_partitions must be in [1, " + std::to_string(kMaxOutputs) + "]");
  if (p_t.shape.size() > x.shape.size() || !std::equal(p_t.shape.begin(), p_t.shape.end(), x.shape.begin()))
    ctx.fail("partitions.shape " + dims_string(p_t.shape) + " must be a prefix of data.shape " + dims_string(x.shape));
  check_movable(ctx, x);
  std::vector<std::int64_t> count(static_cast<std::size_t>(num), 0);
  for (auto p : parts) {
    if (p < 0 || p >= num) ctx.fail("partitions value " + std::to_string(p) + " is not in [0, " + std::to_string(num) + ")");
    ++count[static_cast<std::size_t>(p)];
  }
  const Shape rest(x.shape.begin() + static_cast<std::ptrdiff_t>(p_t.shape.size()), x.shape.end());
  const std::int64_t inner = product(rest);
  std::vector<Tensor> outs;
  for (auto c : count) {
    Shape shape{c};
    shape.insert(shape.end(), rest.begin(), rest.end());
    outs.push_back(make_tensor(ctx, x.dtype, shape));
  }
  std::vector<std::int64_t> filled(count.size(), 0);
  for (std::size_t r = 0; r < parts.size(); ++r) {
    const auto p = static_cast<std::size_t>(parts[r]);
    copy_elements(outs[p], filled[p]++ * inner, x, static_cast<std::int64_t>(r) * inner, inner);
  }
  for (std::size_t k = 0; k < outs.size(); ++k) ctx.output(static_cast<int>(k)) = std::move(outs[k]);
}

// DynamicStitch and ParallelDynamicStitch: merged[indices[m][i]] = data[m][i], later ones win.
void dynamic_stitch(KernelContext& ctx) {
  const int n = ctx.num_inputs() / 2;
  if (n < 1 || ctx.num_inputs() != 2 * n) ctx.fail("expects N indices and N data inputs");
  const Tensor& first = ctx.input(n);
  const std::size_t idx_rank = ctx.input(0).shape.size();
  if (first.shape.size() < idx_rank) ctx.fail("data[0] has a lower rank than indices[0]");
  const Shape rest(first.shape.begin() + static_cast<std::ptrdiff_t>(idx_rank), first.shape.end());
  std::int64_t rows = 0;
  std::vector<std::vector<std::int64_t>> indices;
  for (int m = 0; m < n; ++m) {
    const Tensor& d = ctx.input(n + m);
    Shape want = ctx.input(m).shape;
    want.insert(want.end(), rest.begin(), rest.end());
    if (d.dtype != first.dtype || d.shape != want) ctx.fail("data[" + std::to_string(m) + "] must have shape " + dims_string(want));
    indices.push_back(ctx.input_ints(m));
    for (auto i : indices.back()) {
      if (i < 0 || i > std::numeric_limits<std::int32_t>::max()) ctx.fail("index " + std::to_string(i) + " is not in [0, 2^31)");
      rows = std::max(rows, i + 1);
    }
  }
  Shape shape{rows};
  shape.insert(shape.end(), rest.begin(), rest.end());
  check_movable(ctx, first);
  Tensor out = make_tensor(ctx, first.dtype, shape);
  const std::int64_t inner = product(rest);
  for (int m = 0; m < n; ++m)
    for (std::size_t k = 0; k < indices[static_cast<std::size_t>(m)].size(); ++k)
      copy_elements(out, indices[static_cast<std::size_t>(m)][k] * inner, ctx.input(n + m), static_cast<std::int64_t>(k) * inner, inner);
  ctx.output(0) = std::move(out);
}

// ParallelConcat: the inputs stacked along the first dimension (each is [1, ...]).
void parallel_concat(KernelContext& ctx) {
  const Tensor& first = ctx.input(0);
  if (first.shape.empty()) ctx.fail("inputs must be at least rank 1");
  check_movable(ctx, first);
  Shape shape = first.shape;
  shape[0] = 0;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const Tensor& t = ctx.input(i);
    if (t.dtype != first.dtype || t.shape.size() != first.shape.size() || !std::equal(t.shape.begin() + 1, t.shape.end(), first.shape.begin() + 1))
      ctx.fail("input " + std::to_string(i) + " differs in dtype or shape from input 0");
    shape[0] += t.shape[0];
  }
  Tensor out = make_tensor(ctx, first.dtype, shape);
  std::int64_t at = 0;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    copy_elements(out, at, ctx.input(i), 0, ctx.input(i).num_elements());
    at += ctx.input(i).num_elements();
  }
  ctx.output(0) = std::move(out);
}

void accumulate_n(KernelContext& ctx) {
  Tensor sum = ctx.input(0);
  for (int i = 1; i < ctx.num_inputs(); ++i) {
    const Tensor& t = ctx.input(i);
    if (t.shape != sum.shape || t.dtype != sum.dtype) ctx.fail("inputs differ in shape or dtype");
    dispatch_numeric(ctx, sum.dtype, [&](auto tag) {
      using T = decltype(tag);
      for (std::int64_t k = 0, n = sum.num_elements(); k < n; ++k) data<T>(sum)[k] = add(data<T>(sum)[k], data<T>(t)[k]);
    });
  }
  ctx.output(0) = std::move(sum);
}

void deep_copy(KernelContext& ctx) { ctx.output(0) = ctx.input(0); }

// Empty: TensorFlow leaves the contents undefined unless init=true (then zeros).
// OneHot(indices, depth, on_value, off_value): output[prefix, d, suffix] is on_value where
// indices[prefix, suffix] == d, else off_value (TF's one_hot_op.cc: an index outside [0, depth),
// negative ones included, gives a row of off_value). Any movable T, strings included.
void one_hot(KernelContext& ctx) {
  const Tensor& indices = ctx.input(0);
  const Tensor &on = ctx.input(2), &off = ctx.input(3);
  if (!ctx.input(1).shape.empty() || !on.shape.empty() || !off.shape.empty()) ctx.fail("depth, on_value and off_value must be scalars");
  if (on.dtype != off.dtype) ctx.fail("on_value and off_value must have one dtype");
  check_movable(ctx, on);
  const std::int64_t depth = ctx.input_ints(1).at(0);
  if (depth < 0) ctx.fail("depth must be non-negative, got " + std::to_string(depth));
  const auto rank = static_cast<std::int64_t>(indices.shape.size());
  const std::int64_t axis = ctx.attr_int("axis", -1);
  if (axis < -1 || axis > rank) ctx.fail("axis must be -1 or in [0, " + std::to_string(rank) + "], got " + std::to_string(axis));
  Shape shape = indices.shape;
  const std::int64_t at = axis == -1 ? rank : axis;
  shape.insert(shape.begin() + at, depth);
  Tensor out = make_tensor(ctx, on.dtype, shape);
  std::int64_t suffix = 1;
  for (std::int64_t d = at; d < rank; ++d) suffix *= indices.shape[static_cast<std::size_t>(d)];
  const auto index = ctx.input_ints(0);
  for (std::int64_t i = 0, n = out.num_elements(); i < n; ++i) {
    const std::int64_t s = i % suffix, d = i / suffix % depth, p = i / suffix / depth;
    copy_elements(out, i, index[static_cast<std::size_t>(p * suffix + s)] == d ? on : off, 0);
  }
  ctx.output(0) = std::move(out);
}

void empty(KernelContext& ctx) {
  if (!ctx.attr_bool("init", false)) ctx.unsupported("Empty with init=false: TensorFlow leaves the contents undefined");
  ctx.output(0) = make_tensor(ctx, ctx.attr_type("dtype", tf::DT_FLOAT), ctx.input_ints(0));
}

// ---- BroadcastTo, BroadcastArgs ----

void broadcast_to(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Shape shape = ctx.input_ints(1);
  auto full = broadcast_shape(x.shape, shape);
  if (!full || *full != shape) ctx.fail("cannot broadcast " + dims_string(x.shape) + " to " + dims_string(shape));
  check_movable(ctx, x);
  Tensor out = make_tensor(ctx, x.dtype, shape);
  const auto index = broadcast_index(x.shape, shape);
  for (std::size_t i = 0; i < index.size(); ++i) copy_elements(out, static_cast<std::int64_t>(i), x, index[i]);
  ctx.output(0) = std::move(out);
}

void broadcast_args(KernelContext& ctx) {
  if (ctx.input(0).shape.size() != 1 || ctx.input(1).shape.size() != 1) ctx.fail("s0 and s1 must be vectors");
  auto shape = broadcast_shape(ctx.input_ints(0), ctx.input_ints(1));
  if (!shape) ctx.fail("shapes " + dims_string(ctx.input_ints(0)) + " and " + dims_string(ctx.input_ints(1)) + " do not broadcast");
  ctx.output(0) = int_tensor(ctx, ctx.input(0).dtype, *shape);
}

// ---- Scatter: ScatterNd, TensorScatter*, and the ref forms on a frozen variable's value ----

enum class Upd { kSet, kAdd, kSub, kMul, kDiv, kMin, kMax };

// Applies updates slice by slice: slice k of `updates` (or its one scalar) combines into
// `target` at element offset starts[k], `slice` elements long.
template <Upd U>
void apply_updates(const KernelContext& ctx, Tensor& target, const std::vector<std::int64_t>& starts, std::int64_t slice, const Tensor& updates) {
  if (updates.dtype != target.dtype) ctx.fail("updates must have the dtype of the target");
  const bool scalar = updates.shape.empty();
  if constexpr (U == Upd::kSet) {
    check_movable(ctx, target);
    for (std::size_t k = 0; k < starts.size(); ++k)
      for (std::int64_t i = 0; i < slice; ++i) copy_elements(target, starts[k] + i, updates, scalar ? 0 : static_cast<std::int64_t>(k) * slice + i);
  } else {
    dispatch_numeric(ctx, target.dtype, [&](auto tag) {
      using T = decltype(tag);
      T* t = data<T>(target);
      for (std::size_t k = 0; k < starts.size(); ++k)
        for (std::int64_t i = 0; i < slice; ++i) {
          const T u = updates.get<T>(scalar ? 0 : static_cast<std::int64_t>(k) * slice + i);
          T& v = t[starts[k] + i];
          if constexpr (U == Upd::kAdd) v = add(v, u);
          else if constexpr (U == Upd::kSub) v = sub(v, u);
          else if constexpr (U == Upd::kMul) v = mul(v, u);
          else if constexpr (U == Upd::kDiv) v = divide(ctx, v, u);
          else if constexpr (U == Upd::kMin) v = std::min(v, u);
          else v = std::max(v, u);
        }
    });
  }
}

// Scatter*(ref, indices, updates): rows of the first dimension.
template <Upd U>
void scatter(KernelContext& ctx) {
  Tensor target = ctx.input(0);
  const Tensor& updates = ctx.input(2);
  auto idx = ctx.input_ints(1);
  if (target.shape.empty()) ctx.fail("the variable must be at least rank 1");
  Shape want = ctx.input(1).shape;
  want.insert(want.end(), target.shape.begin() + 1, target.shape.end());
  if (!updates.shape.empty() && updates.shape != want) ctx.fail("updates must have shape " + dims_string(want) + " or be a scalar");
  const std::int64_t slice = product(target.shape, 1);
  std::vector<std::int64_t> starts;
  for (auto i : idx) {
    if (i < 0 || i >= target.shape[0]) ctx.fail("index " + std::to_string(i) + " is not in [0, " + std::to_string(target.shape[0]) + ")");
    starts.push_back(i * slice);
  }
  apply_updates<U>(ctx, target, starts, slice, updates);
  ctx.output(0) = std::move(target);
}

// The element offsets that the last dimension of indices (input `input`) addresses in `shape`.
std::vector<std::int64_t> nd_starts(const KernelContext& ctx, int input, const Shape& shape, std::int64_t* slice) {
  const Tensor& indices = ctx.input(input);
  if (indices.shape.empty()) ctx.fail("indices must be at least rank 1");
  const std::int64_t depth = indices.shape.back();
  if (depth > static_cast<std::int64_t>(shape.size())) ctx.fail("index depth exceeds the rank of " + dims_string(shape));
  *slice = product(shape, static_cast<std::size_t>(depth));
  if (depth == 0) return std::vector<std::int64_t>(static_cast<std::size_t>(product(indices.shape, 0, indices.shape.size() - 1)), 0);
  auto idx = ctx.input_ints(input);
  const Shape stride = strides_of(shape);
  std::vector<std::int64_t> starts;
  for (std::size_t k = 0; k < idx.size(); k += static_cast<std::size_t>(depth)) {
    std::int64_t at = 0;
    for (std::int64_t d = 0; d < depth; ++d) {
      const std::int64_t i = idx[k + static_cast<std::size_t>(d)];
      if (i < 0 || i >= shape[static_cast<std::size_t>(d)]) ctx.fail("index " + std::to_string(i) + " out of range for " + dims_string(shape));
      at += i * stride[static_cast<std::size_t>(d)];
    }
    starts.push_back(at);
  }
  return starts;
}

void check_nd_updates(const KernelContext& ctx, const Tensor& indices, const Tensor& updates, const Shape& shape) {
  Shape want(indices.shape.begin(), indices.shape.end() - 1);
  want.insert(want.end(), shape.begin() + std::min<std::int64_t>(indices.shape.back(), static_cast<std::int64_t>(shape.size())), shape.end());
  if (updates.shape != want) ctx.fail("updates must have shape " + dims_string(want) + ", has " + dims_string(updates.shape));
}

// ScatterNdAdd/Sub/Update(ref, ...) and TensorScatterUpdate/Add/Sub/Min/Max(tensor, ...).
template <Upd U>
void scatter_nd_into(KernelContext& ctx) {
  Tensor target = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  std::int64_t slice = 0;
  auto starts = nd_starts(ctx, 1, target.shape, &slice);
  check_nd_updates(ctx, indices, ctx.input(2), target.shape);
  apply_updates<U>(ctx, target, starts, slice, ctx.input(2));
  ctx.output(0) = std::move(target);
}

// ScatterNd(indices, updates, shape): zeros with the updates added.
void scatter_nd(KernelContext& ctx) {
  const Tensor& indices = ctx.input(0);
  const Tensor& updates = ctx.input(1);
  Tensor target = make_tensor(ctx, updates.dtype, ctx.input_ints(2));
  std::int64_t slice = 0;
  auto starts = nd_starts(ctx, 0, target.shape, &slice);
  check_nd_updates(ctx, indices, updates, target.shape);
  apply_updates<Upd::kAdd>(ctx, target, starts, slice, updates);
  ctx.output(0) = std::move(target);
}

// Assign(ref, value) on a frozen variable: the assigned value, as TensorFlow's output_ref holds.
void assign(KernelContext& ctx) {
  const Tensor& ref = ctx.input(0);
  const Tensor& value = ctx.input(1);
  if (ctx.attr_bool("validate_shape", true) && ref.shape != value.shape)
    ctx.fail("Assign requires shapes of both tensors to match: " + dims_string(ref.shape) + " vs " + dims_string(value.shape));
  ctx.output(0) = value;
}

}  // namespace

void register_indexing_kernels(KernelRegistry& r) {
  r.add("ReverseV2", reverse);
  r.add("Reverse", reverse);
  r.add("Roll", roll);
  r.add("Cumsum", cumulative<false>);
  r.add("Cumprod", cumulative<true>);
  r.add("Where", where);
  r.add("NthElement", nth_element);
  r.add("InvertPermutation", invert_permutation);
  r.add("ListDiff", list_diff);
  r.add("LinSpace", lin_space);
  r.add("Bincount", bincount);
  r.add("HistogramFixedWidth", histogram_fixed_width);
  r.add("SegmentSum", sorted_segment<Seg::kSum>);
  r.add("SegmentMean", sorted_segment<Seg::kMean>);
  r.add("SegmentMax", sorted_segment<Seg::kMax>);
  r.add("SegmentMin", sorted_segment<Seg::kMin>);
  r.add("SegmentProd", sorted_segment<Seg::kProd>);
  r.add("UnsortedSegmentSum", unsorted_segment<Seg::kSum>);
  r.add("UnsortedSegmentMax", unsorted_segment<Seg::kMax>);
  r.add("UnsortedSegmentMin", unsorted_segment<Seg::kMin>);
  r.add("UnsortedSegmentProd", unsorted_segment<Seg::kProd>);
  r.add("DynamicPartition", dynamic_partition);
  r.add("DynamicStitch", dynamic_stitch);
  r.add("ParallelDynamicStitch", dynamic_stitch);
  r.add("ParallelConcat", parallel_concat);
  r.add("AccumulateNV2", accumulate_n);
  r.add("DeepCopy", deep_copy);
  r.add("Empty", empty);
  r.add("OneHot", one_hot);
  r.add("BroadcastTo", broadcast_to);
  r.add("BroadcastArgs", broadcast_args);
  r.add("ScatterNd", scatter_nd);
  r.add("TensorScatterUpdate", scatter_nd_into<Upd::kSet>);
  r.add("TensorScatterAdd", scatter_nd_into<Upd::kAdd>);
  r.add("TensorScatterSub", scatter_nd_into<Upd::kSub>);
  r.add("TensorScatterMin", scatter_nd_into<Upd::kMin>);
  r.add("TensorScatterMax", scatter_nd_into<Upd::kMax>);
  r.add("ScatterNdUpdate", scatter_nd_into<Upd::kSet>);
  r.add("ScatterNdAdd", scatter_nd_into<Upd::kAdd>);
  r.add("ScatterNdSub", scatter_nd_into<Upd::kSub>);
  r.add("ScatterUpdate", scatter<Upd::kSet>);
  r.add("ScatterAdd", scatter<Upd::kAdd>);
  r.add("ScatterSub", scatter<Upd::kSub>);
  r.add("ScatterMul", scatter<Upd::kMul>);
  r.add("ScatterDiv", scatter<Upd::kDiv>);
  r.add("ScatterMin", scatter<Upd::kMin>);
  r.add("ScatterMax", scatter<Upd::kMax>);
  r.add("Assign", assign);
}

}  // namespace tffreeze::runtime
