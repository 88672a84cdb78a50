// What `tffreeze inspect MODEL.onnx` says: opset, IR version, op histogram, inputs and outputs
// with dtypes and shapes, weights (and whether they are external).
#pragma once

#include <onnx/onnx_pb.h>

#include <nlohmann/json.hpp>

namespace tffreeze::onnx_export {

nlohmann::json summarize_onnx(const onnx::ModelProto& model);

// ONNX's name for an element type ("float32", "int64", ...; TensorFlow's spelling where they agree).
std::string onnx_dtype_name(int elem_type);

}  // namespace tffreeze::onnx_export
