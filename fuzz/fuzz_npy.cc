// Fuzz target: NumPy .npy files (run -i NAME=X.npy).
#include "fuzz_support.h"
#include "io/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tffreeze;
  static const std::string path = fuzz::work_dir() + "/x.npy";
  fuzz::write(path, {reinterpret_cast<const char*>(data), size});
  fuzz::expect_only_errors([&] { io::read_npy(path); });
  return 0;
}
