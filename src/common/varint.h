// Protobuf-style base-128 varints, as tables, checkpoints and wire formats store lengths.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tffreeze {

// Reads one varint from the front of *in and advances it; false when truncated or over 64 bits.
inline bool get_varint64(std::string_view* in, std::uint64_t* out) {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    auto b = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    v |= std::uint64_t{b & 0x7fu} << shift;
    if (!(b & 0x80)) {
      *out = v;
      return true;
    }
  }
  return false;
}

inline void put_varint64(std::string* out, std::uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

}  // namespace tffreeze
