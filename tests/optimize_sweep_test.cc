// Every real model in ../shared/testdata through `optimize --target T` for every target: each
// run writes a proven graph (exit 0) or refuses with a one-line reason (exit 1-4). Never exit 5
// (a pass broke the graph), a crash, a hang, or an invalid result.
#include <algorithm>
#include <filesystem>
#include <iostream>

#include "support.h"

namespace tffreeze {
namespace {

constexpr unsigned kSecondsPerRun = 180;

// The real GraphDefs and TF.js graph models, outside the conformance corpus.
std::vector<std::string> real_models() {
  std::vector<std::string> out;
  for (const auto& p : test::fixtures_with_suffix({".pb", ".pbtxt", ".json"})) {
    if (p.find("konduitai-dl4j-test-resources") != std::string::npos) continue;
    const std::string name = std::filesystem::path(p).filename().string();
    if (name == "saved_model.pb" || name == "saved_model.pbtxt" || name == "keras_metadata.pb" || name == "fingerprint.pb") continue;
    if (p.size() > 5 && p.compare(p.size() - 5, 5, ".json") == 0) {
      // TF.js graph models only: a weightsManifest beside a modelTopology.
      const std::string text = test::read_bytes(p);
      if (text.find("\"modelTopology\"") == std::string::npos || text.find("\"weightsManifest\"") == std::string::npos) continue;
    }
    out.push_back(p);
  }
  return out;
}

// Every 8th graph of the conformance corpus (sorted), at least 100 of its 833.
std::vector<std::string> conformance_sample() {
  std::vector<std::string> all, out;
  for (const auto& p : test::fixtures_with_suffix({"/frozen_model.pb"}))
    if (p.find("konduitai-dl4j-test-resources") != std::string::npos) all.push_back(p);
  for (std::size_t i = 0; i < all.size(); i += 8) out.push_back(all[i]);
  return out;
}

void sweep(const std::vector<std::string>& models, const std::string& target) {
  int written = 0, refused = 0;
  for (const auto& model : models) {
    const std::string out = test::temp_dir() + "/opt.pb";
    auto r = test::run_cli({"optimize", model, "--target", target, "-o", out}, kSecondsPerRun);
    const std::string what = model + " --target " + target;
    ASSERT_EQ(r.signal, 0) << what << ": killed by signal " << r.signal << (r.signal == 14 ? " (hang)" : "") << "\n" << r.err;
    EXPECT_GE(r.exit_code, 0) << what;
    EXPECT_LE(r.exit_code, 4) << what << ": " << r.err;
    EXPECT_EQ(r.err.find("would be invalid"), std::string::npos) << what << ": " << r.err;
    if (r.exit_code == 0) {
      ++written;
      EXPECT_TRUE(std::filesystem::exists(out)) << what;
    } else {
      ++refused;
      EXPECT_FALSE(std::filesystem::exists(out)) << what << ": a refusal wrote a file";
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << ": not one line:\n" << r.err;
    }
  }
  std::cout << "[ info ] --target " << target << ": " << written << " written and proven, " << refused << " refused, of "
            << models.size() << "\n";
}

#define SWEEP_TEST(name, list, target)                                                                        \
  TEST(OptimizeSweep, name) {                                                                                 \
    auto models = list();                                                                                     \
    if (models.empty()) {                                                                                     \
      if (test::in_ci()) FAIL() << "no fixtures (CI=true)";                                                   \
      GTEST_SKIP() << "fixtures not found (set TFFREEZE_TESTDATA)";                                           \
    }                                                                                                         \
    sweep(models, target);                                                                                    \
  }

SWEEP_TEST(RealModelsGeneric, real_models, "generic")
SWEEP_TEST(RealModelsOpencv, real_models, "opencv")
SWEEP_TEST(RealModelsTflite, real_models, "tflite")
SWEEP_TEST(RealModelsTensorrt, real_models, "tensorrt")
SWEEP_TEST(ConformanceSampleGeneric, conformance_sample, "generic")
SWEEP_TEST(ConformanceSampleOpencv, conformance_sample, "opencv")
SWEEP_TEST(ConformanceSampleTflite, conformance_sample, "tflite")
SWEEP_TEST(ConformanceSampleTensorrt, conformance_sample, "tensorrt")

}  // namespace
}  // namespace tffreeze
