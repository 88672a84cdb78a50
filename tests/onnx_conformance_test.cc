// TensorFlow's own outputs as the oracle of the ONNX export: every graph of the conformance corpus
// that our executor reproduces is exported (its `in_N` variables, frozen as constants, become the
// inputs again, fed their values, so that the computation is not folded away) and onnxruntime
// must reproduce TensorFlow's values within the corpus tolerance. One line per op group and a
// total; the graphs without an ONNX form are refused naming the op.
#include <filesystem>
#include <iostream>
#include <regex>

#include "common/error.h"
#include "conformance_corpus.h"
#include "export/onnx/export.h"
#include "export/onnx/prepare.h"
#include "graph/node_builders.h"
#include "io/model.h"
#include "io/onnx_file.h"
#include "onnx_support.h"

namespace tffreeze {
namespace {

using namespace test;

// The corpus's inputs were variables named in_0, in_1, ...: placeholders again, fed their values
// (only the floating ones when `floating_only`: integer inputs are often axes or shapes, which
// ONNX needs constant).
void constants_to_inputs(tf::GraphDef* graph, std::map<std::string, Tensor>* feeds, bool floating_only) {
  static const std::regex input_name("in_[0-9]+");
  for (auto& n : *graph->mutable_node()) {
    if (n.op() != "Const" || !std::regex_match(n.name(), input_name)) continue;
    Tensor value = tensor_from_proto(n.attr().at("value").tensor(), n.name());
    const bool floating = value.dtype == tf::DT_FLOAT || value.dtype == tf::DT_DOUBLE || value.dtype == tf::DT_HALF || value.dtype == tf::DT_BFLOAT16;
    if (value.dtype == tf::DT_STRING || (floating_only && !floating)) continue;
    n = graph::make_placeholder(n.name(), value.dtype, shape_proto(value.shape));
    (*feeds)[n.name()] = std::move(value);
  }
}

// onnxruntime's Node.js binding cannot hand out bfloat16 tensors: the harness reads such outputs
// through a Cast to float32 (exact: every bfloat16 is a float32). Returns whether it added one.
bool widen_bfloat16_outputs(onnx::ModelProto* model) {
  bool changed = false;
  auto* g = model->mutable_graph();
  for (auto& out : *g->mutable_output()) {
    auto* type = out.mutable_type()->mutable_tensor_type();
    if (type->elem_type() != onnx::TensorProto::BFLOAT16) continue;
    for (auto& n : *g->mutable_node())
      for (auto& o : *n.mutable_output())
        if (o == out.name()) o = out.name() + "/bfloat16";
    for (auto& n : *g->mutable_node())
      for (auto& i : *n.mutable_input())
        if (i == out.name()) i = out.name() + "/bfloat16";
    for (auto& t : *g->mutable_initializer())
      if (t.name() == out.name()) t.set_name(out.name() + "/bfloat16");
    auto* cast = g->add_node();
    cast->set_op_type("Cast");
    cast->add_input(out.name() + "/bfloat16");
    cast->add_output(out.name());
    auto* to = cast->add_attribute();
    to->set_name("to");
    to->set_type(onnx::AttributeProto::INT);
    to->set_i(onnx::TensorProto::FLOAT);
    type->set_elem_type(onnx::TensorProto::FLOAT);
    changed = true;
  }
  return changed;
}

// Exports the case to `path`: as frozen, or with its inputs restored.
OrtJob export_case(const TestCase& c, bool restore_inputs, const std::string& path) {
  for (int attempt = 0;; ++attempt) {
    tf::GraphDef g = io::load_model(c.dir + "/frozen_model.pb").graph();
    OrtJob job;
    job.feeds = make_feeds(c, g);
    if (restore_inputs) constants_to_inputs(&g, &job.feeds, attempt > 0);
    for (const auto& e : c.expected) job.outputs.push_back(e.tensor);
    try {
      onnx_export::prepare_for_onnx(&g, job.outputs);
      onnx_export::ExportOptions o;
      o.outputs = job.outputs;
      o.example_feeds = job.feeds;
      io::save_onnx(onnx_export::to_onnx(g, o), path, false);
    } catch (const Error& e) {
      if (attempt == 0 && restore_inputs && std::string(e.what()).find("not a constant") != std::string::npos) continue;
      throw;
    }
    // Placeholders the exported graph no longer reads are not ONNX inputs.
    std::map<std::string, Tensor> used;
    auto model = io::load_onnx(path);
    if (widen_bfloat16_outputs(&model)) io::save_onnx(model, path, false);
    for (const auto& in : model.graph().input())
      if (job.feeds.count(in.name())) used[in.name()] = job.feeds[in.name()];
    job.feeds = std::move(used);
    job.model = path;
    return job;
  }
}

struct Counts {
  int passed = 0, refused = 0, differing = 0;
};

struct ExportRun {
  std::map<std::string, Counts> groups;
  std::map<std::string, int> refusals;
  std::vector<std::string> differing;
  Counts total;
  int executor_runs = 0;
};

ExportRun export_corpus(const std::vector<TestCase>& cases, bool restore_inputs) {
  ExportRun run;
  std::vector<OrtJob> jobs;
  std::vector<const TestCase*> job_case;
  const std::string dir = temp_dir();
  for (const auto& c : cases) {
    std::string why;
    if (c.kept_out() || run_case(c, &why) != Outcome::kPassed) continue;
    ++run.executor_runs;
    try {
      jobs.push_back(export_case(c, restore_inputs, dir + "/" + std::to_string(jobs.size()) + ".onnx"));
      job_case.push_back(&c);
    } catch (const Error& e) {
      const std::string what = e.what();
      if (e.code() == ExitCode::kUnsupported) {
        ++run.groups[c.group].refused;
        auto at = what.find("no ONNX form for ");
        ++run.refusals[at == std::string::npos ? what.substr(0, 90) : what.substr(at + 17, 60)];
      } else {
        ++run.groups[c.group].differing;
        run.differing.push_back(c.name + ": " + what);
      }
    }
  }
  run_onnxruntime_batch(&jobs);
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    const TestCase& c = *job_case[j];
    std::string why = jobs[j].error.empty() ? "" : "onnxruntime: " + jobs[j].error;
    for (std::size_t i = 0; why.empty() && i < jobs[j].results.size(); ++i) why = compare(c.expected[i], jobs[j].results[i]);
    if (why.empty()) ++run.groups[c.group].passed;
    else ++run.groups[c.group].differing, run.differing.push_back(c.name + ": " + why);
  }
  for (const auto& [group, n] : run.groups) run.total.passed += n.passed, run.total.refused += n.refused, run.total.differing += n.differing;
  return run;
}

void print(const ExportRun& run, const std::string& variant, bool details) {
  if (details) {
    for (const auto& [group, n] : run.groups)
      std::cout << "[ onnx conformance ] " << group << ": " << n.passed << " passed, " << n.refused << " refused, " << n.differing << " differing\n";
    for (const auto& [what, n] : run.refusals) std::cout << "[ refused ] " << n << " x " << what << "\n";
  }
  for (const auto& d : run.differing) std::cout << "[ differs ] " << d << "\n";
  std::cout << "[ onnx conformance ] " << variant << ": onnxruntime reproduces TensorFlow on " << run.total.passed << " of "
            << run.executor_runs << " graphs the executor runs (" << run.total.refused << " refused, " << run.total.differing << " differing)\n";
}

// As TensorFlow froze them: their inputs are constants, so most graphs fold to their answer and
// what onnxruntime checks is the folding and the export of what is left.
TEST(OnnxConformance, FrozenGraphsAsTheyAre) {
  REQUIRE_FIXTURE(root, kCorpus);
  REQUIRE_ONNXRUNTIME();
  ExportRun run = export_corpus(corpus_cases(root), false);
  print(run, "as frozen", std::getenv("TFFREEZE_CONFORMANCE_VERBOSE") != nullptr);
  EXPECT_EQ(run.total.differing, 0);
  EXPECT_GE(run.total.passed * 100, run.executor_runs * 95) << "issue 15 asks for 95 %";
}

// The stricter measure: the inputs restored, so every op is exported and run by onnxruntime.
TEST(OnnxConformance, InputsRestored) {
  REQUIRE_FIXTURE(root, kCorpus);
  REQUIRE_ONNXRUNTIME();
  ExportRun run = export_corpus(corpus_cases(root), true);
  print(run, "inputs restored", true);
  EXPECT_EQ(run.total.differing, 0);
  EXPECT_GE(run.total.passed, 498) << "fewer graphs than on 2026-12-01 (with NonMaxSuppression)";
}

}  // namespace
}  // namespace tffreeze
