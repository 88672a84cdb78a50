#include "runtime/broadcast.h"

#include <algorithm>

namespace tffreeze::runtime {

std::optional<std::vector<std::int64_t>> broadcast_shape(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b) {
  const std::size_t rank = std::max(a.size(), b.size());
  std::vector<std::int64_t> out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    std::int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    std::int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) return std::nullopt;
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::vector<std::int64_t> broadcast_index(const std::vector<std::int64_t>& in, const std::vector<std::int64_t>& out) {
  const std::size_t rank = out.size();
  std::vector<std::int64_t> in_full(rank, 1);
  std::copy(in.begin(), in.end(), in_full.begin() + static_cast<std::ptrdiff_t>(rank - in.size()));
  std::vector<std::int64_t> stride(rank, 0);
  std::int64_t s = 1;
  for (std::size_t d = rank; d-- > 0;) {
    stride[d] = in_full[d] == 1 ? 0 : s;
    s *= in_full[d];
  }
  std::int64_t n = 1;
  for (auto d : out) n *= d;
  std::vector<std::int64_t> index(static_cast<std::size_t>(n));
  std::vector<std::int64_t> counter(rank, 0);
  std::int64_t at = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    index[static_cast<std::size_t>(i)] = at;
    for (std::size_t d = rank; d-- > 0;) {  // increment the multi-index
      ++counter[d];
      at += stride[d];
      if (counter[d] < out[d]) break;
      at -= stride[d] * counter[d];
      counter[d] = 0;
    }
  }
  return index;
}

}  // namespace tffreeze::runtime
