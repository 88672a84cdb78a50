// TensorFlow.js's pure-JS CPU backend as an oracle (tools/tfjs/run_graph_model.js), shared by
// the main and the OpenCV test binaries.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/tensor.h"
#include "support.h"

namespace tffreeze::test {

bool tfjs_available();

#define REQUIRE_TFJS()                                                                                       \
  if (!::tffreeze::test::tfjs_available()) {                                                                 \
    if (::tffreeze::test::in_ci()) FAIL() << "TF.js missing (CI=true): tools/install-deps.sh runs npm ci in tools/tfjs"; \
    GTEST_SKIP() << "TF.js not installed (npm ci in tools/tfjs)";                                            \
  }

// Runs a TF.js graph model (model.json) on the feeds; one tensor per output.
std::vector<Tensor> run_tfjs(const std::string& model_json, const std::map<std::string, Tensor>& feeds,
                             const std::vector<std::string>& outputs);

// Both must agree within 1e-4, relative to the size of the values.
void expect_agree(const std::vector<Tensor>& tfjs, const std::vector<Tensor>& ours, const std::string& what);

}  // namespace tffreeze::test
