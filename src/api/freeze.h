// `freeze` as the CLI and Python take it: a model path, a checkpoint (or the model's default
// one), and the options; NAME=VALUE settings parsed here so both refuse the same mistakes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "freeze/freeze.h"
#include "io/checkpoint/checkpoint.h"

namespace tffreeze::api {

struct FreezeRequest {
  std::string model, checkpoint;  // checkpoint empty: beside the .meta, or the SavedModel's variables/
  std::vector<std::string> tags;
  std::vector<std::string> sets;  // "NAME=VALUE" (--set)
  freeze::FreezeOptions options;  // set_values and mapped_source are filled in
  // Variables' values stay in the checkpoint's mapping (graph/mapped_constants.h) until a pass
  // changes them or a writer copies them out.
  bool map_constants = false;
};

struct Frozen {
  freeze::FreezeResult result;
  std::string checkpoint_prefix;  // the checkpoint read, if any (outputs must not overwrite it)
  // Kept open: with map_constants, the result's mapped Consts read their values through it.
  std::shared_ptr<const graph::MappedSource> mapped_source;
};

// "NAME=VALUE"; throws Error (exit 2) otherwise.
std::pair<std::string, std::string> parse_set(const std::string& spec);

// Loads, opens the checkpoint and freezes. Throws Error as freeze::freeze_model does, and exit 3
// for a SavedModel with variables but no variables/ directory.
Frozen freeze_request(const FreezeRequest& request);

}  // namespace tffreeze::api
