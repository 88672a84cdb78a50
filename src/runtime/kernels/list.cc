// TensorList ops: the TF 2 form of TensorArray (reserve, from tensor, get/set item, stack); and
// TF 1's TensorArrayV3 family, whose handle names one array that writes change in place (the
// flow tensors order the reads after the writes, as in TensorFlow).
#include <cstring>

#include "common/dtype.h"
#include "runtime/kernel.h"
#include "runtime/tensor_list.h"

namespace tffreeze::runtime {
namespace {

const TensorList& list_input(const KernelContext& ctx, int i) {
  const Tensor& t = ctx.input(i);
  if (t.dtype != tf::DT_VARIANT || !t.list) ctx.fail("input " + std::to_string(i) + " is not a tensor list");
  return *t.list;
}

Tensor list_tensor(TensorList list) {
  Tensor t;
  t.dtype = tf::DT_VARIANT;
  t.list = std::make_shared<const TensorList>(std::move(list));
  return t;
}

// element_shape inputs: a scalar -1 means unknown rank, else a vector with -1 for unknown dims.
void read_element_shape(const KernelContext& ctx, int i, TensorList* list) {
  const Tensor& s = ctx.input(i);
  std::vector<std::int64_t> dims = ctx.input_ints(i);
  list->shape_known = !s.shape.empty();
  list->element_shape = list->shape_known ? dims : std::vector<std::int64_t>{};
}

std::int64_t index_input(const KernelContext& ctx, int i, std::size_t size) {
  auto v = ctx.input_ints(i);
  if (v.size() != 1) ctx.fail("index must be a scalar");
  if (v[0] < 0 || static_cast<std::size_t>(v[0]) >= size) {
    ctx.fail("index " + std::to_string(v[0]) + " is out of range for a list of " + std::to_string(size));
  }
  return v[0];
}

// An unset item reads as zeros when its shape is fully known (as TensorFlow does).
Tensor item_or_zeros(const KernelContext& ctx, const TensorList& list, std::size_t k, const std::vector<std::int64_t>& wanted) {
  if (list.items[k].dtype != tf::DT_INVALID) return list.items[k];
  std::vector<std::int64_t> shape = list.shape_known ? list.element_shape : wanted;
  for (std::size_t d = 0; d < shape.size() && d < wanted.size(); ++d)
    if (shape[d] < 0) shape[d] = wanted[d];
  for (auto d : shape)
    if (d < 0) ctx.fail("item " + std::to_string(k) + " was never set and its shape is not known");
  return make_tensor(ctx, list.element_dtype, shape);
}

void reserve(KernelContext& ctx) {
  TensorList list;
  list.element_dtype = ctx.attr_type("element_dtype", tf::DT_FLOAT);
  read_element_shape(ctx, 0, &list);
  auto n = ctx.input_ints(1);
  if (n.size() != 1 || n[0] < 0 || n[0] > (std::int64_t{1} << 24)) ctx.fail("num_elements must be a scalar in [0, 2^24]");
  list.items.resize(static_cast<std::size_t>(n[0]));
  ctx.output(0) = list_tensor(std::move(list));
}

void from_tensor(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.shape.empty()) ctx.fail("the tensor must have at least one dimension");
  TensorList list;
  list.element_dtype = x.dtype;
  read_element_shape(ctx, 1, &list);
  std::vector<std::int64_t> item_shape(x.shape.begin() + 1, x.shape.end());
  if (!list.shape_known) {
    list.shape_known = true;
    list.element_shape = item_shape;
  }
  const std::int64_t n = x.shape[0];
  const std::size_t item_bytes = n == 0 ? 0 : x.bytes.size() / static_cast<std::size_t>(n);
  for (std::int64_t k = 0; k < n; ++k) {
    Tensor item = make_tensor(ctx, x.dtype, item_shape);
    if (x.dtype == tf::DT_STRING) {
      const std::size_t per = item.strings.size();
      for (std::size_t j = 0; j < per; ++j) item.strings[j] = x.strings[static_cast<std::size_t>(k) * per + j];
    } else if (item_bytes > 0) {
      std::memcpy(item.bytes.data(), x.bytes.data() + static_cast<std::size_t>(k) * item_bytes, item_bytes);
    }
    list.items.push_back(std::move(item));
  }
  ctx.output(0) = list_tensor(std::move(list));
}

void get_item(KernelContext& ctx) {
  const TensorList& list = list_input(ctx, 0);
  std::size_t k = static_cast<std::size_t>(index_input(ctx, 1, list.items.size()));
  const Tensor& s = ctx.input(2);
  std::vector<std::int64_t> wanted = s.shape.empty() ? std::vector<std::int64_t>{} : ctx.input_ints(2);
  ctx.output(0) = item_or_zeros(ctx, list, k, wanted);
}

void set_item(KernelContext& ctx) {
  const TensorList& list = list_input(ctx, 0);
  std::size_t k = static_cast<std::size_t>(index_input(ctx, 1, list.items.size()));
  const Tensor& item = ctx.input(2);
  if (item.dtype != list.element_dtype) ctx.fail("item is " + dtype_name(item.dtype) + ", the list holds " + dtype_name(list.element_dtype));
  TensorList updated = list;
  updated.items[k] = item;
  ctx.output(0) = list_tensor(std::move(updated));
}

void length(KernelContext& ctx) {
  const TensorList& list = list_input(ctx, 0);
  Tensor n = make_tensor(ctx, tf::DT_INT32, {});
  std::int32_t v = static_cast<std::int32_t>(list.items.size());
  std::memcpy(n.bytes.data(), &v, 4);
  ctx.output(0) = std::move(n);
}

void stack(KernelContext& ctx) {
  const TensorList& list = list_input(ctx, 0);
  const Tensor& s = ctx.input(1);
  std::vector<std::int64_t> wanted = s.shape.empty() ? std::vector<std::int64_t>{} : ctx.input_ints(1);
  std::vector<Tensor> items;
  for (std::size_t k = 0; k < list.items.size(); ++k) items.push_back(item_or_zeros(ctx, list, k, wanted));
  std::vector<std::int64_t> item_shape = items.empty() ? wanted : items.front().shape;
  for (auto& d : item_shape)
    if (d < 0) ctx.fail("cannot stack an empty list of unknown element shape");
  std::vector<std::int64_t> shape = {static_cast<std::int64_t>(items.size())};
  shape.insert(shape.end(), item_shape.begin(), item_shape.end());
  Tensor out = make_tensor(ctx, list.element_dtype, shape);
  std::size_t offset = 0;
  for (std::size_t k = 0; k < items.size(); ++k) {
    if (items[k].shape != item_shape) ctx.fail("items have different shapes: " + dims_string(items[k].shape) + " vs " + dims_string(item_shape));
    if (out.dtype == tf::DT_STRING) {
      for (const auto& str : items[k].strings) out.strings[offset++] = str;
    } else if (!items[k].bytes.empty()) {
      std::memcpy(out.bytes.data() + offset, items[k].bytes.data(), items[k].bytes.size());
      offset += items[k].bytes.size();
    }
  }
  ctx.output(0) = std::move(out);
}

// The largest a dynamic_size TensorArray may grow (as the fixed size's limit).
constexpr std::int64_t kMaxArraySize = std::int64_t{1} << 24;

// A write at `index`: a dynamic_size array grows to hold it (TF's TensorArray::LockedWrite).
void grow_for(const KernelContext& ctx, TensorList& array, std::int64_t index) {
  if (!array.dynamic_size || index < static_cast<std::int64_t>(array.items.size())) return;
  if (index >= kMaxArraySize) ctx.fail("index " + std::to_string(index) + " would grow the TensorArray beyond 2^24 elements");
  array.items.resize(static_cast<std::size_t>(index) + 1);
}

// TF 1 arrays: the handle tensor holds the array; writers change it in place.
TensorList& array_input(const KernelContext& ctx) {
  const Tensor& t = ctx.input(0);
  if (t.dtype != tf::DT_RESOURCE || !t.list) ctx.fail("input 0 is not a TensorArray handle");
  return const_cast<TensorList&>(*t.list);  // created mutable by tensor_array
}

Tensor flow_value(const KernelContext& ctx) { return make_tensor(ctx, tf::DT_FLOAT, {}); }

void tensor_array(KernelContext& ctx) {
  auto size = ctx.input_ints(0);
  if (size.size() != 1 || size[0] < 0 || size[0] > kMaxArraySize) ctx.fail("size must be a scalar in [0, 2^24]");
  auto list = std::make_shared<TensorList>();
  list->element_dtype = ctx.attr_type("dtype", tf::DT_FLOAT);
  list->items.resize(static_cast<std::size_t>(size[0]));
  list->dynamic_size = ctx.attr_bool("dynamic_size", false);
  Tensor handle;
  handle.dtype = tf::DT_RESOURCE;
  handle.list = std::move(list);
  ctx.output(0) = std::move(handle);
  ctx.output(1) = flow_value(ctx);
}

void array_scatter(KernelContext& ctx) {
  TensorList& array = array_input(ctx);
  auto indices = ctx.input_ints(1);
  const Tensor& value = ctx.input(2);
  if (value.shape.empty() || value.shape[0] != static_cast<std::int64_t>(indices.size())) ctx.fail("value's first dimension must match the indices");
  if (value.dtype != array.element_dtype) ctx.fail("value is " + dtype_name(value.dtype) + ", the array holds " + dtype_name(array.element_dtype));
  std::vector<std::int64_t> item_shape(value.shape.begin() + 1, value.shape.end());
  const std::size_t item_bytes = indices.empty() ? 0 : value.bytes.size() / indices.size();
  for (std::size_t k = 0; k < indices.size(); ++k) {
    if (indices[k] >= 0) grow_for(ctx, array, indices[k]);
    if (indices[k] < 0 || static_cast<std::size_t>(indices[k]) >= array.items.size()) ctx.fail("index " + std::to_string(indices[k]) + " is out of range");
    Tensor item = make_tensor(ctx, value.dtype, item_shape);
    if (item_bytes > 0) std::memcpy(item.bytes.data(), value.bytes.data() + k * item_bytes, item_bytes);
    array.items[static_cast<std::size_t>(indices[k])] = std::move(item);
  }
  ctx.output(0) = flow_value(ctx);
}

void array_write(KernelContext& ctx) {
  TensorList& array = array_input(ctx);
  if (auto index = ctx.input_ints(1); index.size() == 1 && index[0] >= 0) grow_for(ctx, array, index[0]);
  const std::size_t k = static_cast<std::size_t>(index_input(ctx, 1, array.items.size()));
  if (ctx.input(2).dtype != array.element_dtype) ctx.fail("value is " + dtype_name(ctx.input(2).dtype) + ", the array holds " + dtype_name(array.element_dtype));
  array.items[k] = ctx.input(2);
  ctx.output(0) = flow_value(ctx);
}

void array_read(KernelContext& ctx) {
  TensorList& array = array_input(ctx);
  const std::size_t k = static_cast<std::size_t>(index_input(ctx, 1, array.items.size()));
  if (array.items[k].dtype == tf::DT_INVALID) ctx.fail("element " + std::to_string(k) + " was read before it was written");
  ctx.output(0) = array.items[k];
}

void array_gather(KernelContext& ctx) {
  TensorList& array = array_input(ctx);
  auto indices = ctx.input_ints(1);
  std::vector<Tensor> items;
  for (auto k : indices) {
    if (k < 0 || static_cast<std::size_t>(k) >= array.items.size() || array.items[static_cast<std::size_t>(k)].dtype == tf::DT_INVALID) {
      ctx.fail("element " + std::to_string(k) + " is out of range or was never written");
    }
    items.push_back(array.items[static_cast<std::size_t>(k)]);
  }
  if (items.empty()) ctx.fail("gathering no elements is not supported");
  std::vector<std::int64_t> shape = {static_cast<std::int64_t>(items.size())};
  shape.insert(shape.end(), items[0].shape.begin(), items[0].shape.end());
  Tensor out = make_tensor(ctx, array.element_dtype, shape);
  std::size_t offset = 0;
  for (const auto& item : items) {
    if (item.shape != items[0].shape) ctx.fail("elements have different shapes");
    if (!item.bytes.empty()) std::memcpy(out.bytes.data() + offset, item.bytes.data(), item.bytes.size());
    offset += item.bytes.size();
  }
  ctx.output(0) = std::move(out);
}

void array_size(KernelContext& ctx) {
  TensorList& array = array_input(ctx);
  Tensor n = make_tensor(ctx, tf::DT_INT32, {});
  std::int32_t v = static_cast<std::int32_t>(array.items.size());
  std::memcpy(n.bytes.data(), &v, 4);
  ctx.output(0) = std::move(n);
}

}  // namespace

void register_list_kernels(KernelRegistry& r) {
  r.add("TensorArrayV3", tensor_array);
  r.add("TensorArrayScatterV3", array_scatter);
  r.add("TensorArrayWriteV3", array_write);
  r.add("TensorArrayReadV3", array_read);
  r.add("TensorArrayGatherV3", array_gather);
  r.add("TensorArraySizeV3", array_size);
  r.add("TensorListReserve", reserve);
  r.add("TensorListFromTensor", from_tensor);
  r.add("TensorListGetItem", get_item);
  r.add("TensorListSetItem", set_item);
  r.add("TensorListLength", length);
  r.add("TensorListStack", stack);
}

}  // namespace tffreeze::runtime
