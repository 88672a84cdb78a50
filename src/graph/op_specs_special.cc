// Op definitions of the special kernels (runtime/kernels/special.cc), in REGISTER_OP notation.
// From tensorflow/core/ops/math_ops.cc and array_ops.cc (fake quantization). The losses and the
// other unary math ops are in op_specs.cc.
#include "graph/op_specs_families.h"

namespace tffreeze::graph {

std::vector<std::string> special_op_specs() {
  const std::string real_unary = "(x: T) -> (y: T) | T: {bfloat16, half, float, double}";
  const std::string any_unary = "(x: T) -> (y: T) | T: {bfloat16, half, float, double, complex64, complex128}";
  const std::string fake_quant = "num_bits: int = 8; narrow_range: bool = false";
  return {
      "Lgamma" + real_unary,
      "Digamma" + real_unary,
      "Erfc" + real_unary,
      "Asinh" + any_unary,
      "Acosh" + any_unary,
      "Atanh" + any_unary,
      "Igamma(a: T, x: T) -> (z: T) | T: {bfloat16, half, float, double}",
      "Igammac(a: T, x: T) -> (z: T) | T: {bfloat16, half, float, double}",
      "Polygamma(a: T, x: T) -> (z: T) | T: {float, double}",
      "Zeta(x: T, q: T) -> (z: T) | T: {float, double}",
      "Betainc(a: T, b: T, x: T) -> (z: T) | T: {float, double}",
      "FakeQuantWithMinMaxArgs(inputs: float) -> (outputs: float) | min: float = -6; max: float = 6; " + fake_quant,
      "FakeQuantWithMinMaxVars(inputs: float, min: float, max: float) -> (outputs: float) | " + fake_quant,
      "FakeQuantWithMinMaxVarsPerChannel(inputs: float, min: float, max: float) -> (outputs: float) | " + fake_quant,
  };
}

}  // namespace tffreeze::graph
