// Index and sequence ops: reverse, roll, cumulative sums and products, where, segments, partitions, scatter, bincount, histograms, nth element.
#include "runtime/kernel.h"

namespace tffreeze::runtime {

void register_indexing_kernels(KernelRegistry&) {}

}  // namespace tffreeze::runtime
