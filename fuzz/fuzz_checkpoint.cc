// Fuzz target: a V2 checkpoint from two fuzzed files (index and data), opened and read tensor by
// tensor as `ckpt check` does.
#include "fuzz_support.h"
#include "io/checkpoint/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tffreeze;
  static const std::string prefix = fuzz::work_dir() + "/model.ckpt";
  auto [index, shard] = fuzz::split2(data, size);
  fuzz::write(prefix + ".index", index);
  fuzz::write(prefix + ".data-00000-of-00001", shard);
  fuzz::expect_only_errors([&] {
    auto ckpt = io::checkpoint::open_checkpoint(prefix);
    int n = 0;
    for (const auto& e : ckpt->entries()) {
      if (++n > 64) break;
      fuzz::expect_only_errors([&] { ckpt->read(e.name); });
    }
  });
  return 0;
}
