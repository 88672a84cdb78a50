#include "io/checkpoint/ordered_code.h"

namespace tffreeze::io::checkpoint {
namespace {

// Header bits in the first two bytes for each encoding length (1..10 bytes).
constexpr unsigned char kLengthToHeaderBits[11][2] = {{0, 0},       {0x80, 0}, {0xc0, 0}, {0xe0, 0},
                                                      {0xf0, 0},    {0xf8, 0}, {0xfc, 0}, {0xfe, 0},
                                                      {0xff, 0},    {0xff, 0x80}, {0xff, 0xc0}};

int signed_encoding_length(std::uint64_t x) {
  // 1 byte holds 6 payload bits, each further byte 7 more (up to 10 bytes for 63 bits).
  int bits = 64 - __builtin_clzll(x | 1);  // significant bits of x (x >= 64 here)
  return (bits + 7) / 7;  // = kBitsToLength[bits]
}

}  // namespace

void write_num_increasing(std::string* dest, std::uint64_t value) {
  unsigned char buf[9];
  int len = 0;
  while (value > 0) {
    ++len;
    buf[9 - len] = static_cast<unsigned char>(value & 0xff);
    value >>= 8;
  }
  dest->push_back(static_cast<char>(len));
  dest->append(reinterpret_cast<const char*>(buf + 9 - len), static_cast<std::size_t>(len));
}

void write_signed_num_increasing(std::string* dest, std::int64_t value) {
  const std::uint64_t x = value < 0 ? ~static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
  if (x < 64) {
    dest->push_back(static_cast<char>(kLengthToHeaderBits[1][0] ^ static_cast<unsigned char>(value)));
    return;
  }
  const unsigned char sign = value < 0 ? 0xff : 0;
  unsigned char buf[10] = {sign, sign};
  auto v = static_cast<std::uint64_t>(value);
  for (int i = 0; i < 8; ++i) buf[2 + i] = static_cast<unsigned char>(v >> (56 - 8 * i));
  const int len = signed_encoding_length(x);
  unsigned char* begin = buf + sizeof(buf) - len;
  begin[0] ^= kLengthToHeaderBits[len][0];
  begin[1] ^= kLengthToHeaderBits[len][1];
  dest->append(reinterpret_cast<const char*>(begin), static_cast<std::size_t>(len));
}

void write_string(std::string* dest, std::string_view s) {
  for (char c : s) {
    if (c == '\0') dest->append("\x00\xff", 2);
    else if (c == '\xff') dest->append("\xff\x00", 2);
    else dest->push_back(c);
  }
  dest->append("\x00\x01", 2);
}

std::string encode_tensor_name_slice(std::string_view name, const tffreeze::tf::TensorSliceProto& slice, int rank) {
  std::string key;
  write_num_increasing(&key, 0);
  write_string(&key, name);
  write_num_increasing(&key, static_cast<std::uint64_t>(rank));
  for (int d = 0; d < rank; ++d) {
    std::int64_t start = 0, length = -1;
    if (d < slice.extent_size() && slice.extent(d).has_length_case() == tffreeze::tf::TensorSliceProto::Extent::kLength) {
      start = slice.extent(d).start();
      length = slice.extent(d).length();
    }
    write_signed_num_increasing(&key, start);
    write_signed_num_increasing(&key, length);
  }
  return key;
}

}  // namespace tffreeze::io::checkpoint
