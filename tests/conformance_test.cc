// TensorFlow's own outputs as the oracle: every graph of the conformance corpus
// (../shared/testdata/konduitai-dl4j-test-resources, 833 graphs that TensorFlow built, ran and
// froze, with the values it computed) is run by our executor with TensorFlow's placeholder feeds,
// and every output is compared with TensorFlow's value: floats within 1e-4 * max(1, |want|) +
// 1e-5, NaN equal to NaN, infinities equal, integers and booleans exactly. One line per op group
// (passed / refused / differing) and a total are printed.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "common/dtype.h"
#include "common/error.h"
#include "io/model.h"
#include "runtime/executor.h"
#include "conformance_corpus.h"
#include "support.h"

namespace tffreeze {
namespace {

namespace fs = std::filesystem;

using namespace test;

TEST(Conformance, TensorFlowsOwnOutputs) {
  REQUIRE_FIXTURE(root, kCorpus);
  struct Counts {
    int passed = 0, refused = 0, differing = 0;
  };
  std::map<std::string, Counts> groups;
  std::map<std::string, int> refusals;  // first words of the reasons
  Counts total;
  int kept_out = 0;
  std::set<std::string> differing;
  for (const auto& c : corpus_cases(root)) {
    const std::string test = fs::relative(c.dir, root).string();
    if (kRandomGroups.count(c.group) || kMissingData.count(test) || kUnderdeterminedFeeds.count(test)) {
      ++kept_out;
      continue;
    }
    std::string why;
    Outcome o = run_case(c, &why);
    if (o != Outcome::kPassed && std::getenv("TFFREEZE_CONFORMANCE_VERBOSE"))
      std::cout << "[ " << (o == Outcome::kRefused ? "refused" : "differs") << " ] " << test << ": " << why << "\n";
    auto& g = groups[c.group];
    if (o == Outcome::kPassed) ++g.passed, ++total.passed;
    if (o == Outcome::kRefused) {
      ++g.refused, ++total.refused;
      auto at = why.find("no kernel for op ");
      ++refusals[at == std::string::npos ? why.substr(0, 80) : why.substr(at + 17)];
    }
    if (o == Outcome::kDiffers) {
      ++g.differing, ++total.differing;
      differing.insert(test);
      ADD_FAILURE() << test << ": " << why;
    }
  }
  for (const auto& [group, n] : groups)
    std::cout << "[ conformance ] " << group << ": " << n.passed << " passed, " << n.refused << " refused, " << n.differing << " differing\n";
  for (const auto& [what, n] : refusals) std::cout << "[ refused ] " << n << " x " << what << "\n";
  const int deterministic = total.passed + total.refused + total.differing;
  std::cout << "[ conformance ] total: " << total.passed << " of " << deterministic << " deterministic graphs reproduce TensorFlow ("
            << total.refused << " refused, " << total.differing << " differing; " << kept_out
            << " kept out: random draws, missing data, feeds the CSV does not determine)\n";
  EXPECT_GE(deterministic, 800);
  EXPECT_GE(total.passed, 427) << "fewer graphs reproduce TensorFlow than on 2026-12-01";
}

// Graphs whose inputs random draws cannot stand in for: optimize's proof refuses them (exit 4).
const std::map<std::string, std::string> kNeedRealInputs = {
    {"g_07", "its input goes through InvertPermutation: a random draw is not a permutation"}};

// Every graph whose outputs we reproduce is also one that `optimize` (default target) proves
// and writes: the executor runs both the original and the optimized graph on the shapes
// TensorFlow fed.
TEST(Conformance, OptimizeProvesEveryReproducedGraph) {
  REQUIRE_FIXTURE(root, kCorpus);
  int proven = 0;
  for (const auto& c : corpus_cases(root)) {
    const std::string test = fs::relative(c.dir, root).string();
    std::string why;
    if (kRandomGroups.count(c.group) || kMissingData.count(test) || kUnderdeterminedFeeds.count(test) || run_case(c, &why) != Outcome::kPassed) continue;
    std::vector<std::string> args = {"optimize", c.dir + "/frozen_model.pb", "-o", test::temp_dir() + "/opt.pb", "--outputs"};
    std::string outputs;
    for (const auto& e : c.expected) outputs += (outputs.empty() ? "" : ",") + e.tensor;
    args.push_back(outputs);
    for (const auto& [name, value] : c.feeds) {
      std::string dims;
      for (auto d : value.first) dims += (dims.empty() ? "" : ",") + std::to_string(d);
      args.insert(args.end(), {"--shape", name + "=[" + dims + "]"});
    }
    auto r = test::run_cli(args, 120);
    EXPECT_EQ(r.exit_code, kNeedRealInputs.count(test) ? 4 : 0) << test << ": " << r.err;
    proven += r.exit_code == 0;
  }
  std::cout << "[ conformance ] optimize proved and wrote " << proven << " reproduced graphs\n";
}


// The float32 values a CSV number admits. TensorFlow was fed float64 values (the test's dtypes
// file says so) and rounded them to float32; the CSV printed those float64 values to a number of
// decimals. A float32 is admitted when some float64 within half a unit of the last decimal rounds
// to it: its rounding interval meets the text's interval.
std::vector<float> admitted_float32(const std::string& text) {
  const double v = std::strtod(text.c_str(), nullptr);
  const auto dot = text.find('.');
  if (dot == std::string::npos || text.find_first_of("eE") != std::string::npos) return {static_cast<float>(v)};
  const double half_unit = 0.5 * std::pow(10.0, -static_cast<double>(text.size() - dot - 1));
  auto meets = [&](float f) {
    const double below = (static_cast<double>(f) + std::nextafter(f, -INFINITY)) / 2;
    const double above = (static_cast<double>(f) + std::nextafter(f, INFINITY)) / 2;
    return above >= v - half_unit && below <= v + half_unit;
  };
  std::vector<float> out;
  const float nearest = static_cast<float>(v);
  for (float f = nearest; meets(f); f = std::nextafter(f, -INFINITY)) out.push_back(f);
  for (float f = std::nextafter(nearest, INFINITY); meets(f); f = std::nextafter(f, INFINITY)) out.push_back(f);
  return out;
}

std::vector<std::string> csv_texts(const std::string& path) {
  std::ifstream f(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(f, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// One float32 step at the largest magnitude any float tensor of the graph reaches at the CSV's
// input. Summing in another order (TensorFlow's Eigen contraction, our products: OpenBLAS picks
// its kernel, and so its order, by CPU) moves a sum of such terms by about that much, and these
// graphs cancel intermediate values of 1e4 down to outputs of ~1, so the step stays.
double rounding_at_largest_intermediate(const TestCase& c) {
  io::Model model = io::load_model(c.dir + "/frozen_model.pb");
  std::vector<std::string> every_node;
  for (const auto& node : model.graph().node())
    if (node.op() != "Const" && node.op() != "Placeholder") every_node.push_back(node.name());
  float largest = 0;
  for (const Tensor& t : runtime::Executor(model.graph()).run(make_feeds(c, model.graph(), {}), every_node)) {
    if (t.dtype != tf::DT_FLOAT) continue;
    for (std::int64_t e = 0; e < t.num_elements(); ++e) largest = std::max(largest, std::abs(t.get<float>(e)));
  }
  return std::nextafter(largest, INFINITY) - largest;
}

// The outputs are linear in the feed (the graphs listed are chains of convolutions), so each
// output's range over all admitted inputs is its value at the CSV's input plus, per ambiguous
// input, the most its admitted alternatives move it either way; the order of summation adds a
// float32 step of the largest intermediate value either way.
TEST(Conformance, UnderdeterminedFeeds) {
  REQUIRE_FIXTURE(root, kCorpus);
  for (const auto& c : corpus_cases(root)) {
    const std::string test = fs::relative(c.dir, root).string();
    if (!kUnderdeterminedFeeds.count(test)) continue;
    ASSERT_EQ(c.feeds.size(), 1u) << test;
    const std::string feed = c.feeds.begin()->first;
    const std::vector<double> base = c.feeds.begin()->second.second;
    const auto texts = csv_texts(c.dir + "/" + feed + ".placeholder.csv");
    ASSERT_EQ(texts.size(), base.size());
    const std::vector<Tensor> at_csv = run_outputs(c);
    std::vector<std::vector<double>> lo(at_csv.size()), hi(at_csv.size());
    for (std::size_t o = 0; o < at_csv.size(); ++o) lo[o] = hi[o] = std::vector<double>(static_cast<std::size_t>(at_csv[o].num_elements()), 0.0);
    int ambiguous = 0;
    for (std::size_t i = 0; i < texts.size(); ++i) {
      const auto admitted = admitted_float32(texts[i]);
      ambiguous += admitted.size() > 1;
      for (float alternative : admitted) {
        if (alternative == static_cast<float>(base[i])) continue;
        auto values = base;
        values[i] = alternative;
        const auto moved = run_outputs(c, {{feed, values}});
        for (std::size_t o = 0; o < moved.size(); ++o)
          for (std::int64_t e = 0; e < moved[o].num_elements(); ++e) {
            const double delta = element_as_double(moved[o], e) - element_as_double(at_csv[o], e);
            auto k = static_cast<std::size_t>(e);
            lo[o][k] += std::min(0.0, delta), hi[o][k] += std::max(0.0, delta);
          }
      }
    }
    EXPECT_GT(ambiguous, 0) << test << ": every feed value is determined by its CSV text";
    const double rounding = rounding_at_largest_intermediate(c);
    int beyond_tolerance = 0;
    for (std::size_t o = 0; o < at_csv.size(); ++o)
      for (std::int64_t e = 0; e < at_csv[o].num_elements(); ++e) {
        const auto k = static_cast<std::size_t>(e);
        const double want = c.expected[o].values[k], got = element_as_double(at_csv[o], e);
        const double tolerance = 1e-4 * std::max(1.0, std::abs(want)) + 1e-5;
        beyond_tolerance += std::abs(got - want) > tolerance;
        EXPECT_GE(want, got + lo[o][k] - rounding - tolerance) << test << " " << c.expected[o].tensor << "[" << e << "]";
        EXPECT_LE(want, got + hi[o][k] + rounding + tolerance) << test << " " << c.expected[o].tensor << "[" << e << "]";
      }
    EXPECT_GT(beyond_tolerance, 0) << test << " reproduces TensorFlow at the CSV's input now: take it off kUnderdeterminedFeeds";
    std::cout << "[ conformance ] " << test << ": " << ambiguous << " feed values admit several float32 values; TensorFlow's outputs lie within "
              << "the admitted range (+- " << rounding << " for the order of summation), " << beyond_tolerance
              << " of them beyond the tolerance at the CSV's input\n";
  }
}

}  // namespace
}  // namespace tffreeze
