// Calling a kernel body with the C++ type of a tensor's dtype.
#pragma once

#include <cstdint>
#include <type_traits>

#include "common/dtype.h"
#include "runtime/kernel.h"

namespace tffreeze::runtime {

// f(T{}) for the numeric dtypes the executor computes with.
template <class F>
decltype(auto) dispatch_numeric(const KernelContext& ctx, tf::DataType dtype, F&& f) {
  switch (dtype) {
    case tf::DT_FLOAT: return f(float{});
    case tf::DT_DOUBLE: return f(double{});
    case tf::DT_INT32: return f(std::int32_t{});
    case tf::DT_INT64: return f(std::int64_t{});
    case tf::DT_UINT8: return f(std::uint8_t{});
    case tf::DT_INT8: return f(std::int8_t{});
    case tf::DT_INT16: return f(std::int16_t{});
    case tf::DT_UINT16: return f(std::uint16_t{});
    default: ctx.unsupported("dtype " + dtype_name(dtype) + " is not supported by this kernel");
  }
}

// Numeric dtypes plus bool (stored as one byte 0/1).
template <class F>
decltype(auto) dispatch_any(const KernelContext& ctx, tf::DataType dtype, F&& f) {
  if (dtype == tf::DT_BOOL) return f(bool{});
  return dispatch_numeric(ctx, dtype, f);
}

// The integer dtypes, unsigned 32- and 64-bit included (bitwise ops).
template <class F>
decltype(auto) dispatch_integer(const KernelContext& ctx, tf::DataType dtype, F&& f) {
  switch (dtype) {
    case tf::DT_INT8: return f(std::int8_t{});
    case tf::DT_INT16: return f(std::int16_t{});
    case tf::DT_INT32: return f(std::int32_t{});
    case tf::DT_INT64: return f(std::int64_t{});
    case tf::DT_UINT8: return f(std::uint8_t{});
    case tf::DT_UINT16: return f(std::uint16_t{});
    case tf::DT_UINT32: return f(std::uint32_t{});
    case tf::DT_UINT64: return f(std::uint64_t{});
    default: ctx.unsupported("dtype " + dtype_name(dtype) + " (this kernel takes integers)");
  }
}

// Every real dtype the executor stores natively: numeric, bool, uint32 and uint64 (Cast).
template <class F>
decltype(auto) dispatch_real(const KernelContext& ctx, tf::DataType dtype, F&& f) {
  if (dtype == tf::DT_UINT32) return f(std::uint32_t{});
  if (dtype == tf::DT_UINT64) return f(std::uint64_t{});
  return dispatch_any(ctx, dtype, f);
}

template <class F>
decltype(auto) dispatch_float(const KernelContext& ctx, tf::DataType dtype, F&& f) {
  switch (dtype) {
    case tf::DT_FLOAT: return f(float{});
    case tf::DT_DOUBLE: return f(double{});
    default: ctx.unsupported("dtype " + dtype_name(dtype) + " (this kernel computes float32 and float64)");
  }
}

template <class T>
constexpr tf::DataType dtype_of() {
  if constexpr (std::is_same_v<T, float>) return tf::DT_FLOAT;
  else if constexpr (std::is_same_v<T, double>) return tf::DT_DOUBLE;
  else if constexpr (std::is_same_v<T, std::int32_t>) return tf::DT_INT32;
  else if constexpr (std::is_same_v<T, std::int64_t>) return tf::DT_INT64;
  else if constexpr (std::is_same_v<T, std::uint8_t>) return tf::DT_UINT8;
  else if constexpr (std::is_same_v<T, std::int8_t>) return tf::DT_INT8;
  else if constexpr (std::is_same_v<T, std::int16_t>) return tf::DT_INT16;
  else if constexpr (std::is_same_v<T, std::uint16_t>) return tf::DT_UINT16;
  else if constexpr (std::is_same_v<T, std::uint32_t>) return tf::DT_UINT32;
  else if constexpr (std::is_same_v<T, std::uint64_t>) return tf::DT_UINT64;
  else if constexpr (std::is_same_v<T, bool>) return tf::DT_BOOL;
  else return tf::DT_INVALID;
}

// Normalizes a possibly negative axis against `rank`; fails via ctx when out of range.
std::int64_t normalize_axis(const KernelContext& ctx, std::int64_t axis, std::int64_t rank);

}  // namespace tffreeze::runtime
