// Fuzz target: a TF.js graph model: model.json plus one weights shard, both fuzzed.
#include "fuzz_support.h"
#include "graph/validate.h"
#include "io/model.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tffreeze;
  static const std::string dir = fuzz::work_dir() + "/tfjs";
  std::filesystem::create_directories(dir);
  auto [json, weights] = fuzz::split2(data, size);
  fuzz::write(dir + "/model.json", json);
  fuzz::write(dir + "/group1-shard1of1.bin", weights);
  fuzz::expect_only_errors([&] { graph::validate_graph(io::load_model(dir + "/model.json").graph()); });
  return 0;
}
