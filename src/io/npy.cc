#include "io/npy.h"

#include <array>
#include <regex>

#include "common/dtype.h"
#include "common/error.h"
#include "common/file_util.h"

namespace tffreeze::io {
namespace {

struct Descr {
  tf::DataType dtype;
  const char* code;
};
constexpr std::array<Descr, 14> kDescrs{{
    {tf::DT_FLOAT, "<f4"}, {tf::DT_DOUBLE, "<f8"}, {tf::DT_HALF, "<f2"},   {tf::DT_INT8, "|i1"},
    {tf::DT_INT16, "<i2"}, {tf::DT_INT32, "<i4"},  {tf::DT_INT64, "<i8"},  {tf::DT_UINT8, "|u1"},
    {tf::DT_UINT16, "<u2"}, {tf::DT_UINT32, "<u4"}, {tf::DT_UINT64, "<u8"}, {tf::DT_BOOL, "|b1"},
    {tf::DT_COMPLEX64, "<c8"}, {tf::DT_COMPLEX128, "<c16"},
}};

}  // namespace

Tensor parse_npy(const std::string& b, const std::string& path) {
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) throw_bad_input(path, "not a .npy file (no \\x93NUMPY magic)");
  const int major = static_cast<unsigned char>(b[6]);
  std::size_t header_len, start;
  if (major == 1) {
    header_len = static_cast<unsigned char>(b[8]) | (static_cast<std::size_t>(static_cast<unsigned char>(b[9])) << 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (b.size() < 12) throw_bad_input(path, "truncated .npy header");
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= static_cast<std::size_t>(static_cast<unsigned char>(b[8 + i])) << (8 * i);
    start = 12;
  } else {
    throw_unsupported(path, ".npy format version " + std::to_string(major));
  }
  if (header_len > b.size() - start) throw_bad_input(path, "truncated .npy header");
  const std::string header = b.substr(start, header_len);
  static const std::regex descr_re(R"('descr'\s*:\s*'([^']*)')");
  static const std::regex order_re(R"('fortran_order'\s*:\s*(True|False))");
  static const std::regex shape_re(R"('shape'\s*:\s*\(([^)]*)\))");
  std::smatch m;
  if (!std::regex_search(header, m, descr_re)) throw_bad_input(path, ".npy header has no descr");
  std::string descr = m[1].str();
  if (descr.size() > 1 && descr[0] == '=') descr[0] = '<';
  Tensor t;
  for (const auto& d : kDescrs) {
    std::string code = d.code;
    if (descr == code || (code[0] == '|' && descr == "<" + code.substr(1))) t.dtype = d.dtype;
  }
  if (t.dtype == tf::DT_INVALID) throw_unsupported(path, ".npy dtype '" + descr + "' (supported: little-endian numeric and bool)");
  if (!std::regex_search(header, m, order_re)) throw_bad_input(path, ".npy header has no fortran_order");
  if (m[1] == "True") throw_unsupported(path, "Fortran-ordered .npy arrays (save with np.ascontiguousarray)");
  if (!std::regex_search(header, m, shape_re)) throw_bad_input(path, ".npy header has no shape");
  std::string dims = m[1].str();
  static const std::regex int_re(R"(\s*(\d+)\s*,?)");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), int_re); it != std::sregex_iterator(); ++it) {
    const std::string digits = (*it)[1].str();
    if (digits.size() > 15) throw_bad_input(path, ".npy dimension " + digits + " is too large");
    t.shape.push_back(std::stoll(digits));
  }
  auto n = num_elements(shape_proto(t.shape));
  const std::size_t data_start = start + header_len;
  const auto have = static_cast<std::uint64_t>(b.size() - data_start);
  const auto esize = static_cast<std::uint64_t>(dtype_size(t.dtype));
  if (!n || static_cast<std::uint64_t>(*n) > have / esize || static_cast<std::uint64_t>(*n) * esize != have) {
    throw_bad_input(path, ".npy shape " + dims_string(t.shape) + " of " + dtype_name(t.dtype) + " needs " +
                              (n ? std::to_string(static_cast<std::uint64_t>(*n) * esize) : std::string("too many")) + " bytes, the file has " +
                              std::to_string(have));
  }
  t.bytes = b.substr(data_start);
  return t;
}

Tensor read_npy(const std::string& path) { return parse_npy(read_file(path), path); }

std::string to_npy(const Tensor& in, const std::string& what) {
  Tensor widened;
  const Tensor* t = &in;
  if (in.dtype == tf::DT_BFLOAT16) {  // bfloat16 is the top half of a float32
    widened.dtype = tf::DT_FLOAT;
    widened.shape = in.shape;
    const std::int64_t n = in.num_elements();
    widened.bytes.assign(static_cast<std::size_t>(n) * 4, '\0');
    for (std::int64_t i = 0; i < n; ++i) {
      std::uint32_t bits = std::uint32_t{in.get<std::uint16_t>(i)} << 16;
      std::memcpy(widened.bytes.data() + i * 4, &bits, 4);
    }
    t = &widened;
  }
  const char* code = nullptr;
  for (const auto& d : kDescrs)
    if (d.dtype == t->dtype) code = d.code;
  if (!code) throw Error(ExitCode::kUnsupported, what + ": dtype " + dtype_name(t->dtype) + " has no .npy form");
  std::string shape = "(";
  for (std::size_t i = 0; i < t->shape.size(); ++i) shape += std::to_string(t->shape[i]) + (t->shape.size() == 1 ? "," : i + 1 < t->shape.size() ? ", " : "");
  shape += ")";
  std::string header = std::string("{'descr': '") + code + "', 'fortran_order': False, 'shape': " + shape + ", }";
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  out += header;
  out += t->bytes;
  return out;
}

void write_npy(const Tensor& tensor, const std::string& path) { write_file_atomic(path, to_npy(tensor, path)); }

}  // namespace tffreeze::io
