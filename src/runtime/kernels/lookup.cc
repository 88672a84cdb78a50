// Lookup tables (HashTableV2 and friends): a frozen vocabulary is a table that a
// LookupTableImportV2 fills from constants before every lookup (see freeze/lookup_tables.h).
// The handle tensor holds the table's keys and values; the import replaces them in place.
#include <cstring>
#include <unordered_map>

#include "common/dtype.h"
#include "runtime/kernel.h"
#include "runtime/tensor_list.h"

namespace tffreeze::runtime {
namespace {

// Element i of a string or fixed-size tensor as bytes, for hashing keys.
std::string element_key(const Tensor& t, std::int64_t i) {
  if (t.dtype == tf::DT_STRING) return t.strings[static_cast<std::size_t>(i)];
  const std::size_t size = static_cast<std::size_t>(dtype_size(t.dtype));
  return t.bytes.substr(static_cast<std::size_t>(i) * size, size);
}

TensorList& table_input(const KernelContext& ctx) {
  const Tensor& t = ctx.input(0);
  if (t.dtype != tf::DT_RESOURCE || !t.list) ctx.fail("input 0 is not a lookup table");
  return const_cast<TensorList&>(*t.list);  // created mutable by hash_table
}

void hash_table(KernelContext& ctx) {
  auto table = std::make_shared<TensorList>();
  table->element_dtype = ctx.attr_type("value_dtype", tf::DT_INT64);
  table->items.resize(2);  // keys, values: empty until imported
  Tensor handle;
  handle.dtype = tf::DT_RESOURCE;
  handle.list = std::move(table);
  ctx.output(0) = std::move(handle);
}

void import_table(KernelContext& ctx) {
  TensorList& table = table_input(ctx);
  const Tensor &keys = ctx.input(1), &values = ctx.input(2);
  if (keys.num_elements() != values.num_elements()) ctx.fail("keys and values differ in length");
  if (values.dtype != table.element_dtype) ctx.fail("values are " + dtype_name(values.dtype) + ", the table holds " + dtype_name(table.element_dtype));
  table.items = {keys, values};
}

void find(KernelContext& ctx) {
  TensorList& table = table_input(ctx);
  const Tensor &keys = ctx.input(1), &fallback = ctx.input(2);
  if (fallback.num_elements() != 1) ctx.unsupported("only a scalar default_value is supported");
  if (fallback.dtype != table.element_dtype) ctx.fail("default_value is " + dtype_name(fallback.dtype));
  const Tensor &table_keys = table.items[0], &table_values = table.items[1];
  if (table_keys.dtype != tf::DT_INVALID && table_keys.dtype != keys.dtype) {
    ctx.fail("keys are " + dtype_name(keys.dtype) + ", the table's are " + dtype_name(table_keys.dtype));
  }
  std::unordered_map<std::string, std::int64_t> index;
  for (std::int64_t i = 0; i < table_keys.num_elements(); ++i) index.emplace(element_key(table_keys, i), i);
  Tensor out = make_tensor(ctx, table.element_dtype, keys.shape);
  for (std::int64_t i = 0; i < keys.num_elements(); ++i) {
    auto it = index.find(element_key(keys, i));
    const Tensor& from = it == index.end() ? fallback : table_values;
    const std::int64_t k = it == index.end() ? 0 : it->second;
    if (out.dtype == tf::DT_STRING) {
      out.strings[static_cast<std::size_t>(i)] = from.strings[static_cast<std::size_t>(k)];
    } else {
      const std::size_t size = static_cast<std::size_t>(dtype_size(out.dtype));
      std::memcpy(out.bytes.data() + static_cast<std::size_t>(i) * size, from.bytes.data() + static_cast<std::size_t>(k) * size, size);
    }
  }
  ctx.output(0) = std::move(out);
}

void size(KernelContext& ctx) {
  TensorList& table = table_input(ctx);
  Tensor n = make_tensor(ctx, tf::DT_INT64, {});
  const std::int64_t v = table.items[0].num_elements();
  std::memcpy(n.bytes.data(), &v, 8);
  ctx.output(0) = std::move(n);
}

}  // namespace

void register_lookup_kernels(KernelRegistry& r) {
  r.add("HashTableV2", hash_table);
  r.add("LookupTableImportV2", import_table);
  r.add("InitializeTableV2", import_table);
  r.add("LookupTableFindV2", find);
  r.add("LookupTableSizeV2", size);
}

}  // namespace tffreeze::runtime
