// Deploy targets for ONNX files: what onnxruntime, TensorRT's ONNX parser and OpenCV DNN's ONNX
// importer accept, a check that names every node a target rejects and the rule, and the
// rewrites that make a model acceptable where a rewrite can (each one keeps ONNX's meaning).
//
// The names coexist with the TF targets (targets.h): for an .onnx file or output, `generic` (the
// default) means onnxruntime, and `tensorrt` and `opencv` mean those runtimes' ONNX importers.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

#include "targets/onnx_view.h"
#include "targets/targets.h"

namespace tffreeze::targets {

struct OnnxTarget {
  std::string name;  // onnxruntime, tensorrt, opencv
  std::string description;
  std::string verdict_basis;  // measured here, or from a published table
  std::string tf_target;      // the TF target whose pass pipeline runs before the export
};

const std::vector<OnnxTarget>& onnx_targets();
// `generic` is onnxruntime. Throws Error (exit 2) listing the ONNX targets.
const OnnxTarget& find_onnx_target(const std::string& name);

struct OnnxRejection {
  std::string node, op;  // node "(model)" for what concerns the whole model (opset, dtypes of inputs)
  std::string rule;      // what the target does not accept
};

struct OnnxCheck {
  std::vector<OnnxRejection> rejections;
  std::vector<std::string> notes;  // accepted, but worth knowing (e.g. a newer opset than one version reads)
};

OnnxCheck check_onnx_target(const onnx::ModelProto& model, const OnnxTarget& target);

// Rewrites the model where that makes it acceptable to the target without changing what it
// computes (by ONNX's definition of each op); one line per change.
std::vector<std::string> make_onnx_acceptable(onnx::ModelProto* model, const OnnxTarget& target);

// TensorRT's table (onnx_tensorrt_rules.cc): the node's rejection rule, or ""; the model's.
std::string tensorrt_onnx_rejects(const OnnxView& view, const onnx::NodeProto& node);
std::vector<OnnxRejection> tensorrt_onnx_model_rules(const OnnxView& view);

// The measured OpenCV 4.6 rules (onnx_opencv_rules.cc): the node's rejection rule, or "".
std::string opencv_onnx_rejects(const OnnxView& view, const onnx::NodeProto& node);
// OpenCV's whole-model rules (outputs without shapes, nothing to compute).
std::vector<OnnxRejection> opencv_onnx_model_rules(const OnnxView& view);
std::vector<std::string> opencv_onnx_rewrites(onnx::ModelProto* model);

}  // namespace tffreeze::targets
