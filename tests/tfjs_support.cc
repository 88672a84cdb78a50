#include "tfjs_support.h"

#include <cmath>
#include <filesystem>

#include "io/npy.h"
#include "runtime/verify.h"

namespace tffreeze::test {

bool tfjs_available() {
  return std::filesystem::exists(std::string(TFFREEZE_TFJS_DIR) + "/node_modules/@tensorflow/tfjs-converter") &&
         run_process({"node", "--version"}).exit_code == 0;
}

std::vector<Tensor> run_tfjs(const std::string& model_json, const std::map<std::string, Tensor>& feeds, const std::vector<std::string>& outputs) {
  std::string dir = temp_dir();
  std::vector<std::string> argv = {"node", std::string(TFFREEZE_TFJS_DIR) + "/run_graph_model.js", model_json, dir};
  for (const auto& [name, t] : feeds) {
    std::string file = dir + "/in_" + file_safe(name) + ".npy";
    io::write_npy(t, file);
    argv.push_back(name + "=" + file);
  }
  for (const auto& o : outputs) {
    argv.push_back("--output");
    argv.push_back(o);
  }
  auto r = run_process(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<Tensor> results;
  for (const auto& o : outputs) results.push_back(io::read_npy(dir + "/" + file_safe(o) + ".npy"));
  return results;
}

// Both must agree within 1e-4, relative to the size of the values.
void expect_agree(const std::vector<Tensor>& tfjs, const std::vector<Tensor>& ours, const std::string& what) {
  ASSERT_EQ(tfjs.size(), ours.size());
  for (std::size_t i = 0; i < ours.size(); ++i) {
    double scale = 1e-6;
    for (std::int64_t k = 0; k < ours[i].num_elements(); ++k) scale = std::max(scale, std::abs(element_as_double(ours[i], k)));
    auto d = runtime::compare_tensors(ours[i], tfjs[i], 0, 1e-4 * std::max(scale, 1.0));
    EXPECT_TRUE(d.within_tolerance) << what << " output " << i << ": max abs " << d.max_abs << " (values up to " << scale << ") " << d.mismatch;
  }
}


}  // namespace tffreeze::test
