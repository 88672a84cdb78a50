#include "runtime/heap.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <climits>
#include <cstdint>
#include <cstdlib>

namespace tffreeze::runtime {

void keep_freed_tensor_memory() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

void reserve_heap_in_large_pages(std::size_t bytes) {
  constexpr std::uintptr_t kLargePage = std::uintptr_t{2} << 20;
  if (bytes > INT_MAX / 2) bytes = INT_MAX / 2;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TOP_PAD, static_cast<int>(bytes));       // each growth of the heap adds this much
  mallopt(M_TRIM_THRESHOLD, static_cast<int>(2 * bytes));  // ... and freeing keeps it
  // One allocation larger than what is left at the top of the heap makes malloc grow it now;
  // the new range is untouched, so the advice applies before any of its pages exist.
  const auto before = reinterpret_cast<std::uintptr_t>(sbrk(0));
  auto* volatile probe = static_cast<char*>(std::malloc(kLargePage));  // volatile: not elided
  const auto after = reinterpret_cast<std::uintptr_t>(sbrk(0));
  std::free(probe);
  const std::uintptr_t begin = (before + kLargePage - 1) & ~(kLargePage - 1);
  if (after > begin + kLargePage) madvise(reinterpret_cast<void*>(begin), after - begin, MADV_HUGEPAGE);
}

}  // namespace tffreeze::runtime
