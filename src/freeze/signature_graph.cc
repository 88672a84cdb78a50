#include "freeze/signature_graph.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "common/error.h"
#include "graph/function_graph.h"
#include "graph/graph_view.h"
#include "graph/training_ops.h"
#include "io/checkpoint/object_graph.h"

namespace tffreeze::freeze {
namespace {

// Nodes that flattening may replace (a While only when it is lowered or unrolled).
bool is_call_or_cond(const std::string& op, const graph::FunctionIndex& library) {
  return op == "PartitionedCall" || op == "StatefulPartitionedCall" || graph::is_functional_if(op) || graph::is_functional_case(op) ||
         graph::is_functional_while(op) || library.find(op) != nullptr;
}

// Tables whose contents change while serving: a frozen graph cannot hold them. (Constant
// tables are frozen: see lookup_tables.h.)
bool is_mutable_table_op(const std::string& op) {
  return op.rfind("MutableHashTable", 0) == 0 || op.rfind("MutableDenseHashTable", 0) == 0 || op.rfind("LookupTableInsert", 0) == 0 ||
         op.rfind("LookupTableRemove", 0) == 0;
}

// Captured variables: a concrete function's last inputs are its captures, and bound_inputs
// names the saved objects behind them; the checkpoint's object graph gives each object's key
// (matched by object path, else by node id).
std::map<std::string, std::string> captured_variable_keys(const io::Model& model, const io::checkpoint::Checkpoint* checkpoint,
                                                          std::vector<std::string>* notes) {
  std::map<std::string, std::string> keys;
  const tf::SavedObjectGraph& objects = model.meta.object_graph_def();
  if (!checkpoint || objects.nodes_size() == 0) return keys;
  auto trackable = io::checkpoint::read_object_graph(*checkpoint);
  if (!trackable) {
    notes->push_back("the checkpoint has no object graph; variables are looked up by name");
    return keys;
  }
  std::map<std::string, std::string> key_by_path;
  std::map<int, std::string> key_by_id;
  for (const auto& a : io::checkpoint::object_attributes(*trackable)) {
    if (a.attribute != "VARIABLE_VALUE") continue;
    key_by_path.emplace(a.path, a.checkpoint_key);
    key_by_id.emplace(a.node_id, a.checkpoint_key);
  }
  const std::vector<std::string> paths = io::checkpoint::walk_objects(objects).path;
  for (const auto& node : model.graph().node()) {
    if (node.op() != "StatefulPartitionedCall" && node.op() != "PartitionedCall") continue;
    auto f = node.attr().find("f");
    if (f == node.attr().end()) continue;
    auto concrete = objects.concrete_functions().find(f->second.func().name());
    if (concrete == objects.concrete_functions().end()) continue;
    std::vector<std::string> data;
    for (const auto& in : node.input())
      if (in.rfind('^', 0) != 0) data.push_back(in);
    const auto& bound = concrete->second.bound_inputs();
    if (bound.size() > static_cast<int>(data.size())) continue;
    std::size_t first = data.size() - static_cast<std::size_t>(bound.size());
    for (int k = 0; k < bound.size(); ++k) {
      int id = bound.Get(k);
      if (id < 0 || id >= objects.nodes_size() || objects.nodes(id).kind_case() != tf::SavedObject::kVariable) continue;
      std::string handle(graph::parse_input(data[first + static_cast<std::size_t>(k)]).node);
      auto by_path = key_by_path.find(paths[static_cast<std::size_t>(id)]);
      if (by_path != key_by_path.end() && !paths[static_cast<std::size_t>(id)].empty()) {
        keys[handle] = by_path->second;
      } else if (auto by_id = key_by_id.find(id); by_id != key_by_id.end()) {
        keys[handle] = by_id->second;
      }
    }
  }
  return keys;
}

// Renames a node and every reference to it.
void rename_node(tf::GraphDef* g, const std::string& from, const std::string& to, std::map<std::string, std::string>* keys) {
  for (auto& n : *g->mutable_node()) {
    if (n.name() == from) n.set_name(to);
    for (auto& in : *n.mutable_input()) {
      graph::TensorRef ref = graph::parse_input(in);
      if (ref.node != from) continue;
      in = ref.control ? "^" + to : graph::tensor_name(to, ref.index);
    }
  }
  if (auto it = keys->find(from); it != keys->end()) {
    std::string key = it->second;
    keys->erase(it);
    (*keys)[to] = key;
  }
}

bool has_node(const tf::GraphDef& g, const std::string& name) {
  return std::any_of(g.node().begin(), g.node().end(), [&](const tf::NodeDef& n) { return n.name() == name; });
}

std::string free_name(const tf::GraphDef& g, const std::string& wanted) {
  std::string name = wanted;
  for (int k = 1; has_node(g, name); ++k) name = wanted + "_" + std::to_string(k);
  return name;
}

// Gives the signature's tensors its keys as names: input placeholders are renamed, outputs
// get an Identity. A node already holding a key's name moves aside.
void name_by_signature(tf::GraphDef* g, const tf::SignatureDef& signature, std::vector<std::string>* inputs,
                       std::vector<std::string>* outputs, std::map<std::string, std::string>* keys) {
  inputs->clear();
  outputs->clear();
  for (const auto& [key, tensor] : signature_tensors(signature.inputs())) {
    graph::TensorRef ref = graph::parse_input(tensor);
    const std::string node(ref.node);
    bool placeholder = false;
    for (const auto& n : g->node())
      if (n.name() == node) placeholder = n.op() == "Placeholder" || n.op() == "PlaceholderWithDefault";
    if (!placeholder || ref.index != 0 || node == key) {
      inputs->push_back(tensor);
      continue;
    }
    if (has_node(*g, key)) rename_node(g, key, free_name(*g, key + "_1"), keys);
    rename_node(g, node, key, keys);
    inputs->push_back(key);
  }
  for (const auto& [key, tensor] : signature_tensors(signature.outputs())) {
    const std::string name = has_node(*g, key) ? free_name(*g, key + "_output") : key;
    tf::NodeDef* id = g->add_node();
    id->set_name(name);
    id->set_op("Identity");
    id->add_input(tensor);
    (*id->mutable_attr())["T"].set_type(signature.outputs().at(key).dtype());
    outputs->push_back(name);
  }
}

// Nodes the outputs read through data edges only.
std::vector<bool> data_needed(const graph::GraphView& view, const std::vector<std::string>& outputs, const std::vector<std::string>& stop) {
  std::vector<bool> needed(static_cast<std::size_t>(view.size()), false);
  std::set<std::string> stops;
  for (const auto& s : stop) stops.insert(std::string(graph::parse_input(s).node));
  std::vector<int> todo;
  for (const auto& o : outputs) {
    int i = view.find(graph::parse_input(o).node);
    if (i >= 0 && !needed[static_cast<std::size_t>(i)]) {
      needed[static_cast<std::size_t>(i)] = true;
      todo.push_back(i);
    }
  }
  while (!todo.empty()) {
    int i = todo.back();
    todo.pop_back();
    if (stops.count(view.node(i).name())) continue;
    for (const auto& e : view.inputs(i)) {
      if (e.control() || needed[static_cast<std::size_t>(e.producer)]) continue;
      needed[static_cast<std::size_t>(e.producer)] = true;
      todo.push_back(e.producer);
    }
  }
  return needed;
}

// The node a resource handle comes from, through Identity.
int handle_source(const graph::GraphView& view, int i) {
  for (int hops = 0; hops < 64 && i >= 0; ++hops) {
    const auto& n = view.node(i);
    if (n.op() != "Identity" || view.inputs(i).empty()) return i;
    i = view.inputs(i).front().producer;
  }
  return i;
}

// Refuses what a frozen graph cannot hold; state changes the outputs do not depend on (an
// update of a variable they never read) are dropped with a note.
void check_state(const graph::GraphView& view, const std::vector<bool>& needed, const std::vector<std::string>& outputs,
                 const std::vector<std::string>& inputs, const std::string& where, std::vector<std::string>* notes) {
  std::vector<bool> data = data_needed(view, outputs, inputs);
  std::set<int> read_variables;
  for (int i = 0; i < view.size(); ++i) {
    const auto& op = view.node(i).op();
    if (data[static_cast<std::size_t>(i)] && (op == "ReadVariableOp" || op == "ResourceGather") && !view.inputs(i).empty())
      read_variables.insert(handle_source(view, view.inputs(i).front().producer));
  }
  // Loops and conds that stay run their functions: those must not change state either.
  const graph::FunctionIndex library(view.graph().library());
  for (int i = 0; i < view.size(); ++i) {
    if (!needed[static_cast<std::size_t>(i)]) continue;
    for (const auto& name : graph::reachable_functions(library, {&view.node(i)})) {
      for (const auto& n : library.find(name)->node_def()) {
        if (graph::is_state_update(n.op()) || is_mutable_table_op(n.op())) {
          throw Error(ExitCode::kUnsupported, where + ": '" + view.node(i).name() + "' runs function '" + name + "', which uses '" +
                                                  n.name() + "' (" + n.op() + "); a frozen graph cannot hold state changes or mutable tables");
        }
      }
    }
  }
  for (int i = 0; i < view.size(); ++i) {
    if (!needed[static_cast<std::size_t>(i)]) continue;
    const auto& n = view.node(i);
    if (is_mutable_table_op(n.op())) {
      throw Error(ExitCode::kUnsupported, where + " uses lookup table '" + n.name() + "' (" + n.op() +
                                              "), whose contents change while serving; a frozen graph cannot hold it");
    }
    if (!graph::is_state_update(n.op())) continue;
    int variable = view.inputs(i).empty() ? -1 : handle_source(view, view.inputs(i).front().producer);
    bool optimizer = n.op().find("Apply") != std::string::npos;
    if (optimizer || data[static_cast<std::size_t>(i)] || read_variables.count(variable)) {
      throw Error(ExitCode::kUnsupported, where + " changes state: its outputs depend on '" + n.name() + "' (" + n.op() +
                                              (variable >= 0 ? " on '" + view.node(variable).name() + "'" : std::string()) +
                                              "); a frozen graph cannot train or update variables");
    }
    notes->push_back("dropped '" + n.name() + "' (" + n.op() + "): it updates a variable the outputs never read");
  }
}

// v1 control flow whose control edges carry meaning: a cond pivot (Identity of a Switch) makes
// branch nodes dead; a loop Merge ties constants into the loop frame.
bool is_pivot(const graph::GraphView& view, int i) {
  const auto& n = view.node(i);
  // A lowered loop's cond constants enter its frame through its first Merge.
  if (n.op() == "Merge" || n.op() == "RefMerge") return true;
  if (n.op() != "Identity" || view.inputs(i).empty()) return false;
  const auto& op = view.node(view.inputs(i).front().producer).op();
  return op == "Switch" || op == "RefSwitch";
}

void drop_ordering_edges(tf::GraphDef* g) {
  graph::GraphView view(*g);
  std::vector<bool> pivot(static_cast<std::size_t>(view.size()));
  for (int i = 0; i < view.size(); ++i) pivot[static_cast<std::size_t>(i)] = is_pivot(view, i);
  std::vector<std::vector<std::string>> kept(static_cast<std::size_t>(view.size()));
  for (int i = 0; i < view.size(); ++i) {
    for (const auto& in : view.node(i).input()) {
      graph::TensorRef ref = graph::parse_input(in);
      if (ref.control) {
        int p = view.find(ref.node);
        if (p < 0 || !pivot[static_cast<std::size_t>(p)]) continue;
      }
      kept[static_cast<std::size_t>(i)].push_back(in);
    }
  }
  for (int i = 0; i < g->node_size(); ++i) {
    auto* n = g->mutable_node(i);
    if (n->input_size() == static_cast<int>(kept[static_cast<std::size_t>(i)].size())) continue;
    n->clear_input();
    for (auto& in : kept[static_cast<std::size_t>(i)]) n->add_input(std::move(in));
  }
}

// What the outputs need, and the inputs even when no output reads them (a signature keeps
// all its inputs). Inputs' own inputs stay (a PlaceholderWithDefault keeps its default;
// freezing cuts at the inputs later).
std::vector<bool> needed_nodes(const tf::GraphDef& g, const std::vector<std::string>& outputs, const std::vector<std::string>& inputs,
                               const std::string& where) {
  graph::GraphView view(g);
  std::vector<std::string> roots = outputs;
  roots.insert(roots.end(), inputs.begin(), inputs.end());
  try {
    return view.needed_by(roots);
  } catch (const Error& e) {
    throw Error(e.code(), where + ": " + e.what());
  }
}

// The same, in place: nodes and the library move, nothing is copied.
void keep_needed(tf::GraphDef* g, const std::vector<std::string>& outputs, const std::vector<std::string>& inputs, const std::string& where) {
  const std::vector<bool> needed = needed_nodes(*g, outputs, inputs, where);
  tf::GraphDef kept;
  *kept.mutable_versions() = g->versions();
  kept.mutable_library()->Swap(g->mutable_library());
  for (int i = 0; i < g->node_size(); ++i)
    if (needed[static_cast<std::size_t>(i)]) kept.add_node()->Swap(g->mutable_node(i));
  g->Swap(&kept);
}

}  // namespace

const tf::SignatureDef* choose_signature(const io::Model& model, const std::string& wanted, std::string* key) {
  const auto& sigs = model.meta.signature_def();
  std::vector<std::string> user;
  for (const auto& [k, s] : sigs)
    if (k.rfind("__", 0) != 0) user.push_back(k);
  std::sort(user.begin(), user.end());
  if (!wanted.empty()) {
    if (!sigs.count(wanted)) {
      std::string all;
      for (const auto& k : user) all += (all.empty() ? "" : ", ") + k;
      throw Error(ExitCode::kBadInput, model.path + ": no signature '" + wanted + "' (available: " + (all.empty() ? "none" : all) + ")");
    }
    *key = wanted;
  } else if (sigs.count("serving_default")) {
    *key = "serving_default";
  } else if (user.size() == 1) {
    *key = user[0];
  } else {
    return nullptr;
  }
  return &sigs.at(*key);
}

std::vector<std::pair<std::string, std::string>> signature_tensors(const google::protobuf::Map<std::string, tf::TensorInfo>& map) {
  std::vector<std::pair<std::string, std::string>> sorted;
  for (const auto& [k, info] : map)
    if (!info.name().empty()) sorted.push_back({k, info.name()});
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

bool needs_flattening(const tf::GraphDef& graph, const std::vector<std::string>& outputs, const std::vector<std::string>& inputs) {
  if (graph.library().function_size() == 0) return false;
  graph::FunctionIndex library(graph.library());
  graph::GraphView view(graph);
  std::vector<bool> needed;
  try {
    needed = view.needed_by(outputs, inputs);
  } catch (const Error&) {
    return false;  // freezing reports the unknown name
  }
  for (int i = 0; i < view.size(); ++i)
    if (needed[static_cast<std::size_t>(i)] && is_call_or_cond(view.node(i).op(), library)) return true;
  return false;
}

FlatGraph flatten_graph(const io::Model& model, const io::checkpoint::Checkpoint* checkpoint, const std::vector<std::string>& outputs,
                        const std::vector<std::string>& inputs, const tf::SignatureDef* signature, const std::string& signature_key,
                        const InlineOptions& options) {
  FlatGraph flat;
  flat.outputs = outputs;
  flat.inputs = inputs;
  flat.variable_keys = captured_variable_keys(model, checkpoint, &flat.notes);
  tf::GraphDef g;  // the one copy of the model: what the outputs need, and the library
  {
    const std::vector<bool> needed = needed_nodes(model.graph(), outputs, inputs, model.path);
    *g.mutable_versions() = model.graph().versions();
    *g.mutable_library() = model.graph().library();
    for (int i = 0; i < model.graph().node_size(); ++i)
      if (needed[static_cast<std::size_t>(i)]) *g.add_node() = model.graph().node(i);
  }
  if (signature) name_by_signature(&g, *signature, &flat.inputs, &flat.outputs, &flat.variable_keys);

  // Outputs named as a call's tensors ("StatefulPartitionedCall:0", given by --outputs) would
  // vanish with the call: an IdentityN takes the call's name once it is inlined.
  std::map<std::string, std::string> stand_ins;  // stand-in node -> call it replaces
  {
    graph::FunctionIndex library(g.library());
    for (const auto& out : flat.outputs) {
      const std::string node(graph::parse_input(out).node);
      const tf::NodeDef* call = nullptr;
      for (const auto& n : g.node())
        if (n.name() == node && is_call_or_cond(n.op(), library)) call = &n;
      if (!call || std::any_of(stand_ins.begin(), stand_ins.end(), [&](const auto& kv) { return kv.second == node; })) continue;
      std::vector<int> types;
      if (auto t = call->attr().find("Tout"); t != call->attr().end()) {
        types.assign(t->second.list().type().begin(), t->second.list().type().end());
      } else if (const tf::FunctionDef* f = library.find(call->op())) {
        for (const auto& a : f->signature().output_arg()) types.push_back(a.type());
      }
      tf::NodeDef stand_in;
      stand_in.set_name(free_name(g, node + "/outputs"));
      stand_in.set_op("IdentityN");
      for (std::size_t k = 0; k < types.size(); ++k) {
        stand_in.add_input(graph::tensor_name(node, static_cast<int>(k)));
        (*stand_in.mutable_attr())["T"].mutable_list()->add_type(static_cast<tf::DataType>(types[k]));
      }
      stand_ins[stand_in.name()] = node;
      *g.add_node() = std::move(stand_in);
    }
    for (auto& out : flat.outputs) {  // the stand-ins are what the outputs need now
      const graph::TensorRef ref = graph::parse_input(out);
      const std::string node(ref.node);  // `out` changes below; ref.node views it
      for (const auto& [stand_in, call] : stand_ins)
        if (node == call) out = graph::tensor_name(stand_in, ref.index);
    }
  }
  inline_functions(&g, options, &flat.inlined);
  for (const auto& [stand_in, node] : stand_ins) {
    if (has_node(g, node)) {  // kept (a While): its outputs keep their names, the stand-in goes
      for (auto& out : flat.outputs) {
        const graph::TensorRef ref = graph::parse_input(out);
        if (ref.node == stand_in) out = graph::tensor_name(node, ref.index);
      }
      const std::string gone = stand_in;  // (clang cannot capture a structured binding)
      auto* nodes = g.mutable_node();
      nodes->erase(std::remove_if(nodes->begin(), nodes->end(), [&](const tf::NodeDef& n) { return n.name() == gone; }), nodes->end());
      continue;
    }
    rename_node(&g, stand_in, node, &flat.variable_keys);
    for (auto& out : flat.outputs) {
      const graph::TensorRef ref = graph::parse_input(out);
      if (ref.node == stand_in) out = graph::tensor_name(node, ref.index);  // ref is not read after this
    }
  }
  keep_needed(&g, flat.outputs, flat.inputs, model.path);
  {
    graph::GraphView view(g);
    std::vector<bool> all(static_cast<std::size_t>(view.size()), true);
    const std::string where = model.path + ": " + (signature_key.empty() ? "the graph" : "signature '" + signature_key + "'");
    check_state(view, all, flat.outputs, flat.inputs, where, &flat.notes);
  }
  drop_ordering_edges(&g);
  keep_needed(&g, flat.outputs, flat.inputs, model.path);
  prune_library(&g);
  flat.graph = std::move(g);

  const InlineReport& r = flat.inlined;
  std::string summary = "flattened " + std::to_string(r.calls_inlined) + " function calls";
  if (r.conds_taken) summary += ", " + std::to_string(r.conds_taken) + " conds with a constant predicate";
  if (r.conds_lowered) summary += ", " + std::to_string(r.conds_lowered) + " conds lowered to Switch/Merge";
  if (r.loops_lowered) summary += ", " + std::to_string(r.loops_lowered) + " While loops lowered to v1 loops";
  flat.notes.push_back(summary);
  for (const auto& s : r.cpu_implementations) flat.notes.push_back("CPU implementation chosen: " + s);
  if (!r.kept_conds.empty()) {
    flat.notes.push_back(std::to_string(r.kept_conds.size()) + " If nodes kept with their branch functions (e.g. '" + r.kept_conds.front() + "')");
  }
  if (!r.kept_loops.empty()) {
    flat.notes.push_back(std::to_string(r.kept_loops.size()) + " While loops kept with their functions (e.g. '" + r.kept_loops.front() + "')");
  }
  return flat;
}

}  // namespace tffreeze::freeze
