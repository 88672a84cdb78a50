#include "freeze/lookup_tables.h"

#include <cstring>
#include <functional>
#include <optional>
#include <set>

#include "common/dtype.h"
#include "common/error.h"
#include "common/file_util.h"
#include "graph/function_graph.h"
#include "graph/node_builders.h"
#include "graph/tensor_ref.h"

namespace tffreeze::freeze {
namespace {

bool is_table(const std::string& op) { return op == "HashTableV2" || op == "HashTable"; }
bool is_initializer(const std::string& op) {
  return op == "InitializeTableFromTextFileV2" || op == "InitializeTableFromTextFile" || op == "InitializeTableV2" ||
         op == "InitializeTable" || op == "LookupTableImportV2";
}

// Where an initializer lives and how to read its inputs.
struct Initializer {
  const tf::NodeDef* node = nullptr;
  // Its data input k as a constant tensor (nullopt when it is computed).
  std::function<std::optional<Tensor>(int)> input_value;
};

const tf::NodeDef* find_node(const tf::GraphDef& g, std::string_view name) {
  for (const auto& n : g.node())
    if (n.name() == name) return &n;
  return nullptr;
}

// A top-level tensor's constant value: a Const (through Identity), or a placeholder the
// SavedModel feeds with an asset's path.
std::optional<Tensor> top_level_value(const io::Model& model, const std::string& input) {
  std::string name(graph::parse_input(input).node);
  for (int hops = 0; hops < 64; ++hops) {
    const tf::NodeDef* n = find_node(model.graph(), name);
    if (!n) return std::nullopt;
    if (n->op() == "Identity" && n->input_size() > 0) {
      name = std::string(graph::parse_input(n->input(0)).node);
      continue;
    }
    if (n->op() == "Const" && n->attr().count("value")) return tensor_from_proto(n->attr().at("value").tensor(), n->name());
    if (n->op() == "VarHandleOp") {  // TF 2 keeps an asset's path in a string variable its init op assigns
      const tf::NodeDef* assign = nullptr;
      for (const auto& a : model.graph().node())
        if (a.op() == "AssignVariableOp" && a.input_size() >= 2 && graph::parse_input(a.input(0)).node == name) assign = &a;
      if (!assign) return std::nullopt;
      name = std::string(graph::parse_input(assign->input(1)).node);
      continue;
    }
    if (n->op() == "Placeholder" || n->op() == "PlaceholderWithDefault") {
      for (const auto& asset : model.meta.asset_file_def()) {
        if (graph::parse_input(asset.tensor_info().name()).node != name) continue;
        Tensor t;
        t.dtype = tf::DT_STRING;
        t.strings = {asset.filename()};
        return t;
      }
    }
    return std::nullopt;
  }
  return std::nullopt;
}

std::string node_of(const std::string& input) { return std::string(graph::parse_input(input).node); }

// The initializer of table `name`: beside it in the graph (TF 1), or inside a function a call
// passes it to (TF 2 SavedModels' _initialize functions).
std::optional<Initializer> find_initializer(const io::Model& model, const std::string& name) {
  const tf::GraphDef& g = model.graph();
  for (const auto& n : g.node()) {
    if (is_initializer(n.op()) && n.input_size() > 0 && node_of(n.input(0)) == name) {
      return Initializer{&n, [&model, &n](int k) -> std::optional<Tensor> {
                           return k < n.input_size() ? top_level_value(model, n.input(k)) : std::nullopt;
                         }};
    }
  }
  graph::FunctionIndex library(g.library());
  for (const auto& call : g.node()) {
    const tf::FunctionDef* f = library.find(graph::called_function(call, library));
    if (!f) continue;
    std::vector<std::string> data;
    for (const auto& in : call.input())
      if (in.rfind('^', 0) != 0) data.push_back(in);
    for (std::size_t k = 0; k < data.size() && static_cast<int>(k) < f->signature().input_arg_size(); ++k) {
      if (node_of(data[k]) != name) continue;
      const std::string arg = f->signature().input_arg(static_cast<int>(k)).name();
      for (const auto& n : f->node_def()) {
        if (!is_initializer(n.op()) || n.input_size() == 0 || node_of(n.input(0)) != arg) continue;
        return Initializer{&n, [&model, f, data, &n](int i) -> std::optional<Tensor> {
                             if (i >= n.input_size()) return std::nullopt;
                             std::string ref = node_of(n.input(i));
                             // Through Identity and ReadVariableOp (of an asset-path variable) to an argument.
                             for (int hops = 0; hops < 16; ++hops) {
                               const tf::NodeDef* b = nullptr;
                               for (const auto& x : f->node_def())
                                 if (x.name() == ref) b = &x;
                               if (!b || (b->op() != "Identity" && b->op() != "ReadVariableOp") || b->input_size() == 0) break;
                               ref = node_of(b->input(0));
                             }
                             for (int a = 0; a < f->signature().input_arg_size(); ++a)
                               if (f->signature().input_arg(a).name() == ref)
                                 return a < static_cast<int>(data.size()) ? top_level_value(model, data[static_cast<std::size_t>(a)]) : std::nullopt;
                             for (const auto& b : f->node_def())
                               if (b.name() == ref && b.op() == "Const" && b.attr().count("value"))
                                 return tensor_from_proto(b.attr().at("value").tensor(), b.name());
                             return std::nullopt;
                           }};
      }
    }
  }
  return std::nullopt;
}

// The vocabulary file: as written, or by its name among the SavedModel's assets or beside the
// model (exports record the path on the machine that wrote them).
std::string resolve_asset(const io::Model& model, const std::string& filename) {
  std::vector<std::string> candidates;
  const std::string base = file_name(filename);
  if (!model.saved_model_dir.empty()) {
    candidates.push_back(join_path(model.saved_model_dir, "assets/" + base));
    candidates.push_back(join_path(model.saved_model_dir, "assets.extra/" + base));
  }
  candidates.push_back(join_path(parent_dir(model.path), base));
  candidates.push_back(filename);
  for (const auto& c : candidates)
    if (is_regular_file(c)) return c;
  return "";
}

// One column of a vocabulary line, or the whole line (-2), or the line number (-1), as `dtype`.
void append_field(const std::string& line, std::int64_t line_number, std::int64_t index, const std::string& delimiter,
                  tf::DataType dtype, Tensor* out, const std::string& where) {
  std::string text;
  if (index == -2) {
    text = line;
  } else if (index == -1) {
    text = std::to_string(line_number);
  } else {
    std::size_t start = 0;
    for (std::int64_t column = 0; column < index; ++column) {
      start = line.find(delimiter, start);
      if (start == std::string::npos) throw Error(ExitCode::kUnsupported, where + ": line " + std::to_string(line_number + 1) + " has no column " + std::to_string(index));
      start += delimiter.size();
    }
    text = line.substr(start, line.find(delimiter, start) - start);
  }
  if (dtype == tf::DT_STRING) {
    out->strings.push_back(text);
    return;
  }
  try {
    std::size_t used = 0;
    if (dtype == tf::DT_INT64 || dtype == tf::DT_INT32) {
      const long long v = std::stoll(text, &used);
      if (dtype == tf::DT_INT64) out->bytes.append(reinterpret_cast<const char*>(&v), 8);
      else { const std::int32_t w = static_cast<std::int32_t>(v); out->bytes.append(reinterpret_cast<const char*>(&w), 4); }
    } else if (dtype == tf::DT_FLOAT || dtype == tf::DT_DOUBLE) {
      const double v = std::stod(text, &used);
      if (dtype == tf::DT_DOUBLE) out->bytes.append(reinterpret_cast<const char*>(&v), 8);
      else { const float w = static_cast<float>(v); out->bytes.append(reinterpret_cast<const char*>(&w), 4); }
    } else {
      throw Error(ExitCode::kUnsupported, where + ": tables of " + dtype_name(dtype) + " are not supported");
    }
    if (used != text.size()) throw std::invalid_argument("trailing characters");
  } catch (const std::logic_error&) {
    throw Error(ExitCode::kUnsupported, where + ": line " + std::to_string(line_number + 1) + ": '" + text + "' is not a " + dtype_name(dtype));
  }
}

// Keys and values from a vocabulary file, as InitializeTableFromTextFileV2 reads it.
std::pair<Tensor, Tensor> read_vocabulary(const std::string& path, const tf::NodeDef& init, tf::DataType key_dtype, tf::DataType value_dtype,
                                          const std::string& where) {
  auto attr_i = [&](const char* k, std::int64_t fallback) { return init.attr().count(k) ? init.attr().at(k).i() : fallback; };
  const std::int64_t key_index = attr_i("key_index", -2), value_index = attr_i("value_index", -1), vocab_size = attr_i("vocab_size", -1);
  const std::string delimiter = init.attr().count("delimiter") ? init.attr().at("delimiter").s() : "\t";
  if (delimiter.empty()) throw Error(ExitCode::kUnsupported, where + ": empty delimiter");
  const std::string text = read_file(path);
  Tensor keys, values;
  keys.dtype = key_dtype;
  values.dtype = value_dtype;
  std::int64_t n = 0;
  for (std::size_t start = 0; start < text.size() && (vocab_size < 0 || n < vocab_size); ++n) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    append_field(line, n, key_index, delimiter, key_dtype, &keys, where);
    append_field(line, n, value_index, delimiter, value_dtype, &values, where);
    start = end + 1;
  }
  if (vocab_size >= 0 && n < vocab_size) {
    throw Error(ExitCode::kUnsupported, where + ": the vocabulary has " + std::to_string(n) + " lines, the table wants " + std::to_string(vocab_size));
  }
  keys.shape = values.shape = {n};
  return {std::move(keys), std::move(values)};
}

}  // namespace

std::string asset_file_for(const io::Model& model, const std::string& tensor) {
  auto value = top_level_value(model, tensor);
  if (!value || value->dtype != tf::DT_STRING || value->strings.size() != 1) return "";
  return resolve_asset(model, value->strings[0]);
}

void freeze_lookup_tables(tf::GraphDef* frozen, const io::Model& model, std::vector<std::string>* notes) {
  std::vector<std::string> tables;
  for (const auto& n : frozen->node())
    if (is_table(n.op())) tables.push_back(n.name());
  for (const auto& name : tables) {
    const std::string where = model.path + ": lookup table '" + name + "'";
    const tf::NodeDef* table = find_node(*frozen, name);
    const tf::DataType key_dtype = table->attr().count("key_dtype") ? table->attr().at("key_dtype").type() : tf::DT_STRING;
    const tf::DataType value_dtype = table->attr().count("value_dtype") ? table->attr().at("value_dtype").type() : tf::DT_INT64;
    auto init = find_initializer(model, name);
    if (!init) throw Error(ExitCode::kUnsupported, where + " (" + table->op() + "): no initializer found in the model, so its contents are unknown");
    Tensor keys, values;
    std::string source;
    if (init->node->op().rfind("InitializeTableFromTextFile", 0) == 0) {
      auto filename = init->input_value(1);
      if (!filename || filename->dtype != tf::DT_STRING || filename->strings.size() != 1) {
        throw Error(ExitCode::kUnsupported, where + ": its vocabulary file name is computed, not a constant or an asset");
      }
      const std::string path = resolve_asset(model, filename->strings[0]);
      if (path.empty()) throw Error(ExitCode::kUnsupported, where + ": vocabulary file '" + filename->strings[0] + "' not found (looked among the assets and beside the model)");
      std::tie(keys, values) = read_vocabulary(path, *init->node, key_dtype, value_dtype, where + " (" + path + ")");
      source = "vocabulary " + path;
    } else {
      auto k = init->input_value(1), v = init->input_value(2);
      if (!k || !v) throw Error(ExitCode::kUnsupported, where + ": its initializer's keys or values are computed, not constants");
      keys = std::move(*k);
      values = std::move(*v);
      keys.shape = {keys.num_elements()};
      values.shape = {values.num_elements()};
      source = "constants of '" + init->node->name() + "'";
    }
    if (keys.num_elements() != values.num_elements()) throw Error(ExitCode::kUnsupported, where + ": its keys and values differ in number");
    const std::int64_t entries = keys.num_elements();
    const std::string keys_name = name + "/frozen_keys", values_name = name + "/frozen_values", import_name = name + "/frozen_import";
    *frozen->add_node() = graph::make_const(keys_name, std::move(keys));
    *frozen->add_node() = graph::make_const(values_name, std::move(values));
    tf::NodeDef* import = frozen->add_node();
    import->set_name(import_name);
    import->set_op("LookupTableImportV2");
    import->add_input(name);
    import->add_input(keys_name);
    import->add_input(values_name);
    (*import->mutable_attr())["Tin"].set_type(key_dtype);
    (*import->mutable_attr())["Tout"].set_type(value_dtype);
    // Every reader of the table waits for its contents.
    for (auto& n : *frozen->mutable_node()) {
      if (n.name() == import_name || n.input_size() == 0 || node_of(n.input(0)) != name) continue;
      n.add_input("^" + import_name);
    }
    notes->push_back("lookup table '" + name + "': " + std::to_string(entries) + " entries from " + source + ", imported before each lookup");
  }
}

}  // namespace tffreeze::freeze
