#include "graph/validate.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "common/dtype.h"
#include "common/error.h"
#include "graph/default_attrs.h"
#include "graph/graph_view.h"
#include "graph/mapped_constants.h"
#include "graph/op_registry.h"

namespace tffreeze::graph {
namespace {

using Problems = std::vector<std::string>;

std::string where(const tf::NodeDef& node, const std::string& scope) {
  return scope + "node '" + node.name() + "' (" + node.op() + "): ";
}

bool value_matches(const std::string& type, const tf::AttrValue& v) {
  using C = tf::AttrValue::ValueCase;
  if (v.value_case() == C::kPlaceholder) return true;  // function attr reference
  if (type.rfind("list(", 0) == 0) return v.value_case() == C::kList || v.value_case() == C::VALUE_NOT_SET;
  static const std::unordered_map<std::string, C> cases = {
      {"int", C::kI},       {"float", C::kF},      {"bool", C::kB},       {"string", C::kS},
      {"type", C::kType},   {"shape", C::kShape},  {"tensor", C::kTensor}, {"func", C::kFunc}};
  auto it = cases.find(type);
  return it == cases.end() || it->second == v.value_case();
}

int list_size(const tf::AttrValue::ListValue& l) {
  return l.s_size() + l.i_size() + l.f_size() + l.b_size() + l.type_size() + l.shape_size() + l.tensor_size() + l.func_size();
}

void check_attrs(const tf::OpDef& def, const tf::NodeDef& node, const std::string& at, Problems* out) {
  for (const auto& a : def.attr()) {
    auto it = node.attr().find(a.name());
    if (it == node.attr().end()) {
      if (!a.has_default_value()) out->push_back(at + "missing required attr '" + a.name() + "'");
      continue;
    }
    const tf::AttrValue& v = it->second;
    if (!value_matches(a.type(), v)) {
      out->push_back(at + "attr '" + a.name() + "' should be of type " + a.type());
      continue;
    }
    if (a.has_minimum()) {
      if (a.type() == "int" && v.value_case() == tf::AttrValue::kI && v.i() < a.minimum()) {
        out->push_back(at + "attr '" + a.name() + "' is " + std::to_string(v.i()) + ", must be >= " + std::to_string(a.minimum()));
      } else if (v.value_case() == tf::AttrValue::kList && list_size(v.list()) < a.minimum()) {
        out->push_back(at + "attr '" + a.name() + "' has " + std::to_string(list_size(v.list())) + " values, needs at least " +
                       std::to_string(a.minimum()));
      }
    }
    if (a.has_allowed_values()) {
      const auto& allowed = a.allowed_values().list();
      if (a.type() == "string" && v.value_case() == tf::AttrValue::kS &&
          std::find(allowed.s().begin(), allowed.s().end(), v.s()) == allowed.s().end()) {
        out->push_back(at + "attr '" + a.name() + "' has value '" + v.s() + "', which the op does not allow");
      }
      if (a.type() == "type" && v.value_case() == tf::AttrValue::kType &&
          std::find(allowed.type().begin(), allowed.type().end(), v.type()) == allowed.type().end()) {
        out->push_back(at + "attr '" + a.name() + "' has type " + dtype_name(v.type()) + ", which the op does not allow");
      }
    }
  }
}

void check_tensor(const tf::TensorProto& t, const std::string& at, Problems* out) {
  const auto& shape = t.tensor_shape();
  for (const auto& d : shape.dim()) {
    if (d.size() < 0) {
      out->push_back(at + "constant has unknown dimension " + std::to_string(d.size()));
      return;
    }
  }
  auto n = num_elements(shape);
  if (!n) {
    out->push_back(at + "constant shape " + shape_string(shape) + " is too large");
    return;
  }
  int esize = dtype_size(t.dtype());
  if (!t.tensor_content().empty()) {
    if (esize == 0 || static_cast<std::uint64_t>(t.tensor_content().size()) != static_cast<std::uint64_t>(*n) * esize) {
      out->push_back(at + "constant of shape " + shape_string(shape) + " and dtype " + dtype_name(t.dtype()) + " has " +
                     std::to_string(t.tensor_content().size()) + " content bytes");
    }
    return;
  }
  int vals = t.float_val_size() + t.double_val_size() + t.int_val_size() + t.int64_val_size() + t.bool_val_size() +
             t.half_val_size() + t.string_val_size() + t.uint32_val_size() + t.uint64_val_size() +
             t.scomplex_val_size() / 2 + t.dcomplex_val_size() / 2 + t.resource_handle_val_size() + t.variant_val_size();
  if (vals > *n) {
    out->push_back(at + "constant of shape " + shape_string(shape) + " has " + std::to_string(vals) + " values");
  } else if (vals == 0 && *n > 0 && t.dtype() != tf::DT_RESOURCE && t.dtype() != tf::DT_VARIANT &&
             t.dtype() != tf::DT_STRING) {
    out->push_back(at + "constant of shape " + shape_string(shape) + " has no values");
  }
}

void check_function_refs(const tf::NodeDef& node, const std::unordered_set<std::string>& functions, const std::string& at,
                         Problems* out) {
  auto check = [&](const std::string& attr, const tf::NameAttrList& f) {
    if (!functions.count(f.name()) && !OpRegistry::global().find(f.name())) {
      out->push_back(at + "attr '" + attr + "' names function '" + f.name() + "', which the library does not have");
    }
  };
  for (const auto& [name, v] : node.attr()) {
    if (v.value_case() == tf::AttrValue::kFunc) check(name, v.func());
    if (v.value_case() == tf::AttrValue::kList)
      for (const auto& f : v.list().func()) check(name, f);
  }
}

// Checks shared by graph nodes and function-body nodes.
void check_node(const tf::NodeDef& node, const std::unordered_set<std::string>& functions, const std::string& scope,
                Problems* out) {
  const std::string at = where(node, scope);
  if (node.op().empty()) out->push_back(scope + "node '" + node.name() + "' has no op");
  bool seen_control = false;
  for (const auto& input : node.input()) {
    TensorRef ref = parse_input(input);
    if (!ref.valid) out->push_back(at + "malformed input '" + input + "'");
    if (ref.control) seen_control = true;
    else if (seen_control) out->push_back(at + "data input '" + input + "' after a control input");
  }
  if (const auto* def = OpRegistry::global().find(node.op())) {
    check_attrs(*def, node, at, out);
    int data_inputs = 0;
    for (const auto& input : node.input()) data_inputs += !input.empty() && input[0] != '^';
    if (auto expected = count_inputs(*def, node); expected && *expected != data_inputs) {
      out->push_back(at + "has " + std::to_string(data_inputs) + " data inputs; " + node.op() + " takes " + std::to_string(*expected));
    }
    if (node.op() == "Const") {
      auto it = node.attr().find("value");
      if (it != node.attr().end() && it->second.value_case() == tf::AttrValue::kTensor) {
        if (!is_mapped_const(node)) check_tensor(it->second.tensor(), at, out);  // a mapped value's bytes are checked as they are read
        else if (!mapped_source_open(node)) out->push_back(at + "names a mapped value (" + kMappedValueAttr + ") with no checkpoint open for it");
        auto dt = node.attr().find("dtype");
        if (dt != node.attr().end() && dt->second.type() != it->second.tensor().dtype()) {
          out->push_back(at + "dtype attr " + dtype_name(dt->second.type()) + " differs from its value's " +
                         dtype_name(it->second.tensor().dtype()));
        }
      }
    }
  }
  check_function_refs(node, functions, at, out);
}

// TensorFlow's importer refuses a tensor of one dtype bound to an input of another ("was passed
// int32 ... incompatible with expected float"); every consumer of the graph relies on it. A
// reference type counts as its value type, as in TensorFlow.
void check_input_dtype(const tf::NodeDef& node, const Edge& e, const tf::NodeDef& producer, Problems* out) {
  int data_index = 0;  // data inputs precede control ones (checked apart), but do not rely on it
  for (int k = 0; k < e.input_slot; ++k) data_index += !node.input(k).empty() && node.input(k)[0] != '^';
  auto given = output_dtype(producer, e.output), taken = input_dtype(node, data_index);
  if (!given || !taken || *given == tf::DT_INVALID || *taken == tf::DT_INVALID || base_type(*given) == base_type(*taken)) return;
  out->push_back(where(node, "") + "input " + std::to_string(e.input_slot) + " '" + node.input(e.input_slot) + "' is " +
                 dtype_name(base_type(*given)) + "; " + node.op() + " takes " + dtype_name(base_type(*taken)) + " there");
}

std::optional<int> outputs_of(const tf::NodeDef& node, const std::unordered_map<std::string, const tf::FunctionDef*>& library) {
  if (const auto* def = OpRegistry::global().find(node.op())) return count_outputs(*def, node);
  auto it = library.find(node.op());
  if (it != library.end()) return count_outputs(it->second->signature(), node);
  return std::nullopt;
}

void check_function(const tf::FunctionDef& f, const std::unordered_set<std::string>& functions, Problems* out) {
  const std::string scope = "function '" + f.signature().name() + "': ";
  std::unordered_set<std::string> names;
  for (const auto& arg : f.signature().input_arg()) names.insert(arg.name());
  for (const auto& node : f.node_def()) {
    if (node.name().empty()) out->push_back(scope + "a node has no name");
    else if (!names.insert(node.name()).second) out->push_back(scope + "duplicate node name '" + node.name() + "'");
  }
  for (const auto& node : f.node_def()) {
    check_node(node, functions, scope, out);
    for (const auto& input : node.input()) {
      TensorRef ref = parse_input(input);
      if (ref.valid && !names.count(std::string(ref.node))) {
        out->push_back(where(node, scope) + "input '" + input + "' names nothing in the function");
      }
    }
  }
  for (const auto& [ret, value] : f.ret()) {
    TensorRef ref = parse_input(value);
    if (!ref.valid || !names.count(std::string(ref.node))) {
      out->push_back(scope + "return value '" + ret + "' = '" + value + "' names nothing in the function");
    }
  }
}

}  // namespace

std::vector<std::string> validate_graph(const tf::GraphDef& graph) {
  Problems out;
  GraphView view(graph);
  std::unordered_set<std::string> functions;
  std::unordered_map<std::string, const tf::FunctionDef*> library;
  for (const auto& f : graph.library().function()) {
    if (!functions.insert(f.signature().name()).second) out.push_back("function '" + f.signature().name() + "' is defined twice");
    library[f.signature().name()] = &f;
  }
  for (int i = 0; i < graph.node_size(); ++i) {
    if (graph.node(i).name().empty()) out.push_back("node #" + std::to_string(i) + " (" + graph.node(i).op() + ") has no name");
  }
  for (const auto& name : view.duplicate_names()) out.push_back("duplicate node name '" + name + "'");
  for (const auto& d : view.dangling()) {
    out.push_back(where(graph.node(d.consumer), "") + "input '" + d.input + "' names no node in the graph");
  }
  for (int i = 0; i < graph.node_size(); ++i) {
    const auto& node = graph.node(i);
    check_node(node, functions, "", &out);
    for (const auto& e : view.inputs(i)) {
      if (e.control()) continue;
      const auto& producer = view.node(e.producer);
      auto n = outputs_of(producer, library);
      if (n && e.output >= *n) {
        out.push_back(where(node, "") + "input '" + node.input(e.input_slot) + "' asks for output " + std::to_string(e.output) +
                      " of '" + producer.name() + "', which has " + std::to_string(*n));
      } else {
        check_input_dtype(node, e, producer, &out);
      }
    }
  }
  for (const auto& f : graph.library().function()) check_function(f, functions, &out);
  try {
    view.topological_order();
  } catch (const Error& e) {
    out.push_back(e.what());
  }
  return out;
}

void refuse_invalid_input(const tf::GraphDef& graph, const std::string& source) {
  auto problems = validate_graph(graph);
  if (!problems.empty()) {
    throw Error(ExitCode::kBadInput, source + ": the graph is invalid: " + problems.front() + " (`tffreeze validate` lists every problem)");
  }
}

}  // namespace tffreeze::graph
