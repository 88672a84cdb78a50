// Fuzz target: the executor on a fuzzed small graph (text GraphDef, at most 64 nodes) with inputs
// drawn from the placeholders' dtypes and shapes. Kernels must refuse bad attributes, shapes and
// values with an Error, and never allocate beyond the executor's limits.
#include "fuzz_support.h"
#include "graph/validate.h"
#include "io/proto_io.h"
#include "runtime/executor.h"
#include "runtime/verify.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tffreeze;
  tf::GraphDef g;
  std::string why;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (!io::parse_text(text, &g, &why) && !io::parse_binary(text, &g, &why)) return 0;
  if (g.node_size() == 0 || g.node_size() > 64 || !graph::validate_graph(g).empty()) return 0;
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
