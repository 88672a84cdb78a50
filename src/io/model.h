// Loading what TensorFlow writes, whatever the user hands us: binary or text GraphDef,
// MetaGraphDef, SavedModel (directory or its saved_model.pb/.pbtxt), TF.js graph model.
#pragma once

#include <string>
#include <vector>

#include "tffreeze/tf/meta_graph.pb.h"

namespace tffreeze::io {

namespace tf = ::tffreeze::tf;

enum class ModelFormat {
  kGraphDef,          // binary .pb
  kGraphDefText,      // .pbtxt
  kMetaGraph,         // binary .meta
  kMetaGraphText,     // text MetaGraphDef
  kSavedModel,        // saved_model.pb
  kSavedModelText,    // saved_model.pbtxt
  kTfjsGraphModel,    // model.json + weight shards
};

const char* format_name(ModelFormat format);

struct Model {
  std::string path;  // as given by the user
  ModelFormat format = ModelFormat::kGraphDef;
  // Everything is held as a MetaGraphDef; a plain graph only sets graph_def. For a SavedModel
  // this is the meta graph chosen by tags.
  tf::MetaGraphDef meta;
  // SavedModel only: the tag set of every meta graph in the file, and the model directory.
  std::vector<std::vector<std::string>> tag_sets;
  std::string saved_model_dir;

  const tf::GraphDef& graph() const { return meta.graph_def(); }
  tf::GraphDef* mutable_graph() { return meta.mutable_graph_def(); }
};

struct LoadOptions {
  // Which SavedModel meta graph: the one whose tags equal these. Empty: "serve" if present,
  // else the only one.
  std::vector<std::string> tags;
};

// Sniffs the format (directory layout, file name, content) and loads it. Throws Error with
// exit code 3 (bad input) or 4 (unsupported), naming the file.
Model load_model(const std::string& path, const LoadOptions& options = {});

// Parses one GraphDef file (binary or text by content); path is for messages.
tf::GraphDef parse_graph_def(const std::string& bytes, const std::string& path);

// Whether save_graph writes `path` as a binary GraphDef (a .pb file).
bool writes_binary_graph(const std::string& path);
// Writes a GraphDef atomically: ".pb" binary, ".pbtxt"/".txt" or "-" (stdout) as text, ".json"
// as a TF.js graph model (model.json + weights); any other extension is refused (exit 2).
void save_graph(const tf::GraphDef& graph, const std::string& path);

// Throws Error (exit 2) when save_graph does not know how to write `path` (by its extension),
// listing the formats it does know; call it before any work.
void check_output_path(const std::string& path);

}  // namespace tffreeze::io
