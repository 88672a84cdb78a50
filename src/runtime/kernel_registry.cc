#include <algorithm>
#include <atomic>
#include <limits>

#include "common/dtype.h"
#include "common/error.h"
#include "runtime/kernel.h"

namespace tffreeze::runtime {

const Tensor& KernelContext::input(int i) const {
  if (i < 0 || i >= num_inputs()) fail("expects at least " + std::to_string(i + 1) + " inputs, has " + std::to_string(num_inputs()));
  return *inputs_[static_cast<std::size_t>(i)];
}

std::vector<std::int64_t> KernelContext::input_ints(int i) const {
  const Tensor& t = input(i);
  std::vector<std::int64_t> out;
  const std::int64_t n = t.num_elements();
  for (std::int64_t k = 0; k < n; ++k) {
    switch (t.dtype) {
      case tf::DT_INT32: out.push_back(t.get<std::int32_t>(k)); break;
      case tf::DT_INT64: out.push_back(t.get<std::int64_t>(k)); break;
      case tf::DT_INT16: out.push_back(t.get<std::int16_t>(k)); break;
      case tf::DT_INT8: out.push_back(t.get<std::int8_t>(k)); break;
      case tf::DT_UINT8: out.push_back(t.get<std::uint8_t>(k)); break;
      default: fail("input " + std::to_string(i) + " must be integer, is " + dtype_name(t.dtype));
    }
  }
  return out;
}

Tensor KernelContext::take_input(int i) {
  const Tensor& x = input(i);
  if (!input_reusable(i)) return x;
  reusable_[static_cast<std::size_t>(i)] = false;
  taken_.resize(reusable_.size(), false);
  taken_[static_cast<std::size_t>(i)] = true;
  return std::move(const_cast<Tensor&>(x));  // the executor's own copy, which no one reads again
}

Tensor KernelContext::output_buffer(int i, tf::DataType dtype, const std::vector<std::int64_t>& shape) {
  if (input_reusable(i) && input(i).dtype == dtype && input(i).shape == shape && input(i).strings.empty() && !input(i).list) return take_input(i);
  return make_tensor(*this, dtype, shape);
}

Tensor& KernelContext::output(int i) {
  if (static_cast<int>(outputs_.size()) <= i) outputs_.resize(static_cast<std::size_t>(i) + 1);
  return outputs_[static_cast<std::size_t>(i)];
}

const tf::AttrValue* KernelContext::find_attr(std::string_view name) const {
  auto it = node_.attr().find(std::string(name));
  return it == node_.attr().end() ? nullptr : &it->second;
}

bool KernelContext::has_attr(std::string_view name) const { return find_attr(name) != nullptr; }

std::int64_t KernelContext::attr_int(std::string_view name, std::int64_t fallback) const {
  const auto* a = find_attr(name);
  return a && a->value_case() == tf::AttrValue::kI ? a->i() : fallback;
}
float KernelContext::attr_float(std::string_view name, float fallback) const {
  const auto* a = find_attr(name);
  return a && a->value_case() == tf::AttrValue::kF ? a->f() : fallback;
}
bool KernelContext::attr_bool(std::string_view name, bool fallback) const {
  const auto* a = find_attr(name);
  return a && a->value_case() == tf::AttrValue::kB ? a->b() : fallback;
}
std::string KernelContext::attr_string(std::string_view name, const std::string& fallback) const {
  const auto* a = find_attr(name);
  return a && a->value_case() == tf::AttrValue::kS ? a->s() : fallback;
}
tf::DataType KernelContext::attr_type(std::string_view name, tf::DataType fallback) const {
  const auto* a = find_attr(name);
  return a && a->value_case() == tf::AttrValue::kType ? base_type(a->type()) : fallback;
}
std::vector<std::int64_t> KernelContext::attr_ints(std::string_view name) const {
  const auto* a = find_attr(name);
  if (!a || a->value_case() != tf::AttrValue::kList) return {};
  return {a->list().i().begin(), a->list().i().end()};
}
std::vector<std::string> KernelContext::attr_strings(std::string_view name) const {
  const auto* a = find_attr(name);
  if (!a || a->value_case() != tf::AttrValue::kList) return {};
  return {a->list().s().begin(), a->list().s().end()};
}

std::vector<Tensor> KernelContext::call(const std::string& function, const std::vector<Tensor>& args) const {
  if (!functions_) unsupported("calls function '" + function + "', but no function library is available");
  return functions_->call(function, args);
}

void KernelContext::fail(const std::string& what) const {
  throw Error(ExitCode::kBadInput, "node '" + node_.name() + "' (" + node_.op() + "): " + what);
}
void KernelContext::unsupported(const std::string& what) const {
  throw Error(ExitCode::kUnsupported, "node '" + node_.name() + "' (" + node_.op() + "): " + what);
}

namespace {
std::atomic<bool> work_limited{false};
std::atomic<std::int64_t> work_left{0};
}  // namespace

void set_work_budget(std::int64_t operations) {
  work_left = operations;
  work_limited = true;
}
void set_unlimited_work() { work_limited = false; }

void charge_work(const KernelContext& ctx, std::initializer_list<std::int64_t> factors) {
  if (!work_limited.load(std::memory_order_relaxed)) return;
  std::int64_t ops = 1;
  for (std::int64_t f : factors) {
    if (f <= 0) return;  // no work (a negative size fails in the kernel's own checks)
    ops = f > std::numeric_limits<std::int64_t>::max() / ops ? std::numeric_limits<std::int64_t>::max() : ops * f;
  }
  if (work_left.fetch_sub(ops) < ops) {
    work_left = 0;
    ctx.fail("needs more work than the executor's budget allows (" + std::to_string(ops) + " element operations)");
  }
}

Tensor make_tensor(const KernelContext& ctx, tf::DataType dtype, std::vector<std::int64_t> shape) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  std::int64_t n = 1;
  for (auto d : t.shape) {
    if (d < 0) ctx.fail("negative dimension in shape " + dims_string(t.shape));
    if (d != 0 && n > kMaxExpandedTensorBytes / d) ctx.fail("result shape " + dims_string(t.shape) + " is too large");
    n *= d;
  }
  charge_work(ctx, {n});
  if (dtype == tf::DT_STRING) {
    t.strings.resize(static_cast<std::size_t>(n));
    return t;
  }
  const int esize = dtype_size(dtype);
  if (esize == 0) ctx.unsupported("dtype " + dtype_name(dtype));
  if (n > kMaxExpandedTensorBytes / esize) ctx.fail("result shape " + dims_string(t.shape) + " is too large");
  t.bytes.assign(static_cast<std::size_t>(n * esize), '\0');
  return t;
}

void KernelRegistry::add(const std::string& op, Kernel kernel) { kernels_.emplace_back(op, kernel); }

Kernel KernelRegistry::find(std::string_view op) const {
  auto it = std::lower_bound(kernels_.begin(), kernels_.end(), op, [](const auto& k, std::string_view o) { return k.first < o; });
  return it != kernels_.end() && it->first == op ? it->second : nullptr;
}

std::vector<std::string> KernelRegistry::ops() const {
  std::vector<std::string> out;
  for (const auto& [op, k] : kernels_) out.push_back(op);
  return out;
}

const KernelRegistry& KernelRegistry::global() {
  static const KernelRegistry registry = [] {
    KernelRegistry r;
#define TFFREEZE_REGISTER_KERNEL_FAMILY(family) register_##family##_kernels(r);
    TFFREEZE_KERNEL_FAMILIES(TFFREEZE_REGISTER_KERNEL_FAMILY)
#undef TFFREEZE_REGISTER_KERNEL_FAMILY
    std::sort(r.kernels_.begin(), r.kernels_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    return r;
  }();
  return registry;
}

}  // namespace tffreeze::runtime
