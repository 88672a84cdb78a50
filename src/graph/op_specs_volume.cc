// Op definitions of the volume kernels (runtime/kernels/volume.cc) and of the image kernels
// added beside them (runtime/kernels/image.cc), in REGISTER_OP notation (TensorFlow's
// tensorflow/core/ops/nn_ops.cc and image_ops.cc).
#include "graph/op_specs_families.h"

namespace tffreeze::graph {
namespace {

const std::string k3dFormat = "data_format: {'NDHWC', 'NCDHW'} = 'NDHWC'";
const std::string k3dConv = "strides: list(int) >= 5; padding: {'SAME', 'VALID'}; " + k3dFormat + "; dilations: list(int) = [1, 1, 1, 1, 1]";
const std::string k3dPool = "ksize: list(int) >= 5; strides: list(int) >= 5; padding: {'SAME', 'VALID'}; " + k3dFormat;
const std::string kRealNumbers = "{float, double, int32, uint8, int16, int8, int64, bfloat16, uint16, half, uint32, uint64}";
const std::string kNmsV2 = "(boxes: T, scores: T, max_output_size: int32, iou_threshold: T_threshold";
const std::string kNmsTypes = "T: {half, float} = float; T_threshold: {half, float} = float";
const std::string kColorTypes = "T: {half, bfloat16, float, double} = float";

}  // namespace

std::vector<std::string> volume_op_specs() {
  return {
      "Conv3D(input: T, filter: T) -> (output: T) | T: {half, bfloat16, float, double}; " + k3dConv,
      "Conv3DBackpropInput(input: T, filter: T, out_backprop: T) -> (output: T) | T: {half, float, double}; "
      "strides: list(int) >= 5; padding: {'SAME', 'VALID'}; dilations: list(int) = [1, 1, 1, 1, 1]",
      "Conv3DBackpropInputV2(input_sizes: Tshape, filter: T, out_backprop: T) -> (output: T) | T: {half, bfloat16, float, double}; " +
          k3dConv + "; Tshape: {int32, int64} = int32",
      "MaxPool3D(input: T) -> (output: T) | " + k3dPool + "; T: {half, bfloat16, float}",
      "AvgPool3D(input: T) -> (output: T) | " + k3dPool + "; T: {half, bfloat16, float, double}",
      "MaxPoolWithArgmax(input: T) -> (output: T, argmax: Targmax) | ksize: list(int) >= 4; strides: list(int) >= 4; "
      "Targmax: {int32, int64} = int64; padding: {'SAME', 'VALID'}; include_batch_in_index: bool = false; T: " + kRealNumbers,
      // Image ops (runtime/kernels/image.cc) that op_specs.cc does not define.
      "RGBToHSV(images: T) -> (output: T) | " + kColorTypes,
      "HSVToRGB(images: T) -> (output: T) | " + kColorTypes,
      "AdjustHue(images: T, delta: float) -> (output: T) | T: {half, float} = float",
      "AdjustSaturation(images: T, scale: float) -> (output: T) | T: {half, float} = float",
      "AdjustContrastv2(images: T, contrast_factor: float) -> (output: T) | T: {half, float} = float",
      "ExtractImagePatches(images: T) -> (patches: T) | ksizes: list(int) >= 4; strides: list(int) >= 4; rates: list(int) >= 4; "
      "T: {bfloat16, half, float, double, int8, int16, int32, int64, uint8, uint16, uint32, uint64, complex64, complex128, bool}; "
      "padding: {'SAME', 'VALID'}",
      "CropAndResize(image: T, boxes: float, box_ind: int32, crop_size: int32) -> (crops: float) | "
      "T: {uint8, uint16, int8, int16, int32, int64, half, float, double}; method: {'bilinear', 'nearest'} = 'bilinear'; "
      "extrapolation_value: float = 0",
      "NonMaxSuppression(boxes: float, scores: float, max_output_size: int32) -> (selected_indices: int32) | iou_threshold: float = 0.5",
      "NonMaxSuppressionV2" + kNmsV2 + ") -> (selected_indices: int32) | " + kNmsTypes,
      "NonMaxSuppressionV3" + kNmsV2 + ", score_threshold: T_threshold) -> (selected_indices: int32) | " + kNmsTypes,
      "NonMaxSuppressionV4" + kNmsV2 + ", score_threshold: T_threshold) -> (selected_indices: int32, valid_outputs: int32) | " +
          kNmsTypes + "; pad_to_max_output_size: bool = false",
      "NonMaxSuppressionV5(boxes: T, scores: T, max_output_size: int32, iou_threshold: T, score_threshold: T, soft_nms_sigma: T) -> "
      "(selected_indices: int32, selected_scores: T, valid_outputs: int32) | T: {half, float} = float; pad_to_max_output_size: bool = false",
      "InTopK(predictions: float, targets: T) -> (precision: bool) | k: int; T: {int32, int64} = int32",
      "InTopKV2(predictions: float, targets: T, k: T) -> (precision: bool) | T: {int32, int64} = int32",
  };
}

}  // namespace tffreeze::graph
