// Fuzz target: the --transforms pipeline parser, and each parsed pipeline run on a small graph
// (argument values reach the passes).
#include "fuzz_support.h"
#include "graph/builder.h"
#include "passes/pass.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tffreeze;
  const std::string spec(reinterpret_cast<const char*>(data), std::min<std::size_t>(size, 4096));
  static const tf::GraphDef graph = [] {
    graph::GraphBuilder b(1);
    b.placeholder("x", tf::DT_FLOAT, {1, 4, 4, 2});
    b.conv("c", "Conv2D", "x", b.random_constant("w", {3, 3, 2, 3}));
    b.node("bias", "BiasAdd", {"c", b.random_constant("b", {3})});
    b.batch_norm("bn/FusedBatchNorm", "FusedBatchNorm", "bias", 3);
    b.node("y", "Relu6", {"bn/FusedBatchNorm"});
    return b.graph();
  }();
  fuzz::expect_only_errors([&] {
    auto pipeline = passes::parse_pipeline(spec);
    tf::GraphDef g = graph;
    passes::PassContext ctx;
    ctx.outputs = {"y"};
    passes::run_pipeline(&g, pipeline, ctx);
  });
  return 0;
}
