#include "runtime/heap.h"

#include <malloc.h>

namespace tffreeze::runtime {

void keep_freed_tensor_memory() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

}  // namespace tffreeze::runtime
