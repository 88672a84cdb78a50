#include "export/onnx/fusions.h"

#include "export/onnx/fusions/fusion_graph.h"

namespace tffreeze::onnx_export {
namespace {

// In this order: HardSwish reads the HardSigmoid that the pattern before it made (next round).
constexpr FusionPattern kPatterns[] = {fuse_matmul_add_as_gemm, fuse_hard_sigmoid, fuse_hard_swish, fuse_relu_difference_as_prelu,
                                       fuse_max_as_prelu};

// A pattern removes at least one node per rewrite, so the rounds end; the bound is a guard.
constexpr int kMaxRounds = 16;

}  // namespace

std::vector<std::string> fuse_onnx_patterns(onnx::ModelProto* model) {
  std::vector<std::string> done;
  for (int round = 0; round < kMaxRounds; ++round) {
    FusionGraph graph(model);
    for (FusionPattern pattern : kPatterns)
      for (const auto& node : model->graph().node())
        if (graph.producer(node.output_size() ? node.output(0) : "") == &node)  // not fused or removed this round
          if (auto what = pattern(node, graph); !what.empty()) done.push_back(what);
    if (!graph.commit()) break;
  }
  return done;
}

}  // namespace tffreeze::onnx_export
