// NumPy-style broadcasting of two or three shapes, and the index maps it implies.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace tffreeze::runtime {

// The broadcast shape, or nullopt when the shapes are incompatible.
std::optional<std::vector<std::int64_t>> broadcast_shape(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b);

// For each element of `out` (row-major), the index of the element of `in` it reads.
// `in` must broadcast to `out`.
std::vector<std::int64_t> broadcast_index(const std::vector<std::int64_t>& in, const std::vector<std::int64_t>& out);

}  // namespace tffreeze::runtime
