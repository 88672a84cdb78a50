// Fuzz target: ONNX model files (inspect MODEL.onnx, check --target T MODEL.onnx): the reader and
// the summary must refuse or describe any bytes, never crash or allocate from declared sizes.
#include "export/onnx/summary.h"
#include "fuzz_support.h"
#include "io/onnx_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tffreeze;
  static const std::string path = fuzz::work_dir() + "/x.onnx";
  fuzz::write(path, {reinterpret_cast<const char*>(data), size});
  fuzz::expect_only_errors([&] { onnx_export::summarize_onnx(io::load_onnx(path)).dump(2, ' ', false, nlohmann::json::error_handler_t::replace); });
  return 0;
}
