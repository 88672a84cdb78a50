// The executor allocates every layer's output and frees it after its last reader, on every run.
// With glibc's defaults those blocks are mapped and unmapped (or trimmed) each time, and each page
// of a new output is faulted in afresh: 1,800 page faults a MobileNet pass here, 16 % of its time
// (BENCHMARKS.md). A program that runs a graph again and again (`run --repeat`, the benchmarks)
// calls keep_freed_tensor_memory once. The CLI also reserves its heap on huge pages (below)
// unless `--memory-limit` is given; under a limit glibc's defaults stay, which return freed
// memory at once (a streaming freeze stays within `--memory-limit 16`).
#pragma once

#include <cstddef>

namespace tffreeze::runtime {

// Blocks up to 32 MiB come from the heap, and up to 256 MiB of freed heap stay with the process
// for the next allocations instead of going back to the kernel. Process-wide (mallopt).
void keep_freed_tensor_memory();

// What a freeze allocates (folded weights, the proof's tensors) is mostly fresh memory, touched
// once: on a VM that spends ~15 us on each 4 KiB page fault that was most of an optimizing
// freeze's time (BENCHMARKS.md). This reserves `bytes` of heap address space at once (nothing is
// touched, so nothing is resident until used), asks the kernel for 2 MiB pages there
// (transparent huge pages in their `madvise` mode, Linux's default), and serves blocks up to
// 32 MiB from it. Process-wide; call once, before the work, and not under a data-size limit
// (`--memory-limit`: the reservation would count against it). Without huge pages it costs nothing.
void reserve_heap_in_large_pages(std::size_t bytes = std::size_t{1} << 30);

}  // namespace tffreeze::runtime
