// Exact ONNX patterns rewritten into the single ops that deploy runtimes have kernels for, as
// onnxoptimizer's fuse passes do: MatMul + Add of a bias as Gemm, the hard-sigmoid and hard-swish
// compositions (Keras, TF-Slim) as HardSigmoid/HardSwish, and the PReLU compositions (Keras's
// relu(x) - alpha * relu(-x), max(x, alpha * x)) as PRelu or LeakyRelu. Each pattern is one file
// in fusions/; the driver applies them to a fixpoint. They run on the ONNX graph because ONNX has
// these ops and TensorFlow does not: the TF graph the executor proves stays as it was, and the
// test suite proves each rewrite against onnxruntime, where it must fire and where it must not.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

namespace tffreeze::onnx_export {

// Rewrites the model's main graph; returns one line per rewrite ("Gemm 'dense/BiasAdd': MatMul + Add").
std::vector<std::string> fuse_onnx_patterns(onnx::ModelProto* model);

}  // namespace tffreeze::onnx_export
