#include "export/onnx/export.h"

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include <set>

#include "common/dtype.h"
#include "common/error.h"
#include "export/onnx/converters.h"
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

// One executor run on random inputs: every tensor's dtype and static shape.
std::map<std::string, TensorInfo> observe_tensors(const tf::GraphDef& graph, const ExportOptions& o) {
  std::map<std::string, TensorInfo> info;
  runtime::Executor executor(graph);
  // The executor computes half and bfloat16 in float32: the dtype ONNX sees is the declared one.
  executor.set_observer([&](const tf::NodeDef& node, int k, const Tensor& t) {
    tf::DataType dtype = t.dtype;
    if (auto declared = graph::output_dtype(node, k); declared && dtype == tf::DT_FLOAT) dtype = *declared;
    info[graph::tensor_name(node.name(), k)] = {dtype, t.shape};
  });
  auto feeds = o.example_feeds.empty() ? runtime::random_feeds(runtime::needed_placeholders(graph, o.outputs), o.shapes, 1) : o.example_feeds;
  executor.run(feeds, o.outputs);
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
  const bool known = it != p.attr().end() && !it->second.shape().unknown_rank();
  set_type(v, dtype, known ? dims_of(it->second.shape()) : std::vector<std::int64_t>{}, known);
}

// Graph outputs carry the names the user gave: "x:0", or another name than the value's, needs an
// Identity to carry it; a value that is already an input or a weight of that name is the output.
void add_graph_outputs(const std::vector<std::string>& outputs, ExportContext& ctx) {
  std::set<std::string> defined;
  for (const auto& n : ctx.graph().node())
    for (const auto& v : n.output()) defined.insert(v);
  for (const auto& i : ctx.graph().input()) defined.insert(i.name());
  for (const auto& t : ctx.graph().initializer()) defined.insert(t.name());
  for (const auto& name : outputs) {
    const std::string value = ExportContext::value(name);
    if (value != name || !defined.count(value)) ctx.add_node("Identity", {value}, {name}, "output_" + name);
    auto* v = ctx.graph().add_output();
    v->set_name(name);
    const TensorInfo& info = ctx.info(name);
    set_type(v, info.dtype, info.shape, true);
  }
}

// Initializers no node reads (weights replaced by their ONNX layout) are dropped.
void drop_unused_initializers(onnx::GraphProto* g) {
  std::set<std::string> used;
  for (const auto& n : g->node())
    for (const auto& i : n.input()) used.insert(i);
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

onnx::ModelProto to_onnx(const tf::GraphDef& graph, const ExportOptions& o) {
  if (o.opset < kMinOpset || o.opset > kMaxOpset) {
    throw Error(ExitCode::kUsage, "--opset " + std::to_string(o.opset) + ": supported are " + std::to_string(kMinOpset) + " to " +
                                      std::to_string(kMaxOpset));
  }
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
  ExportContext ctx(g, o.opset, observe_tensors(graph, o), constants);
  const auto& registry = ConverterRegistry::global();
  for (int i : order) {
    const tf::NodeDef& n = view.node(i);
    if (n.op() == "Placeholder") add_graph_input(n, g);
    else if (n.op() == "Const") to_onnx_tensor(*ctx.constant(n.name()), n.name(), g->add_initializer());  // named as the TF tensor
    else if (n.op() != "NoOp") registry.find(n.op())(n, ctx);
  }
  add_graph_outputs(o.outputs, ctx);
  drop_unused_initializers(g);
  // Debian's checker (ONNX 1.12) knows opsets up to 17; newer ones are checked by onnxruntime in the tests.
  if (o.opset <= kCheckerMaxOpset) {
    if (auto problem = onnx_checker_problem(model); !problem.empty()) throw_internal("the ONNX model does not pass ONNX's checker: " + problem);
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
