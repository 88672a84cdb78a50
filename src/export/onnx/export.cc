#include "export/onnx/export.h"

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include <set>

#include "common/dtype.h"
#include "common/error.h"
#include "export/onnx/control_flow.h"
#include "export/onnx/converters.h"
#include "export/onnx/fusions.h"
#include "graph/default_attrs.h"
#include "graph/graph_view.h"
#include "graph/tensor_ref.h"
#include "runtime/executor.h"
#include "runtime/verify.h"

namespace tffreeze::onnx_export {

namespace {

// Ops that need no converter: inputs, weights and nodes with no data output.
bool is_structural(const std::string& op) { return op == "Placeholder" || op == "Const" || op == "NoOp"; }

// ONNX has no control dependencies: what only a control edge reaches (an Assert, a NoOp) does not
// compute an output and is not exported.
std::vector<int> needed_in_order(const graph::GraphView& view, const std::vector<std::string>& outputs) {
  std::vector<bool> needed(static_cast<std::size_t>(view.size()), false);
  std::vector<int> stack;
  for (const auto& o : outputs) {
    const int i = view.find(graph::parse_input(o).node);
    if (i < 0) throw Error(ExitCode::kUsage, "output '" + o + "' names no node of the graph");
    stack.push_back(i);
  }
  while (!stack.empty()) {
    const int i = stack.back();
    stack.pop_back();
    if (needed[static_cast<std::size_t>(i)]) continue;
    needed[static_cast<std::size_t>(i)] = true;
    for (const auto& e : view.inputs(i))
      if (!e.control()) stack.push_back(e.producer);
  }
  std::vector<int> order;
  for (int i : view.topological_order())
    if (needed[static_cast<std::size_t>(i)]) order.push_back(i);
  return order;
}

// A tensor seen again (a loop's next iteration, a cond's other branch): dims that changed are
// unknown (-1).
void note(std::map<std::string, TensorInfo>& info, const std::string& name, TensorInfo seen) {
  auto [it, added] = info.emplace(name, seen);
  if (added) return;
  if (it->second.shape.size() != seen.shape.size()) {
    it->second.rank_varies = true;
    return;
  }
  for (std::size_t k = 0; k < seen.shape.size(); ++k)
    if (it->second.shape[k] != seen.shape[k]) it->second.shape[k] = -1;
}

void observe_run(const tf::GraphDef& graph, const ExportOptions& o, std::map<std::string, TensorInfo>& info) {
  runtime::Executor executor(graph);
  // The executor computes half and bfloat16 in float32: the dtype ONNX sees is the declared one.
  executor.set_observer(
      [&](const tf::NodeDef& node, int k, const Tensor& t) {
        tf::DataType dtype = t.dtype;
        if (auto declared = graph::output_dtype(node, k); declared && dtype == tf::DT_FLOAT) dtype = *declared;
        note(info, graph::tensor_name(node.name(), k), {dtype, t.shape});
      },
      /*inside_loops=*/true);
  auto feeds = o.example_feeds.empty() ? runtime::random_feeds(runtime::needed_placeholders(graph, o.outputs), o.shapes, 1) : o.example_feeds;
  executor.run(feeds, o.outputs);
}

// One executor run on random inputs: every tensor's dtype and static shape. Branches of conds
// the inputs do not take are seen in runs with the predicates forced (best effort: a branch may
// fail on values it is guarded from).
std::map<std::string, TensorInfo> observe_tensors(const tf::GraphDef& graph, const ExportOptions& o) {
  std::map<std::string, TensorInfo> info;
  observe_run(graph, o, info);
  for (const auto& variant : forced_cond_variants(graph)) {
    try {
      observe_run(variant, o, info);
    } catch (const Error&) {
    }
  }
  return info;
}

void set_type(onnx::ValueInfoProto* v, tf::DataType dtype, const std::vector<std::int64_t>& dims, bool known) {
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx_dtype(dtype));
  if (!known) return;
  auto* shape = t->mutable_shape();
  for (std::size_t k = 0; k < dims.size(); ++k) {
    auto* d = shape->add_dim();
    if (dims[k] >= 0) d->set_dim_value(dims[k]);
    else d->set_dim_param(v->name() + "_d" + std::to_string(k));
  }
}

void add_graph_input(const tf::NodeDef& p, onnx::GraphProto* g) {
  auto* v = g->add_input();
  v->set_name(p.name());
  const tf::DataType dtype = attr_type(p, "dtype", tf::DT_FLOAT);
  if (onnx_dtype(dtype) == onnx::TensorProto::UNDEFINED) no_onnx_form(p, "an input of dtype " + dtype_name(dtype));
  auto it = p.attr().find("shape");
  // An ONNX graph input has a rank (ONNX's checker requires the shape field).
  if (it == p.attr().end() || it->second.shape().unknown_rank()) {
    throw Error(ExitCode::kUnsupported, "input '" + p.name() + "' has an unknown rank, which an ONNX input cannot have; give its shape (--shape " +
                                            p.name() + "=[...], or freeze --replace-input " + p.name() + "=DTYPE[...])");
  }
  set_type(v, dtype, dims_of(it->second.shape()), true);
}

// Graph outputs carry the names the user gave: "x:0", or another name than the value's, needs an
// Identity to carry it; a value that is already an input or a weight of that name is the output.
// `internal`: the tensors of the prepared graph that carry them.
void add_graph_outputs(const std::vector<std::string>& outputs, const std::vector<std::string>& internal, ExportContext& ctx) {
  std::set<std::string> defined;
  for (const auto& n : ctx.graph().node())
    for (const auto& v : n.output()) defined.insert(v);
  for (const auto& i : ctx.graph().input()) defined.insert(i.name());
  for (const auto& t : ctx.graph().initializer()) defined.insert(t.name());
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    const std::string& name = outputs[k];
    const std::string value = ExportContext::value(internal[k]);
    if (value != name || !defined.count(value)) ctx.add_node("Identity", {value}, {name}, "output_" + name);
    auto* v = ctx.graph().add_output();
    v->set_name(name);
    const TensorInfo& info = ctx.info(internal[k]);
    set_type(v, info.dtype, info.shape, !info.rank_varies);
  }
}

void collect_inputs(const onnx::GraphProto& g, std::set<std::string>& used) {
  for (const auto& n : g.node()) {
    for (const auto& i : n.input()) used.insert(i);
    for (const auto& a : n.attribute())
      if (a.has_g()) collect_inputs(a.g(), used);  // Loop bodies and If branches read outer values
  }
}

// Initializers no node reads (weights replaced by their ONNX layout) are dropped.
void drop_unused_initializers(onnx::GraphProto* g) {
  std::set<std::string> used;
  collect_inputs(*g, used);
  for (const auto& o : g->output()) used.insert(o.name());
  auto* inits = g->mutable_initializer();
  for (int i = inits->size() - 1; i >= 0; --i)
    if (!used.count(inits->Get(i).name())) inits->DeleteSubrange(i, 1);
}

}  // namespace

int ir_version_for(int opset) {
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

std::map<std::string, std::vector<std::string>> ops_without_onnx_form(const tf::GraphDef& graph, const std::vector<std::string>& outputs) {
  graph::GraphView view(graph);
  std::map<std::string, std::vector<std::string>> missing;
  const auto& registry = ConverterRegistry::global();
  for (int i : needed_in_order(view, outputs)) {
    const auto& n = view.node(i);
    if (!is_structural(n.op()) && !registry.find(n.op())) missing[n.op()].push_back(n.name());
  }
  return missing;
}

onnx::ModelProto to_onnx(const tf::GraphDef& original, const ExportOptions& user, std::vector<std::string>* fusions) {
  if (user.opset < kMinOpset || user.opset > kMaxOpset) {
    throw Error(ExitCode::kUsage, "--opset " + std::to_string(user.opset) + ": supported are " + std::to_string(kMinOpset) + " to " +
                                      std::to_string(kMaxOpset));
  }
  const PreparedGraph prepared = prepare_control_flow(original, user.outputs);
  const tf::GraphDef& graph = prepared.graph;
  ExportOptions o = user;
  o.outputs = prepared.outputs;
  auto missing = ops_without_onnx_form(graph, o.outputs);
  if (!missing.empty()) {
    std::string list;
    for (const auto& [op, nodes] : missing) list += (list.empty() ? "" : ", ") + op + " ('" + nodes.front() + "'" + (nodes.size() > 1 ? " and " + std::to_string(nodes.size() - 1) + " more" : "") + ")";
    throw Error(ExitCode::kUnsupported, "no ONNX form for " + list);
  }
  onnx::ModelProto model;
  model.set_ir_version(ir_version_for(o.opset));
  model.set_producer_name("tffreeze");
  model.set_producer_version(TFFREEZE_VERSION);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(o.opset);
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name("tffreeze");

  graph::GraphView view(graph);
  const auto order = needed_in_order(view, o.outputs);
  std::map<std::string, const tf::NodeDef*> constants;
  for (int i : order)
    if (view.node(i).op() == "Const") constants[view.node(i).name()] = &view.node(i);
  add_constant_enters(view, constants);
  ExportContext ctx(g, o.opset, observe_tensors(graph, o), constants);
  const auto& registry = ConverterRegistry::global();
  export_nodes(view, order, ctx, [&](const tf::NodeDef& n, ExportContext& scope) {
    if (n.op() == "Placeholder") add_graph_input(n, g);
    else if (n.op() == "Const") to_onnx_tensor(*scope.constant(n.name()), n.name(), g->add_initializer());  // named as the TF tensor
    else if (n.op() != "NoOp") registry.find(n.op())(n, scope);
  });
  add_graph_outputs(user.outputs, o.outputs, ctx);
  auto fused = fuse_onnx_patterns(&model);
  if (fusions) *fusions = std::move(fused);
  drop_unused_initializers(g);
  check_values_defined(*g);
  // Debian's checker (ONNX 1.12) knows opsets up to 17; newer ones are checked by onnxruntime in the tests.
  if (o.opset <= kCheckerMaxOpset) {
    if (auto problem = onnx_checker_problem(model); !problem.empty()) {
      // TensorFlow's v1 loops let a variable change rank between iterations; ONNX's Loop does
      // not (its shape inference merges the body's result with the initial value). A loop that
      // did not iterate on the example inputs shows it only here.
      if (problem.find("(op_type:Loop") != std::string::npos && problem.find("differ in rank") != std::string::npos) {
        throw Error(ExitCode::kUnsupported, "a loop variable changes rank between iterations, which has no ONNX form (ONNX's checker: " +
                                                problem.substr(0, 300) + ")");
      }
      throw_internal("the ONNX model does not pass ONNX's checker: " + problem);
    }
  }
  return model;
}

std::string onnx_checker_problem(const onnx::ModelProto& model) {
  try {
    onnx::checker::check_model(model);
    // What onnx.checker.check_model(full_check=True) adds: strict type and shape inference.
    onnx::ModelProto inferred = model;
    onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(), onnx::ShapeInferenceOptions(true, 1, false));
  } catch (const std::exception& e) {
    std::string what = e.what();
    for (auto& c : what)
      if (c == '\n') c = ' ';
    return what;
  }
  return "";
}

}  // namespace tffreeze::onnx_export
