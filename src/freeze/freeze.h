// TF 1 freezing: variables become constants with the values the checkpoint restores, only
// what the outputs need is kept, training inputs become constants or placeholders, and what
// could not be removed is reported with the flag that would remove it.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "graph/mapped_constants.h"
#include "graph/training_ops.h"
#include "io/checkpoint/checkpoint.h"
#include "io/model.h"

namespace tffreeze::freeze {

struct FreezeOptions {
  std::vector<std::string> outputs;  // tensors or nodes; empty: signature outputs, else inferred
  std::vector<std::string> inputs;   // where the kept graph starts; empty: signature inputs
  std::string signature;             // empty: serving_default, or the only signature
  bool use_moving_averages = false;
  std::string moving_average_name = "ExponentialMovingAverage";
  std::vector<std::pair<std::string, std::string>> set_values;  // --set NAME=VALUE
  std::vector<std::string> replace_inputs;                      // --replace-input NAME=DTYPE[SHAPE]
  bool keep_functional_conds = false;  // TF 2: If with a computed predicate stays (else Switch/Merge)
  bool lower_loops = false;            // TF 2: While becomes a v1 loop (else kept with its functions)
  // Set (to the checkpoint given to freeze_model): variables whose value is one run of bytes in
  // the checkpoint's data file become mapped Consts reading from it (graph/mapped_constants.h);
  // the source must outlive every use of the result.
  std::shared_ptr<const graph::MappedSource> mapped_source;
};

struct FrozenVariable {
  std::string name, checkpoint_key;
  tf::DataType dtype = tf::DT_INVALID;
  std::vector<std::int64_t> shape;
  std::int64_t bytes = 0;
  bool moving_average = false;
};

struct FreezeReport {
  int nodes_before = 0, nodes_after = 0;  // graph and function nodes
  std::vector<FrozenVariable> variables;
  std::vector<std::string> variables_without_average;  // with --use-moving-averages
  std::int64_t constant_bytes = 0;
  std::vector<std::string> inputs, outputs;
  graph::TrainingOps training_ops;                 // what remains
  std::map<std::string, std::string> training_hints;  // category -> what removes it
  std::vector<std::string> notes;
};

struct FreezeResult {
  tf::GraphDef graph;
  FreezeReport report;
};

// Throws Error: exit 3 for missing outputs, variables missing from the checkpoint, shape or
// dtype mismatches; exit 4 for what cannot be frozen (an output that is a state change,
// --use-moving-averages without any average in the checkpoint).
FreezeResult freeze_model(const io::Model& model, const io::checkpoint::Checkpoint* checkpoint, const FreezeOptions& options);

// The checkpoint a model restores from when none is given: beside a .meta, the directory's
// "checkpoint" state file, or a SavedModel's variables/. Empty when there is none.
std::string default_checkpoint_for(const io::Model& model);

nlohmann::json report_json(const FreezeReport& report);

}  // namespace tffreeze::freeze
