// TensorFlow's output size of a window (convolution, pooling, patches) slid over one dimension
// without padding, as its GetWindowedOutputSize computes it for VALID (and, with the padded size
// as `in`, EXPLICIT): (in - effective + stride) / stride, truncated toward zero. TensorFlow
// refuses a negative size ("Computed output size would be negative") and allows 0: a window
// wider than the input by less than a stride.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tffreeze {

// nullopt where TensorFlow refuses; `effective` is (k - 1) * dilation + 1, `stride` >= 1.
inline std::optional<std::int64_t> valid_window_output(std::int64_t in, std::int64_t effective, std::int64_t stride) {
  const std::int64_t out = (in - effective + stride) / stride;
  if (out < 0) return std::nullopt;
  return out;
}

// TensorFlow's words for the refusal.
inline std::string negative_window_output(std::int64_t in, std::int64_t effective, std::int64_t stride) {
  return "computed output size would be negative: " + std::to_string((in - effective + stride) / stride) + " [input size " +
         std::to_string(in) + ", effective filter size " + std::to_string(effective) + ", stride " + std::to_string(stride) + "]";
}

}  // namespace tffreeze
