// NumPy .npy files (format versions 1-3, C order, little-endian), read and written.
#pragma once

#include <string>

#include "common/tensor.h"

namespace tffreeze::io {

// Throws Error: exit 3 for a malformed or truncated file, 4 for what tffreeze cannot hold
// (Fortran order, big-endian, object arrays). Messages name `path`.
Tensor parse_npy(const std::string& bytes, const std::string& path);
Tensor read_npy(const std::string& path);

// Serializes to .npy (version 1.0). bfloat16 is widened to float32 (NumPy has no bfloat16);
// strings are refused (exit 4).
std::string to_npy(const Tensor& tensor, const std::string& what);
void write_npy(const Tensor& tensor, const std::string& path);

}  // namespace tffreeze::io
