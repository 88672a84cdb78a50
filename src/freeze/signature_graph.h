// A signature of a TF 2 SavedModel as one flat graph that the TF 1 freezing code can take:
// inputs and outputs named by the signature's keys, every function call inlined, each captured
// variable handle mapped to its checkpoint key through the object graphs, state changes
// refused, and the control edges that only ordered reads and bookkeeping dropped.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "freeze/inline_functions.h"
#include "io/checkpoint/checkpoint.h"
#include "io/model.h"

namespace tffreeze::freeze {

// The signature to use: `wanted`, else serving_default, else the only user signature; nullptr
// when there is none or the choice is ambiguous. Throws Error (exit 3) if `wanted` is missing.
const tf::SignatureDef* choose_signature(const io::Model& model, const std::string& wanted, std::string* key);

// A signature's tensors, sorted by key.
std::vector<std::pair<std::string, std::string>> signature_tensors(const google::protobuf::Map<std::string, tf::TensorInfo>& map);

struct FlatGraph {
  tf::GraphDef graph;
  std::vector<std::string> inputs, outputs;
  std::map<std::string, std::string> variable_keys;  // variable handle node -> checkpoint key
  InlineReport inlined;
  std::vector<std::string> notes;
};

// True when what `outputs` need (stopping at `inputs`) runs through function calls or
// functional conds.
bool needs_flattening(const tf::GraphDef& graph, const std::vector<std::string>& outputs, const std::vector<std::string>& inputs);

// Flattens what the outputs need. With `signature` (TF 2 SavedModels when the user named no
// tensors), inputs and outputs are renamed to its keys. Throws Error: exit 4 for state changes
// the outputs depend on and for lookup tables; exit 3 for malformed functions.
FlatGraph flatten_graph(const io::Model& model, const io::checkpoint::Checkpoint* checkpoint, const std::vector<std::string>& outputs,
                        const std::vector<std::string>& inputs, const tf::SignatureDef* signature, const std::string& signature_key,
                        const InlineOptions& options = {});

}  // namespace tffreeze::freeze
