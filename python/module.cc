// `import tffreeze`: the CLI's commands as Python functions, calling the same library code
// (src/api/) so that results equal the CLI's byte for byte. Long calls release the GIL; library
// errors become tffreeze.Error with the CLI's exit code and one-line message.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <ostream>

#include "api/check.h"
#include "api/freeze.h"
#include "api/inspect.h"
#include "api/onnx_output.h"
#include "api/optimize.h"
#include "api/run.h"
#include "api/save.h"
#include "common/dtype.h"
#include "common/error.h"
#include "graph/summary.h"
#include "graph/validate.h"
#include "io/model.h"
#include "io/proto_io.h"
#include "module.h"
#include "numpy_tensor.h"

namespace tffreeze::python {

using json = nlohmann::json;
using StringList = std::optional<std::vector<std::string>>;

py::object to_python(const json& value) {
  return py::module_::import("json").attr("loads")(value.dump(-1, ' ', false, json::error_handler_t::replace));
}

namespace {

PyObject* error_class = nullptr;  // tffreeze.Error; lives as long as the interpreter

// Raises tffreeze.Error(message) with .exit_code and .message. Messages quote the user's files,
// which may hold bytes that are not UTF-8: decoded with U+FFFD, never a second error.
void set_error(int exit_code, const std::string& message) {
  py::object text = py::reinterpret_steal<py::object>(PyUnicode_DecodeUTF8(message.data(), static_cast<py::ssize_t>(message.size()), "replace"));
  py::object error = py::reinterpret_borrow<py::object>(error_class)(text);
  error.attr("exit_code") = exit_code;
  error.attr("message") = text;
  PyErr_SetObject(error_class, error.ptr());
}

void translate(std::exception_ptr p) {
  try {
    if (p) std::rethrow_exception(p);
  } catch (const py::error_already_set&) {
    throw;  // a Python exception (TypeError...) stays what it is
  } catch (const py::builtin_exception&) {
    throw;
  } catch (const Error& e) {
    set_error(static_cast<int>(e.code()), one_line(e.what()));
  } catch (const std::bad_alloc&) {
    PyErr_SetString(PyExc_MemoryError, "tffreeze: out of memory");
  } catch (const std::exception& e) {
    set_error(static_cast<int>(ExitCode::kInternal), one_line(internal_error_message(e.what())));  // as the CLI: exit 5
  }
}

// What the CLI prints as it works; Python returns it in the report instead.
std::ostream& quiet() {
  static std::ostream sink(nullptr);
  return sink;
}

// A graph in memory: what freeze and optimize return.
struct Graph {
  tf::GraphDef graph;
  json report;
  std::vector<std::string> outputs;  // the frozen/optimized outputs; empty: inferred
  std::string source;                // the model it came from, for messages

  io::Model model() const {
    io::Model m;
    m.path = source;
    *m.mutable_graph() = graph;
    return m;
  }
  std::vector<std::string> fetches() const { return outputs.empty() ? graph::likely_outputs(model()) : outputs; }
};

// A model argument: a path (str or os.PathLike) or a Graph.
struct ModelArg {
  std::string path;
  const Graph* graph = nullptr;
  io::Model load(const StringList& tags = std::nullopt) const {
    return graph ? graph->model() : io::load_model(path, {tags.value_or(std::vector<std::string>{})});
  }
  const std::string& name() const { return graph ? graph->source : path; }
};

ModelArg model_arg(const py::handle& value, const char* what) {
  ModelArg arg;
  if (py::isinstance<Graph>(value)) {
    arg.graph = &value.cast<const Graph&>();
    return arg;
  }
  if (py::isinstance<py::str>(value) || py::hasattr(value, "__fspath__")) {
    py::object path = py::module_::import("os").attr("fsdecode")(value);
    arg.path = path.cast<std::string>();
    return arg;
  }
  throw py::type_error(std::string(what) + " must be a path (str or os.PathLike) or a tffreeze.Graph, not " +
                       py::str(py::type::handle_of(value).attr("__name__")).cast<std::string>());
}

std::string path_arg(const py::handle& value, const char* what) {
  ModelArg arg = model_arg(value, what);
  if (arg.graph) throw py::type_error(std::string(what) + " must be a path here, not a tffreeze.Graph");
  return arg.path;
}

std::map<std::string, Tensor> feeds_arg(const py::handle& feeds) {
  std::map<std::string, Tensor> out;
  if (feeds.is_none()) return out;
  if (!py::isinstance<py::dict>(feeds)) throw py::type_error("feeds must be a dict of tensor name -> array");
  for (const auto& [key, value] : py::reinterpret_borrow<py::dict>(feeds)) {
    if (!py::isinstance<py::str>(key)) throw py::type_error("feeds: keys must be tensor names (str)");
    const std::string name = key.cast<std::string>();
    out[name] = to_tensor(value, "feed '" + name + "'");
  }
  return out;
}

// {"is_training": False} -> "is_training=false", as --set takes it.
std::vector<std::string> specs_arg(const py::handle& values, const char* what) {
  std::vector<std::string> out;
  if (values.is_none()) return out;
  if (!py::isinstance<py::dict>(values)) throw py::type_error(std::string(what) + " must be a dict");
  for (const auto& [key, value] : py::reinterpret_borrow<py::dict>(values)) {
    if (!py::isinstance<py::str>(key)) throw py::type_error(std::string(what) + ": keys must be names (str)");
    std::string text;
    if (py::isinstance<py::bool_>(value)) text = value.cast<bool>() ? "true" : "false";
    else if (py::isinstance<py::str>(value)) text = value.cast<std::string>();
    else text = py::str(value).cast<std::string>();
    out.push_back(key.cast<std::string>() + "=" + text);
  }
  return out;
}

// {"x": [1, 224, 224, 3]} -> "x=[1,224,224,3]", as --shape takes it.
std::vector<std::string> shapes_arg(const std::optional<std::map<std::string, std::vector<std::int64_t>>>& shapes) {
  std::vector<std::string> out;
  if (!shapes) return out;
  for (const auto& [name, dims] : *shapes) {
    std::string spec = name + "=[";
    for (std::size_t i = 0; i < dims.size(); ++i) spec += (i ? "," : "") + std::to_string(dims[i]);
    out.push_back(spec + "]");
  }
  return out;
}

py::dict outputs_dict(const std::vector<std::string>& names, std::vector<Tensor>&& values) {
  py::dict out;
  for (std::size_t i = 0; i < names.size(); ++i) out[py::str(names[i])] = to_numpy(std::move(values[i]));
  return out;
}

py::dict run_graph(const tf::GraphDef& graph, const std::vector<std::string>& outputs, const py::handle& feeds) {
  auto tensors = feeds_arg(feeds);
  std::vector<Tensor> values;
  {
    py::gil_scoped_release release;
    values = api::run_graph(graph, outputs, tensors);
  }
  return outputs_dict(outputs, std::move(values));
}

// --- the functions ---

py::object inspect(const py::handle& model, const StringList& tags) {
  ModelArg arg = model_arg(model, "model");
  json summary;
  {
    py::gil_scoped_release release;
    summary = arg.graph ? api::model_summary_json(arg.load()) : api::inspect_json(arg.path, tags.value_or(std::vector<std::string>{}));
  }
  return to_python(summary);
}

std::vector<std::string> validate(const py::handle& model, const StringList& tags) {
  ModelArg arg = model_arg(model, "model");
  py::gil_scoped_release release;
  return graph::validate_graph(arg.load(tags).graph());
}

api::OptimizeOptions optimize_options(const std::string& target, const std::optional<std::string>& transforms, bool verify) {
  api::OptimizeOptions o;
  o.target = target;
  o.transforms = transforms.value_or("");
  o.no_verify = !verify;
  return o;
}

// A failed proof is exit 1 in the CLI, with this message; here an Error.
void raise_failure(const api::Optimized& result) {
  if (!result.failure.empty()) throw Error(ExitCode::kCheckFailed, result.failure);
}

Graph freeze(const py::handle& model, const py::handle& checkpoint, const StringList& outputs, const StringList& inputs,
             const std::optional<std::string>& signature, const StringList& tags, bool use_moving_averages,
             const std::optional<std::string>& moving_average_name, const py::handle& set, const py::handle& replace_input, bool keep_conds,
             bool lower_loops, bool optimize, const std::string& target, const std::optional<std::string>& transforms, bool verify) {
  api::FreezeRequest request;
  request.model = path_arg(model, "model");
  if (!checkpoint.is_none()) request.checkpoint = path_arg(checkpoint, "checkpoint");
  request.tags = tags.value_or(std::vector<std::string>{});
  request.sets = specs_arg(set, "set");
  freeze::FreezeOptions& o = request.options;
  o.outputs = outputs.value_or(std::vector<std::string>{});
  o.inputs = inputs.value_or(std::vector<std::string>{});
  o.signature = signature.value_or("");
  o.use_moving_averages = use_moving_averages;
  if (moving_average_name) o.moving_average_name = *moving_average_name;
  o.replace_inputs = specs_arg(replace_input, "replace_input");
  o.keep_functional_conds = keep_conds;
  o.lower_loops = lower_loops;
  api::OptimizeOptions opt = optimize_options(target, transforms, verify);
  py::gil_scoped_release release;
  if (optimize) api::check_optimize_usage(opt, "");  // usage errors before any work, as the CLI
  api::Frozen frozen = api::freeze_request(request);
  Graph g{std::move(frozen.result.graph), freeze::report_json(frozen.result.report), frozen.result.report.outputs, request.model};
  if (!optimize) return g;
  opt.outputs = g.outputs;
  api::Optimized result = api::optimize_graph(std::move(g.graph), opt, request.model, "", quiet());
  raise_failure(result);
  g.graph = std::move(result.graph);
  g.report["optimize"] = std::move(result.report);
  return g;
}

Graph optimize(const py::handle& model, const std::string& target, const std::optional<std::string>& transforms, const StringList& outputs,
               const std::optional<std::map<std::string, std::vector<std::int64_t>>>& shapes, bool verify) {
  ModelArg arg = model_arg(model, "model");
  api::OptimizeOptions o = optimize_options(target, transforms, verify);
  o.outputs = outputs.value_or(arg.graph ? arg.graph->outputs : std::vector<std::string>{});
  o.shapes = shapes_arg(shapes);
  py::gil_scoped_release release;
  api::check_optimize_usage(o, "");
  api::Optimized result = api::optimize_model(arg.load(), o, arg.name(), "", quiet());
  raise_failure(result);
  return Graph{std::move(result.graph), std::move(result.report), std::move(result.outputs), arg.name()};
}

py::dict run(const py::handle& model, const py::handle& feeds, const StringList& outputs, const py::handle& checkpoint, const StringList& tags) {
  ModelArg arg = model_arg(model, "model");
  api::Runnable runnable;
  if (arg.graph) {
    std::vector<std::string> fetches = outputs.value_or(arg.graph->fetches());
    py::dict result = run_graph(arg.graph->graph, fetches, feeds);
    return result;
  }
  const std::string ckpt = checkpoint.is_none() ? "" : path_arg(checkpoint, "checkpoint");
  {
    py::gil_scoped_release release;
    runnable = api::runnable_model(arg.path, ckpt, tags.value_or(std::vector<std::string>{}), outputs.value_or(std::vector<std::string>{}));
  }
  return run_graph(runnable.graph, runnable.outputs, feeds);
}

py::dict verify(const py::handle& a, const py::handle& b, const py::handle& feeds, int random, double rtol, double atol, const StringList& outputs,
                std::uint64_t seed, const std::optional<std::map<std::string, std::vector<std::int64_t>>>& shapes) {
  if (random < 1) throw py::value_error("random must be at least 1 (the number of random input batches)");
  ModelArg ma = model_arg(a, "a"), mb = model_arg(b, "b");
  api::VerifyOptions o;
  o.feeds = feeds_arg(feeds);
  o.outputs = outputs.value_or(std::vector<std::string>{});
  o.shapes = shapes_arg(shapes);
  o.random = random, o.seed = seed, o.rtol = rtol, o.atol = atol;
  api::Verified verified;
  {
    py::gil_scoped_release release;
    verified = api::verify_models(ma.load(), mb.load(), o);
  }
  py::dict out;
  for (const auto& [name, d] : verified.differences) {
    out[py::str(name)] = py::dict(py::arg("max_abs") = d.max_abs, py::arg("max_rel") = d.max_rel,
                                  py::arg("within_tolerance") = d.within_tolerance, py::arg("mismatch") = d.mismatch);
  }
  return out;
}

py::list check(const py::handle& model, const std::string& target) {
  ModelArg arg = model_arg(model, "model");
  api::CheckResult result;
  {
    py::gil_scoped_release release;
    result = arg.graph ? api::check_model(arg.load(), target) : api::check_path(arg.path, target);
  }
  py::list out;
  for (const auto& f : result.findings)
    out.append(py::dict(py::arg("node") = f.node, py::arg("op") = f.op, py::arg("rule") = f.rule, py::arg("fix") = f.fix));
  return out;
}

// --- Graph's methods ---

void save(const Graph& g, const py::handle& path_value) {
  const std::string path = path_arg(path_value, "path");
  py::gil_scoped_release release;
  if (!api::is_onnx_output(path)) return api::save_tf_graph(g.graph, path, quiet());
  json report;
  api::write_onnx(g.graph, g.fetches(), {}, api::OnnxOutputOptions{}, path, &report, quiet());
}

py::object summary_field(const Graph& g, const char* field) {
  json summary;
  {
    py::gil_scoped_release release;
    summary = graph::summarize_model(g.model());
  }
  return to_python(summary[field]);
}

py::list outputs_of(const Graph& g) {
  std::vector<api::OutputInfo> infos;
  {
    py::gil_scoped_release release;
    infos = api::output_infos(g.graph, g.fetches());
  }
  py::list out;
  for (const auto& o : infos) {
    py::object shape = o.shape ? py::cast(*o.shape) : py::none();
    out.append(py::dict(py::arg("name") = o.name, py::arg("op") = o.op, py::arg("dtype") = dtype_name(o.dtype), py::arg("shape") = shape));
  }
  return out;
}

void bind_graph(py::module_& m) {
  py::class_<Graph>(m, "Graph", "A TensorFlow graph in memory, as freeze and optimize return it.")
      .def("save", &save, py::arg("path"),
           "Write the graph by the extension: .pb (binary GraphDef), .pbtxt (text), .json (a TF.js graph model with its weights),\n"
           ".onnx (ONNX, proven as `tffreeze convert` proves it). The bytes equal the CLI's for the same graph. Atomic.")
      .def("to_bytes", [](const Graph& g) { return py::bytes(io::to_binary(g.graph)); }, "The binary GraphDef (the bytes .save writes to a .pb).")
      .def("run", [](const Graph& g, const py::handle& feeds, const StringList& outputs) { return run_graph(g.graph, outputs.value_or(g.fetches()), feeds); },
           py::arg("feeds"), py::arg("outputs") = py::none(),
           "Run on the CPU with the reference executor: {name: array} in, {output: array} out (default outputs: the graph's).")
      .def_property_readonly("inputs", [](const Graph& g) { return summary_field(g, "inputs"); }, "The inputs: [{name, op, dtype, shape, ...}]")
      .def_property_readonly("outputs", &outputs_of,
                             "The outputs: [{name, op, dtype, shape}] (those it was frozen or optimized for, else the inferred ones);\n"
                             "shape from a run on random inputs, -1 where it follows an input's unknown dimension, None if it cannot run")
      .def_property_readonly("ops", [](const Graph& g) { return summary_field(g, "ops"); }, "Op type -> node count")
      .def_property_readonly("report", [](const Graph& g) { return to_python(g.report); },
                             "The freeze report (as --report writes it; 'optimize' inside when optimized) or the optimize report")
      .def_property_readonly("node_count", [](const Graph& g) { return g.graph.node_size(); })
      .def("__repr__", [](const Graph& g) { return "tffreeze.Graph(" + std::to_string(g.graph.node_size()) + " nodes from '" + g.source + "')"; });
}

}  // namespace

}  // namespace tffreeze::python

PYBIND11_MODULE(tffreeze, m) {
  using namespace tffreeze::python;
  m.doc() = "tffreeze: freeze, optimize, validate and run TensorFlow models without TensorFlow.\n\n"
            "Every function mirrors a CLI command and calls the same code; failures raise tffreeze.Error with the CLI's\n"
            "exit_code and one-line message.";
  m.attr("__version__") = TFFREEZE_VERSION;
  error_class = PyErr_NewExceptionWithDoc("tffreeze.Error",
                                          "A failure of tffreeze: .exit_code is the CLI's exit code (1 check failed, 2 usage, 3 bad input, "
                                          "4 unsupported, 5 internal), .message its one-line message.",
                                          PyExc_Exception, nullptr);
  m.attr("Error") = py::handle(error_class);
  py::register_exception_translator(&translate);
  bind_graph(m);
  bind_checkpoint(m);
  const auto none = py::none();
  m.def("inspect", &inspect, py::arg("model"), py::arg("tags") = none,
        "The `tffreeze inspect --json` object of a model, an ONNX file or a checkpoint, as a dict.");
  m.def("validate", &validate, py::arg("model"), py::arg("tags") = none,
        "The graph's problems, one string each (as `tffreeze validate` lists them); empty when it is valid.");
  m.def("freeze", &freeze, py::arg("model"), py::arg("checkpoint") = none, py::arg("outputs") = none, py::arg("inputs") = none,
        py::arg("signature") = none, py::arg("tags") = none, py::arg("use_moving_averages") = false, py::arg("moving_average_name") = none,
        py::arg("set") = none, py::arg("replace_input") = none, py::arg("keep_conds") = false, py::arg("lower_loops") = false,
        py::arg("optimize") = false, py::arg("target") = "generic", py::arg("transforms") = none, py::arg("verify") = true,
        "Freeze a model as `tffreeze freeze` does: variables become the checkpoint's values, only what the outputs need stays.\n\n"
        "set: {\"is_training\": False} makes placeholders constants; replace_input: {\"batch\": \"float32[1,224,224,3]\"} makes a\n"
        "tensor a placeholder. optimize=True then optimizes for target (or transforms) and proves the result unchanged\n"
        "(verify=False skips the proof). Returns a Graph; its .report is the freeze report.");
  m.def("optimize", &optimize, py::arg("model"), py::arg("target") = "generic", py::arg("transforms") = none, py::arg("outputs") = none,
        py::arg("shapes") = none, py::arg("verify") = true,
        "Optimize a model or Graph as `tffreeze optimize` does: the target's pipeline (or transforms, e.g.\n"
        "'strip_unused_nodes fold_batch_norms'), each pass validated, the result proven unchanged on random inputs\n"
        "(shapes: {name: [dims]} for inputs of unknown shape). Raises Error (exit_code 1) when it computes different numbers.");
  m.def("run", &run, py::arg("model"), py::arg("feeds"), py::arg("outputs") = none, py::arg("checkpoint") = none, py::arg("tags") = none,
        "Run a model or Graph on the CPU: feeds {name: array}, returns {output: array} (default outputs: the inferred ones).");
  m.def("verify", &verify, py::arg("a"), py::arg("b"), py::arg("feeds") = none, py::arg("random") = 1, py::arg("rtol") = 1e-5,
        py::arg("atol") = 1e-5, py::arg("outputs") = none, py::arg("seed") = 0, py::arg("shapes") = none,
        "Run two models on the same inputs (feeds, else `random` random batches) and compare every common output:\n"
        "{output: {max_abs, max_rel, within_tolerance, mismatch}}.");
  m.def("check", &check, py::arg("model"), py::arg("target"),
        "Every node the target (generic, opencv, tflite, tensorrt; for .onnx: onnxruntime, tensorrt, opencv) would reject:\n"
        "[{node, op, rule, fix}].");
}
