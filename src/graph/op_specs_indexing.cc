// Op definitions of the indexing kernels (runtime/kernels/indexing.cc), in REGISTER_OP notation.
// Facts from TensorFlow's registrations (tensorflow/core/ops/array_ops.cc, math_ops.cc,
// manip_ops.cc, nn_ops.cc, data_flow_ops.cc, state_ops.cc). Already in op_specs.cc: Assert,
// Assign, BroadcastTo, DynamicPartition, DynamicStitch, LinSpace, Where.
#include <string>

#include "graph/op_specs_families.h"

namespace tffreeze::graph {
namespace {

// TensorFlow's realnumbertypes and numbertypes.
constexpr const char* kReal = "{float32, float64, int32, uint8, int16, int8, int64, bfloat16, uint16, float16, uint32, uint64}";
constexpr const char* kNumber =
    "{float32, float64, int32, uint8, int16, int8, complex64, int64, qint8, quint8, qint32, bfloat16, DT_QINT16, DT_QUINT16, uint16, complex128, float16, uint32, uint64}";
constexpr const char* kReversible = "{uint8, int8, uint16, int16, int32, uint32, int64, uint64, bool, bfloat16, float16, float32, float64, complex64, complex128, string}";

constexpr const char* kSegment = "(data: T, segment_ids: Tindices) -> (output: T) | Tindices: {int32, int64}; T: ";
constexpr const char* kUnsortedSegment =
    "(data: T, segment_ids: Tindices, num_segments: Tnumsegments) -> (output: T) | Tindices: {int32, int64}; Tnumsegments: {int32, int64} = int32; T: ";
constexpr const char* kTensorScatter = "(tensor: T, indices: Tindices, updates: T) -> (output: T) | T: type; Tindices: {int16, int32, int64}";
constexpr const char* kRefScatter = "[stateful](ref: Ref(T), indices: Tindices, updates: T) -> (output_ref: Ref(T)) | Tindices: {int32, int64}; ";

}  // namespace

std::vector<std::string> indexing_op_specs() {
  const std::string real(kReal), number(kNumber), reversible(kReversible);
  std::vector<std::string> specs = {
      "ReverseV2(tensor: T, axis: Tidx) -> (output: T) | Tidx: {int32, int64} = int32; T: " + reversible,
      "Reverse(tensor: T, dims: bool) -> (output: T) | T: " + reversible,
      "Roll(input: T, shift: Tshift, axis: Taxis) -> (output: T) | T: type; Tshift: {int32, int64}; Taxis: {int32, int64}",
      "Cumsum(x: T, axis: Tidx) -> (out: T) | exclusive: bool = false; reverse: bool = false; T: " + number + "; Tidx: {int32, int64} = int32",
      "Cumprod(x: T, axis: Tidx) -> (out: T) | exclusive: bool = false; reverse: bool = false; T: " + number + "; Tidx: {int32, int64} = int32",
      "NthElement(input: T, n: int32) -> (values: T) | reverse: bool = false; T: " + real,
      "InvertPermutation(x: T) -> (y: T) | T: {int32, int64} = int32",
      "ListDiff(x: T, y: T) -> (out: T, idx: out_idx) | T: type; out_idx: {int32, int64} = int32",
      "Bincount(arr: int32, size: int32, weights: T) -> (bins: T) | T: {int32, int64, float32, float64}",
      "HistogramFixedWidth(values: T, value_range: T, nbins: int32) -> (out: dtype) | T: {int32, int64, float32, float64}; dtype: {int32, int64} = int32",
      "ParallelDynamicStitch(indices: N * int32, data: N * T) -> (merged: T) | N: int >= 1; T: type",
      "ParallelConcat(values: N * T) -> (output: T) | N: int >= 1; T: type; shape: shape",
      "AccumulateNV2[commutative](inputs: N * T) -> (sum: T) | N: int >= 1; T: " + number + "; shape: shape",
      "DeepCopy[stateful](x: T) -> (y: T) | T: type",
      "Empty(shape: int32) -> (output: dtype) | dtype: type; init: bool = false",
      "BroadcastArgs(s0: T, s1: T) -> (r0: T) | T: {int32, int64} = int32",
      "ScatterNd(indices: Tindices, updates: T, shape: Tindices) -> (output: T) | T: type; Tindices: {int16, int32, int64}",
  };
  for (const char* op : {"SegmentSum", "SegmentMean", "SegmentProd"}) specs.push_back(std::string(op) + kSegment + number);
  for (const char* op : {"SegmentMax", "SegmentMin"}) specs.push_back(std::string(op) + kSegment + real);
  for (const char* op : {"UnsortedSegmentSum", "UnsortedSegmentProd"}) specs.push_back(std::string(op) + kUnsortedSegment + number);
  for (const char* op : {"UnsortedSegmentMax", "UnsortedSegmentMin"}) specs.push_back(std::string(op) + kUnsortedSegment + real);
  for (const char* op : {"TensorScatterUpdate", "TensorScatterAdd", "TensorScatterSub", "TensorScatterMin", "TensorScatterMax"})
    specs.push_back(std::string(op) + kTensorScatter);
  // Updates of a variable: in a frozen graph the variable is a constant, and the op's output is
  // the value the variable holds after the update.
  for (const char* op : {"ScatterUpdate", "ScatterNdUpdate"}) specs.push_back(std::string(op) + kRefScatter + "T: type; use_locking: bool = true");
  for (const char* op : {"ScatterAdd", "ScatterSub", "ScatterMul", "ScatterDiv", "ScatterNdAdd", "ScatterNdSub"})
    specs.push_back(std::string(op) + kRefScatter + "T: " + number + "; use_locking: bool = false");
  for (const char* op : {"ScatterMin", "ScatterMax"})
    specs.push_back(std::string(op) + kRefScatter + "T: {float16, bfloat16, float32, float64, int32, int64}; use_locking: bool = false");
  return specs;
}

}  // namespace tffreeze::graph
