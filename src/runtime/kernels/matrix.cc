// Matrix ops: diagonals and bands, and the linear algebra of Eigen (inverse, determinants, solves, decompositions).
#include "runtime/kernel.h"

namespace tffreeze::runtime {

void register_matrix_kernels(KernelRegistry&) {}

}  // namespace tffreeze::runtime
