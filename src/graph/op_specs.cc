// The built-in op definitions, in TensorFlow's REGISTER_OP notation (facts from TensorFlow's
// public op registrations: tensorflow/core/ops/*.cc). Attributes that newer TensorFlow versions
// added and older consumers reject are left out on purpose: default-filling must not add them.
#include <string>
#include <vector>

#include "graph/op_registry.h"
#include "graph/op_specs_families.h"

namespace tffreeze::graph {
namespace {

constexpr const char* kConvAttrs =
    "strides: list(int); use_cudnn_on_gpu: bool = true; padding: {'SAME', 'VALID', 'EXPLICIT'}; "
    "explicit_paddings: list(int) = []; data_format: {'NHWC', 'NCHW'} = 'NHWC'; dilations: list(int) = [1, 1, 1, 1]";
constexpr const char* kDepthwiseAttrs =
    "strides: list(int); padding: {'SAME', 'VALID', 'EXPLICIT'}; explicit_paddings: list(int) = []; "
    "data_format: {'NHWC', 'NCHW'} = 'NHWC'; dilations: list(int) = [1, 1, 1, 1]";
constexpr const char* kBnAttrs =
    "epsilon: float = 0.0001; exponential_avg_factor: float = 1; "
    "data_format: {'NHWC', 'NCHW', 'NDHWC', 'NCDHW'} = 'NHWC'; is_training: bool = true";
constexpr const char* kReduce = "(input: T, reduction_indices: Tidx) -> (output: T) | keep_dims: bool = false; T: type; Tidx: {int32, int64} = int32";
constexpr const char* kBinary = "(x: T, y: T) -> (z: T) | T: type";
constexpr const char* kCompare = "(x: T, y: T) -> (z: bool) | T: type";
constexpr const char* kUnary = "(x: T) -> (y: T) | T: type";
constexpr const char* kActivation = "(features: T) -> (activations: T) | T: type";
constexpr const char* kRandom = "(shape: T) -> (output: dtype) | seed: int = 0; seed2: int = 0; dtype: {half, bfloat16, float, double}; T: {int32, int64}";
constexpr const char* kPoolAttrs = "ksize: list(int) >= 4; strides: list(int) >= 4; data_format: {'NHWC', 'NCHW', 'NCHW_VECT_C'} = 'NHWC'";
constexpr const char* kCall = "(args: Tin) -> (output: Tout) | Tin: list(type) >= 0; Tout: list(type) >= 0; f: func; config: string = ''; config_proto: string = ''; executor_type: string = ''";
constexpr const char* kIf = "(cond: Tcond, input: Tin) -> (output: Tout) | Tcond: type; Tin: list(type) >= 0; Tout: list(type) >= 0; then_branch: func; else_branch: func; output_shapes: list(shape) = []";
constexpr const char* kWhile = "(input: T) -> (output: T) | T: list(type) >= 0; cond: func; body: func; output_shapes: list(shape) = []; parallel_iterations: int = 10";
constexpr const char* kResize = "(images: T, size: int32) -> (resized_images: float) | T: type; align_corners: bool = false; half_pixel_centers: bool = false";
constexpr const char* kSummary = "(tag: string, values: T) -> (summary: string) | T: type";

struct Family {
  std::initializer_list<const char*> names;
  const char* signature;
  const char* extra_attrs;  // appended after the signature's attrs, may be ""
};

const std::initializer_list<Family> kFamilies = {
    {{"Add", "AddV2", "Sub", "Mul", "RealDiv", "Div", "FloorDiv", "FloorMod", "TruncateDiv", "TruncateMod", "Mod",
      "Maximum", "Minimum", "Pow", "SquaredDifference", "DivNoNan", "MulNoNan", "Atan2", "BitwiseAnd", "BitwiseOr"},
     kBinary, ""},
    {{"Equal", "NotEqual"}, kCompare, "incompatible_shape_error: bool = true"},
    {{"Less", "LessEqual", "Greater", "GreaterEqual"}, kCompare, ""},
    {{"Rsqrt", "Sqrt", "Square", "Exp", "Log", "Neg", "Abs", "Floor", "Ceil", "Round", "Rint", "Reciprocal", "Inv",
      "Sign", "Sin", "Cos", "Tan", "Erf", "Log1p", "Expm1", "Sigmoid", "Tanh", "Acos", "Asin", "Atan", "Sinh", "Cosh"},
     kUnary, ""},
    {{"IsNan", "IsInf", "IsFinite"}, "(x: T) -> (y: bool) | T: type", ""},
    {{"Relu", "Relu6", "Elu", "Selu", "Softplus", "Softsign"}, kActivation, ""},
    {{"Mean", "Sum", "Max", "Min", "Prod", "EuclideanNorm"}, kReduce, ""},
    {{"Any", "All"}, "(input: bool, reduction_indices: Tidx) -> (output: bool) | keep_dims: bool = false; Tidx: {int32, int64} = int32", ""},
    {{"RandomUniform[stateful]", "RandomStandardNormal[stateful]", "TruncatedNormal[stateful]"}, kRandom, ""},
    {{"StatefulPartitionedCall[stateful]", "PartitionedCall"}, kCall, ""},
    {{"If[stateful]", "StatelessIf"}, kIf, ""},
    {{"While[stateful]", "StatelessWhile"}, kWhile, ""},
    {{"ScalarSummary", "HistogramSummary"}, kSummary, ""},
    {{"ArgMax", "ArgMin"}, "(input: T, dimension: Tidx) -> (output: output_type) | T: type; Tidx: {int32, int64} = int32; output_type: {int16, uint16, int32, int64} = int64", ""},
    {{"ZerosLike", "OnesLike"}, kUnary, ""},
    {{"ResizeBilinear", "ResizeBicubic", "ResizeArea"}, kResize, ""},
    {{"Identity", "StopGradient", "Snapshot"}, "(input: T) -> (output: T) | T: type", ""},
    {{"DepthToSpace", "SpaceToDepth"}, "(input: T) -> (output: T) | T: type; block_size: int >= 2; data_format: {'NHWC', 'NCHW', 'NCHW_VECT_C'} = 'NHWC'", ""},
    {{"Select", "SelectV2"}, "(condition: bool, t: T, e: T) -> (output: T) | T: type", ""},
    {{"LogicalAnd[commutative]", "LogicalOr[commutative]"}, "(x: bool, y: bool) -> (z: bool)", ""},
    {{"Variable[stateful]", "VariableV2[stateful]"}, "() -> (ref: Ref(dtype)) | shape: shape; dtype: type; container: string = ''; shared_name: string = ''", ""},
    {{"Enter", "RefEnter"}, "(data: T) -> (output: T) | T: type; frame_name: string; is_constant: bool = false; parallel_iterations: int = 10", ""},
    {{"Exit", "RefExit", "NextIteration", "RefNextIteration"}, "(data: T) -> (output: T) | T: type", ""},
    {{"Switch", "RefSwitch"}, "(data: T, pred: bool) -> (output_false: T, output_true: T) | T: type", ""},
    {{"Merge", "RefMerge"}, "(inputs: N * T) -> (output: T, value_index: int32) | T: type; N: int >= 1", ""},
    {{"AssignAdd[stateful]", "AssignSub[stateful]"}, "(ref: Ref(T), value: T) -> (output_ref: Ref(T)) | T: type; use_locking: bool = false", ""},
    {{"AssignAddVariableOp[stateful]", "AssignSubVariableOp[stateful]"}, "(resource: resource, value: dtype) -> () | dtype: type", ""},
    {{"QueueDequeueV2[stateful]"}, "(handle: resource) -> (components: component_types) | component_types: list(type) >= 1; timeout_ms: int = -1", ""},
    {{"QueueDequeueUpToV2[stateful]", "QueueDequeueManyV2[stateful]"}, "(handle: resource, n: int32) -> (components: component_types) | component_types: list(type) >= 1; timeout_ms: int = -1", ""},
    {{"QueueEnqueueV2[stateful]", "QueueEnqueueManyV2[stateful]"}, "(handle: resource, components: Tcomponents) -> () | Tcomponents: list(type) >= 1; timeout_ms: int = -1", ""},
    {{"FIFOQueueV2[stateful]", "RandomShuffleQueueV2[stateful]", "PaddingFIFOQueueV2[stateful]"}, "() -> (handle: resource) | component_types: list(type) >= 1; shapes: list(shape) >= 0 = []; capacity: int = -1; container: string = ''; shared_name: string = ''", ""},
    {{"SoftmaxCrossEntropyWithLogits"}, "(features: T, labels: T) -> (loss: T, backprop: T) | T: type", ""},
    {{"SparseSoftmaxCrossEntropyWithLogits"}, "(features: T, labels: Tlabels) -> (loss: T, backprop: T) | T: type; Tlabels: {int32, int64} = int64", ""},
    // Optimizers' update ops (tensorflow/core/ops/training_ops.cc), as training graphs hold them.
    {{"ApplyGradientDescent[stateful]"}, "(var: Ref(T), alpha: T, delta: T) -> (out: Ref(T)) | T: type; use_locking: bool = false", ""},
    {{"ApplyMomentum[stateful]"}, "(var: Ref(T), accum: Ref(T), lr: T, grad: T, momentum: T) -> (out: Ref(T)) | T: type; use_locking: bool = false; use_nesterov: bool = false", ""},
    {{"ApplyRMSProp[stateful]"}, "(var: Ref(T), ms: Ref(T), mom: Ref(T), lr: T, rho: T, momentum: T, epsilon: T, grad: T) -> (out: Ref(T)) | T: type; use_locking: bool = false", ""},
    {{"ApplyAdam[stateful]"}, "(var: Ref(T), m: Ref(T), v: Ref(T), beta1_power: T, beta2_power: T, lr: T, beta1: T, beta2: T, epsilon: T, grad: T) -> (out: Ref(T)) | T: type; use_locking: bool = false; use_nesterov: bool = false", ""},
};

std::vector<std::string> builtin_specs() {
  const std::string conv(kConvAttrs), depthwise(kDepthwiseAttrs), bn(kBnAttrs), pool(kPoolAttrs);
  std::vector<std::string> specs = {
      // Inputs, constants, bookkeeping
      "Const() -> (output: dtype) | value: tensor; dtype: type",
      "Placeholder() -> (output: dtype) | dtype: type; shape: shape = ?",
      "PlaceholderWithDefault(input: dtype) -> (output: dtype) | dtype: type; shape: shape",
      "IdentityN(input: T) -> (output: T) | T: list(type) >= 1",
      "NoOp() -> ()",
      "ControlTrigger() -> ()",
      "PreventGradient(input: T) -> (output: T) | T: type; message: string = ''",
      "CheckNumerics(tensor: T) -> (output: T) | T: {bfloat16, half, float, double}; message: string",
      "Assert[stateful](condition: bool, data: T) -> () | T: list(type) >= 1; summarize: int = 3",
      "Print[stateful](input: T, data: U) -> (output: T) | T: type; U: list(type) >= 0; message: string = ''; first_n: int = -1; summarize: int = 3",
      "PrintV2[stateful](input: string) -> () | output_stream: string = 'stderr'; end: string = '\n'",
      "MergeSummary(inputs: N * string) -> (summary: string) | N: int >= 1",
      "LoopCond(input: bool) -> (output: bool)",
      // Neural network
      "Conv2D(input: T, filter: T) -> (output: T) | T: type; " + conv,
      "Conv2DBackpropInput(input_sizes: int32, filter: T, out_backprop: T) -> (output: T) | T: type; " + conv,
      "Conv2DBackpropFilter(input: T, filter_sizes: int32, out_backprop: T) -> (output: T) | T: type; " + conv,
      "DepthwiseConv2dNative(input: T, filter: T) -> (output: T) | T: type; " + depthwise,
      "DepthwiseConv2dNativeBackpropInput(input_sizes: int32, filter: T, out_backprop: T) -> (output: T) | T: type; " + depthwise,
      "DepthwiseConv2dNativeBackpropFilter(input: T, filter_sizes: int32, out_backprop: T) -> (output: T) | T: type; " + depthwise,
      "_FusedConv2D(input: T, filter: T, args: num_args * T) -> (output: T) | T: type; num_args: int >= 0; " + conv +
          "; fused_ops: list(string) = []; epsilon: float = 0.0001; leakyrelu_alpha: float = 0.2",
      "FusedDepthwiseConv2dNative(input: T, filter: T, args: num_args * T) -> (output: T) | T: type; num_args: int >= 0; " +
          depthwise + "; fused_ops: list(string) = []",
      "MatMul(a: T, b: T) -> (product: T) | transpose_a: bool = false; transpose_b: bool = false; T: type",
      "_FusedMatMul(a: T, b: T, args: num_args * T) -> (product: T) | transpose_a: bool = false; transpose_b: bool = false; "
      "T: type; num_args: int >= 0; fused_ops: list(string) = []; epsilon: float = 0.0001; leakyrelu_alpha: float = 0.2",
      "BatchMatMul(x: T, y: T) -> (output: T) | T: type; adj_x: bool = false; adj_y: bool = false",
      "BatchMatMulV2(x: T, y: T) -> (output: T) | T: type; adj_x: bool = false; adj_y: bool = false",
      "BatchMatMulV3(x: Ta, y: Tb) -> (output: Tout) | Ta: type; Tb: type; Tout: type; adj_x: bool = false; adj_y: bool = false",
      "Einsum(inputs: N * T) -> (output: T) | equation: string; N: int >= 1; T: type",
      "BiasAdd(value: T, bias: T) -> (output: T) | T: type; data_format: {'NHWC', 'NCHW'} = 'NHWC'",
      "BiasAddV1(value: T, bias: T) -> (output: T) | T: type",
      "BiasAddGrad(out_backprop: T) -> (output: T) | T: type; data_format: {'NHWC', 'NCHW'} = 'NHWC'",
      "FusedBatchNorm(x: T, scale: T, offset: T, mean: T, variance: T) -> (y: T, batch_mean: T, batch_variance: T, "
      "reserve_space_1: T, reserve_space_2: T) | T: {float}; " + bn,
      "FusedBatchNormV2(x: T, scale: U, offset: U, mean: U, variance: U) -> (y: T, batch_mean: U, batch_variance: U, "
      "reserve_space_1: U, reserve_space_2: U) | T: {half, bfloat16, float}; U: {float}; " + bn,
      "FusedBatchNormV3(x: T, scale: U, offset: U, mean: U, variance: U) -> (y: T, batch_mean: U, batch_variance: U, "
      "reserve_space_1: U, reserve_space_2: U, reserve_space_3: U) | T: {half, bfloat16, float}; U: {bfloat16, float}; " + bn,
      "BatchNormWithGlobalNormalization(t: T, m: T, v: T, beta: T, gamma: T) -> (result: T) | T: type; "
      "variance_epsilon: float; scale_after_normalization: bool",
      "LeakyRelu(features: T) -> (activations: T) | alpha: float = 0.2; T: type",
      "Prelu(x: T, alpha: T) -> (output: T) | T: type",
      "Softmax(logits: T) -> (softmax: T) | T: type",
      "LogSoftmax(logits: T) -> (logsoftmax: T) | T: type",
      "MaxPool(input: T) -> (output: T) | T: type = float; " + pool + "; padding: {'SAME', 'VALID', 'EXPLICIT'}; explicit_paddings: list(int) = []",
      "AvgPool(value: T) -> (output: T) | T: type; " + pool + "; padding: {'SAME', 'VALID'}",
      "MaxPoolV2(input: T, ksize: int32, strides: int32) -> (output: T) | T: type = float; padding: {'SAME', 'VALID'}; "
      "data_format: {'NHWC', 'NCHW', 'NCHW_VECT_C'} = 'NHWC'",
      "LRN(input: T) -> (output: T) | depth_radius: int = 5; bias: float = 1; alpha: float = 1; beta: float = 0.5; T: type = float",
      "L2Loss(t: T) -> (output: T) | T: type",
      "AddN[commutative](inputs: N * T) -> (sum: T) | N: int >= 1; T: type",
      "ClipByValue(t: T, clip_value_min: T, clip_value_max: T) -> (output: T) | T: type",
      "ResizeNearestNeighbor(images: T, size: int32) -> (resized_images: T) | T: type; align_corners: bool = false; half_pixel_centers: bool = false",
      "Conv2DTranspose(input: T, filter: T) -> (output: T) | T: type",
      "OneHot(indices: TI, depth: int32, on_value: T, off_value: T) -> (output: T) | axis: int = -1; T: type; TI: {uint8, int8, int32, int64} = int64",
      "TopKV2(input: T, k: int32) -> (values: T, indices: int32) | sorted: bool = true; T: type",
      // Array manipulation
      "Cast(x: SrcT) -> (y: DstT) | SrcT: type; DstT: type; Truncate: bool = false",
      "Reshape(tensor: T, shape: Tshape) -> (output: T) | T: type; Tshape: {int32, int64} = int32",
      "Squeeze(input: T) -> (output: T) | T: type; squeeze_dims: list(int) >= 0 = []",
      "ExpandDims(input: T, dim: Tdim) -> (output: T) | T: type; Tdim: {int32, int64} = int32",
      "Shape(input: T) -> (output: out_type) | T: type; out_type: {int32, int64} = int32",
      "ShapeN(input: N * T) -> (output: N * out_type) | N: int >= 1; T: type; out_type: {int32, int64} = int32",
      "Size(input: T) -> (output: out_type) | T: type; out_type: {int32, int64} = int32",
      "Rank(input: T) -> (output: int32) | T: type",
      "Fill(dims: index_type, value: T) -> (output: T) | T: type; index_type: {int32, int64} = int32",
      "Range(start: Tidx, limit: Tidx, delta: Tidx) -> (output: Tidx) | Tidx: type = int32",
      "Pack(values: N * T) -> (output: T) | N: int >= 1; T: type; axis: int = 0",
      "Unpack(value: T) -> (output: num * T) | num: int >= 0; T: type; axis: int = 0",
      "ConcatV2(values: N * T, axis: Tidx) -> (output: T) | N: int >= 2; T: type; Tidx: {int32, int64} = int32",
      "Concat(concat_dim: int32, values: N * T) -> (output: T) | N: int >= 2; T: type",
      "Split(split_dim: int32, value: T) -> (output: num_split * T) | num_split: int >= 1; T: type",
      "SplitV(value: T, size_splits: Tlen, split_dim: int32) -> (output: num_split * T) | num_split: int >= 1; T: type; Tlen: {int8, int32, int64} = int64",
      "Slice(input: T, begin: Index, size: Index) -> (output: T) | T: type; Index: {int32, int64}",
      "StridedSlice(input: T, begin: Index, end: Index, strides: Index) -> (output: T) | T: type; Index: {int16, int32, int64}; "
      "begin_mask: int = 0; end_mask: int = 0; ellipsis_mask: int = 0; new_axis_mask: int = 0; shrink_axis_mask: int = 0",
      "Transpose(x: T, perm: Tperm) -> (y: T) | T: type; Tperm: {int32, int64} = int32",
      "Pad(input: T, paddings: Tpaddings) -> (output: T) | T: type; Tpaddings: {int32, int64} = int32",
      "PadV2(input: T, paddings: Tpaddings, constant_values: T) -> (output: T) | T: type; Tpaddings: {int32, int64} = int32",
      "MirrorPad(input: T, paddings: Tpaddings) -> (output: T) | T: type; Tpaddings: {int32, int64} = int32; mode: {'REFLECT', 'SYMMETRIC'}",
      "Tile(input: T, multiples: Tmultiples) -> (output: T) | T: type; Tmultiples: {int32, int64} = int32",
      "GatherV2(params: Tparams, indices: Tindices, axis: Taxis) -> (output: Tparams) | batch_dims: int = 0; Tparams: type; "
      "Tindices: {int16, int32, int64}; Taxis: {int32, int64}",
      "Gather(params: Tparams, indices: Tindices) -> (output: Tparams) | validate_indices: bool = true; Tparams: type; Tindices: {int32, int64}",
      "GatherNd(params: Tparams, indices: Tindices) -> (output: Tparams) | Tparams: type; Tindices: {int16, int32, int64}",
      "SpaceToBatchND(input: T, block_shape: Tblock_shape, paddings: Tpaddings) -> (output: T) | T: type; "
      "Tblock_shape: {int32, int64} = int32; Tpaddings: {int32, int64} = int32",
      "BatchToSpaceND(input: T, block_shape: Tblock_shape, crops: Tcrops) -> (output: T) | T: type; "
      "Tblock_shape: {int32, int64} = int32; Tcrops: {int32, int64} = int32",
      "BroadcastTo(input: T, shape: Tidx) -> (output: T) | T: type; Tidx: {int32, int64} = int32",
      "BroadcastGradientArgs(s0: T, s1: T) -> (r0: T, r1: T) | T: {int32, int64} = int32",
      "DynamicPartition(data: T, partitions: int32) -> (outputs: num_partitions * T) | num_partitions: int >= 1; T: type",
      "DynamicStitch(indices: N * int32, data: N * T) -> (merged: T) | N: int >= 1; T: type",
      "Where(input: T) -> (index: int64) | T: type = bool",
      "Unique(x: T) -> (y: T, idx: out_idx) | T: type; out_idx: {int32, int64} = int32",
      "LinSpace(start: T, stop: T, num: Tidx) -> (output: T) | T: type; Tidx: {int32, int64} = int32",
      "RandomUniformInt[stateful](shape: T, minval: Tout, maxval: Tout) -> (output: Tout) | seed: int = 0; seed2: int = 0; Tout: {int32, int64}; T: {int32, int64}",
      "LogicalNot(x: bool) -> (y: bool)",
      // Variables and state
      "VarHandleOp[stateful]() -> (resource: resource) | container: string = ''; shared_name: string = ''; dtype: type; shape: shape",
      "ReadVariableOp[stateful](resource: resource) -> (value: dtype) | dtype: type",
      "AssignVariableOp[stateful](resource: resource, value: dtype) -> () | dtype: type",
      "VarIsInitializedOp[stateful](resource: resource) -> (is_initialized: bool)",
      "IsVariableInitialized[stateful](ref: Ref(dtype)) -> (is_initialized: bool) | dtype: type",
      "Assign[stateful](ref: Ref(T), value: T) -> (output_ref: Ref(T)) | T: type; validate_shape: bool = true; use_locking: bool = true",
      "ResourceGather[stateful](resource: resource, indices: Tindices) -> (output: dtype) | batch_dims: int = 0; "
      "validate_indices: bool = true; dtype: type; Tindices: {int32, int64}",
      "VariableShape[stateful](input: resource) -> (output: out_type) | out_type: {int32, int64} = int32",
      "DestroyResourceOp[stateful](resource: resource) -> () | ignore_lookup_error: bool = true",
      // Lookup tables (vocabularies)
      "HashTableV2[stateful]() -> (table_handle: resource) | container: string = ''; shared_name: string = ''; "
      "use_node_name_sharing: bool = false; key_dtype: type; value_dtype: type",
      "LookupTableFindV2[stateful](table_handle: resource, keys: Tin, default_value: Tout) -> (values: Tout) | Tin: type; Tout: type",
      "LookupTableImportV2[stateful](table_handle: resource, keys: Tin, values: Tout) -> () | Tin: type; Tout: type",
      "LookupTableSizeV2[stateful](table_handle: resource) -> (size: int64)",
      "InitializeTableV2[stateful](table_handle: resource, keys: Tkey, values: Tval) -> () | Tkey: type; Tval: type",
      "InitializeTableFromTextFileV2[stateful](table_handle: resource, filename: string) -> () | key_index: int; value_index: int; "
      "vocab_size: int = -1; delimiter: string = '\t'",
      // TF 2 tensor lists (TensorArray inside tf.function)
      "TensorListReserve(element_shape: shape_type, num_elements: int32) -> (handle: variant) | element_dtype: type; shape_type: {int32, int64}",
      "TensorListFromTensor(tensor: element_dtype, element_shape: shape_type) -> (output_handle: variant) | element_dtype: type; shape_type: {int32, int64}",
      "TensorListGetItem(input_handle: variant, index: int32, element_shape: int32) -> (item: element_dtype) | element_dtype: type",
      "TensorListSetItem(input_handle: variant, index: int32, item: element_dtype) -> (output_handle: variant) | element_dtype: type",
      "TensorListLength(input_handle: variant) -> (length: int32)",
      "TensorListStack(input_handle: variant, element_shape: int32) -> (tensor: element_dtype) | element_dtype: type; num_elements: int = -1",
      // Checkpoint I/O
      "SaveV2[stateful](prefix: string, tensor_names: string, shape_and_slices: string, tensors: dtypes) -> () | dtypes: list(type) >= 1",
      "RestoreV2[stateful](prefix: string, tensor_names: string, shape_and_slices: string) -> (tensors: dtypes) | dtypes: list(type) >= 1",
      "Save[stateful](filename: string, tensor_names: string, data: T) -> () | T: list(type) >= 1",
      "SaveSlices[stateful](filename: string, tensor_names: string, shapes_and_slices: string, data: T) -> () | T: list(type) >= 1",
      "Restore[stateful](file_pattern: string, tensor_name: string) -> (tensor: dt) | dt: type; preferred_shard: int = -1",
      "RestoreSlice[stateful](file_pattern: string, tensor_name: string, shape_and_slice: string) -> (tensor: dt) | dt: type; preferred_shard: int = -1",
      "MergeV2Checkpoints[stateful](checkpoint_prefixes: string, destination_prefix: string) -> () | delete_old_dirs: bool = true",
      "ShardedFilename(basename: string, shard: int32, num_shards: int32) -> (filename: string)",
      "ShardedFilespec(basename: string, num_shards: int32) -> (filename: string)",
      "StringJoin(inputs: N * string) -> (output: string) | N: int >= 0; separator: string = ''",
      // Queues, iterators, control flow
      "QueueCloseV2[stateful](handle: resource) -> () | cancel_pending_enqueues: bool = false",
      "QueueSizeV2[stateful](handle: resource) -> (size: int32)",
      "IteratorGetNext[stateful](iterator: resource) -> (components: output_types) | output_types: list(type) >= 1; output_shapes: list(shape) >= 1",
      "Case[stateful](branch_index: int32, input: Tin) -> (output: Tout) | Tin: list(type) >= 0; Tout: list(type) >= 0; "
      "branches: list(func) >= 1; output_shapes: list(shape) = []",
      "StatelessCase(branch_index: int32, input: Tin) -> (output: Tout) | Tin: list(type) >= 0; Tout: list(type) >= 0; "
      "branches: list(func) >= 1; output_shapes: list(shape) = []",
      "TensorArrayV3[stateful](size: int32) -> (handle: resource, flow: float) | dtype: type; element_shape: shape = ?; "
      "dynamic_size: bool = false; clear_after_read: bool = true; identical_element_shapes: bool = false; tensor_array_name: string = ''",
      "TensorArrayReadV3[stateful](handle: resource, index: int32, flow_in: float) -> (value: dtype) | dtype: type",
      "TensorArrayWriteV3[stateful](handle: resource, index: int32, value: T, flow_in: float) -> (flow_out: float) | T: type",
      "TensorArrayScatterV3[stateful](handle: resource, indices: int32, value: T, flow_in: float) -> (flow_out: float) | T: type",
      "TensorArrayGatherV3[stateful](handle: resource, indices: int32, flow_in: float) -> (value: dtype) | dtype: type; element_shape: shape = ?",
      "TensorArraySizeV3[stateful](handle: resource, flow_in: float) -> (size: int32)",
      // Input parsing and audio (ML-KWS front-end)
      "ParseExample(serialized: string, names: string, sparse_keys: Nsparse * string, dense_keys: Ndense * string, "
      "dense_defaults: Tdense) -> (sparse_indices: Nsparse * int64, sparse_values: sparse_types, sparse_shapes: Nsparse * int64, "
      "dense_values: Tdense) | Nsparse: int >= 0; Ndense: int >= 0; sparse_types: list(type) >= 0; Tdense: list(type) >= 0; "
      "dense_shapes: list(shape) >= 0",
      "ParseExampleV2(serialized: string, names: string, sparse_keys: string, dense_keys: string, ragged_keys: string, "
      "dense_defaults: Tdense) -> (sparse_indices: num_sparse * int64, sparse_values: sparse_types, sparse_shapes: num_sparse * int64, "
      "dense_values: Tdense, ragged_values: ragged_value_types, ragged_row_splits: ragged_split_types) | Tdense: list(type) >= 0; "
      "num_sparse: int >= 0; sparse_types: list(type) >= 0; ragged_value_types: list(type) >= 0; "
      "ragged_split_types: list(type) >= 0; dense_shapes: list(shape) >= 0",
      "DecodeWav(contents: string) -> (audio: float, sample_rate: int32) | desired_channels: int = -1; desired_samples: int = -1",
      "AudioSpectrogram(input: float) -> (spectrogram: float) | window_size: int; stride: int; magnitude_squared: bool = false",
      "Mfcc(spectrogram: float, sample_rate: int32) -> (output: float) | upper_frequency_limit: float = 4000; "
      "lower_frequency_limit: float = 20; filterbank_channel_count: int = 40; dct_coefficient_count: int = 13",
  };
  for (const auto& family : kFamilies) {
    for (const char* name : family.names) {
      std::string spec = std::string(name) + family.signature;
      if (*family.extra_attrs) spec += std::string(spec.find(" | ") == std::string::npos ? " | " : "; ") + family.extra_attrs;
      specs.push_back(std::move(spec));
    }
  }
  return specs;
}

}  // namespace

const OpRegistry& OpRegistry::global() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    for (const auto& spec : builtin_specs()) r.add(spec);
#define TFFREEZE_OP_SPEC_FAMILY(family) family##_op_specs,
    for (auto family : {TFFREEZE_OP_SPEC_FAMILIES(TFFREEZE_OP_SPEC_FAMILY)})
#undef TFFREEZE_OP_SPEC_FAMILY
      for (const auto& spec : family()) r.add(spec);
    return r;
  }();
  return registry;
}

}  // namespace tffreeze::graph
