// The conformance corpus (../shared/testdata/konduitai-dl4j-test-resources: 833 graphs that
// TensorFlow built, ran and froze, with the values it computed and its feeds) read as test cases,
// shared by the executor's conformance test and the ONNX export's.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/tensor.h"
#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::test {

extern const char* const kCorpus;
// Groups whose outputs are random draws; tests whose data the corpus lacks; tests whose CSV feeds
// do not determine TF's float32 inputs (each with the reason).
extern const std::map<std::string, std::string> kRandomGroups, kMissingData, kUnderdeterminedFeeds;

struct Expected {
  std::string tensor;  // "node" or "node:k"
  std::vector<std::int64_t> shape;
  std::vector<double> values;
};

struct TestCase {
  std::string dir, group, name;  // name: the test's path below the corpus root
  std::vector<Expected> expected;
  std::map<std::string, std::pair<std::vector<std::int64_t>, std::vector<double>>> feeds;
  bool kept_out() const { return kRandomGroups.count(group) || kMissingData.count(name) || kUnderdeterminedFeeds.count(name); }
};

std::vector<TestCase> corpus_cases(const std::string& root);

// A feed of `dtype` from the CSV's values (nullopt: a dtype we cannot build).
std::optional<Tensor> make_feed(tf::DataType dtype, std::vector<std::int64_t> shape, const std::vector<double>& v);

// TensorFlow's feeds as tensors of the placeholders' dtypes; `values` replaces the CSV's values of
// the feeds it names. Throws Error(kUnsupported) for a feed dtype we cannot build.
std::map<std::string, Tensor> make_feeds(const TestCase& c, const tf::GraphDef& graph,
                                         const std::map<std::string, std::vector<double>>& values = {});

// Empty when `got` is TensorFlow's value within the corpus tolerance (floats 1e-4 * max(1, |want|)
// + 1e-5, NaN equal to NaN, infinities equal, integers and booleans exactly); else what differs.
std::string compare(const Expected& want, const Tensor& got);

enum class Outcome { kPassed, kRefused, kDiffers };
// Our executor on the case: its outputs, or whether it refused (exit 4) or differs.
std::vector<Tensor> run_outputs(const TestCase& c, const std::map<std::string, std::vector<double>>& values = {});
Outcome run_case(const TestCase& c, std::string* why);

}  // namespace tffreeze::test
