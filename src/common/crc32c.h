// CRC-32C (Castagnoli), as TensorFlow's checkpoints and LevelDB tables use it, with the
// "masked" form stored in files. Hardware-accelerated (SSE4.2) where the CPU has it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tffreeze::crc32c {

std::uint32_t extend(std::uint32_t crc, const void* data, std::size_t n);
inline std::uint32_t value(const void* data, std::size_t n) { return extend(0, data, n); }

// Checksums stored next to data they cover are masked, so that a CRC of a CRC is not weak.
inline std::uint32_t mask(std::uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
inline std::uint32_t unmask(std::uint32_t masked) {
  std::uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace tffreeze::crc32c
