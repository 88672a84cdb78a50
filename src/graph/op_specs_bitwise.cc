// Op definitions of the bitwise kernels (runtime/kernels/bitwise.cc), in REGISTER_OP notation.
// BitwiseAnd and BitwiseOr are in op_specs.cc.
#include "graph/op_specs_families.h"

namespace tffreeze::graph {
namespace {

constexpr const char* kIntegers = "{int8, int16, int32, int64, uint8, uint16, uint32, uint64}";
constexpr const char* kBitcastTypes =
    "{bfloat16, half, float, double, int64, int32, uint8, uint16, uint32, uint64, int8, int16, complex64, complex128, "
    "qint8, quint8, DT_QINT16, DT_QUINT16, qint32}";

}  // namespace

std::vector<std::string> bitwise_op_specs() {
  std::vector<std::string> specs = {
      std::string("Bitcast(input: T) -> (output: type) | T: ") + kBitcastTypes + "; type: " + kBitcastTypes,
      std::string("Invert(x: T) -> (y: T) | T: ") + kIntegers,
      std::string("PopulationCount(x: T) -> (y: uint8) | T: ") + kIntegers,
      "CompareAndBitpack(input: T, threshold: T) -> (output: uint8) | T: {bool, half, float, double, int8, int16, int32, int64}",
  };
  for (const char* op : {"BitwiseXor[commutative]", "LeftShift", "RightShift"}) specs.push_back(std::string(op) + "(x: T, y: T) -> (z: T) | T: " + kIntegers);
  return specs;
}

}  // namespace tffreeze::graph
