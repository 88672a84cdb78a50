#include "common/dtype.h"

#include <array>
#include <cstring>
#include <limits>

namespace tffreeze {
namespace {

struct DtypeInfo {
  tf::DataType dtype;
  const char* name;     // NumPy / TF.js spelling
  const char* alias;    // TF's Python spelling where it differs, else nullptr
  int size;
};

constexpr std::array<DtypeInfo, 21> kDtypes{{
    {tf::DT_FLOAT, "float32", "float", 4},
    {tf::DT_DOUBLE, "float64", "double", 8},
    {tf::DT_HALF, "float16", "half", 2},
    {tf::DT_BFLOAT16, "bfloat16", nullptr, 2},
    {tf::DT_INT8, "int8", nullptr, 1},
    {tf::DT_INT16, "int16", nullptr, 2},
    {tf::DT_INT32, "int32", nullptr, 4},
    {tf::DT_INT64, "int64", nullptr, 8},
    {tf::DT_UINT8, "uint8", nullptr, 1},
    {tf::DT_UINT16, "uint16", nullptr, 2},
    {tf::DT_UINT32, "uint32", nullptr, 4},
    {tf::DT_UINT64, "uint64", nullptr, 8},
    {tf::DT_BOOL, "bool", nullptr, 1},
    {tf::DT_COMPLEX64, "complex64", nullptr, 8},
    {tf::DT_COMPLEX128, "complex128", nullptr, 16},
    {tf::DT_STRING, "string", nullptr, 0},
    {tf::DT_RESOURCE, "resource", nullptr, 0},
    {tf::DT_VARIANT, "variant", nullptr, 0},
    {tf::DT_QINT8, "qint8", nullptr, 1},
    {tf::DT_QUINT8, "quint8", nullptr, 1},
    {tf::DT_QINT32, "qint32", nullptr, 4},
}};

const DtypeInfo* find(tf::DataType dtype) {
  for (const auto& info : kDtypes)
    if (info.dtype == dtype) return &info;
  return nullptr;
}

}  // namespace

// TensorFlow's reference types are its dtypes plus 100 (kDataTypeRefOffset), all below 200: an
// unknown value past that is no reference (nor a reference of a reference, to strip again).
bool is_ref_type(tf::DataType dtype) { return dtype > 100 && dtype < 200; }

tf::DataType base_type(tf::DataType dtype) {
  return is_ref_type(dtype) ? static_cast<tf::DataType>(dtype - 100) : dtype;
}

std::string dtype_name(tf::DataType dtype) {
  if (is_ref_type(dtype)) return dtype_name(base_type(dtype)) + "_ref";
  if (const auto* info = find(dtype)) return info->name;
  return tf::DataType_IsValid(dtype) ? tf::DataType_Name(dtype) : "DT_" + std::to_string(static_cast<int>(dtype));
}

std::optional<tf::DataType> parse_dtype(std::string_view name) {
  for (const auto& info : kDtypes) {
    if (name == info.name || (info.alias && name == info.alias)) return info.dtype;
  }
  tf::DataType dtype;
  if (tf::DataType_Parse(std::string(name), &dtype)) return dtype;
  return std::nullopt;
}

int dtype_size(tf::DataType dtype) {
  const auto* info = find(dtype);
  return info ? info->size : 0;
}

std::string shape_string(const tf::TensorShapeProto& shape) {
  if (shape.unknown_rank()) return "?";
  std::string s = "[";
  for (int i = 0; i < shape.dim_size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape.dim(i).size());
  }
  return s + "]";
}

std::optional<std::int64_t> num_elements(const tf::TensorShapeProto& shape) {
  if (shape.unknown_rank()) return std::nullopt;
  std::int64_t n = 1;
  for (const auto& dim : shape.dim()) {
    if (dim.size() < 0) return std::nullopt;
    if (dim.size() != 0 && n > std::numeric_limits<std::int64_t>::max() / dim.size()) return std::nullopt;
    n *= dim.size();
  }
  return n;
}

}  // namespace tffreeze

namespace tffreeze {
float half_to_float(std::uint16_t h) {
  std::uint32_t sign = std::uint32_t{h & 0x8000u} << 16;
  std::uint32_t exp = (h >> 10) & 0x1fu;
  std::uint32_t mant = h & 0x3ffu;
  std::uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalize
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while (!(mant & 0x400u));
      bits = sign | ((127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  static_assert(sizeof f == sizeof bits);
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
}  // namespace tffreeze
