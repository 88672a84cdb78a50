// ONNX model files: reading (for inspect and check) and writing atomically, with ONNX's
// external-data convention for large weights: OUT.onnx plus OUT.onnx.data beside it, tensors
// streamed one after another, each initializer naming its location, offset and length.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>

namespace tffreeze::io {

// Protobuf cannot serialize 2 GiB or more: models whose weights come near that are written with
// external data whether asked or not.
inline constexpr std::size_t kOnnxExternalDataThreshold = std::size_t{1} << 30;

// Writes `model` to `path` (".onnx"); with `external_data` (or a model too large for one
// protobuf) initializers of 1 KiB or more go to `path` + ".data". Both files are written
// atomically; on failure neither is left behind.
void save_onnx(onnx::ModelProto model, const std::string& path, bool external_data);

// Reads an ONNX model; external data stays where it is (only its references are read).
// Errors (exit 3) name the file.
onnx::ModelProto load_onnx(const std::string& path);

// Whether the file's bytes look like an ONNX ModelProto (for format sniffing).
bool looks_like_onnx(const std::string& path);

}  // namespace tffreeze::io
