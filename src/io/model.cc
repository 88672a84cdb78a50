#include "io/model.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "common/error.h"
#include "common/file_util.h"
#include "common/mapped_file.h"
#include "graph/mapped_constants.h"
#include "io/graph_stream.h"
#include "io/proto_io.h"
#include "io/tfjs_model.h"

namespace tffreeze::io {
namespace {

// A binary parse can "succeed" on the wrong message type (e.g. a MetaGraphDef read as a
// GraphDef): accept a candidate only if TF would recognise it as that kind of file.
// Op types are identifiers (TF's op names, or library function names): another message's bytes
// read as a GraphDef give op "names" with spaces and control characters.
bool plausible_op_name(const std::string& op) {
  return !op.empty() && std::all_of(op.begin(), op.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '>' || c == '/';
  });
}

bool plausible_graph(const tf::GraphDef& g) {
  if (g.node_size() == 0 && g.library().function_size() == 0) return false;
  for (const auto& n : g.node()) {
    if (n.name().empty() || !plausible_op_name(n.op())) return false;
  }
  return count_unknown_fields(g) == 0;
}

bool plausible_meta(const tf::MetaGraphDef& m) { return m.has_graph_def() && plausible_graph(m.graph_def()); }

bool plausible_saved_model(const tf::SavedModel& s) {
  if (s.meta_graphs_size() == 0) return false;
  return std::all_of(s.meta_graphs().begin(), s.meta_graphs().end(), [](const auto& m) { return plausible_meta(m); });
}

std::string join_tags(const std::vector<std::string>& tags) {
  std::string s;
  for (const auto& t : tags) s += (s.empty() ? "" : ",") + t;
  return s.empty() ? "(none)" : s;
}

void take_meta_graph(tf::SavedModel saved, const LoadOptions& options, Model* model) {
  int chosen = -1;
  for (int i = 0; i < saved.meta_graphs_size(); ++i) {
    const auto& tags = saved.meta_graphs(i).meta_info_def().tags();
    model->tag_sets.emplace_back(tags.begin(), tags.end());
  }
  for (int i = 0; i < static_cast<int>(model->tag_sets.size()) && chosen < 0; ++i) {
    auto have = model->tag_sets[i];
    if (options.tags.empty()) {
      if (std::find(have.begin(), have.end(), "serve") != have.end()) chosen = i;
    } else {
      auto want = options.tags;
      std::sort(have.begin(), have.end());
      std::sort(want.begin(), want.end());
      if (have == want) chosen = i;
    }
  }
  if (chosen < 0 && options.tags.empty() && saved.meta_graphs_size() == 1) chosen = 0;
  if (chosen < 0) {
    std::string available;
    for (const auto& t : model->tag_sets) available += (available.empty() ? "" : "; ") + join_tags(t);
    throw Error(ExitCode::kBadInput, model->path + ": no meta graph with tags " +
                                         (options.tags.empty() ? std::string("serve") : join_tags(options.tags)) +
                                         " (available: " + available + ")");
  }
  model->meta = std::move(*saved.mutable_meta_graphs(chosen));
}

// Tries the message kinds in the order the file name suggests; the first plausible parse wins.
enum class Kind { kGraph, kMeta, kSaved };

bool try_parse(Kind kind, std::string_view bytes, bool text, Model* model, std::string* why,
               const LoadOptions& options) {
  auto parse = [&](google::protobuf::Message* msg) {
    return text ? parse_text(bytes, msg, why) : parse_binary(bytes, msg, why);
  };
  switch (kind) {
    case Kind::kGraph: {
      tf::GraphDef g;
      if (!parse(&g)) return false;
      if (!text && !plausible_graph(g)) return false;
      *model->meta.mutable_graph_def() = std::move(g);
      model->format = text ? ModelFormat::kGraphDefText : ModelFormat::kGraphDef;
      return true;
    }
    case Kind::kMeta: {
      tf::MetaGraphDef m;
      if (!parse(&m)) return false;
      if (!text && !plausible_meta(m)) return false;
      model->meta = std::move(m);
      model->format = text ? ModelFormat::kMetaGraphText : ModelFormat::kMetaGraph;
      return true;
    }
    case Kind::kSaved: {
      tf::SavedModel s;
      if (!parse(&s)) return false;
      if (!text && !plausible_saved_model(s)) return false;
      if (s.meta_graphs_size() == 0) return false;
      model->format = text ? ModelFormat::kSavedModelText : ModelFormat::kSavedModel;
      take_meta_graph(std::move(s), options, model);
      return true;
    }
  }
  return false;
}

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kGraph: return "GraphDef";
    case Kind::kMeta: return "MetaGraphDef";
    case Kind::kSaved: return "SavedModel";
  }
  return "";
}

void load_protobuf_file(const std::string& file, const LoadOptions& options, Model* model) {
  if (is_directory(file)) throw_bad_input(file, "is a directory, expected a file");
  // Mapped, not read: parsing copies what it keeps, and a large graph is not held twice.
  MappedFile mapped(file);
  const std::string_view bytes = mapped.bytes();
  if (bytes.empty()) throw_bad_input(file, "empty file");
  if (bytes.size() > kMaxWholeFileBytes) {
    throw Error(ExitCode::kUnsupported, file + ": file of " + std::to_string(bytes.size()) + " bytes is over the limit of " +
                                            std::to_string(kMaxWholeFileBytes) + " bytes");
  }
  const std::string name = file_name(file);
  const std::string ext = extension(file);
  std::vector<Kind> order;
  if (name.rfind("saved_model.", 0) == 0) order = {Kind::kSaved, Kind::kMeta, Kind::kGraph};
  else if (ext == ".meta") order = {Kind::kMeta, Kind::kSaved, Kind::kGraph};
  else order = {Kind::kGraph, Kind::kMeta, Kind::kSaved};
  bool text = looks_like_text(bytes);
  std::string first_why;
  for (Kind kind : order) {
    std::string why;
    if (try_parse(kind, bytes, text, model, &why, options)) {
      if (model->format == ModelFormat::kSavedModel || model->format == ModelFormat::kSavedModelText) {
        auto slash = file.rfind('/');
        model->saved_model_dir = slash == std::string::npos ? "." : file.substr(0, slash);
      }
      return;
    }
    if (first_why.empty()) first_why = why.empty() ? "parses, but is not a plausible graph" : why;
  }
  throw_bad_input(file, std::string("not a ") + (text ? "text " : "") + kind_name(order[0]) + ": " + first_why);
}

}  // namespace

const char* format_name(ModelFormat format) {
  switch (format) {
    case ModelFormat::kGraphDef: return "GraphDef";
    case ModelFormat::kGraphDefText: return "GraphDef (text)";
    case ModelFormat::kMetaGraph: return "MetaGraphDef";
    case ModelFormat::kMetaGraphText: return "MetaGraphDef (text)";
    case ModelFormat::kSavedModel: return "SavedModel";
    case ModelFormat::kSavedModelText: return "SavedModel (text)";
    case ModelFormat::kTfjsGraphModel: return "TF.js graph model";
  }
  return "?";
}

namespace {

Model load_model_file(const std::string& path, const LoadOptions& options) {
  Model model;
  model.path = path;
  if (is_directory(path)) {
    for (const char* candidate : {"saved_model.pb", "saved_model.pbtxt"}) {
      std::string file = join_path(path, candidate);
      if (is_regular_file(file)) {
        load_protobuf_file(file, options, &model);
        model.saved_model_dir = path;
        return model;
      }
    }
    std::string json = join_path(path, "model.json");
    if (is_regular_file(json)) {
      model.meta = load_tfjs_graph_model(json);
      model.format = ModelFormat::kTfjsGraphModel;
      return model;
    }
    if (is_regular_file(join_path(path, "checkpoint")) || is_regular_file(join_path(path, "variables.index"))) {
      throw_bad_input(path, "a checkpoint directory, not a model (give the .meta file, or a SavedModel directory)");
    }
    throw_bad_input(path, "directory holds no saved_model.pb, saved_model.pbtxt or model.json");
  }
  if (extension(path) == ".json") {
    model.meta = load_tfjs_graph_model(path);
    model.format = ModelFormat::kTfjsGraphModel;
    return model;
  }
  if (extension(path) == ".index" || path.find(".data-0") != std::string::npos) {
    throw_bad_input(path, "a checkpoint file, not a model (give the .meta file or the graph)");
  }
  load_protobuf_file(path, options, &model);
  return model;
}

}  // namespace

Model load_model(const std::string& path, const LoadOptions& options) {
  Model model = load_model_file(path, options);
  graph::forget_mapped_values(model.mutable_graph());
  return model;
}

tf::GraphDef parse_graph_def(const std::string& bytes, const std::string& path) {
  tf::GraphDef g;
  std::string why;
  bool text = looks_like_text(bytes);
  if (!(text ? parse_text(bytes, &g, &why) : parse_binary(bytes, &g, &why))) {
    throw_bad_input(path, std::string("not a ") + (text ? "text " : "") + "GraphDef: " + why);
  }
  graph::forget_mapped_values(&g);
  return g;
}

void check_output_path(const std::string& path) {
  static const std::set<std::string> kKnown = {".pb", ".pbtxt", ".txt", ".json", ".onnx"};
  if (path == "-" || kKnown.count(extension(path))) return;
  const std::string ext = extension(path);
  throw Error(ExitCode::kUsage, path + ": cannot write " + (ext.empty() ? std::string("a file without an extension") : "'" + ext + "' files") +
                                    " (known: .pb binary GraphDef, .pbtxt or .txt text GraphDef, .json TF.js graph model, .onnx ONNX model, - text to stdout)");
}

bool writes_binary_graph(const std::string& path) { return path != "-" && extension(path) == ".pb"; }

void save_graph(const tf::GraphDef& graph, const std::string& path) {
  check_output_path(path);
  std::string ext = extension(path);
  if (ext == ".onnx") throw Error(ExitCode::kInternal, path + ": ONNX is written by the exporter (api/onnx_output.h), not save_graph");
  if (ext == ".json") return save_tfjs_graph_model(graph, path);
  if (graph::has_mapped_constants(graph)) {
    if (writes_binary_graph(path)) return write_graph_streaming(graph, path);
    tf::GraphDef read = graph;  // the text and TF.js writers need every value in memory
    graph::materialize_mapped_constants(&read);
    return save_graph(read, path);
  }
  if (path == "-" || ext == ".pbtxt" || ext == ".txt") return write_file_atomic(path, to_text(graph));
  write_binary_atomic(graph, path);
}

}  // namespace tffreeze::io
