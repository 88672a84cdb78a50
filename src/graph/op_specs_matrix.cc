// Op definitions of the matrix kernels (runtime/kernels/matrix.cc), in REGISTER_OP notation.
// From tensorflow/core/ops/array_ops.cc (diagonals, bands), math_ops.cc (Cross) and linalg_ops.cc.
#include "graph/op_specs_families.h"

namespace tffreeze::graph {

std::vector<std::string> matrix_op_specs() {
  const std::string align = "; align: {'LEFT_RIGHT', 'RIGHT_LEFT', 'LEFT_LEFT', 'RIGHT_RIGHT'} = 'RIGHT_LEFT'";
  const std::string diag_v2 = "(diagonal: T, k: int32, num_rows: int32, num_cols: int32, padding_value: T) -> (output: T) | T: type";
  const std::string part_v2 = "(input: T, k: int32, padding_value: T) -> (diagonal: T) | T: type";
  const std::string set_v2 = "(input: T, diagonal: T, k: int32) -> (output: T) | T: type";
  const std::string solvable = "{double, float, half, complex64, complex128}";
  return {
      "MatrixDiag(diagonal: T) -> (output: T) | T: type",
      "MatrixDiagV2" + diag_v2,
      "MatrixDiagV3" + diag_v2 + align,
      "MatrixDiagPart(input: T) -> (diagonal: T) | T: type",
      "MatrixDiagPartV2" + part_v2,
      "MatrixDiagPartV3" + part_v2 + align,
      "MatrixSetDiag(input: T, diagonal: T) -> (output: T) | T: type",
      "MatrixSetDiagV2" + set_v2,
      "MatrixSetDiagV3" + set_v2 + align,
      "Cross(a: T, b: T) -> (product: T) | T: {float, double, int32, uint8, int16, int8, int64, bfloat16, uint16, half, uint32, uint64}",
      "MatrixBandPart(input: T, num_lower: Tindex, num_upper: Tindex) -> (band: T) | T: type; Tindex: {int32, int64} = int64",
      "MatrixDeterminant(input: T) -> (output: T) | T: {half, float, double, complex64, complex128}",
      "LogMatrixDeterminant(input: T) -> (sign: T, log_abs_determinant: T) | T: {half, float, double, complex64, complex128}",
      "MatrixInverse(input: T) -> (output: T) | adjoint: bool = false; T: " + solvable,
      "MatrixSolve(matrix: T, rhs: T) -> (output: T) | adjoint: bool = false; T: " + solvable,
      "MatrixTriangularSolve(matrix: T, rhs: T) -> (output: T) | lower: bool = true; adjoint: bool = false; "
      "T: {bfloat16, double, float, half, complex64, complex128}",
      "Cholesky(input: T) -> (output: T) | T: " + solvable,
      "Qr(input: T) -> (q: T, r: T) | full_matrices: bool = false; T: " + solvable,
      "Svd(input: T) -> (s: T, u: T, v: T) | compute_uv: bool = true; full_matrices: bool = false; T: " + solvable,
      "Lu(input: T) -> (lu: T, p: output_idx_type) | T: " + solvable + "; output_idx_type: {int32, int64} = int32",
  };
}

}  // namespace tffreeze::graph
