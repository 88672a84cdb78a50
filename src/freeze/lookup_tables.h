// Lookup tables in a frozen graph. A HashTableV2 that the model fills from constants
// (InitializeTableV2, LookupTableImportV2) or from a vocabulary file (InitializeTableFromTextFileV2
// on a SavedModel asset) gets its contents as two constants and a LookupTableImportV2 that every
// lookup waits for (a control edge), so the frozen graph needs no initializer run and no file.
// Found in TF 1 graphs (the init op beside the table) and TF 2 SavedModels (the init function a
// call passes the table to).
#pragma once

#include <string>
#include <vector>

#include "io/model.h"

namespace tffreeze::freeze {

// Throws Error (exit 4) naming the table when its initializer cannot be found, is not constant,
// or its vocabulary file cannot be read.
void freeze_lookup_tables(tf::GraphDef* frozen, const io::Model& model, std::vector<std::string>* notes);

// The file a string tensor of the model names, when it is a constant, a placeholder the
// SavedModel feeds with an asset's path (asset_file_def), or a variable its init op assigns
// from one (TF 2); resolved among the SavedModel's assets or beside the model. "" if none.
std::string asset_file_for(const io::Model& model, const std::string& tensor);

}  // namespace tffreeze::freeze
