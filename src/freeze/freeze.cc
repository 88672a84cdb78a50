#include "freeze/freeze.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "common/dtype.h"
#include "common/error.h"
#include "common/file_util.h"
#include "freeze/checkpoint_keys.h"
#include "freeze/feeds.h"
#include "freeze/inline_functions.h"
#include "freeze/lookup_tables.h"
#include "freeze/loop_variables.h"
#include "freeze/signature_graph.h"
#include "graph/mapped_constants.h"
#include "graph/node_builders.h"
#include "graph/summary.h"
#include "graph/validate.h"
#include "io/checkpoint/slices.h"

namespace tffreeze::freeze {
namespace {

using json = nlohmann::json;

std::vector<std::string> tensor_names(const google::protobuf::Map<std::string, tf::TensorInfo>& map) {
  std::vector<std::string> out;
  for (const auto& [key, name] : signature_tensors(map)) out.push_back(name);
  return out;
}

// Ops whose Ref variants only exist because they pass variable references along.
const std::map<std::string, std::string> kRefOps = {{"RefSwitch", "Switch"}, {"RefMerge", "Merge"}, {"RefEnter", "Enter"},
                                                    {"RefExit", "Exit"}, {"RefNextIteration", "NextIteration"},
                                                    {"RefIdentity", "Identity"}, {"RefSelect", "Select"}};

// Resource-variable readers, now that the handle is a constant value.
void rewrite_resource_reader(tf::NodeDef* node, const tf::GraphDef& graph, tf::GraphDef* added) {
  const std::string& op = node->op();
  if ((op == "ReadVariableOp" || op == "ResourceGather") && !node->attr().count("dtype")) {
    throw Error(ExitCode::kBadInput, "node '" + node->name() + "' (" + op + ") has no dtype attr");
  }
  if (op == "ReadVariableOp") {
    tf::DataType dtype = node->attr().at("dtype").type();
    node->set_op("Identity");
    node->mutable_attr()->clear();
    (*node->mutable_attr())["T"].set_type(dtype);
  } else if (op == "ResourceGather") {
    std::int64_t batch_dims = node->attr().count("batch_dims") ? node->attr().at("batch_dims").i() : 0;
    tf::DataType dtype = node->attr().at("dtype").type();
    tf::DataType tindices = node->attr().count("Tindices") ? node->attr().at("Tindices").type() : tf::DT_INT32;
    Tensor axis{tf::DT_INT32, {}, std::string(4, '\0'), {}, {}};
    std::string axis_name = node->name() + "/axis";
    *added->add_node() = graph::make_const(axis_name, axis);
    node->set_op("GatherV2");
    node->mutable_attr()->clear();
    auto& a = *node->mutable_attr();
    a["Tparams"].set_type(dtype);
    a["Tindices"].set_type(tindices);
    a["Taxis"].set_type(tf::DT_INT32);
    a["batch_dims"].set_i(batch_dims);
    std::vector<std::string> inputs(node->input().begin(), node->input().end());
    node->clear_input();
    node->add_input(inputs[0]);
    node->add_input(inputs[1]);
    node->add_input(axis_name);
    for (std::size_t i = 2; i < inputs.size(); ++i) node->add_input(inputs[i]);
  } else if (op == "VariableShape") {
    tf::DataType out = node->attr().count("out_type") ? node->attr().at("out_type").type() : tf::DT_INT32;
    tf::DataType dtype = tf::DT_FLOAT;
    std::string_view handle = graph::parse_input(node->input(0)).node;
    for (const auto& n : graph.node())
      if (n.name() == handle && n.attr().count("dtype")) dtype = n.attr().at("dtype").type();
    node->set_op("Shape");
    node->mutable_attr()->clear();
    (*node->mutable_attr())["out_type"].set_type(out);
    (*node->mutable_attr())["T"].set_type(dtype);
  }
}

// Drops colocation constraints ("_class": ["loc:@x"]) that name nodes the result lacks:
// TensorFlow refuses to import a node colocated with an unknown node.
void prune_colocation(tf::NodeDef* node, const std::set<std::string>& present) {
  auto it = node->mutable_attr()->find("_class");
  if (it == node->mutable_attr()->end() || it->second.value_case() != tf::AttrValue::kList) return;
  auto* list = it->second.mutable_list()->mutable_s();
  for (int i = list->size() - 1; i >= 0; --i) {
    const std::string& s = list->Get(i);
    if (s.rfind("loc:@", 0) == 0 && !present.count(s.substr(5))) list->erase(list->begin() + i);
  }
  if (list->empty()) node->mutable_attr()->erase(it);
}

std::string hint_for(const std::string& category) {
  if (category == "dropout") return "--set keep_prob=1.0 (or the graph's dropout placeholder), or optimize --transforms strip_training_ops";
  if (category == "training_flags") return "--set NAME=false (or =1.0 for keep_prob)";
  if (category == "queues" || category == "iterators") return "--replace-input NAME=DTYPE[SHAPE] at the dequeue / get-next";
  return "choose --outputs that do not need them, or optimize --transforms strip_training_ops";
}

// The frozen graph must be valid. A problem the model itself has (in the part that was kept) is
// the model's (exit 3); one that freezing introduced is a bug of tffreeze (exit 5).
void refuse_invalid_result(const io::Model& model, const tf::GraphDef& frozen) {
  auto problems = graph::validate_graph(frozen);
  if (problems.empty()) return;
  auto original = graph::validate_graph(model.graph());
  const std::set<std::string> known(original.begin(), original.end());
  for (const auto& p : problems)
    if (!known.count(p)) throw_internal(model.path + ": freezing produced an invalid graph: " + p);
  throw Error(ExitCode::kBadInput, model.path + ": the model's graph is invalid: " + problems.front());
}


// What the outputs, the inputs and the nodes --set and --replace-input name reach in `graph`
// (through data and control inputs): all that freezing can keep, copied without the rest of a
// training graph (its gradients and optimizer). Names that are not in the graph are left to
// the later steps, which say so.
tf::GraphDef reachable_part(const graph::GraphView& view, const std::vector<std::string>& outputs, const std::vector<std::string>& inputs,
                            const FreezeOptions& options) {
  std::vector<std::string> roots;
  auto add = [&](const std::string& name) {
    if (view.find(graph::parse_input(name).node) >= 0) roots.push_back(name);
  };
  for (const auto& n : outputs) add(n);
  for (const auto& n : inputs) add(n);
  for (const auto& [name, value] : options.set_values) add(name);
  for (const auto& spec : options.replace_inputs) add(spec.substr(0, spec.find('=')));
  add("keras_learning_phase");
  return graph::extract_subgraph(view.graph(), view.needed_by(roots));
}

// The variable's checkpoint value, one partition of it, or a mapped Const (a mapped source given) when
// it is graph::mappable.
void check_value(const tf::NodeDef& var, const io::checkpoint::Checkpoint& checkpoint, const std::string& key, tf::DataType dtype,
                 const std::vector<std::int64_t>& shape) {
  tf::DataType want = base_type(var.attr().count("dtype") ? var.attr().at("dtype").type() : dtype);
  if (dtype != want) {
    throw Error(ExitCode::kBadInput, checkpoint.prefix() + ": tensor '" + key + "' is " + dtype_name(dtype) + ", variable '" + var.name() +
                                         "' is " + dtype_name(want));
  }
  auto attr = var.attr().find("shape");
  if (attr == var.attr().end() || attr->second.shape().unknown_rank()) return;
  const auto& dims = attr->second.shape().dim();
  bool ok = dims.size() == static_cast<int>(shape.size());
  for (int d = 0; ok && d < dims.size(); ++d) ok = dims[d].size() < 0 || dims[d].size() == shape[static_cast<std::size_t>(d)];
  if (!ok) {
    throw Error(ExitCode::kBadInput, checkpoint.prefix() + ": shape mismatch for variable '" + var.name() + "': the graph says " +
                                         shape_string(attr->second.shape()) + ", checkpoint tensor '" + key + "' is " + dims_string(shape));
  }
}

Tensor partition_of(Tensor value, const tf::NodeDef& var, const io::checkpoint::Checkpoint& checkpoint, const std::string& key,
                    const std::string& shape_and_slice) {
  std::vector<std::int64_t> full_shape;
  tf::TensorSliceProto slice;
  const std::string where = checkpoint.prefix() + ": variable '" + var.name() + "' (slice '" + shape_and_slice + "' of '" + key + "')";
  if (!io::checkpoint::parse_shape_and_slice(shape_and_slice, &full_shape, &slice)) throw Error(ExitCode::kBadInput, where + ": malformed slice spec");
  if (full_shape != value.shape) {
    throw Error(ExitCode::kBadInput, where + ": the spec's full shape " + dims_string(full_shape) + " is not the checkpoint's " +
                                         dims_string(value.shape));
  }
  return io::checkpoint::extract_slice(value, slice, where);
}

tf::NodeDef variable_as_constant(const tf::NodeDef& var, const io::checkpoint::Checkpoint& checkpoint, const std::string& key,
                                 const std::string& shape_and_slice, const graph::MappedSource* mapped_source, FrozenVariable* fv) {
  const io::checkpoint::Entry& entry = *checkpoint.find(key);
  if (mapped_source && shape_and_slice.empty() && graph::mappable(checkpoint, entry)) {
    check_value(var, checkpoint, key, entry.dtype, entry.shape);
    fv->dtype = entry.dtype;
    fv->shape = entry.shape;
    fv->bytes = entry.bytes;
    return graph::make_mapped_const(var.name(), entry.dtype, entry.shape, *mapped_source, key);
  }
  Tensor value = checkpoint.read(key);
  if (!shape_and_slice.empty()) value = partition_of(std::move(value), var, checkpoint, key, shape_and_slice);
  check_value(var, checkpoint, key, value.dtype, value.shape);
  fv->dtype = value.dtype;
  fv->shape = value.shape;
  fv->bytes = static_cast<std::int64_t>(value.bytes.size());
  return graph::make_const(var.name(), std::move(value));
}

}  // namespace

std::string default_checkpoint_for(const io::Model& model) {
  if (!model.saved_model_dir.empty()) {
    std::string prefix = join_path(model.saved_model_dir, "variables/variables");
    return is_regular_file(prefix + ".index") ? prefix : "";
  }
  if (model.format == io::ModelFormat::kMetaGraph || model.format == io::ModelFormat::kMetaGraphText) {
    const std::string& p = model.path;
    if (extension(p) == ".meta") {
      std::string prefix = p.substr(0, p.size() - 5);
      if (io::checkpoint::looks_like_checkpoint(prefix)) return prefix;
    }
    auto slash = p.rfind('/');
    std::string dir = slash == std::string::npos ? "." : p.substr(0, slash);
    if (is_regular_file(join_path(dir, "checkpoint"))) return dir;
  }
  return "";
}

FreezeResult freeze_model(const io::Model& model, const io::checkpoint::Checkpoint* checkpoint, const FreezeOptions& options) {
  FreezeResult result;
  FreezeReport& report = result.report;
  report.nodes_before = model.graph().node_size();  // and the nodes inside functions, which flattening may bring in
  for (const auto& f : model.graph().library().function()) report.nodes_before += f.node_def_size();

  // Outputs and inputs: given, else the signature's, else inferred.
  std::vector<std::string> outputs = options.outputs, inputs = options.inputs;
  const tf::SignatureDef* signature = nullptr;
  std::string signature_key;
  if (outputs.empty()) {
    std::string& key = signature_key;
    if ((signature = choose_signature(model, options.signature, &key))) {
      outputs = tensor_names(signature->outputs());
      if (inputs.empty()) inputs = tensor_names(signature->inputs());
      report.notes.push_back("signature '" + key + "'");
    } else {
      outputs = graph::likely_outputs(model);
      report.notes.push_back("outputs inferred from the graph (give --outputs to choose)");
    }
  }
  if (outputs.empty()) throw Error(ExitCode::kBadInput, model.path + ": no outputs found; give --outputs");

  // TF 2: what the outputs need runs in functions; flatten it first. A TF 2 SavedModel's
  // signature keys become the input and output names.
  std::map<std::string, std::string> variable_keys;
  tf::GraphDef g;  // what is frozen: the model's graph, or its flattened signature
  std::map<std::string, RestoreSource> traced;  // variable -> the checkpoint key its restore op reads
  if (!needs_flattening(model.graph(), outputs, inputs)) {
    graph::GraphView whole(model.graph());
    traced = traced_restore_keys(whole);  // the restore ops are not among what the outputs reach
    g = reachable_part(whole, outputs, inputs, options);
  } else {
    const bool rename = signature && options.outputs.empty() && options.inputs.empty() && model.meta.has_object_graph_def();
    InlineOptions inline_options;
    inline_options.lower_conds = !options.keep_functional_conds;
    inline_options.lower_loops = options.lower_loops;
    FlatGraph flat;
    try {
      flat = flatten_graph(model, checkpoint, outputs, inputs, rename ? signature : nullptr, signature_key, inline_options);
    } catch (const Error& e) {
      const std::string what = e.what();
      throw Error(e.code(), what.rfind(model.path, 0) == 0 ? what : model.path + ": " + what);
    }
    g = std::move(flat.graph);
    outputs = std::move(flat.outputs);
    inputs = std::move(flat.inputs);
    variable_keys = std::move(flat.variable_keys);
    for (auto& note : flat.notes) report.notes.push_back(std::move(note));
    if (rename) signature = nullptr;  // its tensor names are gone; the keys replaced them
  }

  // Tensors other than output 0 first: replacing a node in place needs its other outputs unused.
  std::vector<std::string> replacements = options.replace_inputs;
  std::stable_partition(replacements.begin(), replacements.end(), [](const std::string& spec) {
    return graph::parse_input(spec.substr(0, spec.find('='))).index > 0;
  });
  for (const auto& spec : replacements) inputs.push_back(replace_input(&g, spec));
  // A signature input may be an inner tensor (serving graphs name the Identity after their
  // ParseExample): feeding it there means it becomes a placeholder of the signature's type.
  if (signature && options.inputs.empty()) {
    for (const auto& [key, info] : signature->inputs()) {
      graph::TensorRef ref = graph::parse_input(info.name());
      for (const auto& n : g.node()) {
        if (n.name() != ref.node || n.op() == "Placeholder" || n.op() == "PlaceholderWithDefault") continue;
        const std::string was = n.op();  // n is replaced below
        std::string spec = info.name() + "=" + dtype_name(info.dtype());
        if (info.has_tensor_shape() && !info.tensor_shape().unknown_rank()) spec += shape_string(info.tensor_shape());
        std::string placeholder = replace_input(&g, spec);
        std::replace(inputs.begin(), inputs.end(), info.name(), placeholder);
        report.notes.push_back("signature input '" + key + "' (" + info.name() + ", a " + was + ") became a placeholder");
        break;
      }
    }
  }
  std::set<std::string> set_names;
  for (const auto& [name, value] : options.set_values) {
    set_placeholder_value(&g, name, value);
    set_names.insert(name);
  }
  for (const auto& n : g.node()) {
    if (n.name() == "keras_learning_phase" && !set_names.count(n.name()) &&
        (n.op() == "Placeholder" || n.op() == "PlaceholderWithDefault")) {
      set_placeholder_value(&g, n.name(), "0");
      report.notes.push_back("keras_learning_phase set to 0 (inference); override with --set keras_learning_phase=1");
      break;
    }
  }
  // Inputs that became constants are not inputs any more.
  inputs.erase(std::remove_if(inputs.begin(), inputs.end(), [&](const std::string& s) {
                 return set_names.count(std::string(graph::parse_input(s).node)) > 0;
               }), inputs.end());

  graph::GraphView view(g);
  // The cut is at the inputs; a PlaceholderWithDefault input keeps its default value.
  std::vector<std::string> cut;
  for (const auto& in : inputs) {
    int i = view.find(graph::parse_input(in).node);
    if (i < 0 || view.node(i).op() != "PlaceholderWithDefault") cut.push_back(in);
  }
  std::vector<bool> keep;
  try {
    keep = view.needed_by(outputs, cut);
  } catch (const Error& e) {
    throw Error(e.code(), model.path + ": " + e.what());
  }
  // An input no output reads stays, so the frozen graph takes what the signature takes.
  for (const auto& in : inputs) {
    int i = view.find(graph::parse_input(in).node);
    if (i >= 0 && view.node(i).op() == "Placeholder") keep[static_cast<std::size_t>(i)] = true;
  }
  std::set<std::string> functions;
  for (const auto& f : g.library().function()) functions.insert(f.signature().name());
  for (int i = 0; i < view.size(); ++i) {
    const std::string& op = view.node(i).op();
    if (keep[i] && (op == "StatefulPartitionedCall" || op == "PartitionedCall" || functions.count(op))) {
      throw Error(ExitCode::kUnsupported, model.path + ": the outputs need '" + view.node(i).name() + "' (" + op +
                                              "), a call into a TF 2 function; freezing TF 2 functions is not supported yet");
    }
  }
  for (int i = 0; i < view.size(); ++i) {
    if (keep[i] && graph::is_state_update(view.node(i).op())) {
      throw Error(ExitCode::kUnsupported, model.path + ": the outputs need '" + view.node(i).name() + "' (" + view.node(i).op() +
                                              "), a state change; a frozen graph cannot hold it (choose other --outputs)");
    }
  }

  // Variables -> constants. Lookup tables are frozen from constant values (lookup_tables.h), so a
  // graph with tables gets real values throughout.
  const graph::MappedSource* mapped_source = options.mapped_source.get();
  if (mapped_source && &mapped_source->checkpoint() != checkpoint) throw_internal("freeze: the mapped source is not the checkpoint frozen from");
  for (int i = 0; i < view.size() && mapped_source; ++i)
    if (keep[i] && view.node(i).op().find("HashTable") != std::string::npos) mapped_source = nullptr;
  if (traced.empty()) traced = traced_restore_keys(view);
  bool any_average = false;
  std::map<int, tf::NodeDef> constants;  // variable node -> its Const, built as each value is read
  for (int i = 0; i < view.size(); ++i) {
    const tf::NodeDef& var = view.node(i);
    if (!keep[i] || !is_variable_op(var.op())) continue;
    if (!checkpoint) {
      throw Error(ExitCode::kBadInput, model.path + ": the graph has variables (e.g. '" + var.name() +
                                           "') but no checkpoint was found; give -c CHECKPOINT");
    }
    FrozenVariable fv;
    fv.name = var.name();
    auto t = traced.find(var.name());
    auto captured = variable_keys.find(var.name());
    fv.checkpoint_key = captured != variable_keys.end() ? captured->second
                        : t != traced.end()            ? t->second.key
                                                       : default_checkpoint_key(var);
    const std::string shape_and_slice = t != traced.end() ? t->second.shape_and_slice : "";
    std::string key = fv.checkpoint_key;
    if (options.use_moving_averages) {
      std::string shadow = key + "/" + options.moving_average_name;
      if (checkpoint->find(shadow)) {
        key = shadow;
        fv.moving_average = any_average = true;
      } else {
        report.variables_without_average.push_back(var.name());
      }
    }
    if (!checkpoint->find(key)) {
      throw Error(ExitCode::kBadInput, checkpoint->prefix() + ": no tensor '" + key + "' for variable '" + var.name() + "'");
    }
    constants[i] = variable_as_constant(var, *checkpoint, key, shape_and_slice, mapped_source, &fv);
    report.constant_bytes += fv.bytes;
    report.variables.push_back(fv);
  }
  if (options.use_moving_averages && !any_average && !report.variables.empty()) {
    throw Error(ExitCode::kUnsupported, (checkpoint ? checkpoint->prefix() : model.path) + ": --use-moving-averages, but no variable has a '" +
                                            options.moving_average_name + "' shadow in the checkpoint");
  }
  if (!options.use_moving_averages && checkpoint) {
    for (const auto& fv : report.variables) {
      if (checkpoint->find(fv.checkpoint_key + "/" + options.moving_average_name)) {
        report.notes.push_back("the checkpoint has moving averages (e.g. '" + fv.checkpoint_key + "/" + options.moving_average_name +
                               "'); --use-moving-averages freezes those instead");
        break;
      }
    }
  }

  // Assemble the result from the kept nodes.
  std::set<std::string> present;
  for (int i = 0; i < view.size(); ++i)
    if (keep[i]) present.insert(view.node(i).name());
  tf::GraphDef& out = result.graph;
  *out.mutable_versions() = g.versions();
  if (g.has_library()) *out.mutable_library() = g.library();
  tf::GraphDef added;
  for (int i = 0; i < view.size(); ++i) {
    if (!keep[i]) continue;
    tf::NodeDef* node = out.add_node();
    if (auto c = constants.find(i); c != constants.end()) {
      node->Swap(&c->second);
      continue;
    }
    *node = view.node(i);
    if (auto r = kRefOps.find(node->op()); r != kRefOps.end()) node->set_op(r->second);
    graph::strip_ref_types(node);
    rewrite_resource_reader(node, g, &added);
    prune_colocation(node, present);
  }
  for (auto& n : *added.mutable_node()) *out.add_node() = std::move(n);
  std::map<std::string, tf::DataType> frozen;
  for (const auto& v : report.variables) frozen[v.name] = v.dtype;
  specialize_frozen_loop_variables(&out, frozen);
  freeze_lookup_tables(&out, model, &report.notes);
  prune_library(&out);

  // Inputs must be real inputs now.
  for (const auto& in : inputs) {
    std::string_view name = graph::parse_input(in).node;
    for (const auto& n : out.node()) {
      if (n.name() != name) continue;
      if (n.op() != "Placeholder" && n.op() != "PlaceholderWithDefault" && n.op() != "Const") {
        throw Error(ExitCode::kUnsupported, model.path + ": input '" + in + "' is a " + n.op() +
                                                ", not a placeholder; make it one with --replace-input " + std::string(name) + "=DTYPE[SHAPE]");
      }
    }
  }
  refuse_invalid_result(model, out);

  report.nodes_after = out.node_size();
  for (const auto& f : out.library().function()) report.nodes_after += f.node_def_size();
  for (const auto& n : out.node())
    if (n.op() == "Placeholder" || n.op() == "PlaceholderWithDefault") report.inputs.push_back(n.name());
  report.outputs = outputs;
  graph::GraphView result_view(out);
  report.training_ops = graph::find_training_ops(result_view);
  for (const auto& [category, names] : report.training_ops) report.training_hints[category] = hint_for(category);
  return result;
}

json report_json(const FreezeReport& r) {
  json vars = json::array();
  for (const auto& v : r.variables) {
    vars.push_back({{"name", v.name}, {"checkpoint_key", v.checkpoint_key}, {"dtype", dtype_name(v.dtype)}, {"shape", v.shape},
                    {"bytes", v.bytes}, {"moving_average", v.moving_average}});
  }
  json training = json::object();
  for (const auto& [category, names] : r.training_ops) training[category] = {{"nodes", names}, {"remove_with", r.training_hints.at(category)}};
  return {{"nodes_before", r.nodes_before}, {"nodes_after", r.nodes_after}, {"variables", vars},
          {"variables_without_average", r.variables_without_average}, {"constant_bytes", r.constant_bytes},
          {"inputs", r.inputs}, {"outputs", r.outputs}, {"training_ops", training}, {"notes", r.notes}};
}

}  // namespace tffreeze::freeze
