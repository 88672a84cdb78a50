// Op definitions of the sparse and ragged kernels (runtime/kernels/sparse.cc), in REGISTER_OP
// notation, from TensorFlow's tensorflow/core/ops/sparse_ops.cc and ragged_math_ops.cc.
#include "graph/op_specs_families.h"

namespace tffreeze::graph {

std::vector<std::string> sparse_op_specs() {
  // TensorFlow's numbertype.
  const std::string number =
      "{float32, float64, int32, uint8, int16, int8, complex64, int64, qint8, quint8, qint32, bfloat16, DT_QINT16, DT_QUINT16, uint16, complex128, float16, uint32, uint64}";
  return {
      "SparseTensorDenseAdd(a_indices: Tindices, a_values: T, a_shape: Tindices, b: T) -> (output: T) | T: " + number +
          "; Tindices: {int32, int64}",
      "RaggedRange(starts: T, limits: T, deltas: T) -> (rt_nested_splits: Tsplits, rt_dense_values: T) | "
      "T: {bfloat16, float, double, int32, int64} = int32; Tsplits: {int32, int64} = int64",
  };
}

}  // namespace tffreeze::graph
