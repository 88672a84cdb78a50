#include "common/crc32c.h"

#include <array>
#include <cstring>

namespace tffreeze::crc32c {
namespace {

constexpr std::array<std::array<std::uint32_t, 256>, 8> make_tables() {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1u)));
    t[0][i] = c;
  }
  for (std::uint32_t i = 0; i < 256; ++i)
    for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  return t;
}
constexpr auto kTables = make_tables();

// Slicing-by-8: portable, about 1-2 GB/s.
std::uint32_t extend_portable(std::uint32_t crc, const unsigned char* p, std::size_t n) {
  crc = ~crc;
  while (n >= 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    v ^= crc;
    crc = kTables[7][v & 0xff] ^ kTables[6][(v >> 8) & 0xff] ^ kTables[5][(v >> 16) & 0xff] ^
          kTables[4][(v >> 24) & 0xff] ^ kTables[3][(v >> 32) & 0xff] ^ kTables[2][(v >> 40) & 0xff] ^
          kTables[1][(v >> 48) & 0xff] ^ kTables[0][v >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) crc = (crc >> 8) ^ kTables[0][(crc ^ *p++) & 0xff];
  return ~crc;
}

#if defined(__x86_64__)
// One stream of crc32 instructions waits 3 cycles for each result; three streams over three runs
// of kStream bytes keep the unit busy, and their CRCs are joined by shifting one past the next run
// (multiplying by x^(8 kStream) mod P, by tables) and adding (Intel's and Mark Adler's method).
constexpr std::size_t kStream = 8192;

std::uint32_t gf2_times(const std::uint32_t* matrix, std::uint32_t vector) {
  std::uint32_t sum = 0;
  for (; vector != 0; vector >>= 1, ++matrix)
    if (vector & 1) sum ^= *matrix;
  return sum;
}

void gf2_square(std::uint32_t* square, const std::uint32_t* matrix) {
  for (int n = 0; n < 32; ++n) square[n] = gf2_times(matrix, matrix[n]);
}

// The operator that appends `bytes` zero bytes (a power of two) to a CRC register, as four byte
// tables.
using ShiftTables = std::array<std::array<std::uint32_t, 256>, 4>;
ShiftTables make_shift_tables(std::size_t bytes) {
  std::uint32_t odd[32], even[32];
  odd[0] = 0x82f63b78u;  // one zero bit
  for (int n = 1; n < 32; ++n) odd[n] = 1u << (n - 1);
  gf2_square(even, odd);  // two zero bits
  gf2_square(odd, even);  // four
  const std::uint32_t* op = nullptr;
  while (op == nullptr) {  // eight zero bits (one byte), then doubled until `bytes` is used up
    gf2_square(even, odd);
    if ((bytes >>= 1) == 0) op = even;
    else {
      gf2_square(odd, even);
      if ((bytes >>= 1) == 0) op = odd;
    }
  }
  ShiftTables t{};
  for (std::uint32_t n = 0; n < 256; ++n)
    for (int b = 0; b < 4; ++b) t[b][n] = gf2_times(op, n << (8 * b));
  return t;
}

std::uint32_t shift_past_stream(std::uint32_t crc) {
  static const ShiftTables t = make_shift_tables(kStream);
  return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^ t[3][crc >> 24];
}

__attribute__((target("sse4.2"))) std::uint64_t one_stream(std::uint64_t c, const unsigned char* p, std::size_t n) {
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    c = __builtin_ia32_crc32di(c, v);
  }
  auto c32 = static_cast<std::uint32_t>(c);
  while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return c32;
}

__attribute__((target("sse4.2"))) std::uint32_t extend_sse42(std::uint32_t crc, const unsigned char* p, std::size_t n) {
  std::uint64_t c0 = ~crc;
  for (; n >= 3 * kStream; p += 3 * kStream, n -= 3 * kStream) {
    std::uint64_t c1 = 0, c2 = 0;
    for (std::size_t k = 0; k < kStream; k += 8) {
      std::uint64_t v0, v1, v2;
      std::memcpy(&v0, p + k, 8);
      std::memcpy(&v1, p + kStream + k, 8);
      std::memcpy(&v2, p + 2 * kStream + k, 8);
      c0 = __builtin_ia32_crc32di(c0, v0);
      c1 = __builtin_ia32_crc32di(c1, v1);
      c2 = __builtin_ia32_crc32di(c2, v2);
    }
    c0 = shift_past_stream(static_cast<std::uint32_t>(c0)) ^ static_cast<std::uint32_t>(c1);
    c0 = shift_past_stream(static_cast<std::uint32_t>(c0)) ^ static_cast<std::uint32_t>(c2);
  }
  return ~static_cast<std::uint32_t>(one_stream(c0, p, n));
}
#endif

using ExtendFn = std::uint32_t (*)(std::uint32_t, const unsigned char*, std::size_t);

ExtendFn choose() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("sse4.2")) return extend_sse42;
#endif
  return extend_portable;
}

}  // namespace

std::uint32_t extend(std::uint32_t crc, const void* data, std::size_t n) {
  static const ExtendFn fn = choose();
  return fn(crc, static_cast<const unsigned char*>(data), n);
}

}  // namespace tffreeze::crc32c
