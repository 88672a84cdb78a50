// Fuzz target: the ONNX exporter on a fuzzed small graph (text GraphDef, at most 64 nodes). It
// must export, or refuse with a user-facing Error; a model that ONNX's checker rejects is our
// bug (exit 5) and a finding here, as is any crash.
#include <cstdlib>

#include "export/onnx/export.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tffreeze;
  auto parsed = fuzz::small_valid_graph(data, size);
  if (!parsed) return 0;
  const tf::GraphDef& g = *parsed;
  onnx_export::ExportOptions o;
  for (const auto& n : g.node())
    if (n.op() != "Const" && n.op() != "Placeholder" && n.op() != "NoOp") o.outputs = {n.name()};
  if (o.outputs.empty()) return 0;
  try {
    onnx_export::to_onnx(g, o);
  } catch (const Error& e) {
    if (e.code() == ExitCode::kInternal) {
      std::fprintf(stderr, "%s\n", e.what());
      std::abort();
    }
  }
  return 0;
}
