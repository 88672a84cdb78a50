// Matrix ops: diagonals and bands, and the linear algebra of Eigen (inverse, determinants, solves, decompositions).
// The decompositions use the Eigen classes and storage orders of TensorFlow's CPU kernels
// (tensorflow/core/kernels/linalg/), so signs and orders of Q, R, U, V and pivots agree.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "runtime/broadcast.h"
#include "runtime/dispatch.h"
#include "runtime/eigen_maps.h"

namespace tffreeze::runtime {
namespace {

template <class T>
using ColMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

// A tensor seen as a batch of [rows, cols] matrices (its last two dims).
struct Batch {
  std::vector<std::int64_t> outer;  // the batch dims
  std::int64_t count = 1, rows = 0, cols = 0;
};

Batch batch_of(const KernelContext& ctx, const Tensor& t, const char* what) {
  if (t.shape.size() < 2) ctx.fail(std::string(what) + " must be at least 2-D, got " + dims_string(t.shape));
  Batch b;
  b.outer.assign(t.shape.begin(), t.shape.end() - 2);
  for (auto d : b.outer) b.count *= d;
  b.rows = t.shape[t.shape.size() - 2];
  b.cols = t.shape.back();
  return b;
}

std::vector<std::int64_t> with_dims(std::vector<std::int64_t> outer, std::initializer_list<std::int64_t> inner) {
  outer.insert(outer.end(), inner);
  return outer;
}

// ---- diagonals (tensorflow/core/kernels/linalg/matrix_diag_op.cc) ----------------------------------

struct DiagSpec {
  std::int64_t lower = 0, upper = 0;
  bool left_super = true, left_sub = true;  // V1 and V2 align LEFT_LEFT
  std::int64_t num_diags() const { return upper - lower + 1; }
  // Length of diagonal d of a rows x cols matrix, and where its values start in a row of max_len.
  std::pair<std::int64_t, std::int64_t> len_and_offset(std::int64_t d, std::int64_t max_len, std::int64_t rows, std::int64_t cols) const {
    const bool left = (d >= 0 && left_super) || (d <= 0 && left_sub);
    const std::int64_t len = std::min(rows + std::min<std::int64_t>(0, d), cols - std::max<std::int64_t>(0, d));
    return {len, left ? 0 : max_len - len};
  }
};

DiagSpec diag_spec(KernelContext& ctx, int k_input) {
  DiagSpec s;
  const std::string& op = ctx.node().op();
  if (op.size() > 2 && op.compare(op.size() - 2, 2, "V3") == 0) {
    const std::string align = ctx.attr_string("align", "RIGHT_LEFT");
    s.left_super = align == "LEFT_LEFT" || align == "LEFT_RIGHT";
    s.left_sub = align == "LEFT_LEFT" || align == "RIGHT_LEFT";
  }
  if (k_input < 0 || k_input >= ctx.num_inputs()) return s;
  const Tensor& k = ctx.input(k_input);
  if (k.shape.size() > 1) ctx.fail("k must be a scalar or vector, got " + dims_string(k.shape));
  auto ks = ctx.input_ints(k_input);
  if (ks.empty() || ks.size() > 2) ctx.fail("k must have one or two elements, got " + std::to_string(ks.size()));
  s.lower = ks[0];
  s.upper = ks.back();
  if (s.lower > s.upper) ctx.fail("lower_diag_index must not be larger than upper_diag_index: " + std::to_string(s.lower) + " > " + std::to_string(s.upper));
  return s;
}

void check_diag_bounds(const KernelContext& ctx, const DiagSpec& s, std::int64_t rows, std::int64_t cols) {
  for (auto d : {s.lower, s.upper})
    if (!((-rows < d && d < cols) || d == 0))
      ctx.fail("diagonal index " + std::to_string(d) + " is out of bound: it must be between " + std::to_string(-rows) + " and " + std::to_string(cols));
}

// Copies one element of `es` bytes.
inline void put(Tensor& out, std::int64_t i, const char* src, std::size_t es) {
  std::memcpy(out.bytes.data() + static_cast<std::size_t>(i) * es, src, es);
}
inline const char* at(const Tensor& t, std::int64_t i, std::size_t es) { return t.bytes.data() + static_cast<std::size_t>(i) * es; }

std::size_t element_size(const KernelContext& ctx, const Tensor& t) {
  const int es = dtype_size(t.dtype);
  if (es <= 0) ctx.unsupported("dtype " + dtype_name(t.dtype) + " in a matrix diagonal op");
  return static_cast<std::size_t>(es);
}

// The scalar input `i` (padding_value) as bytes of the element type of `like`.
std::string padding_bytes(KernelContext& ctx, int i, const Tensor& like, std::size_t es) {
  if (i >= ctx.num_inputs()) return std::string(es, '\0');
  const Tensor& p = ctx.input(i);
  if (p.dtype != like.dtype || p.num_elements() < 1) ctx.fail("padding_value must be one value of the input's dtype");
  return p.bytes.substr(0, es);
}

std::int64_t scalar_int(KernelContext& ctx, int i) {
  auto v = ctx.input_ints(i);
  if (v.size() != 1) ctx.fail("input " + std::to_string(i) + " must be a scalar");
  return v[0];
}

// MatrixDiag / V2 / V3: diagonal [..., (num_diags,) max_len] -> [..., rows, cols].
void matrix_diag(KernelContext& ctx) {
  const Tensor& diag = ctx.input(0);
  const bool v1 = ctx.num_inputs() == 1;
  const DiagSpec s = diag_spec(ctx, v1 ? -1 : 1);
  std::int64_t rows = v1 ? -1 : scalar_int(ctx, 2), cols = v1 ? -1 : scalar_int(ctx, 3);
  const std::size_t es = element_size(ctx, diag);
  const std::string pad = padding_bytes(ctx, 4, diag, es);
  const std::size_t rank = diag.shape.size();
  if (rank < 1) ctx.fail("diagonal must be at least 1-D");
  if (s.lower != s.upper && (rank < 2 || diag.shape[rank - 2] != s.num_diags()))
    ctx.fail("the number of diagonals provided in the input does not match the lower_diag_index and upper_diag_index range");
  const std::int64_t max_len = diag.shape.back();
  const std::int64_t min_rows = max_len - std::min<std::int64_t>(s.upper, 0), min_cols = max_len + std::max<std::int64_t>(s.lower, 0);
  if (rows != -1 && rows < min_rows) ctx.fail("the number of rows is too small");
  if (cols != -1 && cols < min_cols) ctx.fail("the number of columns is too small");
  if (rows == -1 && cols == -1) rows = cols = std::max(min_rows, min_cols);
  else if (rows == -1) rows = min_rows;
  else if (cols == -1) cols = min_cols;
  if (rows != min_rows && cols != min_cols) ctx.fail("the number of rows or columns is not consistent with the specified d_lower, d_upper, and diagonal");
  std::vector<std::int64_t> outer(diag.shape.begin(), diag.shape.end() - (s.num_diags() == 1 ? 1 : 2));
  Tensor out = make_tensor(ctx, diag.dtype, with_dims(outer, {rows, cols}));
  const std::int64_t per_batch = s.num_diags() * max_len, n = out.num_elements();
  for (std::int64_t o = 0; o < n; ++o) {
    const std::int64_t b = o / (rows * cols), i = o / cols % rows, j = o % cols, d = j - i;
    if (d < s.lower || d > s.upper) {
      put(out, o, pad.data(), es);
      continue;
    }
    const std::int64_t offset = s.len_and_offset(d, max_len, rows, cols).second;
    put(out, o, at(diag, b * per_batch + (s.upper - d) * max_len + j - std::max<std::int64_t>(d, 0) + offset, es), es);
  }
  ctx.output(0) = std::move(out);
}

// MatrixDiagPart / V2 / V3: [..., rows, cols] -> [..., (num_diags,) max_len].
void matrix_diag_part(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  const DiagSpec s = diag_spec(ctx, ctx.num_inputs() > 1 ? 1 : -1);
  const std::size_t es = element_size(ctx, in);
  const std::string pad = padding_bytes(ctx, 2, in, es);
  const Batch b = batch_of(ctx, in, "input");
  check_diag_bounds(ctx, s, b.rows, b.cols);
  const std::int64_t max_len = std::min(b.rows + std::min<std::int64_t>(s.upper, 0), b.cols - std::max<std::int64_t>(s.lower, 0));
  auto shape = b.outer;
  if (s.num_diags() > 1) shape.push_back(s.num_diags());
  shape.push_back(max_len);
  Tensor out = make_tensor(ctx, in.dtype, shape);
  std::int64_t o = 0;
  for (std::int64_t m = 0; m < b.count; ++m) {
    for (std::int64_t d = s.upper; d >= s.lower; --d, o += max_len) {
      auto [len, offset] = s.len_and_offset(d, max_len, b.rows, b.cols);
      for (std::int64_t n = 0; n < max_len; ++n) {
        const bool inside = n >= offset && n < offset + len;
        const std::int64_t r = n - offset + std::max<std::int64_t>(0, -d), c = n - offset + std::max<std::int64_t>(0, d);
        put(out, o + n, inside ? at(in, (m * b.rows + r) * b.cols + c, es) : pad.data(), es);
      }
    }
  }
  ctx.output(0) = std::move(out);
}

// MatrixSetDiag / V2 / V3: replaces diagonals lower..upper of input with `diagonal`.
void matrix_set_diag(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  const Tensor& diag = ctx.input(1);
  const DiagSpec s = diag_spec(ctx, ctx.num_inputs() > 2 ? 2 : -1);
  if (diag.dtype != in.dtype) ctx.fail("input and diagonal differ in dtype");
  const std::size_t es = element_size(ctx, in);
  const Batch b = batch_of(ctx, in, "input");
  if (diag.shape.empty()) ctx.fail("diagonal must be at least 1-D");
  check_diag_bounds(ctx, s, b.rows, b.cols);
  const std::int64_t max_len = std::min(b.rows + std::min<std::int64_t>(s.upper, 0), b.cols - std::max<std::int64_t>(s.lower, 0));
  auto expected = b.outer;
  if (s.num_diags() > 1) expected.push_back(s.num_diags());
  expected.push_back(max_len);
  if (diag.shape != expected) ctx.fail("diagonal has shape " + dims_string(diag.shape) + ", expected " + dims_string(expected));
  Tensor out = in;
  std::int64_t base = 0;
  for (std::int64_t m = 0; m < b.count && in.num_elements() > 0; ++m) {
    for (std::int64_t d = s.upper; d >= s.lower; --d, base += max_len) {
      auto [len, offset] = s.len_and_offset(d, max_len, b.rows, b.cols);
      for (std::int64_t n = 0; n < len; ++n) {
        const std::int64_t r = n + std::max<std::int64_t>(0, -d), c = n + std::max<std::int64_t>(0, d);
        put(out, (m * b.rows + r) * b.cols + c, at(diag, base + n + offset, es), es);
      }
    }
  }
  ctx.output(0) = std::move(out);
}

// MatrixBandPart: keeps num_lower subdiagonals and num_upper superdiagonals (negative: all).
void matrix_band_part(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  const Batch b = batch_of(ctx, in, "input");
  const std::int64_t lower = scalar_int(ctx, 1), upper = scalar_int(ctx, 2);
  if (lower > b.rows) ctx.fail("num_lower must be negative or less or equal to number of rows (" + std::to_string(b.rows) + ") got: " + std::to_string(lower));
  if (upper > b.cols) ctx.fail("num_upper must be negative or less or equal to number of columns (" + std::to_string(b.cols) + ") got: " + std::to_string(upper));
  const std::size_t es = element_size(ctx, in);
  Tensor out = make_tensor(ctx, in.dtype, in.shape);
  for (std::int64_t o = 0, n = in.num_elements(); o < n; ++o) {
    const std::int64_t i = o / b.cols % b.rows, j = o % b.cols;
    if ((lower < 0 || i - j <= lower) && (upper < 0 || j - i <= upper)) put(out, o, at(in, o, es), es);
  }
  ctx.output(0) = std::move(out);
}

// Cross: the cross product of 3-vectors along the last dim (integers wrap, as TensorFlow's do).
template <class T>
T wrap_cross_term(T a, T b, T c, T d) {  // a * b - c * d
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) * static_cast<U>(b) - static_cast<U>(c) * static_cast<U>(d)));
  } else {
    return a * b - c * d;
  }
}

void cross(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  if (a.dtype != b.dtype || a.shape != b.shape) ctx.fail("both inputs must be of the same dtype and shape: " + dims_string(a.shape) + " vs " + dims_string(b.shape));
  if (a.shape.empty() || a.shape.back() != 3) ctx.fail("cross-products are only defined for 3-element vectors, got " + dims_string(a.shape));
  Tensor out = make_tensor(ctx, a.dtype, a.shape);
  dispatch_numeric(ctx, a.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* x = data<T>(a);
    const T* y = data<T>(b);
    T* o = data<T>(out);
    for (std::int64_t i = 0, n = a.num_elements(); i < n; i += 3) {
      o[i] = wrap_cross_term(x[i + 1], y[i + 2], x[i + 2], y[i + 1]);
      o[i + 1] = wrap_cross_term(x[i + 2], y[i], x[i], y[i + 2]);
      o[i + 2] = wrap_cross_term(x[i], y[i + 1], x[i + 1], y[i]);
    }
  });
  ctx.output(0) = std::move(out);
}

// ---- linear algebra (float32 and float64) ---------------------------------------------------------------

// A factorization of each rows x cols matrix (and the solves with `columns` columns): cubic work.
void charge_factorization(const KernelContext& ctx, const Batch& b, std::int64_t columns) {
  charge_work(ctx, {b.count, b.rows, std::max(b.rows, b.cols), columns});
}

void require_square(const KernelContext& ctx, const Batch& b) {
  if (b.rows != b.cols) ctx.fail("input matrices must be square, got " + std::to_string(b.rows) + "x" + std::to_string(b.cols));
}

template <class T, class Lu>
void require_invertible(const KernelContext& ctx, const Lu& lu, const char* what) {
  if (lu.matrixLU().rows() > 0 && !(lu.matrixLU().diagonal().cwiseAbs().minCoeff() > T{0})) ctx.fail(what);
}

void matrix_inverse(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  const Batch b = batch_of(ctx, in, "input");
  charge_factorization(ctx, b, b.cols);
  require_square(ctx, b);
  const bool adjoint = ctx.attr_bool("adjoint", false);
  Tensor out = make_tensor(ctx, in.dtype, in.shape);
  dispatch_float(ctx, in.dtype, [&](auto tag) {
    using T = decltype(tag);
    const std::int64_t n = b.rows;
    for (std::int64_t m = 0; m < b.count && n > 0; ++m) {
      ConstMap<T> a(data<T>(in) + m * n * n, n, n);
      Eigen::PartialPivLU<RowMatrix<T>> lu;
      if (adjoint) lu.compute(a.adjoint());
      else lu.compute(a);
      require_invertible<T>(ctx, lu, "input is not invertible");
      MutMap<T>(data<T>(out) + m * n * n, n, n).noalias() = lu.inverse();
    }
  });
  ctx.output(0) = std::move(out);
}

// log|det| and its sign, as TensorFlow's SLogDet (a column-major PartialPivLU).
template <class T>
T slogdet(const ConstMap<T>& a, T* sign) {
  T log_abs = 0;
  *sign = 1;
  if (a.size() > 0) {
    Eigen::PartialPivLU<ColMatrix<T>> lu{ColMatrix<T>(a)};
    *sign = static_cast<T>(lu.permutationP().determinant());
    auto diag = lu.matrixLU().diagonal().array().eval();
    auto abs_diag = diag.cwiseAbs().eval();
    log_abs += abs_diag.log().sum();
    *sign *= (diag / abs_diag).prod();
  }
  if (!std::isfinite(log_abs)) {
    *sign = 0;
    log_abs = log_abs > 0 ? std::numeric_limits<T>::infinity() : -std::numeric_limits<T>::infinity();
  }
  return log_abs;
}

void determinant(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  const Batch b = batch_of(ctx, in, "input");
  charge_factorization(ctx, b, b.cols);
  require_square(ctx, b);
  const bool log = ctx.node().op() == "LogMatrixDeterminant";
  Tensor sign = make_tensor(ctx, in.dtype, b.outer), value = make_tensor(ctx, in.dtype, b.outer);
  dispatch_float(ctx, in.dtype, [&](auto tag) {
    using T = decltype(tag);
    const std::int64_t n = b.rows;
    for (std::int64_t m = 0; m < b.count; ++m) {
      T s;
      const T log_abs = slogdet<T>(ConstMap<T>(data<T>(in) + m * n * n, n, n), &s);
      data<T>(sign)[m] = s;
      data<T>(value)[m] = log ? log_abs : s * std::exp(log_abs);
    }
  });
  if (log) {
    ctx.output(0) = std::move(sign);
    ctx.output(1) = std::move(value);
  } else {
    ctx.output(0) = std::move(value);
  }
}

void matrix_solve(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& rhs = ctx.input(1);
  if (a.dtype != rhs.dtype) ctx.fail("matrix and rhs differ in dtype");
  const Batch ba = batch_of(ctx, a, "matrix"), br = batch_of(ctx, rhs, "rhs");
  charge_factorization(ctx, ba, ba.cols + br.cols);
  require_square(ctx, ba);
  if (ba.outer != br.outer) ctx.fail("all input tensors must have the same outer dimensions");
  if (br.rows != ba.rows) ctx.fail("input matrix and right-hand side must have the same number of rows");
  const bool adjoint = ctx.attr_bool("adjoint", false);
  Tensor out = make_tensor(ctx, a.dtype, rhs.shape);
  dispatch_float(ctx, a.dtype, [&](auto tag) {
    using T = decltype(tag);
    const std::int64_t n = ba.rows, k = br.cols;
    for (std::int64_t m = 0; m < ba.count && n > 0 && k > 0; ++m) {
      ConstMap<T> A(data<T>(a) + m * n * n, n, n);
      Eigen::PartialPivLU<RowMatrix<T>> lu(n);
      if (adjoint) lu.compute(A.adjoint());
      else lu.compute(A);
      require_invertible<T>(ctx, lu, "input matrix is not invertible");
      MutMap<T>(data<T>(out) + m * n * k, n, k).noalias() = lu.solve(ConstMap<T>(data<T>(rhs) + m * n * k, n, k));
    }
  });
  ctx.output(0) = std::move(out);
}

// Batch dims broadcast (MatMulBCast): the output's batch shape and, per output matrix, the
// matrix of each operand it reads.
struct BatchBroadcast {
  std::vector<std::int64_t> outer;
  std::vector<std::int64_t> ia, ib;
};

BatchBroadcast broadcast_batches(const KernelContext& ctx, const Batch& a, const Batch& b) {
  auto outer = broadcast_shape(a.outer, b.outer);
  if (!outer) ctx.fail("batch dimensions " + dims_string(a.outer) + " and " + dims_string(b.outer) + " do not broadcast");
  return {*outer, broadcast_index(a.outer, *outer), broadcast_index(b.outer, *outer)};
}

void triangular_solve(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& rhs = ctx.input(1);
  if (a.dtype != rhs.dtype) ctx.fail("matrix and rhs differ in dtype");
  const Batch ba = batch_of(ctx, a, "matrix"), br = batch_of(ctx, rhs, "rhs");
  charge_factorization(ctx, ba, ba.cols + br.cols);
  require_square(ctx, ba);
  if (ba.cols != br.rows) ctx.fail("matrix and rhs shapes do not match: " + dims_string(a.shape) + " vs " + dims_string(rhs.shape));
  const bool lower = ctx.attr_bool("lower", true), adjoint = ctx.attr_bool("adjoint", false);
  const BatchBroadcast bc = broadcast_batches(ctx, ba, br);
  Tensor out = make_tensor(ctx, a.dtype, with_dims(bc.outer, {ba.rows, br.cols}));
  dispatch_float(ctx, a.dtype, [&](auto tag) {
    using T = decltype(tag);
    const std::int64_t n = ba.rows, k = br.cols;
    for (std::size_t m = 0; m < bc.ia.size() && out.num_elements() > 0; ++m) {
      ConstMap<T> A(data<T>(a) + bc.ia[m] * n * n, n, n), B(data<T>(rhs) + bc.ib[m] * n * k, n, k);
      MutMap<T> X(data<T>(out) + static_cast<std::int64_t>(m) * n * k, n, k);
      if (lower && adjoint) X.noalias() = A.template triangularView<Eigen::Lower>().adjoint().solve(B);
      else if (lower) X.noalias() = A.template triangularView<Eigen::Lower>().solve(B);
      else if (adjoint) X.noalias() = A.template triangularView<Eigen::Upper>().adjoint().solve(B);
      else X.noalias() = A.template triangularView<Eigen::Upper>().solve(B);
    }
  });
  ctx.output(0) = std::move(out);
}

void cholesky(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  const Batch b = batch_of(ctx, in, "input");
  charge_factorization(ctx, b, b.cols);
  require_square(ctx, b);
  Tensor out = make_tensor(ctx, in.dtype, in.shape);
  dispatch_float(ctx, in.dtype, [&](auto tag) {
    using T = decltype(tag);
    const std::int64_t n = b.rows;
    for (std::int64_t m = 0; m < b.count && n > 0; ++m) {
      Eigen::LLT<RowMatrix<T>, Eigen::Lower> llt(ConstMap<T>(data<T>(in) + m * n * n, n, n));
      if (llt.info() != Eigen::Success)
        ctx.fail("Cholesky decomposition was not successful: the input might not be valid");
      MutMap<T>(data<T>(out) + m * n * n, n, n) = llt.matrixL();
    }
  });
  ctx.output(0) = std::move(out);
}

void qr(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  const Batch b = batch_of(ctx, in, "input");
  charge_factorization(ctx, b, b.cols);
  const bool full = ctx.attr_bool("full_matrices", false);
  const std::int64_t rows = b.rows, cols = b.cols, p = std::min(rows, cols);
  Tensor q = make_tensor(ctx, in.dtype, with_dims(b.outer, {rows, full ? rows : p}));
  Tensor r = make_tensor(ctx, in.dtype, with_dims(b.outer, {full ? rows : p, cols}));
  dispatch_float(ctx, in.dtype, [&](auto tag) {
    using T = decltype(tag);
    const std::int64_t qc = full ? rows : p, rr = full ? rows : p;
    for (std::int64_t m = 0; m < b.count; ++m) {
      Eigen::HouseholderQR<RowMatrix<T>> dec(ConstMap<T>(data<T>(in) + m * rows * cols, rows, cols));
      MutMap<T> Q(data<T>(q) + m * rows * qc, rows, qc), R(data<T>(r) + m * rr * cols, rr, cols);
      if (full) Q = dec.householderQ();
      else Q = dec.householderQ() * RowMatrix<T>::Identity(rows, p);
      R = dec.matrixQR().block(0, 0, rr, cols).template triangularView<Eigen::Upper>();
    }
  });
  ctx.output(0) = std::move(q);
  ctx.output(1) = std::move(r);
}

void svd(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  const Batch b = batch_of(ctx, in, "input");
  charge_factorization(ctx, b, b.cols);
  const bool uv = ctx.attr_bool("compute_uv", true), full = ctx.attr_bool("full_matrices", false);
  const std::int64_t rows = b.rows, cols = b.cols, p = std::min(rows, cols);
  const std::int64_t uc = full ? rows : p, vc = full ? cols : p;
  Tensor s = make_tensor(ctx, in.dtype, with_dims(b.outer, {p}));
  // Without compute_uv, TensorFlow allocates u and v as (unset) scalars.
  Tensor u = make_tensor(ctx, in.dtype, uv ? with_dims(b.outer, {rows, uc}) : std::vector<std::int64_t>{});
  Tensor v = make_tensor(ctx, in.dtype, uv ? with_dims(b.outer, {cols, vc}) : std::vector<std::int64_t>{});
  dispatch_float(ctx, in.dtype, [&](auto tag) {
    using T = decltype(tag);
    const unsigned options = !uv ? 0u : full ? Eigen::ComputeFullU | Eigen::ComputeFullV : Eigen::ComputeThinU | Eigen::ComputeThinV;
    for (std::int64_t m = 0; m < b.count; ++m) {
      MutMap<T> U(data<T>(u) + (uv ? m * rows * uc : 0), uv ? rows : 0, uv ? uc : 0);
      MutMap<T> V(data<T>(v) + (uv ? m * cols * vc : 0), uv ? cols : 0, uv ? vc : 0);
      if (p == 0) {  // an empty matrix: the unit matrix for the dimension that is not zero
        if (uv && full) (rows > 0 ? U : V).setIdentity();
        continue;
      }
      Eigen::BDCSVD<RowMatrix<T>> dec(ConstMap<T>(data<T>(in) + m * rows * cols, rows, cols), options);
      const bool ok = dec.info() == Eigen::Success;
      Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>> S(data<T>(s) + m * p, p);
      if (ok) S = dec.singularValues();
      else S.fill(std::numeric_limits<T>::quiet_NaN());
      if (uv && ok) {
        U = dec.matrixU();
        V = dec.matrixV();
      } else if (uv) {
        U.fill(std::numeric_limits<T>::quiet_NaN());
        V.fill(std::numeric_limits<T>::quiet_NaN());
      }
    }
  });
  ctx.output(0) = std::move(s);
  ctx.output(1) = std::move(u);
  ctx.output(2) = std::move(v);
}

// Lu: packed L (unit diagonal) and U, and the permutation p with input[p] = L * U.
void lu(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  const Batch b = batch_of(ctx, in, "input");
  charge_factorization(ctx, b, b.cols);
  require_square(ctx, b);
  const tf::DataType idx = ctx.attr_type("output_idx_type", tf::DT_INT32);
  if (idx != tf::DT_INT32 && idx != tf::DT_INT64) ctx.fail("output_idx_type must be int32 or int64");
  Tensor out = make_tensor(ctx, in.dtype, in.shape);
  Tensor perm = make_tensor(ctx, idx, with_dims(b.outer, {b.rows}));
  dispatch_float(ctx, in.dtype, [&](auto tag) {
    using T = decltype(tag);
    const std::int64_t n = b.rows;
    for (std::int64_t m = 0; m < b.count && n > 0; ++m) {
      Eigen::PartialPivLU<ColMatrix<T>> dec(ConstMap<T>(data<T>(in) + m * n * n, n, n));
      MutMap<T>(data<T>(out) + m * n * n, n, n) = dec.matrixLU();
      const Eigen::PermutationMatrix<Eigen::Dynamic, Eigen::Dynamic, int> p = dec.permutationP().transpose();
      for (std::int64_t i = 0; i < n; ++i) {
        if (idx == tf::DT_INT32) data<std::int32_t>(perm)[m * n + i] = p.indices()[i];
        else data<std::int64_t>(perm)[m * n + i] = p.indices()[i];
      }
      require_invertible<T>(ctx, dec, "input is not invertible");
    }
  });
  ctx.output(0) = std::move(out);
  ctx.output(1) = std::move(perm);
}

}  // namespace

void register_matrix_kernels(KernelRegistry& r) {
  for (const char* op : {"MatrixDiag", "MatrixDiagV2", "MatrixDiagV3"}) r.add(op, matrix_diag);
  for (const char* op : {"MatrixDiagPart", "MatrixDiagPartV2", "MatrixDiagPartV3"}) r.add(op, matrix_diag_part);
  for (const char* op : {"MatrixSetDiag", "MatrixSetDiagV2", "MatrixSetDiagV3"}) r.add(op, matrix_set_diag);
  r.add("MatrixBandPart", matrix_band_part);
  r.add("Cross", cross);
  r.add("MatrixInverse", matrix_inverse);
  r.add("MatrixDeterminant", determinant);
  r.add("LogMatrixDeterminant", determinant);
  r.add("MatrixSolve", matrix_solve);
  r.add("MatrixTriangularSolve", triangular_solve);
  r.add("Cholesky", cholesky);
  r.add("Qr", qr);
  r.add("Svd", svd);
  r.add("Lu", lu);
}

}  // namespace tffreeze::runtime
