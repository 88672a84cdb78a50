// Sparse and ragged tensors given as their component tensors: SparseTensorDenseAdd (a
// SparseTensor's indices, values and shape added into a dense tensor) and RaggedRange (the
// row splits and flat values of a ragged tensor of ranges). TensorFlow's kernels:
// tensorflow/core/kernels/sparse_tensor_dense_add_op.cc and ragged_range_op.cc.
#include <cmath>
#include <limits>

#include "common/dtype.h"
#include "runtime/dispatch.h"

namespace tffreeze::runtime {
namespace {

// Integers wrap (as TensorFlow's do on every CPU) instead of overflowing.
template <class T>
T wrapping_add(T a, T b) {
  if constexpr (std::is_integral_v<T>) return static_cast<T>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
  else return static_cast<T>(a + b);
}

// TensorFlow's number types that the executor stores natively.
template <class F>
void dispatch_number(const KernelContext& ctx, tf::DataType dtype, F&& f) {
  if (dtype == tf::DT_UINT32) return f(std::uint32_t{});
  if (dtype == tf::DT_UINT64) return f(std::uint64_t{});
  dispatch_numeric(ctx, dtype, f);
}

// ---- SparseTensorDenseAdd(a_indices, a_values, a_shape, b) ----

// TensorFlow's ValidateInputs, in its order: ranks, sizes, shapes equal, indices in range.
void check_sparse_add(const KernelContext& ctx, const std::vector<std::int64_t>& indices, const std::vector<std::int64_t>& shape) {
  const Tensor &ind = ctx.input(0), &values = ctx.input(1), &a_shape = ctx.input(2), &b = ctx.input(3);
  if (ind.shape.size() != 2) ctx.fail("Input a_indices should be a matrix but received shape: " + dims_string(ind.shape));
  if (values.shape.size() != 1 || a_shape.shape.size() != 1) {
    ctx.fail("Inputs a_values and a_shape should be vectors but received shapes: " + dims_string(values.shape) + " and " +
             dims_string(a_shape.shape));
  }
  const std::int64_t nnz = ind.shape[0], ndims = ind.shape[1];
  if (values.shape[0] != nnz) ctx.fail("Dimensions " + std::to_string(nnz) + " and " + std::to_string(values.shape[0]) + " are not compatible");
  if (a_shape.shape[0] != ndims) ctx.fail("Dimensions " + std::to_string(ndims) + " and " + std::to_string(a_shape.shape[0]) + " are not compatible");
  if (shape.size() != b.shape.size()) {
    ctx.fail("Two operands have different ranks; received: " + std::to_string(shape.size()) + " and " + std::to_string(b.shape.size()));
  }
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] != b.shape[d]) {
      ctx.fail("Dimension " + std::to_string(d) + " does not equal (no broadcasting is supported): sparse side " + std::to_string(shape[d]) +
               " vs dense side " + std::to_string(b.shape[d]));
    }
  }
  for (std::int64_t z = 0; z < nnz; ++z) {
    for (std::int64_t d = 0; d < ndims; ++d) {
      const std::int64_t idx = indices[static_cast<std::size_t>(z * ndims + d)];
      if (idx < 0 || idx >= shape[static_cast<std::size_t>(d)]) {
        ctx.fail("Sparse tensor has an invalid index on dimension " + std::to_string(d) + ": a_indices(" + std::to_string(z) + "," +
                 std::to_string(d) + ") = " + std::to_string(idx) + ", dense tensor shape: " + dims_string(shape));
      }
    }
  }
  // TensorFlow instantiates ranks 1 to 5 only.
  if (ndims < 1 || ndims > 5) ctx.fail("Only tensors with ranks between 1 and 5 are currently supported.  Tensor rank: " + std::to_string(ndims));
}

void sparse_tensor_dense_add(KernelContext& ctx) {
  const tf::DataType index_type = ctx.input(0).dtype;
  if ((index_type != tf::DT_INT32 && index_type != tf::DT_INT64) || ctx.input(2).dtype != index_type) {
    ctx.fail("a_indices and a_shape must both be int32 or both int64");
  }
  const Tensor &values = ctx.input(1), &b = ctx.input(3);
  if (values.dtype != b.dtype) ctx.fail("a_values is " + dtype_name(values.dtype) + " but b is " + dtype_name(b.dtype));
  const std::vector<std::int64_t> indices = ctx.input_ints(0), shape = ctx.input_ints(2);
  check_sparse_add(ctx, indices, shape);
  dispatch_number(ctx, b.dtype, [&](auto zero) {
    using T = decltype(zero);
    Tensor out = b;
    const std::size_t ndims = shape.size();
    for (std::int64_t z = 0, nnz = values.num_elements(); z < nnz; ++z) {
      std::int64_t flat = 0;  // row-major offset; in range, as every index was checked
      for (std::size_t d = 0; d < ndims; ++d) flat = flat * shape[d] + indices[static_cast<std::size_t>(z) * ndims + d];
      T sum = wrapping_add(out.get<T>(flat), values.get<T>(z));
      std::memcpy(out.bytes.data() + flat * static_cast<std::int64_t>(sizeof(T)), &sum, sizeof(T));
    }
    ctx.output(0) = std::move(out);
  });
}

// ---- RaggedRange(starts, limits, deltas) -> (rt_nested_splits, rt_dense_values) ----

// How many values range(start, limit, delta) has, as TensorFlow's RangeOp counts them.
template <class T>
std::int64_t range_size(const KernelContext& ctx, T start, T limit, T delta) {
  if (delta == 0) ctx.fail("Requires delta != 0");
  if ((delta > 0 && limit < start) || (delta < 0 && limit > start)) return 0;
  if constexpr (std::is_integral_v<T>) {
    // divup(|limit - start|, |delta|) in unsigned arithmetic: the difference of two int64 may
    // not fit an int64.
    const std::uint64_t span = limit >= start ? static_cast<std::uint64_t>(limit) - static_cast<std::uint64_t>(start)
                                              : static_cast<std::uint64_t>(start) - static_cast<std::uint64_t>(limit);
    const std::uint64_t step = delta > 0 ? static_cast<std::uint64_t>(delta) : std::uint64_t{0} - static_cast<std::uint64_t>(delta);
    const std::uint64_t size = span / step + (span % step != 0);
    if (size > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) ctx.fail("range is too large");
    return static_cast<std::int64_t>(size);
  } else {
    const T size = std::ceil(std::abs((limit - start) / delta));  // in T, as TensorFlow computes it
    // Also refuses NaN and infinity; 2^63 itself does not convert to int64.
    if (!(size < static_cast<T>(std::numeric_limits<std::int64_t>::max()))) {
      ctx.fail("Requires ((limit - start) / delta) <= " + std::to_string(std::numeric_limits<std::int64_t>::max()));
    }
    return static_cast<std::int64_t>(size);
  }
}

// Rows: the length of the vector inputs (which must agree), or 1 when all are scalars.
std::int64_t ragged_rows(const KernelContext& ctx) {
  static const char* names[] = {"starts", "limits", "deltas"};
  std::int64_t rows = -1;
  for (int k = 0; k < 3; ++k) {
    const Tensor& t = ctx.input(k);
    if (t.shape.size() > 1) ctx.fail(std::string(names[k]) + " must be a scalar or vector");
  }
  for (int k = 0; k < 3; ++k) {
    const Tensor& t = ctx.input(k);
    if (t.shape.size() != 1) continue;
    if (rows >= 0 && t.shape[0] != rows) ctx.fail("starts, limits, and deltas must have the same shape");
    rows = t.shape[0];
  }
  return rows < 0 ? 1 : rows;
}

template <class T, class Splits>
void ragged_range_typed(KernelContext& ctx, std::int64_t rows) {
  const Tensor &starts = ctx.input(0), &limits = ctx.input(1), &deltas = ctx.input(2);
  auto at = [](const Tensor& t, std::int64_t row) { return t.get<T>(t.shape.empty() ? 0 : row); };
  Tensor splits = make_tensor(ctx, dtype_of<Splits>(), {rows + 1});
  Splits* s = data<Splits>(splits);
  std::int64_t total = 0;
  for (std::int64_t row = 0; row < rows; ++row) {
    const std::int64_t size = range_size<T>(ctx, at(starts, row), at(limits, row), at(deltas, row));
    if (size > std::numeric_limits<Splits>::max() - total) ctx.fail("the ragged range has more values than its row splits can count");
    total += size;
    s[row + 1] = static_cast<Splits>(total);
  }
  Tensor values = make_tensor(ctx, dtype_of<T>(), {total});
  T* v = data<T>(values);
  for (std::int64_t row = 0, k = 0; row < rows; ++row) {
    // Accumulated as TensorFlow does (value += delta), which matters for floats' rounding.
    T value = at(starts, row);
    const T delta = at(deltas, row);
    for (std::int64_t i = s[row]; i < s[row + 1]; ++i, ++k) {
      v[k] = value;
      value = wrapping_add(value, delta);
    }
  }
  ctx.output(0) = std::move(splits);
  ctx.output(1) = std::move(values);
}

void ragged_range(KernelContext& ctx) {
  const tf::DataType type = ctx.input(0).dtype;
  if (ctx.input(1).dtype != type || ctx.input(2).dtype != type) ctx.fail("starts, limits and deltas must have one dtype");
  const std::int64_t rows = ragged_rows(ctx);
  const bool wide = ctx.attr_type("Tsplits", tf::DT_INT64) == tf::DT_INT64;
  auto run = [&](auto zero) {
    using T = decltype(zero);
    if (wide) ragged_range_typed<T, std::int64_t>(ctx, rows);
    else ragged_range_typed<T, std::int32_t>(ctx, rows);
  };
  switch (type) {  // TensorFlow's CPU kernels: float, double, int32, int64
    case tf::DT_FLOAT: return run(float{});
    case tf::DT_DOUBLE: return run(double{});
    case tf::DT_INT32: return run(std::int32_t{});
    case tf::DT_INT64: return run(std::int64_t{});
    default: ctx.unsupported("dtype " + dtype_name(type) + " (TensorFlow's CPU kernel takes float, double, int32 and int64)");
  }
}

}  // namespace

void register_sparse_kernels(KernelRegistry& r) {
  r.add("SparseTensorDenseAdd", sparse_tensor_dense_add);
  r.add("RaggedRange", ragged_range);
}

}  // namespace tffreeze::runtime
