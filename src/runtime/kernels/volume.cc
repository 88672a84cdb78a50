// Volumetric (3-D) convolutions and pooling.
#include "runtime/kernel.h"

namespace tffreeze::runtime {

void register_volume_kernels(KernelRegistry&) {}

}  // namespace tffreeze::runtime
