// What a kernel sees: its node, its input tensors, and the outputs it must fill. Kernels are
// plain functions registered by op name (kernels/*.cc, one file per op family).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "common/tensor.h"
#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::runtime {

namespace tf = ::tffreeze::tf;

// Runs library functions for kernels of functional ops (While, If, calls).
class FunctionCaller {
 public:
  virtual ~FunctionCaller() = default;
  virtual std::vector<Tensor> call(const std::string& function, const std::vector<Tensor>& args) const = 0;
};

class KernelContext {
 public:
  KernelContext(const tf::NodeDef& node, std::vector<const Tensor*> inputs) : node_(node), inputs_(std::move(inputs)) {}

  const tf::NodeDef& node() const { return node_; }
  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  const Tensor& input(int i) const;
  // Scalar or vector integer input (shapes, axes, sizes), any integer dtype.
  std::vector<std::int64_t> input_ints(int i) const;

  Tensor& output(int i);  // grows the outputs as needed

  // In place: the executor marks the inputs whose value no one reads after this node (the last
  // reader of a computed tensor that nothing else shares). take_input moves such an input out
  // (input(i) is then empty) and copies any other; output_buffer gives input i's buffer for an
  // output of that dtype and shape when it may be taken, else a new zero-filled tensor.
  void set_reusable_inputs(std::vector<bool> reusable) { reusable_ = std::move(reusable); }
  bool input_reusable(int i) const { return i >= 0 && static_cast<std::size_t>(i) < reusable_.size() && reusable_[static_cast<std::size_t>(i)]; }
  Tensor take_input(int i);
  Tensor output_buffer(int i, tf::DataType dtype, const std::vector<std::int64_t>& shape);
  // Whether input i was moved out (its values are now in the tensor take_input/output_buffer gave).
  bool taken(int i) const { return i >= 0 && static_cast<std::size_t>(i) < taken_.size() && taken_[static_cast<std::size_t>(i)]; }
  std::vector<Tensor>& outputs() { return outputs_; }

  bool has_attr(std::string_view name) const;
  std::int64_t attr_int(std::string_view name, std::int64_t fallback) const;
  float attr_float(std::string_view name, float fallback) const;
  bool attr_bool(std::string_view name, bool fallback) const;
  std::string attr_string(std::string_view name, const std::string& fallback) const;
  tf::DataType attr_type(std::string_view name, tf::DataType fallback) const;
  std::vector<std::int64_t> attr_ints(std::string_view name) const;
  std::vector<std::string> attr_strings(std::string_view name) const;

  void set_functions(const FunctionCaller* functions) { functions_ = functions; }
  // Runs a library function; unsupported (exit 4) when the graph has no library.
  std::vector<Tensor> call(const std::string& function, const std::vector<Tensor>& args) const;

  // Errors naming the node: bad input (exit 3) and unsupported (exit 4).
  [[noreturn]] void fail(const std::string& what) const;
  [[noreturn]] void unsupported(const std::string& what) const;

 private:
  const tf::AttrValue* find_attr(std::string_view name) const;
  const tf::NodeDef& node_;
  std::vector<const Tensor*> inputs_;
  std::vector<bool> reusable_, taken_;
  std::vector<Tensor> outputs_;
  const FunctionCaller* functions_ = nullptr;
};

using Kernel = void (*)(KernelContext&);

class KernelRegistry {
 public:
  static const KernelRegistry& global();
  void add(const std::string& op, Kernel kernel);
  Kernel find(std::string_view op) const;
  std::vector<std::string> ops() const;

 private:
  std::vector<std::pair<std::string, Kernel>> kernels_;  // sorted by op after construction
};

// The kernel families, one file each (kernels/<family>.cc defines register_<family>_kernels):
// adding a family is one word here; the declarations and kernel_registry.cc's calls come from it.
#define TFFREEZE_KERNEL_FAMILIES(X) X(basic) X(elementwise) X(nn) X(reduce) X(array) X(image) X(functional) X(list) X(lookup) X(bitwise) X(indexing) X(matrix) X(special) X(volume) X(sparse)
#define TFFREEZE_DECLARE_KERNEL_FAMILY(family) void register_##family##_kernels(KernelRegistry& r);
TFFREEZE_KERNEL_FAMILIES(TFFREEZE_DECLARE_KERNEL_FAMILY)
#undef TFFREEZE_DECLARE_KERNEL_FAMILY

// A tensor of `dtype` and `shape`, zero-filled (throws via ctx when too large). Its elements
// count against the work budget.
Tensor make_tensor(const KernelContext& ctx, tf::DataType dtype, std::vector<std::int64_t> shape);

// The element operations kernels may still take (the elements of the results they make, and the
// multiply-adds of products, convolutions, pools and factorizations), unlimited by default. The
// fuzz targets set it before each graph: work that a made-up graph asks for (a padding of 2^24
// rows, a product of two 4096-square matrices) must end in a refusal, not outlast a time limit.
void set_work_budget(std::int64_t operations);
void set_unlimited_work();

// Takes the product of `factors` element operations from the budget; fails via ctx (naming the
// node) when the budget has less left.
void charge_work(const KernelContext& ctx, std::initializer_list<std::int64_t> factors);

template <class T>
T* data(Tensor& t) {
  return reinterpret_cast<T*>(t.bytes.data());
}
template <class T>
const T* data(const Tensor& t) {
  return reinterpret_cast<const T*>(t.bytes.data());
}

}  // namespace tffreeze::runtime
