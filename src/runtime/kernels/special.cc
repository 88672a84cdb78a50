// Special functions (unsupported/Eigen/SpecialFunctions: the gamma family, betainc, zeta), losses and fake quantization.
#include <unsupported/Eigen/SpecialFunctions>
#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/broadcast.h"
#include "runtime/binary_broadcast.h"
#include "runtime/dispatch.h"

namespace tffreeze::runtime {
namespace {

// ---- the gamma family: TensorFlow's kernels call the same Eigen functions ----------------------

template <class F>
void unary_special(KernelContext& ctx, F f) {
  const Tensor& x = ctx.input(0);
  Tensor out = make_tensor(ctx, x.dtype, x.shape);
  dispatch_float(ctx, x.dtype, [&](auto t) {
    using T = decltype(t);
    for (std::int64_t i = 0, n = x.num_elements(); i < n; ++i) data<T>(out)[i] = f(data<T>(x)[i]);
  });
  ctx.output(0) = std::move(out);
}

void lgamma_k(KernelContext& ctx) { unary_special(ctx, [](auto x) { return Eigen::numext::lgamma(x); }); }
void digamma_k(KernelContext& ctx) { unary_special(ctx, [](auto x) { return Eigen::numext::digamma(x); }); }

// Igamma, Igammac, Polygamma, Zeta: two operands with NumPy broadcasting.
template <class F>
void binary_special(KernelContext& ctx, F f) {
  dispatch_float(ctx, ctx.input(0).dtype, [&](auto t) { broadcast_binary<decltype(t)>(ctx, f); });
}

void igamma_k(KernelContext& ctx) { binary_special(ctx, [](auto a, auto x) { return Eigen::numext::igamma(a, x); }); }
void igammac_k(KernelContext& ctx) { binary_special(ctx, [](auto a, auto x) { return Eigen::numext::igammac(a, x); }); }
void polygamma_k(KernelContext& ctx) { binary_special(ctx, [](auto n, auto x) { return Eigen::numext::polygamma(n, x); }); }
void zeta_k(KernelContext& ctx) { binary_special(ctx, [](auto x, auto q) { return Eigen::numext::zeta(x, q); }); }

// Betainc(a, b, x): TensorFlow broadcasts only scalars; the other operands must agree in shape.
void betainc_k(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  const Tensor& x = ctx.input(2);
  if (a.dtype != b.dtype || a.dtype != x.dtype) ctx.fail("operand dtypes differ");
  std::vector<std::int64_t> shape;
  for (const Tensor* t : {&a, &b, &x}) {
    if (t->shape.empty()) continue;
    if (!shape.empty() && t->shape != shape) ctx.fail("shapes of a, b and x are inconsistent: " + dims_string(a.shape) + ", " + dims_string(b.shape) + ", " + dims_string(x.shape));
    shape = t->shape;
  }
  Tensor out = make_tensor(ctx, a.dtype, shape);
  dispatch_float(ctx, a.dtype, [&](auto tag) {
    using T = decltype(tag);
    auto at = [](const Tensor& t, std::int64_t i) { return data<T>(t)[t.shape.empty() ? 0 : i]; };
    for (std::int64_t i = 0, n = out.num_elements(); i < n; ++i) data<T>(out)[i] = Eigen::numext::betainc(at(a, i), at(b, i), at(x, i));
  });
  ctx.output(0) = std::move(out);
}

// ---- losses ---------------------------------------------------------------------------------------

void l2_loss(KernelContext& ctx) {
  const Tensor& t = ctx.input(0);
  Tensor out = make_tensor(ctx, t.dtype, {});
  dispatch_float(ctx, t.dtype, [&](auto tag) {
    using T = decltype(tag);
    double sum = 0;
    for (std::int64_t i = 0, n = t.num_elements(); i < n; ++i) sum += static_cast<double>(data<T>(t)[i]) * data<T>(t)[i];
    data<T>(out)[0] = static_cast<T>(sum / 2);
  });
  ctx.output(0) = std::move(out);
}

// One row of logits: backprop = logits - max, returns log(sum(exp(backprop))) and leaves
// exp(backprop) / sum in `prob`.
template <class T>
T shifted_log_sum_exp(const T* logits, std::int64_t n, T* shifted, T* prob) {
  const T mx = *std::max_element(logits, logits + n);
  T sum = 0;
  for (std::int64_t j = 0; j < n; ++j) {
    shifted[j] = logits[j] - mx;
    prob[j] = std::exp(shifted[j]);
    sum += prob[j];
  }
  for (std::int64_t j = 0; j < n; ++j) prob[j] /= sum;
  return std::log(sum);
}

// SoftmaxCrossEntropyWithLogits: logits and labels broadcast to [batch, classes].
void softmax_xent(KernelContext& ctx) {
  const Tensor& f = ctx.input(0);
  const Tensor& l = ctx.input(1);
  if (f.dtype != l.dtype) ctx.fail("logits and labels differ in dtype");
  auto shape = broadcast_shape(f.shape, l.shape);
  if (!shape) ctx.fail("logits and labels must be broadcastable: " + dims_string(f.shape) + " vs " + dims_string(l.shape));
  if (shape->size() != 2) ctx.fail("logits and labels must be either 2-dimensional, or broadcasted to be 2-dimensional");
  const std::int64_t batch = (*shape)[0], classes = (*shape)[1];
  const auto fi = broadcast_index(f.shape, *shape), li = broadcast_index(l.shape, *shape);
  Tensor loss = make_tensor(ctx, f.dtype, {batch});
  Tensor backprop = make_tensor(ctx, f.dtype, *shape);
  dispatch_float(ctx, f.dtype, [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> logits(static_cast<std::size_t>(classes)), shifted(logits.size());
    for (std::int64_t b = 0; b < batch && classes > 0; ++b) {
      const std::size_t row = static_cast<std::size_t>(b * classes);
      for (std::size_t j = 0; j < logits.size(); ++j) logits[j] = data<T>(f)[fi[row + j]];
      T* prob = data<T>(backprop) + row;
      const T lse = shifted_log_sum_exp(logits.data(), classes, shifted.data(), prob);
      T sum = 0;
      for (std::size_t j = 0; j < logits.size(); ++j) {
        const T label = data<T>(l)[li[row + j]];
        sum += label * (lse - shifted[j]);
        prob[j] -= label;
      }
      data<T>(loss)[b] = sum;
    }
  });
  ctx.output(0) = std::move(loss);
  ctx.output(1) = std::move(backprop);
}

// SparseSoftmaxCrossEntropyWithLogits: logits [batch, classes], labels [batch] of class indices.
void sparse_softmax_xent(KernelContext& ctx) {
  const Tensor& f = ctx.input(0);
  const Tensor& l = ctx.input(1);
  if (f.shape.size() != 2) ctx.fail("logits must be 2-D, got " + dims_string(f.shape));
  if (l.shape.size() != 1 || l.shape[0] != f.shape[0]) ctx.fail("labels must be 1-D of the logits' batch size, got " + dims_string(l.shape));
  const std::int64_t batch = f.shape[0], classes = f.shape[1];
  if (batch > 0 && classes == 0) ctx.fail("must have at least one class, but got logits of shape " + dims_string(f.shape));
  const auto labels = ctx.input_ints(1);
  for (auto label : labels)
    if (label < 0 || label >= classes) ctx.fail("received a label value of " + std::to_string(label) + " which is outside the valid range of [0, " + std::to_string(classes) + ")");
  Tensor loss = make_tensor(ctx, f.dtype, {batch});
  Tensor backprop = make_tensor(ctx, f.dtype, f.shape);
  dispatch_float(ctx, f.dtype, [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> shifted(static_cast<std::size_t>(classes));
    for (std::int64_t b = 0; b < batch; ++b) {
      T* prob = data<T>(backprop) + b * classes;
      const T lse = shifted_log_sum_exp(data<T>(f) + b * classes, classes, shifted.data(), prob);
      const auto label = static_cast<std::size_t>(labels[static_cast<std::size_t>(b)]);
      data<T>(loss)[b] = lse - shifted[label];
      prob[label] -= T{1};
    }
  });
  ctx.output(0) = std::move(loss);
  ctx.output(1) = std::move(backprop);
}

// ---- fake quantization (tensorflow/core/kernels/fake_quant_ops_functor.h) ----------------------

struct Nudged {
  float min, max, scale, inv_scale, quant_zero;
};

Nudged nudge(float min, float max, int quant_min, int quant_max) {
  const float qmin = static_cast<float>(quant_min), qmax = static_cast<float>(quant_max);
  Nudged n{};
  n.scale = (max - min) / (qmax - qmin);
  n.inv_scale = (qmax - qmin) / (max - min);
  const float zero_point_from_min = qmin - min / n.scale;
  float zero_point = std::round(zero_point_from_min);
  if (zero_point_from_min < qmin) zero_point = qmin;
  if (zero_point_from_min > qmax) zero_point = qmax;
  n.min = (qmin - zero_point) * n.scale;
  n.max = (qmax - zero_point) * n.scale;
  n.quant_zero = std::floor(-n.min * n.inv_scale + 0.5f);
  return n;
}

// The Args and per-channel forms multiply by the inverse scale, the Vars form divides by the scale.
float fake_quant(float x, const Nudged& n, bool divide) {
  const float shifted = std::max(std::min(x, n.max), n.min) - n.min;
  return std::floor((divide ? shifted / n.scale : shifted * n.inv_scale) - n.quant_zero + 0.5f) * n.scale;
}

std::pair<int, int> quant_range(KernelContext& ctx) {
  const auto bits = ctx.attr_int("num_bits", 8);
  if (bits < 2 || bits > 16) ctx.fail("num_bits is out of range, expected between 2 and 16, was: " + std::to_string(bits));
  return {ctx.attr_bool("narrow_range", false) ? 1 : 0, (1 << static_cast<int>(bits)) - 1};
}

// Applies fake quantization over channels of size `depth` (1: one range for all) of float input 0.
void fake_quant_channels(KernelContext& ctx, const std::vector<Nudged>& ranges, const std::vector<bool>& zero, bool divide) {
  const Tensor& x = ctx.input(0);
  if (x.dtype != tf::DT_FLOAT) ctx.unsupported("fake quantization computes float32 only, got " + dtype_name(x.dtype));
  Tensor out = make_tensor(ctx, tf::DT_FLOAT, x.shape);
  const auto depth = static_cast<std::int64_t>(ranges.size());
  for (std::int64_t i = 0, n = x.num_elements(); i < n; ++i) {
    const auto c = static_cast<std::size_t>(i % depth);
    data<float>(out)[i] = zero[c] ? 0.0f : fake_quant(data<float>(x)[i], ranges[c], divide);
  }
  ctx.output(0) = std::move(out);
}

void fake_quant_args(KernelContext& ctx) {
  const float min = ctx.attr_float("min", -6), max = ctx.attr_float("max", 6);
  if (!(min < max)) ctx.fail("min has to be smaller than max, was: min = " + std::to_string(min) + ", max = " + std::to_string(max));
  auto [qmin, qmax] = quant_range(ctx);
  fake_quant_channels(ctx, {nudge(min, max, qmin, qmax)}, {false}, false);
}

void fake_quant_vars(KernelContext& ctx) {
  const bool per_channel = ctx.node().op() == "FakeQuantWithMinMaxVarsPerChannel";
  const Tensor& x = ctx.input(0);
  const Tensor& mn = ctx.input(1);
  const Tensor& mx = ctx.input(2);
  if (mn.dtype != tf::DT_FLOAT || mx.dtype != tf::DT_FLOAT) ctx.unsupported("fake quantization computes float32 only");
  if (per_channel) {
    if (x.shape.empty()) ctx.fail("inputs must be at least 1-D");
    if (mn.shape != std::vector<std::int64_t>{x.shape.back()} || mx.shape != mn.shape)
      ctx.fail("min and max must be vectors of the inputs' last dimension " + std::to_string(x.shape.back()));
  } else if (mn.num_elements() != 1 || mx.num_elements() != 1) {
    ctx.fail("min and max must be scalars");
  }
  auto [qmin, qmax] = quant_range(ctx);
  std::vector<Nudged> ranges;
  std::vector<bool> zero;
  for (std::int64_t c = 0; c < mn.num_elements(); ++c) {
    const float lo = data<float>(mn)[c], hi = data<float>(mx)[c];
    zero.push_back(lo == 0.0f && hi == 0.0f);
    ranges.push_back(nudge(lo, hi, qmin, qmax));
  }
  if (ranges.empty()) ranges.push_back({}), zero.push_back(true);  // no channels: no elements either
  fake_quant_channels(ctx, ranges, zero, !per_channel);
}

}  // namespace

void register_special_kernels(KernelRegistry& r) {
  r.add("Lgamma", lgamma_k);
  r.add("Digamma", digamma_k);
  r.add("Igamma", igamma_k);
  r.add("Igammac", igammac_k);
  r.add("Polygamma", polygamma_k);
  r.add("Zeta", zeta_k);
  r.add("Betainc", betainc_k);
  r.add("L2Loss", l2_loss);
  r.add("SoftmaxCrossEntropyWithLogits", softmax_xent);
  r.add("SparseSoftmaxCrossEntropyWithLogits", sparse_softmax_xent);
  r.add("FakeQuantWithMinMaxArgs", fake_quant_args);
  r.add("FakeQuantWithMinMaxVars", fake_quant_vars);
  r.add("FakeQuantWithMinMaxVarsPerChannel", fake_quant_vars);
}

}  // namespace tffreeze::runtime
