#include "io/checkpoint/slices.h"

#include <algorithm>

#include "common/dtype.h"
#include "common/error.h"

namespace tffreeze::io::checkpoint {

std::vector<std::int64_t> slice_shape(const tf::TensorSliceProto& slice, const std::vector<std::int64_t>& full,
                                      const std::string& where) {
  if (slice.extent_size() != 0 && slice.extent_size() != static_cast<int>(full.size())) {
    throw Error(ExitCode::kBadInput, where + ": slice of rank " + std::to_string(slice.extent_size()) + " for a tensor of rank " +
                                         std::to_string(full.size()));
  }
  std::vector<std::int64_t> shape = full;
  for (int d = 0; d < slice.extent_size(); ++d) {
    const auto& e = slice.extent(d);
    if (e.has_length_case() != tf::TensorSliceProto::Extent::kLength) continue;
    if (e.start() < 0 || e.length() < 0 || e.start() > full[d] || e.length() > full[d] - e.start()) {
      throw Error(ExitCode::kBadInput, where + ": slice [" + std::to_string(e.start()) + ", +" + std::to_string(e.length()) +
                                           ") outside dimension " + std::to_string(d) + " of size " + std::to_string(full[d]));
    }
    shape[d] = e.length();
  }
  return shape;
}

Tensor allocate_tensor(tf::DataType dtype, std::vector<std::int64_t> shape, const std::string& where) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  if (!tf::DataType_IsValid(dtype)) throw Error(ExitCode::kBadInput, where + ": unknown dtype " + std::to_string(static_cast<int>(dtype)));
  auto n = num_elements(shape_proto(t.shape));
  const int esize = dtype == tf::DT_STRING ? 32 : dtype_size(dtype);  // strings: a rough per-element cost
  if (esize == 0) throw Error(ExitCode::kUnsupported, where + ": dtype " + dtype_name(dtype) + " is not supported");
  if (!n || *n > kMaxExpandedTensorBytes / esize) throw Error(ExitCode::kBadInput, where + ": shape " + dims_string(t.shape) + " is too large");
  if (dtype == tf::DT_STRING) t.strings.resize(static_cast<std::size_t>(*n));
  else t.bytes.assign(static_cast<std::size_t>(*n * esize), '\0');
  return t;
}

namespace {

// Calls copy(part_offset, full_offset, count) for each contiguous innermost row of the slice
// `part` (shaped `part_shape`) that sits at `slice`'s position in a tensor shaped `full_shape`.
// Offsets and counts are in elements.
template <class Copy>
void for_each_slice_row(const std::vector<std::int64_t>& full_shape, const std::vector<std::int64_t>& part_shape,
                        const tf::TensorSliceProto& slice, Copy copy) {
  const int rank = static_cast<int>(full_shape.size());
  std::vector<std::int64_t> start(rank, 0), full_stride(rank, 1), part_stride(rank, 1);
  for (int d = 0; d < slice.extent_size() && d < rank; ++d) start[d] = slice.extent(d).start();
  for (int d = rank - 2; d >= 0; --d) {
    full_stride[d] = full_stride[d + 1] * full_shape[d + 1];
    part_stride[d] = part_stride[d + 1] * part_shape[d + 1];
  }
  std::int64_t n = 1;
  for (auto d : part_shape) n *= d;
  const std::int64_t row = rank ? part_shape[rank - 1] : 1;
  for (std::int64_t i = 0; i < n; i += row) {
    std::int64_t at = 0, rem = i;
    for (int d = 0; d < rank; ++d) {
      at += (rem / part_stride[d] + start[d]) * full_stride[d];
      rem %= part_stride[d];
    }
    copy(i, at, row);
  }
}

}  // namespace

Tensor extract_slice(const Tensor& full, const tf::TensorSliceProto& slice, const std::string& where) {
  Tensor part = allocate_tensor(full.dtype, slice_shape(slice, full.shape, where), where);
  const std::int64_t esize = full.dtype == tf::DT_STRING ? 0 : dtype_size(full.dtype);
  for_each_slice_row(full.shape, part.shape, slice, [&](std::int64_t p, std::int64_t f, std::int64_t count) {
    if (esize == 0) std::copy_n(full.strings.begin() + f, count, part.strings.begin() + p);
    else std::memcpy(part.bytes.data() + p * esize, full.bytes.data() + f * esize, static_cast<std::size_t>(count * esize));
  });
  return part;
}

bool parse_shape_and_slice(const std::string& spec, std::vector<std::int64_t>* full_shape, tf::TensorSliceProto* slice) {
  std::vector<std::string> words;
  for (std::size_t pos = 0; pos < spec.size();) {
    auto space = spec.find(' ', pos);
    words.push_back(spec.substr(pos, space == std::string::npos ? std::string::npos : space - pos));
    if (space == std::string::npos) break;
    pos = space + 1;
  }
  if (words.size() < 1) return false;
  full_shape->clear();
  slice->Clear();
  try {
    for (std::size_t i = 0; i + 1 < words.size(); ++i) full_shape->push_back(std::stoll(words[i]));
    const std::string& s = words.back();
    for (std::size_t pos = 0; pos <= s.size();) {
      auto colon = s.find(':', pos);
      std::string dim = s.substr(pos, colon == std::string::npos ? std::string::npos : colon - pos);
      auto* extent = slice->add_extent();
      if (dim != "-") {
        auto comma = dim.find(',');
        if (comma == std::string::npos) return false;
        extent->set_start(std::stoll(dim.substr(0, comma)));
        extent->set_length(std::stoll(dim.substr(comma + 1)));
      }
      if (colon == std::string::npos) break;
      pos = colon + 1;
    }
  } catch (const std::exception&) {
    return false;
  }
  return slice->extent_size() == static_cast<int>(full_shape->size());
}

void copy_slice_into(const Tensor& part, const tf::TensorSliceProto& slice, Tensor* full) {
  const std::int64_t esize = full->dtype == tf::DT_STRING ? 0 : dtype_size(full->dtype);
  for_each_slice_row(full->shape, part.shape, slice, [&](std::int64_t p, std::int64_t f, std::int64_t count) {
    if (esize == 0) std::copy_n(part.strings.begin() + p, count, full->strings.begin() + f);
    else std::memcpy(full->bytes.data() + f * esize, part.bytes.data() + p * esize, static_cast<std::size_t>(count * esize));
  });
}

}  // namespace tffreeze::io::checkpoint
