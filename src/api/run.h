// `run` and `verify` as the CLI and Python take them: which graph executes (a TF 2 SavedModel's
// signature or a model with a checkpoint frozen in memory), which outputs, and the feeds checked
// against the placeholders before anything runs.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/tensor.h"
#include "io/model.h"
#include "runtime/verify.h"

namespace tffreeze::api {

struct Runnable {
  tf::GraphDef graph;
  std::vector<std::string> outputs;  // as given, else the inferred ones
};

// `checkpoint` empty: the model as it is (a TF 2 SavedModel frozen with its own variables).
// Throws Error (exit 2) when there are no outputs to fetch.
Runnable runnable_model(const std::string& path, const std::string& checkpoint, const std::vector<std::string>& tags,
                        const std::vector<std::string>& outputs);
// The same for a model already in memory (no checkpoint).
Runnable runnable_model(io::Model model, const std::vector<std::string>& outputs);

// Each feed against its placeholder (dtype, shape): Error (exit 3) before anything runs.
void check_feeds(const tf::GraphDef& graph, const std::map<std::string, Tensor>& feeds);
// Checks the feeds and runs the outputs once.
std::vector<Tensor> run_graph(const tf::GraphDef& graph, const std::vector<std::string>& outputs, const std::map<std::string, Tensor>& feeds);

// What the outputs are: name, op, dtype, and the shape one run on random inputs gives, with -1
// for a dimension that follows an input's unknown one (a second run at another size tells them
// apart); shape null when the graph cannot run on random inputs.
struct OutputInfo {
  std::string name, op;
  tf::DataType dtype = tf::DT_INVALID;
  std::optional<std::vector<std::int64_t>> shape;
};
std::vector<OutputInfo> output_infos(const tf::GraphDef& graph, const std::vector<std::string>& outputs);

struct VerifyOptions {
  std::map<std::string, Tensor> feeds;  // empty: `random` batches of random inputs from `seed`
  std::vector<std::string> outputs;     // empty: A's inferred outputs
  std::vector<std::string> shapes;      // "NAME=[D0,...]" of random inputs
  int random = 1;
  std::uint64_t seed = 0;
  double rtol = 1e-5, atol = 1e-5;
};

struct Verified {
  std::map<std::string, runtime::Difference> differences;  // per common output
  int batches = 1;
  std::optional<runtime::Departure> departure;  // when they differ: where they part, on the first batch
  bool equal() const;
};

// Runs both models (TF 2 SavedModels frozen first) on the same inputs and compares every output
// of A that B has. Throws Error (exit 3) when B has none of them.
Verified verify_models(io::Model a, io::Model b, const VerifyOptions& options);

}  // namespace tffreeze::api
