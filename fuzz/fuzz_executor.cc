// Fuzz target: the executor on a fuzzed small graph (text GraphDef, at most 64 nodes) with inputs
// drawn from the placeholders' dtypes and shapes. Kernels must refuse bad attributes, shapes and
// values with an Error, and never allocate beyond the executor's limits.
#include "fuzz_support.h"
#include "runtime/executor.h"
#include "runtime/verify.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tffreeze;
  auto parsed = fuzz::small_valid_graph(data, size);
  if (!parsed) return 0;
  const tf::GraphDef& g = *parsed;
  fuzz::expect_only_errors([&] {
    std::vector<std::string> outputs;
    for (const auto& n : g.node())
      if (n.op() != "Const" && n.op() != "Placeholder") outputs.push_back(n.name());
    if (outputs.empty()) return;
    auto feeds = runtime::random_feeds(runtime::needed_placeholders(g, outputs), {}, 1);
    runtime::Executor(g).run(feeds, {outputs.back()});
  });
  return 0;
}
