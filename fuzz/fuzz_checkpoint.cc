// Fuzz target: a V2 checkpoint from two fuzzed files (index and data), opened and read tensor by
// tensor as `ckpt check` does; then its streamable tensors become mapped Consts and the graph is
// written by the streaming writer, whose file must be the very graph the values read into memory
// give, of the size graph::serialized_size says (a difference aborts: a bug, not bad input).
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "fuzz_support.h"
#include "graph/mapped_constants.h"
#include "io/checkpoint/checkpoint.h"
#include "io/graph_stream.h"
#include "io/proto_io.h"

namespace {

using namespace tffreeze;

void stream_as_graph(std::shared_ptr<const io::checkpoint::Checkpoint> ckpt) {
  auto source = graph::MappedSource::open(ckpt);
  tf::GraphDef mapped;
  for (const auto& e : ckpt->entries()) {
    if (mapped.node_size() >= 8) break;
    if (graph::mappable(*ckpt, e)) *mapped.add_node() = graph::make_mapped_const("c" + std::to_string(mapped.node_size()), e.dtype, e.shape, *source, e.name);
  }
  if (mapped.node_size() == 0) return;
  const std::string out = fuzz::work_dir() + "/streamed.pb";
  io::write_graph_streaming(mapped, out);  // throws (bad input) on a corrupt tensor
  tf::GraphDef in_memory = mapped;
  graph::materialize_mapped_constants(&in_memory);
  std::ifstream f(out, std::ios::binary);
  const std::string written((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (written != io::to_binary(in_memory) || written.size() != graph::serialized_size(mapped)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string prefix = fuzz::work_dir() + "/model.ckpt";
  auto [index, shard] = fuzz::split2(data, size);
  fuzz::write(prefix + ".index", index);
  fuzz::write(prefix + ".data-00000-of-00001", shard);
  fuzz::expect_only_errors([&] {
    std::shared_ptr<const io::checkpoint::Checkpoint> ckpt = io::checkpoint::open_checkpoint(prefix);
    int n = 0;
    for (const auto& e : ckpt->entries()) {
      if (++n > 64) break;
      fuzz::expect_only_errors([&] { ckpt->read(e.name); });
      fuzz::expect_only_errors([&] { ckpt->stream(e.name, [](std::string_view) {}); });
    }
    fuzz::expect_only_errors([&] { stream_as_graph(ckpt); });
  });
  return 0;
}
