// The executor allocates every layer's output and frees it after its last reader, on every run.
// With glibc's defaults those blocks are mapped and unmapped (or trimmed) each time, and each page
// of a new output is faulted in afresh: 1,800 page faults a MobileNet pass here, 16 % of its time
// (BENCHMARKS.md). A program that runs a graph again and again (`run --repeat`, the benchmarks)
// calls this once; the others keep glibc's defaults, which return freed memory at once (a
// streaming freeze stays within `--memory-limit 16`).
#pragma once

namespace tffreeze::runtime {

// Blocks up to 32 MiB come from the heap, and up to 256 MiB of freed heap stay with the process
// for the next allocations instead of going back to the kernel. Process-wide (mallopt).
void keep_freed_tensor_memory();

}  // namespace tffreeze::runtime
