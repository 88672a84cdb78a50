// Shape and data movement: Reshape, Squeeze, ExpandDims, Shape, Fill, Range, Pack/Unpack,
// Concat/Split, Slice/StridedSlice, Transpose, Pad, Tile, Gather. Element bytes are moved as
// they are, so these work for every fixed-size dtype.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/dtype.h"
#include "runtime/dispatch.h"
#include "runtime/parallel.h"

namespace tffreeze::runtime {
namespace {

std::int64_t esize_of(const KernelContext& ctx, const Tensor& t) {
  int e = dtype_size(t.dtype);
  if (e == 0) ctx.unsupported("dtype " + dtype_name(t.dtype) + " in a data-movement kernel");
  return e;
}

std::int64_t product(const std::vector<std::int64_t>& v, std::size_t from = 0, std::size_t to = std::string::npos) {
  std::int64_t p = 1;
  for (std::size_t i = from; i < std::min(to, v.size()); ++i) p *= v[i];
  return p;
}

Tensor int_tensor(const KernelContext& ctx, tf::DataType dtype, const std::vector<std::int64_t>& values, std::vector<std::int64_t> shape) {
  Tensor t = make_tensor(ctx, dtype, std::move(shape));
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (dtype == tf::DT_INT64) data<std::int64_t>(t)[i] = values[i];
    else data<std::int32_t>(t)[i] = static_cast<std::int32_t>(values[i]);
  }
  return t;
}

void reshape(KernelContext& ctx) {
  Tensor x = ctx.input(0);
  auto shape = ctx.input_ints(1);
  std::int64_t known = 1, unknown = -1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (unknown >= 0) ctx.fail("more than one -1 in shape");
      unknown = static_cast<std::int64_t>(i);
    } else if (shape[i] < 0) {
      ctx.fail("negative dimension in shape");
    } else {
      known *= shape[i];
    }
  }
  const std::int64_t n = x.dtype == tf::DT_STRING ? static_cast<std::int64_t>(x.strings.size()) : x.num_elements();
  if (unknown >= 0) {
    if (known == 0 || n % known) ctx.fail("cannot reshape " + dims_string(x.shape) + " to " + dims_string(shape));
    shape[static_cast<std::size_t>(unknown)] = n / known;
  } else if (known != n) {
    ctx.fail("cannot reshape " + dims_string(x.shape) + " (" + std::to_string(n) + " elements) to " + dims_string(shape));
  }
  x.shape = shape;
  ctx.output(0) = std::move(x);
}

void squeeze(KernelContext& ctx) {
  Tensor x = ctx.input(0);
  auto dims = ctx.attr_ints("squeeze_dims");
  const auto rank = static_cast<std::int64_t>(x.shape.size());
  std::vector<bool> drop(x.shape.size(), false);
  if (dims.empty()) {
    for (std::size_t d = 0; d < x.shape.size(); ++d) drop[d] = x.shape[d] == 1;
  } else {
    for (auto d : dims) {
      auto a = normalize_axis(ctx, d, rank);
      if (x.shape[static_cast<std::size_t>(a)] != 1) ctx.fail("cannot squeeze dimension " + std::to_string(d) + " of " + dims_string(x.shape));
      drop[static_cast<std::size_t>(a)] = true;
    }
  }
  std::vector<std::int64_t> shape;
  for (std::size_t d = 0; d < x.shape.size(); ++d)
    if (!drop[d]) shape.push_back(x.shape[d]);
  x.shape = shape;
  ctx.output(0) = std::move(x);
}

void expand_dims(KernelContext& ctx) {
  Tensor x = ctx.input(0);
  auto dim = ctx.input_ints(1);
  if (dim.size() != 1) ctx.fail("dim must be a scalar");
  auto rank = static_cast<std::int64_t>(x.shape.size());
  std::int64_t a = dim[0] < 0 ? dim[0] + rank + 1 : dim[0];
  if (a < 0 || a > rank) ctx.fail("dim " + std::to_string(dim[0]) + " out of range");
  x.shape.insert(x.shape.begin() + a, 1);
  ctx.output(0) = std::move(x);
}

void shape_k(KernelContext& ctx) {
  tf::DataType t = ctx.attr_type("out_type", tf::DT_INT32);
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const auto& s = ctx.input(i).shape;
    ctx.output(i) = int_tensor(ctx, t, s, {static_cast<std::int64_t>(s.size())});
  }
}

void size_k(KernelContext& ctx) {
  ctx.output(0) = int_tensor(ctx, ctx.attr_type("out_type", tf::DT_INT32), {ctx.input(0).num_elements()}, {});
}

void rank_k(KernelContext& ctx) {
  ctx.output(0) = int_tensor(ctx, tf::DT_INT32, {static_cast<std::int64_t>(ctx.input(0).shape.size())}, {});
}

void fill(KernelContext& ctx) {
  auto dims = ctx.input_ints(0);
  const Tensor& value = ctx.input(1);
  if (value.num_elements() != 1) ctx.fail("value must be a scalar");
  Tensor out = make_tensor(ctx, value.dtype, dims);
  const std::int64_t e = esize_of(ctx, value);
  for (std::int64_t i = 0, n = out.num_elements(); i < n; ++i) std::memcpy(out.bytes.data() + i * e, value.bytes.data(), static_cast<std::size_t>(e));
  ctx.output(0) = std::move(out);
}

void zeros_like(KernelContext& ctx) { ctx.output(0) = make_tensor(ctx, ctx.input(0).dtype, ctx.input(0).shape); }

void ones_like(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor out = make_tensor(ctx, x.dtype, x.shape);
  dispatch_any(ctx, x.dtype, [&](auto t) {
    using T = decltype(t);
    std::fill_n(data<T>(out), out.num_elements(), static_cast<T>(1));
  });
  ctx.output(0) = std::move(out);
}

void range(KernelContext& ctx) {
  const Tensor& start = ctx.input(0);
  dispatch_numeric(ctx, start.dtype, [&](auto t) {
    using T = decltype(t);
    const double s = static_cast<double>(data<T>(start)[0]), l = static_cast<double>(data<T>(ctx.input(1))[0]),
                 d = static_cast<double>(data<T>(ctx.input(2))[0]);
    if (d == 0) ctx.fail("delta must not be 0");
    const auto n = static_cast<std::int64_t>(std::max(0.0, std::ceil((l - s) / d)));
    Tensor out = make_tensor(ctx, start.dtype, {n});
    for (std::int64_t i = 0; i < n; ++i) data<T>(out)[i] = static_cast<T>(s + static_cast<double>(i) * d);
    ctx.output(0) = std::move(out);
  });
}

// Concatenates inputs [first, first + count) along axis.
Tensor concat_tensors(KernelContext& ctx, const std::vector<const Tensor*>& parts, std::int64_t axis_in) {
  const Tensor& a = *parts[0];
  const auto rank = static_cast<std::int64_t>(a.shape.size());
  const std::int64_t axis = normalize_axis(ctx, axis_in, rank);
  std::vector<std::int64_t> shape = a.shape;
  shape[static_cast<std::size_t>(axis)] = 0;
  for (const Tensor* p : parts) {
    if (p->dtype != a.dtype || p->shape.size() != a.shape.size()) ctx.fail("inputs differ in dtype or rank");
    for (std::int64_t d = 0; d < rank; ++d)
      if (d != axis && p->shape[static_cast<std::size_t>(d)] != a.shape[static_cast<std::size_t>(d)]) {
        ctx.fail("shapes " + dims_string(a.shape) + " and " + dims_string(p->shape) + " differ outside the concat axis");
      }
    shape[static_cast<std::size_t>(axis)] += p->shape[static_cast<std::size_t>(axis)];
  }
  Tensor out = make_tensor(ctx, a.dtype, shape);
  const std::int64_t e = esize_of(ctx, a), outer = product(shape, 0, static_cast<std::size_t>(axis)),
                     inner = product(shape, static_cast<std::size_t>(axis) + 1) * e;
  const std::int64_t row = shape[static_cast<std::size_t>(axis)] * inner;  // bytes of one outer index
  // Split over the outer index like the producers' rows, so each thread copies what it wrote.
  parallel_for_each(outer, [&](std::int64_t o) {
    char* dst = out.bytes.data() + o * row;
    for (const Tensor* p : parts) {
      const std::int64_t chunk = p->shape[static_cast<std::size_t>(axis)] * inner;
      std::memcpy(dst, p->bytes.data() + o * chunk, static_cast<std::size_t>(chunk));
      dst += chunk;
    }
  }, row / 4);
  return out;
}

void concat_v2(KernelContext& ctx) {
  std::vector<const Tensor*> parts;
  for (int i = 0; i + 1 < ctx.num_inputs(); ++i) parts.push_back(&ctx.input(i));
  ctx.output(0) = concat_tensors(ctx, parts, ctx.input_ints(ctx.num_inputs() - 1).at(0));
}

void concat_v1(KernelContext& ctx) {
  std::vector<const Tensor*> parts;
  for (int i = 1; i < ctx.num_inputs(); ++i) parts.push_back(&ctx.input(i));
  ctx.output(0) = concat_tensors(ctx, parts, ctx.input_ints(0).at(0));
}

void pack(KernelContext& ctx) {
  std::vector<Tensor> expanded;
  const auto rank = static_cast<std::int64_t>(ctx.input(0).shape.size());
  std::int64_t axis = ctx.attr_int("axis", 0);
  if (axis < 0) axis += rank + 1;
  if (axis < 0 || axis > rank) ctx.fail("axis out of range");
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    if (ctx.input(i).shape != ctx.input(0).shape) {  // TensorFlow: "Shapes of all inputs must match"
      ctx.fail("values[" + std::to_string(i) + "] has shape " + dims_string(ctx.input(i).shape) + ", values[0] " +
               dims_string(ctx.input(0).shape));
    }
    Tensor t = ctx.input(i);
    t.shape.insert(t.shape.begin() + axis, 1);
    expanded.push_back(std::move(t));
  }
  std::vector<const Tensor*> parts;
  for (auto& t : expanded) parts.push_back(&t);
  ctx.output(0) = concat_tensors(ctx, parts, axis);
}

// Splits x along axis into pieces of the given sizes.
void split_into(KernelContext& ctx, const Tensor& x, std::int64_t axis_in, const std::vector<std::int64_t>& sizes, bool drop_axis) {
  const auto rank = static_cast<std::int64_t>(x.shape.size());
  const std::int64_t axis = normalize_axis(ctx, axis_in, rank);
  const std::int64_t e = esize_of(ctx, x), outer = product(x.shape, 0, static_cast<std::size_t>(axis)),
                     inner = product(x.shape, static_cast<std::size_t>(axis) + 1) * e, dim = x.shape[static_cast<std::size_t>(axis)];
  std::int64_t offset = 0;
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    std::vector<std::int64_t> shape = x.shape;
    shape[static_cast<std::size_t>(axis)] = sizes[k];
    Tensor out = make_tensor(ctx, x.dtype, shape);
    for (std::int64_t o = 0; o < outer; ++o) {
      std::memcpy(out.bytes.data() + o * sizes[k] * inner, x.bytes.data() + (o * dim + offset) * inner, static_cast<std::size_t>(sizes[k] * inner));
    }
    if (drop_axis) out.shape.erase(out.shape.begin() + axis);
    ctx.output(static_cast<int>(k)) = std::move(out);
    offset += sizes[k];
  }
}

void split(KernelContext& ctx) {
  const Tensor& x = ctx.input(1);
  const std::int64_t num = ctx.attr_int("num_split", 1);
  const std::int64_t axis = normalize_axis(ctx, ctx.input_ints(0).at(0), static_cast<std::int64_t>(x.shape.size()));
  const std::int64_t dim = x.shape[static_cast<std::size_t>(axis)];
  if (num <= 0 || dim % num) ctx.fail("cannot split dimension of " + std::to_string(dim) + " into " + std::to_string(num));
  split_into(ctx, x, axis, std::vector<std::int64_t>(static_cast<std::size_t>(num), dim / num), false);
}

void split_v(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto sizes = ctx.input_ints(1);
  const std::int64_t axis = normalize_axis(ctx, ctx.input_ints(2).at(0), static_cast<std::int64_t>(x.shape.size()));
  const std::int64_t dim = x.shape[static_cast<std::size_t>(axis)];
  std::int64_t known = 0, unknown = -1;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] == -1) unknown = static_cast<std::int64_t>(i);
    else known += sizes[i];
  }
  if (unknown >= 0) sizes[static_cast<std::size_t>(unknown)] = dim - known;
  if (std::accumulate(sizes.begin(), sizes.end(), std::int64_t{0}) != dim) ctx.fail("split sizes do not add up to " + std::to_string(dim));
  split_into(ctx, x, axis, sizes, false);
}

void unpack(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  std::int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", 0), static_cast<std::int64_t>(x.shape.size()));
  const std::int64_t num = x.shape[static_cast<std::size_t>(axis)];
  // TF's UnpackOp: the axis must hold exactly `num` pieces (the node has that many outputs).
  if (ctx.has_attr("num") && ctx.attr_int("num", num) != num) {
    ctx.fail("input axis " + std::to_string(axis) + " has " + std::to_string(num) + " entries, num is " + std::to_string(ctx.attr_int("num", num)));
  }
  split_into(ctx, x, axis, std::vector<std::int64_t>(static_cast<std::size_t>(num), 1), true);
}

// Copies a strided box of `x` (begin/size/stride per dim) into a new tensor of `shape`.
Tensor strided_copy(KernelContext& ctx, const Tensor& x, const std::vector<std::int64_t>& begin, const std::vector<std::int64_t>& stride,
                    const std::vector<std::int64_t>& box) {
  Tensor out = make_tensor(ctx, x.dtype, box);
  const std::int64_t e = esize_of(ctx, x), n = out.num_elements();
  const std::size_t rank = x.shape.size();
  std::vector<std::int64_t> xs(rank, 1);
  for (std::size_t d = rank; d-- > 1;) xs[d - 1] = xs[d] * x.shape[d];
  std::vector<std::int64_t> counter(rank, 0);
  for (std::int64_t i = 0; i < n; ++i) {
    std::int64_t at = 0;
    for (std::size_t d = 0; d < rank; ++d) at += (begin[d] + counter[d] * stride[d]) * xs[d];
    std::memcpy(out.bytes.data() + i * e, x.bytes.data() + at * e, static_cast<std::size_t>(e));
    for (std::size_t d = rank; d-- > 0;) {
      if (++counter[d] < box[d]) break;
      counter[d] = 0;
    }
  }
  return out;
}

void slice(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto begin = ctx.input_ints(1), size = ctx.input_ints(2);
  if (begin.size() != x.shape.size() || size.size() != x.shape.size()) ctx.fail("begin and size must have one value per dimension");
  for (std::size_t d = 0; d < x.shape.size(); ++d) {
    if (size[d] == -1) size[d] = x.shape[d] - begin[d];
    if (begin[d] < 0 || size[d] < 0 || begin[d] + size[d] > x.shape[d]) ctx.fail("slice out of bounds of " + dims_string(x.shape));
  }
  ctx.output(0) = strided_copy(ctx, x, begin, std::vector<std::int64_t>(x.shape.size(), 1), size);
}

// StridedSlice with TensorFlow's masks: ellipsis expands to the remaining dims, new_axis
// inserts a 1, shrink_axis takes a single index and drops the dim.
void strided_slice(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto begin = ctx.input_ints(1), end = ctx.input_ints(2), strides = ctx.input_ints(3);
  if (begin.size() != end.size() || begin.size() != strides.size()) ctx.fail("begin, end and strides differ in length");
  const std::int64_t begin_mask = ctx.attr_int("begin_mask", 0), end_mask = ctx.attr_int("end_mask", 0),
                     ellipsis_mask = ctx.attr_int("ellipsis_mask", 0), new_axis_mask = ctx.attr_int("new_axis_mask", 0),
                     shrink_mask = ctx.attr_int("shrink_axis_mask", 0);
  const auto rank = static_cast<std::int64_t>(x.shape.size());
  const auto spec = static_cast<std::int64_t>(begin.size());
  std::int64_t new_axes = 0;
  for (std::int64_t i = 0; i < spec; ++i) new_axes += (new_axis_mask >> i) & 1;
  std::vector<std::int64_t> b(rank, 0), s(rank, 1), box(rank, 0);
  std::vector<std::int64_t> final_shape;
  std::int64_t dim = 0;
  for (std::int64_t i = 0; i < spec; ++i) {
    if ((ellipsis_mask >> i) & 1) {
      const std::int64_t covered = rank - (spec - 1 - new_axes);  // dims the ellipsis stands for
      for (std::int64_t k = 0; k < covered; ++k, ++dim) {
        if (dim >= rank) break;
        b[dim] = 0;
        s[dim] = 1;
        box[dim] = x.shape[static_cast<std::size_t>(dim)];
        final_shape.push_back(box[dim]);
      }
      continue;
    }
    if ((new_axis_mask >> i) & 1) {
      final_shape.push_back(1);
      continue;
    }
    if (dim >= rank) ctx.fail("slice spec has more dimensions than the input " + dims_string(x.shape));
    const std::int64_t n = x.shape[static_cast<std::size_t>(dim)];
    const std::int64_t st = strides[static_cast<std::size_t>(i)];
    if (st == 0) ctx.fail("stride 0");
    auto clamp = [&](std::int64_t v, bool is_begin) {
      if (v < 0) v += n;
      if (st > 0) return std::clamp<std::int64_t>(v, 0, n);
      return std::clamp<std::int64_t>(v, -1, n - 1);
      (void)is_begin;
    };
    std::int64_t lo, hi;
    if ((shrink_mask >> i) & 1) {
      lo = begin[static_cast<std::size_t>(i)] < 0 ? begin[static_cast<std::size_t>(i)] + n : begin[static_cast<std::size_t>(i)];
      if (lo < 0 || lo >= n) ctx.fail("index " + std::to_string(begin[static_cast<std::size_t>(i)]) + " out of range for dimension of " + std::to_string(n));
      b[dim] = lo;
      s[dim] = 1;
      box[dim] = 1;
      ++dim;
      continue;
    }
    lo = ((begin_mask >> i) & 1) ? (st > 0 ? 0 : n - 1) : clamp(begin[static_cast<std::size_t>(i)], true);
    hi = ((end_mask >> i) & 1) ? (st > 0 ? n : -1) : clamp(end[static_cast<std::size_t>(i)], false);
    std::int64_t count = st > 0 ? (hi > lo ? (hi - lo + st - 1) / st : 0) : (lo > hi ? (lo - hi - st - 1) / (-st) : 0);
    b[dim] = lo;
    s[dim] = st;
    box[dim] = count;
    final_shape.push_back(count);
    ++dim;
  }
  for (; dim < rank; ++dim) {  // dims the spec does not mention are taken whole
    box[dim] = x.shape[static_cast<std::size_t>(dim)];
    final_shape.push_back(box[dim]);
  }
  Tensor out = strided_copy(ctx, x, b, s, box);
  out.shape = final_shape;
  ctx.output(0) = std::move(out);
}

void transpose(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto perm = ctx.input_ints(1);
  const std::size_t rank = x.shape.size();
  if (perm.size() != rank) ctx.fail("perm has " + std::to_string(perm.size()) + " values for rank " + std::to_string(rank));
  std::vector<std::int64_t> shape(rank), xs(rank, 1);
  for (std::size_t d = rank; d-- > 1;) xs[d - 1] = xs[d] * x.shape[d];
  std::vector<std::int64_t> stride(rank);
  std::vector<bool> seen(rank, false);
  for (std::size_t d = 0; d < rank; ++d) {
    if (perm[d] < 0 || perm[d] >= static_cast<std::int64_t>(rank) || seen[static_cast<std::size_t>(perm[d])]) ctx.fail("perm is not a permutation");
    seen[static_cast<std::size_t>(perm[d])] = true;
    shape[d] = x.shape[static_cast<std::size_t>(perm[d])];
    stride[d] = xs[static_cast<std::size_t>(perm[d])];
  }
  // General permutation: walk the output, read through the permuted strides.
  Tensor out = make_tensor(ctx, x.dtype, shape);
  const std::int64_t e = esize_of(ctx, x), n = out.num_elements();
  std::vector<std::int64_t> counter(rank, 0);
  std::int64_t at = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    std::memcpy(out.bytes.data() + i * e, x.bytes.data() + at * e, static_cast<std::size_t>(e));
    for (std::size_t d = rank; d-- > 0;) {
      ++counter[d];
      at += stride[d];
      if (counter[d] < shape[d]) break;
      at -= stride[d] * counter[d];
      counter[d] = 0;
    }
  }
  ctx.output(0) = std::move(out);
}

// The source index along one dimension for output index `i` of a padded dimension (size n,
// `before` added in front): -1 in the constant padding, mirrored in REFLECT/SYMMETRIC mode.
std::int64_t pad_source(const KernelContext& ctx, std::int64_t i, std::int64_t before, std::int64_t n, const std::string& mode) {
  std::int64_t src = i - before;
  if (src >= 0 && src < n) return src;
  if (mode == "CONSTANT") return -1;
  const bool reflect = mode == "REFLECT";
  if (src < 0) src = reflect ? -src : -src - 1;
  if (src >= n) src = reflect ? 2 * n - src - 2 : 2 * n - src - 1;
  if (src < 0 || src >= n) ctx.fail("mirror padding larger than the dimension");  // guarded by pad's checks
  return src;
}

// The output shape of Pad, PadV2 and MirrorPad, with TensorFlow's checks of the paddings.
std::vector<std::int64_t> padded_shape(const KernelContext& ctx, const Tensor& x, const std::vector<std::int64_t>& pads, const std::string& mode) {
  const std::size_t rank = x.shape.size();
  if (pads.size() != 2 * rank) ctx.fail("paddings must be [rank, 2]");
  std::vector<std::int64_t> shape(rank);
  for (std::size_t d = 0; d < rank; ++d) {
    if (pads[2 * d] < 0 || pads[2 * d + 1] < 0) ctx.fail("negative padding");
    // TF's MirrorPad: REFLECT leaves the edge out, so at most dim - 1 a side; SYMMETRIC at most dim.
    const std::int64_t mirror_max = mode == "REFLECT" ? x.shape[d] - 1 : x.shape[d];
    if (mode != "CONSTANT" && (pads[2 * d] > mirror_max || pads[2 * d + 1] > mirror_max))
      ctx.fail("paddings must be at most " + std::to_string(mirror_max) + " in " + mode + " mode for dimension " + std::to_string(d));
    shape[d] = x.shape[d] + pads[2 * d] + pads[2 * d + 1];
  }
  return shape;
}

// x padded into out, a row at a time: the row is the last padded dimension, its elements the
// unpadded dimensions after it (NHWC padded in H and W: rows of W pixels of C channels), so the
// row's inside is one copy. out holds the constant where nothing is copied.
void copy_padded_rows(const KernelContext& ctx, const Tensor& x, const std::vector<std::int64_t>& pads, const std::string& mode, Tensor* out) {
  std::size_t rank = x.shape.size();
  std::int64_t e = esize_of(ctx, x);
  while (rank > 1 && pads[2 * rank - 2] == 0 && pads[2 * rank - 1] == 0) e *= x.shape[--rank];
  if (e == 0) return;
  std::vector<std::vector<std::int64_t>> sources(rank);  // per dimension, per output index: the source index (-1: the constant)
  std::vector<std::int64_t> shape(rank), xs(rank, 1);
  for (std::size_t d = 0; d < rank; ++d) {
    shape[d] = x.shape[d] + pads[2 * d] + pads[2 * d + 1];
    for (std::int64_t i = 0; i < shape[d]; ++i) sources[d].push_back(pad_source(ctx, i, pads[2 * d], x.shape[d], mode));
  }
  for (std::size_t d = rank; d-- > 1;) xs[d - 1] = xs[d] * x.shape[d];
  const std::int64_t row = shape[rank - 1], x_row = x.shape[rank - 1], before = pads[2 * rank - 2];
  std::int64_t rows = 1;
  for (std::size_t d = 0; d + 1 < rank; ++d) rows *= shape[d];
  const auto& column = sources[rank - 1];
  const auto bytes = [e](std::int64_t n) { return static_cast<std::size_t>(n * e); };
  parallel_for_each(row ? rows : 0, [&](std::int64_t r) {
    std::int64_t at = 0;
    bool inside = x_row > 0;
    for (std::size_t d = rank - 1, rest = static_cast<std::size_t>(r); d-- > 0;) {
      const std::int64_t src = sources[d][rest % static_cast<std::size_t>(shape[d])];
      rest /= static_cast<std::size_t>(shape[d]);
      inside = inside && src >= 0;
      at += src * xs[d];
    }
    if (!inside) return;
    char* dst = out->bytes.data() + bytes(r * row);
    const char* src = x.bytes.data() + bytes(at);
    std::memcpy(dst + bytes(before), src, bytes(x_row));
    for (std::int64_t i = 0; i < row; ++i) {
      const std::int64_t c = column[static_cast<std::size_t>(i)];
      if ((i < before || i >= before + x_row) && c >= 0) std::memcpy(dst + bytes(i), src + bytes(c), bytes(1));
    }
  }, row * e / 4);
}

// Pad, PadV2 and MirrorPad.
void pad(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto pads = ctx.input_ints(1);
  const std::string mode = ctx.node().op() == "MirrorPad" ? ctx.attr_string("mode", "REFLECT") : "CONSTANT";
  Tensor out = make_tensor(ctx, x.dtype, padded_shape(ctx, x, pads, mode));
  const std::size_t e = static_cast<std::size_t>(esize_of(ctx, x));
  if (ctx.node().op() == "PadV2") {
    const Tensor& c = ctx.input(2);
    if (c.bytes.size() < e) ctx.fail("constant_values must hold one value");
    for (std::int64_t i = 0, n = out.num_elements(); i < n; ++i) std::memcpy(out.bytes.data() + i * e, c.bytes.data(), e);
  }
  if (x.shape.empty()) out.bytes = x.bytes;
  else copy_padded_rows(ctx, x, pads, mode, &out);
  ctx.output(0) = std::move(out);
}

void tile(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto mult = ctx.input_ints(1);
  const std::size_t rank = x.shape.size();
  if (mult.size() != rank) ctx.fail("multiples must have one value per dimension");
  std::vector<std::int64_t> shape(rank), xs(rank, 1);
  for (std::size_t d = 0; d < rank; ++d) shape[d] = x.shape[d] * mult[d];
  for (std::size_t d = rank; d-- > 1;) xs[d - 1] = xs[d] * x.shape[d];
  Tensor out = make_tensor(ctx, x.dtype, shape);
  const std::int64_t e = esize_of(ctx, x);
  std::vector<std::int64_t> counter(rank, 0);
  for (std::int64_t i = 0, n = out.num_elements(); i < n; ++i) {
    std::int64_t at = 0;
    for (std::size_t d = 0; d < rank; ++d) at += (counter[d] % x.shape[d]) * xs[d];
    std::memcpy(out.bytes.data() + i * e, x.bytes.data() + at * e, static_cast<std::size_t>(e));
    for (std::size_t d = rank; d-- > 0;) {
      if (++counter[d] < shape[d]) break;
      counter[d] = 0;
    }
  }
  ctx.output(0) = std::move(out);
}

void gather(KernelContext& ctx) {
  const Tensor& params = ctx.input(0);
  auto indices = ctx.input_ints(1);
  const std::int64_t axis = ctx.node().op() == "GatherV2"
                                ? normalize_axis(ctx, ctx.input_ints(2).at(0), static_cast<std::int64_t>(params.shape.size()))
                                : 0;
  if (ctx.attr_int("batch_dims", 0) != 0) ctx.unsupported("batch_dims other than 0");
  const std::int64_t e = esize_of(ctx, params), outer = product(params.shape, 0, static_cast<std::size_t>(axis)),
                     dim = params.shape[static_cast<std::size_t>(axis)], inner = product(params.shape, static_cast<std::size_t>(axis) + 1) * e;
  std::vector<std::int64_t> shape(params.shape.begin(), params.shape.begin() + axis);
  shape.insert(shape.end(), ctx.input(1).shape.begin(), ctx.input(1).shape.end());
  shape.insert(shape.end(), params.shape.begin() + axis + 1, params.shape.end());
  Tensor out = make_tensor(ctx, params.dtype, shape);
  char* dst = out.bytes.data();
  for (std::int64_t o = 0; o < outer; ++o)
    for (auto idx : indices) {
      if (idx < 0 || idx >= dim) ctx.fail("index " + std::to_string(idx) + " out of range [0, " + std::to_string(dim) + ")");
      std::memcpy(dst, params.bytes.data() + (o * dim + idx) * inner, static_cast<std::size_t>(inner));
      dst += inner;
    }
  ctx.output(0) = std::move(out);
}

void gather_nd(KernelContext& ctx) {
  const Tensor& params = ctx.input(0);
  const Tensor& idx_t = ctx.input(1);
  auto indices = ctx.input_ints(1);
  if (idx_t.shape.empty()) ctx.fail("indices must have rank >= 1");
  const std::int64_t depth = idx_t.shape.back();
  if (depth > static_cast<std::int64_t>(params.shape.size())) ctx.fail("index depth exceeds the params rank");
  std::vector<std::int64_t> shape(idx_t.shape.begin(), idx_t.shape.end() - 1);
  shape.insert(shape.end(), params.shape.begin() + depth, params.shape.end());
  Tensor out = make_tensor(ctx, params.dtype, shape);
  const std::int64_t e = esize_of(ctx, params), slice = product(params.shape, static_cast<std::size_t>(depth)) * e;
  std::vector<std::int64_t> ps(static_cast<std::size_t>(depth), 1);
  for (std::int64_t d = depth - 1; d >= 0; --d) ps[static_cast<std::size_t>(d)] = product(params.shape, static_cast<std::size_t>(d) + 1);
  const std::int64_t count = depth ? static_cast<std::int64_t>(indices.size()) / depth : 1;
  for (std::int64_t k = 0; k < count; ++k) {
    std::int64_t at = 0;
    for (std::int64_t d = 0; d < depth; ++d) {
      std::int64_t i = indices[static_cast<std::size_t>(k * depth + d)];
      if (i < 0 || i >= params.shape[static_cast<std::size_t>(d)]) ctx.fail("index " + std::to_string(i) + " out of range");
      at += i * ps[static_cast<std::size_t>(d)];
    }
    std::memcpy(out.bytes.data() + k * slice, params.bytes.data() + at * e, static_cast<std::size_t>(slice));
  }
  ctx.output(0) = std::move(out);
}

// SpaceToBatchND / BatchToSpaceND for one or two spatial dims (NHWC-style [N, spatial..., rest]).
template <bool kToBatch>
void space_batch(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto block = ctx.input_ints(1);
  auto pads = ctx.input_ints(2);  // paddings (to batch) or crops (to space)
  const std::size_t m = block.size();
  if (m == 0 || pads.size() != 2 * m || x.shape.size() < m + 1) ctx.fail("block_shape and paddings/crops do not fit the input");
  std::int64_t prod = 1;
  for (auto b : block) {
    if (b < 1) ctx.fail("block sizes must be positive");
    prod *= b;
  }
  const std::int64_t e = esize_of(ctx, x);
  const std::int64_t rest = product(x.shape, m + 1) * e;
  std::vector<std::int64_t> shape = x.shape;
  if (kToBatch) {
    shape[0] = x.shape[0] * prod;
    for (std::size_t d = 0; d < m; ++d) {
      std::int64_t padded = x.shape[d + 1] + pads[2 * d] + pads[2 * d + 1];
      if (padded % block[d]) ctx.fail("padded spatial size not divisible by the block size");
      shape[d + 1] = padded / block[d];
    }
  } else {
    if (x.shape[0] % prod) ctx.fail("batch not divisible by the block sizes");
    shape[0] = x.shape[0] / prod;
    for (std::size_t d = 0; d < m; ++d) shape[d + 1] = x.shape[d + 1] * block[d] - pads[2 * d] - pads[2 * d + 1];
  }
  Tensor out = make_tensor(ctx, x.dtype, shape);
  // Walk the batch-side tensor: element (b, s...) with b = (offsets..., n) maps to space position
  // s*block + offset - pad in image n.
  const Tensor& batch_side = kToBatch ? out : x;
  const std::vector<std::int64_t>& space_shape = kToBatch ? x.shape : out.shape;
  const std::int64_t space_batch_n = space_shape[0];
  std::vector<std::int64_t> bs(m + 1, 1), ss(m + 1, 1);
  for (std::size_t d = m + 1; d-- > 1;) {
    bs[d - 1] = bs[d] * batch_side.shape[d];
    ss[d - 1] = ss[d] * space_shape[d];
  }
  const std::int64_t total = product(batch_side.shape, 0, m + 1);
  for (std::int64_t i = 0; i < total; ++i) {
    std::int64_t b = i / bs[0];
    const std::int64_t n = b % space_batch_n;
    std::int64_t off = b / space_batch_n;
    std::int64_t at = n * ss[0];
    bool inside = true;
    for (std::size_t d = m; d-- > 0;) {
      const std::int64_t o = off % block[d];
      off /= block[d];
      const std::int64_t s = (i / bs[d + 1]) % batch_side.shape[d + 1];
      const std::int64_t pos = s * block[d] + o - pads[2 * d];
      if (pos < 0 || pos >= space_shape[d + 1]) inside = false;
      at += pos * ss[d + 1];
    }
    if (!inside) continue;  // padding (to batch: zeros) or cropped away (to space)
    char* batch_ptr = const_cast<char*>(batch_side.bytes.data()) + i * rest;
    const Tensor& space = kToBatch ? x : out;
    char* space_ptr = const_cast<char*>(space.bytes.data()) + at * rest;
    if (kToBatch) std::memcpy(batch_ptr, space_ptr, static_cast<std::size_t>(rest));
    else std::memcpy(space_ptr, batch_ptr, static_cast<std::size_t>(rest));
  }
  ctx.output(0) = std::move(out);
}

}  // namespace

void register_array_kernels(KernelRegistry& r) {
  r.add("Reshape", reshape);
  r.add("Squeeze", squeeze);
  r.add("ExpandDims", expand_dims);
  r.add("Shape", shape_k);
  r.add("ShapeN", shape_k);
  r.add("Size", size_k);
  r.add("Rank", rank_k);
  r.add("Fill", fill);
  r.add("ZerosLike", zeros_like);
  r.add("OnesLike", ones_like);
  r.add("Range", range);
  r.add("ConcatV2", concat_v2);
  r.add("Concat", concat_v1);
  r.add("Pack", pack);
  r.add("Unpack", unpack);
  r.add("Split", split);
  r.add("SplitV", split_v);
  r.add("Slice", slice);
  r.add("StridedSlice", strided_slice);
  r.add("Transpose", transpose);
  r.add("Pad", pad);
  r.add("PadV2", pad);
  r.add("MirrorPad", pad);
  r.add("Tile", tile);
  r.add("GatherV2", gather);
  r.add("Gather", gather);
  r.add("GatherNd", gather_nd);
  r.add("SpaceToBatchND", space_batch<true>);
  r.add("BatchToSpaceND", space_batch<false>);
}

}  // namespace tffreeze::runtime
