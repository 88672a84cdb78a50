// TensorFlow data types: names as users write them ("float32", "DT_FLOAT"), element sizes,
// reference types, and shape helpers shared by every stage.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tffreeze/tf/tensor.pb.h"

namespace tffreeze {


// "float32", "int64", "bool", ... (NumPy / TF.js spelling); "DT_..." for the rest.
std::string dtype_name(tf::DataType dtype);
// Accepts "float32", "float", "DT_FLOAT", "int64", "half", "float16", ...
std::optional<tf::DataType> parse_dtype(std::string_view name);
// Bytes per element for fixed-size types; 0 for string, resource, variant and invalid.
int dtype_size(tf::DataType dtype);
bool is_ref_type(tf::DataType dtype);
tf::DataType base_type(tf::DataType dtype);  // DT_FLOAT_REF -> DT_FLOAT

// "[-1,784]", "[]" for a scalar, "?" for unknown rank.
std::string shape_string(const tf::TensorShapeProto& shape);
// Product of dims; nullopt when a dim is unknown/negative, the rank unknown, or it overflows
// int64 (hostile shapes).
std::optional<std::int64_t> num_elements(const tf::TensorShapeProto& shape);

}  // namespace tffreeze

namespace tffreeze {
// IEEE 754 binary16 bit pattern to float (subnormals, infinities and NaN included).
float half_to_float(std::uint16_t bits);
}  // namespace tffreeze
