// Fuzz target: model loading through the sniffer (binary GraphDef, text GraphDef, MetaGraphDef,
// SavedModel), then what every command does first: validate and summarize; and for graphs with
// functions, the flattening that freezing does. The file name
// steers the sniffer; build with -DFUZZ_MODEL_KIND=0..3 for .pb, .pbtxt, .meta, SavedModel.
#include "fuzz_support.h"
#include <nlohmann/json.hpp>

#include "freeze/freeze.h"
#include "graph/summary.h"
#include "graph/validate.h"
#include "io/model.h"

#ifndef FUZZ_MODEL_KIND
#define FUZZ_MODEL_KIND 0
#endif

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tffreeze;
  static const std::string dir = fuzz::work_dir();
  std::string path;
  switch (FUZZ_MODEL_KIND) {
    case 0: path = dir + "/graph.pb"; break;
    case 1: path = dir + "/graph.pbtxt"; break;
    case 2: path = dir + "/model.meta"; break;
    default:
      std::filesystem::create_directories(dir + "/saved");
      path = dir + "/saved/saved_model.pb";
  }
  fuzz::write(path, {reinterpret_cast<const char*>(data), size});
  fuzz::expect_only_errors([&] {
    io::Model model = io::load_model(FUZZ_MODEL_KIND == 3 ? dir + "/saved" : path);
    graph::validate_graph(model.graph());
    graph::summarize_model(model);
    // TF 2 graphs: freezing flattens their functions (the part that follows untrusted names).
    if (model.graph().library().function_size() > 0) freeze::freeze_model(model, nullptr, {});
  });
  return 0;
}
