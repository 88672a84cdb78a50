#include "onnx_support.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "export/onnx/export.h"
#include "io/npy.h"
#include "io/onnx_file.h"
#include "runtime/executor.h"
#include "runtime/verify.h"

namespace tffreeze::test {

bool onnxruntime_available() {
  return std::filesystem::exists(std::string(TFFREEZE_ORT_DIR) + "/node_modules/onnxruntime-node/bin") &&
         run_process({"node", "--version"}).exit_code == 0;
}

std::vector<Tensor> run_onnxruntime(const std::string& model, const std::map<std::string, Tensor>& feeds, const std::vector<std::string>& outputs) {
  const std::string dir = temp_dir();
  std::vector<std::string> argv = {"node", std::string(TFFREEZE_ORT_DIR) + "/run_onnx.js", model, dir};
  for (const auto& [name, t] : feeds) {
    const std::string file = dir + "/in_" + file_safe(name) + ".npy";
    io::write_npy(t, file);
    argv.push_back(name + "=" + file);
  }
  for (const auto& o : outputs) argv.insert(argv.end(), {"--output", o});
  auto r = run_process(argv, 120);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<Tensor> results;
  if (r.exit_code != 0) return results;
  for (const auto& o : outputs) results.push_back(io::read_npy(dir + "/" + file_safe(o) + ".npy"));
  return results;
}

void run_onnxruntime_batch(std::vector<OrtJob>* jobs) {
  const std::string dir = temp_dir();
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t j = 0; j < jobs->size(); ++j) {
    const OrtJob& job = (*jobs)[j];
    const std::string job_dir = dir + "/job" + std::to_string(j);
    std::filesystem::create_directories(job_dir);
    nlohmann::json inputs = nlohmann::json::object();
    for (const auto& [name, t] : job.feeds) {
      const std::string file = job_dir + "/in_" + file_safe(name) + ".npy";
      io::write_npy(t, file);
      inputs[name] = file;
    }
    list.push_back({{"model", job.model}, {"out_dir", job_dir + "/out"}, {"inputs", inputs}, {"outputs", job.outputs}});
  }
  const std::string jobs_file = dir + "/jobs.json";
  std::ofstream(jobs_file) << list.dump();
  auto r = run_process({"node", std::string(TFFREEZE_ORT_DIR) + "/run_onnx.js", "--batch", jobs_file}, 1800);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (std::size_t j = 0; j < jobs->size(); ++j) {
    OrtJob& job = (*jobs)[j];
    const std::string out = dir + "/job" + std::to_string(j) + "/out";
    if (std::filesystem::exists(out + "/error.txt")) {
      job.error = read_bytes(out + "/error.txt");
      continue;
    }
    for (const auto& o : job.outputs) job.results.push_back(io::read_npy(out + "/" + file_safe(o) + ".npy"));
  }
}

void expect_onnx_matches(const tf::GraphDef& graph, const std::vector<std::string>& outputs, double tolerance,
                         const std::map<std::string, std::vector<std::int64_t>>& shapes, int opset) {
  auto feeds = runtime::random_feeds(runtime::needed_placeholders(graph, outputs), shapes, 7);
  auto ours = runtime::Executor(graph).run(feeds, outputs);
  onnx_export::ExportOptions options;
  options.opset = opset;
  options.outputs = outputs;
  options.shapes = shapes;
  const std::string path = temp_dir() + "/model.onnx";
  io::save_onnx(onnx_export::to_onnx(graph, options), path, false);
  auto theirs = run_onnxruntime(path, feeds, outputs);
  ASSERT_EQ(theirs.size(), ours.size());
  for (std::size_t i = 0; i < ours.size(); ++i) {
    double scale = 1;
    for (std::int64_t k = 0; k < ours[i].num_elements(); ++k) scale = std::max(scale, std::abs(element_as_double(ours[i], k)));
    auto d = runtime::compare_tensors(theirs[i], ours[i], 0, tolerance * scale);
    EXPECT_TRUE(d.within_tolerance) << outputs[i] << ": max abs difference " << d.max_abs << " (values up to " << scale << ") " << d.mismatch;
  }
}

}  // namespace tffreeze::test
