// Reductions over axes (Mean, Sum, Max, Min, Prod, EuclideanNorm, Any, All), ArgMax/ArgMin and TopKV2.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "runtime/dispatch.h"
#include "runtime/parallel.h"

namespace tffreeze::runtime {
namespace {

struct Layout {
  std::int64_t outer = 1, reduced = 1, inner = 1;
};

// Reduced axes as a mask over the input's dims.
std::vector<bool> reduced_mask(const KernelContext& ctx, const Tensor& x, const std::vector<std::int64_t>& axes) {
  const auto rank = static_cast<std::int64_t>(x.shape.size());
  std::vector<bool> mask(x.shape.size(), false);
  for (auto a : axes) {
    // TF: an axis must be in [-rank, rank); a scalar has none to reduce.
    if (a < -rank || a >= rank) ctx.fail("invalid reduction dimension " + std::to_string(a) + " for an input of rank " + std::to_string(rank));
    mask[static_cast<std::size_t>(normalize_axis(ctx, a, rank))] = true;
  }
  return mask;
}

// Moves reduced axes last (a transpose, if needed) so each output element reduces a
// contiguous run: returns the permuted copy and the run length.
template <class T>
std::vector<T> gather_runs(const Tensor& x, const std::vector<bool>& mask, std::int64_t* run) {
  const std::size_t rank = x.shape.size();
  std::vector<std::size_t> perm;
  for (std::size_t d = 0; d < rank; ++d)
    if (!mask[d]) perm.push_back(d);
  *run = 1;
  for (std::size_t d = 0; d < rank; ++d)
    if (mask[d]) {
      perm.push_back(d);
      *run *= x.shape[d];
    }
  const std::int64_t n = x.num_elements();
  std::vector<T> out(static_cast<std::size_t>(n));
  std::vector<std::int64_t> stride(rank, 1), pshape(rank);
  for (std::size_t d = rank; d-- > 1;) stride[d - 1] = stride[d] * x.shape[d];
  for (std::size_t d = 0; d < rank; ++d) pshape[d] = x.shape[perm[d]];
  std::vector<std::int64_t> counter(rank, 0);
  std::int64_t at = 0;
  const T* in = data<T>(x);
  for (std::int64_t i = 0; i < n; ++i) {
    out[static_cast<std::size_t>(i)] = in[at];
    for (std::size_t d = rank; d-- > 0;) {
      ++counter[d];
      at += stride[perm[d]];
      if (counter[d] < pshape[d]) break;
      at -= stride[perm[d]] * counter[d];
      counter[d] = 0;
    }
  }
  return out;
}

std::vector<std::int64_t> reduced_shape(const Tensor& x, const std::vector<bool>& mask, bool keep_dims) {
  std::vector<std::int64_t> shape;
  for (std::size_t d = 0; d < x.shape.size(); ++d) {
    if (!mask[d]) shape.push_back(x.shape[d]);
    else if (keep_dims) shape.push_back(1);
  }
  return shape;
}

enum class Reduce { kSum, kMean, kMax, kMin, kProd };

// out[i] = f(values of run i, run length) for a reduction over the axes input 1 names: one output
// element per run of x's values, the runs split over the threads (each sums on its own, in order).
template <class T, class F>
Tensor reduce_runs(KernelContext& ctx, F f) {
  const Tensor& x = ctx.input(0);
  auto mask = reduced_mask(ctx, x, ctx.input_ints(1));
  Tensor out = make_tensor(ctx, x.dtype, reduced_shape(x, mask, ctx.attr_bool("keep_dims", false)));
  std::int64_t run;
  auto values = gather_runs<T>(x, mask, &run);
  T* o = data<T>(out);
  parallel_for_each(out.num_elements(), [&](std::int64_t i) { o[i] = f(values.data() + i * run, run); }, std::max<std::int64_t>(run, 1));
  return out;
}

template <Reduce R>
void reduce(KernelContext& ctx) {
  ctx.output(0) = dispatch_numeric(ctx, ctx.input(0).dtype, [&](auto t) {
    using T = decltype(t);
    return reduce_runs<T>(ctx, [](const T* v, std::int64_t run) {
      if constexpr (R == Reduce::kMax || R == Reduce::kMin) {
        T best = run ? v[0] : (R == Reduce::kMax ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max());
        for (std::int64_t k = 1; k < run; ++k) best = R == Reduce::kMax ? std::max(best, v[k]) : std::min(best, v[k]);
        return best;
      } else if constexpr (std::is_integral_v<T>) {
        // TensorFlow sums and multiplies integers in T, wrapping around: modulo 2^64 here, then
        // truncated to T's width, which is the same (a double overflowed T, undefined behaviour).
        std::uint64_t acc = R == Reduce::kProd ? 1 : 0;
        for (std::int64_t k = 0; k < run; ++k) {
          const auto x = static_cast<std::uint64_t>(static_cast<std::int64_t>(v[k]));
          acc = R == Reduce::kProd ? acc * x : acc + x;
        }
        const T total = static_cast<T>(acc);
        if (R == Reduce::kMean && run) return static_cast<T>(static_cast<std::int64_t>(total) / run);
        return total;
      } else {
        double acc = R == Reduce::kProd ? 1 : 0;
        for (std::int64_t k = 0; k < run; ++k) acc = R == Reduce::kProd ? acc * v[k] : acc + v[k];
        if (R == Reduce::kMean && run) acc /= static_cast<double>(run);
        return static_cast<T>(acc);
      }
    });
  });
}

// EuclideanNorm: sqrt(sum(x * x)) over the axes. TF sums the squares in T and takes the square
// root in T (reduction_ops.h, EuclideanNormReducer), which for integers truncates a wrapped sum:
// float32 and float64 only here.
void euclidean_norm(KernelContext& ctx) {
  ctx.output(0) = dispatch_float(ctx, ctx.input(0).dtype, [&](auto t) {
    using T = decltype(t);
    return reduce_runs<T>(ctx, [](const T* v, std::int64_t run) {
      double acc = 0;
      for (std::int64_t k = 0; k < run; ++k) acc += static_cast<double>(v[k]) * v[k];
      return static_cast<T>(std::sqrt(acc));
    });
  });
}

template <bool kAny>
void reduce_bool(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.dtype != tf::DT_BOOL) ctx.fail("input must be bool");
  auto mask = reduced_mask(ctx, x, ctx.input_ints(1));
  Tensor out = make_tensor(ctx, tf::DT_BOOL, reduced_shape(x, mask, ctx.attr_bool("keep_dims", false)));
  std::int64_t run;
  auto values = gather_runs<std::uint8_t>(x, mask, &run);
  for (std::int64_t i = 0, n = out.num_elements(); i < n; ++i) {
    bool acc = !kAny;
    for (std::int64_t k = 0; k < run; ++k) acc = kAny ? (acc || values[i * run + k]) : (acc && values[i * run + k]);
    out.bytes[static_cast<std::size_t>(i)] = acc;
  }
  ctx.output(0) = std::move(out);
}

template <bool kMax>
void arg_extreme(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto axis = ctx.input_ints(1);
  if (axis.size() != 1) ctx.fail("dimension must be a scalar");
  auto mask = reduced_mask(ctx, x, axis);
  tf::DataType out_type = ctx.attr_type("output_type", tf::DT_INT64);
  if (out_type != tf::DT_INT16 && out_type != tf::DT_UINT16 && out_type != tf::DT_INT32 && out_type != tf::DT_INT64) {
    ctx.fail("output_type " + dtype_name(out_type) + " is not one of int16, uint16, int32, int64");
  }
  Tensor out = make_tensor(ctx, out_type, reduced_shape(x, mask, false));
  dispatch_numeric(ctx, x.dtype, [&](auto t) {
    using T = decltype(t);
    std::int64_t run;
    auto values = gather_runs<T>(x, mask, &run);
    if (run == 0) ctx.fail("reduction over an empty dimension");
    for (std::int64_t i = 0, n = out.num_elements(); i < n; ++i) {
      const T* v = values.data() + i * run;
      std::int64_t best = 0;
      for (std::int64_t k = 1; k < run; ++k)
        if (kMax ? v[k] > v[best] : v[k] < v[best]) best = k;
      switch (out_type) {  // TensorFlow's output_type: {int16, uint16, int32, int64}
        case tf::DT_INT16: data<std::int16_t>(out)[i] = static_cast<std::int16_t>(best); break;
        case tf::DT_UINT16: data<std::uint16_t>(out)[i] = static_cast<std::uint16_t>(best); break;
        case tf::DT_INT32: data<std::int32_t>(out)[i] = static_cast<std::int32_t>(best); break;
        default: data<std::int64_t>(out)[i] = best;
      }
    }
  });
  ctx.output(0) = std::move(out);
}

// The order TensorFlow's CPU TopK kernel (topk_op.cc) returns a row's k best indices in. "Better" is
// larger value, then lower index. k == 1: the first maximum. sorted or k == n: best first. Otherwise
// (sorted=false) the internal order of gtl::TopN's heap: the first k + 1 indices are heapified, the
// worst popped, and each later index that beats the heap's worst replaces it (push_heap, pop_heap).
template <class T>
void top_k_order(const T* row, std::int32_t n, std::int32_t k, bool sorted, std::vector<std::int32_t>& idx) {
  auto better = [row](std::int32_t a, std::int32_t b) {
    if (row[b] < row[a]) return true;
    if (row[b] > row[a]) return false;
    return a < b;
  };
  idx.resize(static_cast<std::size_t>(n));
  for (std::int32_t i = 0; i < n; ++i) idx[static_cast<std::size_t>(i)] = i;
  if (k == 1) {
    idx[0] = static_cast<std::int32_t>(std::max_element(row, row + n, [](T a, T b) { return a < b; }) - row);
  } else if (sorted || k == n) {
    std::stable_sort(idx.begin(), idx.end(), better);
  } else {
    const auto heap_end = idx.begin() + k + 1;
    std::make_heap(idx.begin(), heap_end, better);
    std::pop_heap(idx.begin(), heap_end, better);
    for (std::int32_t c = k + 1; c < n; ++c) {
      if (!better(c, idx[0])) continue;
      idx[static_cast<std::size_t>(k)] = c;
      std::push_heap(idx.begin(), heap_end, better);
      std::pop_heap(idx.begin(), heap_end, better);
    }
  }
}

// TopKV2(x, k): the k largest values along the last axis and their indices, in TensorFlow's order
// (top_k_order: with sorted=false, not necessarily sorted).
void top_k(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto k_values = ctx.input_ints(1);
  if (k_values.size() != 1 || x.shape.empty()) ctx.fail("k must be a scalar and the input at least 1-D");
  const std::int64_t n = x.shape.back(), k = k_values[0];
  if (k < 0 || k > n) ctx.fail("k = " + std::to_string(k) + " is outside [0, " + std::to_string(n) + "]");
  if (n > std::numeric_limits<std::int32_t>::max()) ctx.fail("the last dimension must be <= INT_MAX");
  const bool sorted = ctx.attr_bool("sorted", true);
  std::vector<std::int64_t> shape = x.shape;
  shape.back() = k;
  Tensor values = make_tensor(ctx, x.dtype, shape), indices = make_tensor(ctx, tf::DT_INT32, shape);
  const std::int64_t rows = n == 0 || k == 0 ? 0 : x.num_elements() / n;
  dispatch_numeric(ctx, x.dtype, [&](auto t) {
    using T = decltype(t);
    const T* in = data<T>(x);
    std::vector<std::int32_t> order;
    for (std::int64_t r = 0; r < rows; ++r) {
      const T* row = in + r * n;
      top_k_order(row, static_cast<std::int32_t>(n), static_cast<std::int32_t>(k), sorted, order);
      for (std::int64_t i = 0; i < k; ++i) {
        data<T>(values)[r * k + i] = row[order[static_cast<std::size_t>(i)]];
        data<std::int32_t>(indices)[r * k + i] = order[static_cast<std::size_t>(i)];
      }
    }
  });
  ctx.output(0) = std::move(values);
  ctx.output(1) = std::move(indices);
}

}  // namespace

void register_reduce_kernels(KernelRegistry& r) {
  r.add("Sum", reduce<Reduce::kSum>);
  r.add("Mean", reduce<Reduce::kMean>);
  r.add("Max", reduce<Reduce::kMax>);
  r.add("Min", reduce<Reduce::kMin>);
  r.add("Prod", reduce<Reduce::kProd>);
  r.add("EuclideanNorm", euclidean_norm);
  r.add("Any", reduce_bool<true>);
  r.add("All", reduce_bool<false>);
  r.add("ArgMax", arg_extreme<true>);
  r.add("ArgMin", arg_extreme<false>);
  r.add("TopKV2", top_k);
}

}  // namespace tffreeze::runtime
