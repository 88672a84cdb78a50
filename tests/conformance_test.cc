// TensorFlow's own outputs as the oracle: every graph of the conformance corpus
// (../shared/testdata/konduitai-dl4j-test-resources, 833 graphs that TensorFlow built, ran and
// froze, with the values it computed) is run by our executor with TensorFlow's placeholder feeds,
// and every output is compared with TensorFlow's value: floats within 1e-4 * max(1, |want|) +
// 1e-5, NaN equal to NaN, infinities equal, integers and booleans exactly. One line per op group
// (passed / refused / differing) and a total are printed.
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
#include "support.h"

namespace tffreeze {
namespace {

namespace fs = std::filesystem;

const char* kCorpus = "konduitai-dl4j-test-resources/src/main/resources/tf_graphs/examples";

// Groups whose outputs are random draws: TensorFlow's values come from its own generator.
const std::map<std::string, std::string> kRandomGroups = {
    {"dropout", "the dropout mask is drawn from RandomUniform"},
    {"random_poisson", "RandomPoissonV2 draws"},
    {"random_uniform_int", "RandomUniformInt draws"},
};

std::vector<double> read_values(const std::string& path) {
  std::ifstream f(path);
  std::vector<double> out;
  for (std::string line; std::getline(f, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    if (line == "true" || line == "True") out.push_back(1);
    else if (line == "false" || line == "False") out.push_back(0);
    else out.push_back(std::strtod(line.c_str(), nullptr));  // nan, inf, -inf included
  }
  return out;
}

std::vector<std::int64_t> read_shape(const std::string& path, std::size_t values) {
  std::vector<std::int64_t> dims;
  std::ifstream f(path);
  for (std::string line; std::getline(f, line);)
    if (!line.empty() && line != "\r") dims.push_back(std::stoll(line));
  if (dims.size() == 1 && dims[0] == 0 && values == 1) dims.clear();  // "0" with one value: a scalar
  return dims;
}

std::uint16_t float_to_half(float f) {
  std::uint32_t x;
  std::memcpy(&x, &f, 4);
  const std::uint32_t sign = (x >> 16) & 0x8000;
  const int exponent = static_cast<int>((x >> 23) & 0xff) - 127 + 15;
  std::uint32_t mantissa = x & 0x7fffff;
  if (((x >> 23) & 0xff) == 0xff) return static_cast<std::uint16_t>(sign | 0x7c00 | (mantissa ? 0x200 : 0));
  if (exponent >= 31) return static_cast<std::uint16_t>(sign | 0x7c00);
  if (exponent <= 0) {
    if (exponent < -10) return static_cast<std::uint16_t>(sign);
    mantissa |= 0x800000;
    const int shift = 14 - exponent;
    std::uint32_t half = mantissa >> shift;
    const std::uint32_t rest = mantissa & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rest > mid || (rest == mid && (half & 1))) ++half;
    return static_cast<std::uint16_t>(sign | half);
  }
  std::uint32_t half = static_cast<std::uint32_t>(exponent) << 10 | (mantissa >> 13);
  const std::uint32_t rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) ++half;
  return static_cast<std::uint16_t>(sign | half);
}

template <typename T>
void put(Tensor* t, const std::vector<double>& v) {
  t->bytes.resize(v.size() * sizeof(T));
  for (std::size_t i = 0; i < v.size(); ++i) {
    T x = static_cast<T>(v[i]);
    std::memcpy(t->bytes.data() + i * sizeof(T), &x, sizeof(T));
  }
}

// A feed of the placeholder's dtype from the CSV's values.
std::optional<Tensor> make_feed(tf::DataType dtype, std::vector<std::int64_t> shape, const std::vector<double>& v) {
  Tensor t{dtype, std::move(shape), {}, {}};
  switch (dtype) {
    case tf::DT_FLOAT: put<float>(&t, v); break;
    case tf::DT_DOUBLE: put<double>(&t, v); break;
    case tf::DT_INT32: put<std::int32_t>(&t, v); break;
    case tf::DT_INT64: put<std::int64_t>(&t, v); break;
    case tf::DT_INT16: put<std::int16_t>(&t, v); break;
    case tf::DT_INT8: put<std::int8_t>(&t, v); break;
    case tf::DT_UINT8: put<std::uint8_t>(&t, v); break;
    case tf::DT_UINT16: put<std::uint16_t>(&t, v); break;
    case tf::DT_UINT32: put<std::uint32_t>(&t, v); break;
    case tf::DT_UINT64: put<std::uint64_t>(&t, v); break;
    case tf::DT_BOOL: put<bool>(&t, v); break;
    case tf::DT_HALF: {
      std::vector<double> bits;
      for (double x : v) bits.push_back(float_to_half(static_cast<float>(x)));
      put<std::uint16_t>(&t, bits);
      break;
    }
    default: return std::nullopt;
  }
  if (t.num_elements() != static_cast<std::int64_t>(v.size())) return std::nullopt;
  return t;
}

struct Expected {
  std::string tensor;  // "node" or "node:k"
  std::vector<std::int64_t> shape;
  std::vector<double> values;
};

// "<node>[.<k>].prediction.csv" below the test folder ('/' as a sub-folder or "____").
std::string tensor_of(const std::string& relative_stem) {
  std::string name = relative_stem;
  for (std::size_t p; (p = name.find("____")) != std::string::npos;) name.replace(p, 4, "/");
  auto dot = name.rfind('.');
  if (dot != std::string::npos && dot + 1 < name.size() &&
      name.find_first_not_of("0123456789", dot + 1) == std::string::npos) {
    const std::string k = name.substr(dot + 1);
    name = name.substr(0, dot);
    if (k != "0") name += ":" + k;
  }
  return name;
}

struct TestCase {
  std::string dir, group;
  std::vector<Expected> expected;
  std::map<std::string, std::pair<std::vector<std::int64_t>, std::vector<double>>> feeds;
};

std::vector<TestCase> corpus_cases(const std::string& root) {
  std::vector<TestCase> cases;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().filename() != "frozen_model.pb") continue;
    TestCase c;
    c.dir = entry.path().parent_path().string();
    c.group = fs::relative(c.dir, root).begin()->string();
    for (const auto& f : fs::recursive_directory_iterator(c.dir)) {
      const std::string p = f.path().string();
      const std::string rel = fs::relative(p, c.dir).string();
      if (f.path().parent_path() != c.dir && fs::exists(f.path().parent_path() / "frozen_model.pb")) continue;  // a nested test
      auto ends = [&](const std::string& s) { return rel.size() > s.size() && rel.compare(rel.size() - s.size(), s.size(), s) == 0; };
      if (ends(".prediction.csv")) {
        const std::string stem = rel.substr(0, rel.size() - std::string(".prediction.csv").size());
        Expected e{tensor_of(stem), {}, read_values(p)};
        e.shape = read_shape(c.dir + "/" + stem + ".prediction.shape", e.values.size());
        c.expected.push_back(std::move(e));
      } else if (ends(".placeholder.csv")) {
        const std::string stem = rel.substr(0, rel.size() - std::string(".placeholder.csv").size());
        auto values = read_values(p);
        c.feeds[tensor_of(stem)] = {read_shape(c.dir + "/" + stem + ".placeholder.shape", values.size()), values};
      }
    }
    std::sort(c.expected.begin(), c.expected.end(), [](const Expected& a, const Expected& b) { return a.tensor < b.tensor; });
    if (!c.expected.empty()) cases.push_back(std::move(c));
  }
  std::sort(cases.begin(), cases.end(), [](const TestCase& a, const TestCase& b) { return a.dir < b.dir; });
  return cases;
}

bool is_integral(tf::DataType t) { return t != tf::DT_FLOAT && t != tf::DT_DOUBLE && t != tf::DT_HALF && t != tf::DT_BFLOAT16; }

// Empty when equal; else what differs.
std::string compare(const Expected& want, const Tensor& got) {
  if (got.shape != want.shape) {
    std::ostringstream s;
    s << want.tensor << ": shape [";
    for (auto d : got.shape) s << d << ",";
    s << "] vs TensorFlow's [";
    for (auto d : want.shape) s << d << ",";
    s << "]";
    return s.str();
  }
  if (got.num_elements() != static_cast<std::int64_t>(want.values.size())) return want.tensor + ": element count";
  for (std::int64_t i = 0; i < got.num_elements(); ++i) {
    const double a = element_as_double(got, i), b = want.values[static_cast<std::size_t>(i)];
    const bool ok = is_integral(got.dtype) ? a == b
                    : std::isnan(b)        ? std::isnan(a)
                    : std::isinf(b)        ? a == b
                                           : std::abs(a - b) <= 1e-4 * std::max(1.0, std::abs(b)) + 1e-5;
    if (!ok) return want.tensor + "[" + std::to_string(i) + "] = " + std::to_string(a) + ", TensorFlow " + std::to_string(b);
  }
  return "";
}

enum class Outcome { kPassed, kRefused, kDiffers };

// TensorFlow's feeds as tensors of the placeholders' dtypes; `values` replaces the CSV's values of
// the feeds it names. Throws Error(kUnsupported) for a feed dtype we cannot build.
std::map<std::string, Tensor> make_feeds(const TestCase& c, const tf::GraphDef& graph,
                                         const std::map<std::string, std::vector<double>>& values = {}) {
  std::map<std::string, tf::DataType> placeholder_dtype;
  for (const auto& n : graph.node())
    if (n.op() == "Placeholder" && n.attr().count("dtype")) placeholder_dtype[n.name()] = n.attr().at("dtype").type();
  std::map<std::string, Tensor> feeds;
  for (const auto& [name, value] : c.feeds) {
    auto it = placeholder_dtype.find(name);
    if (it == placeholder_dtype.end()) continue;
    auto replaced = values.find(name);
    auto t = make_feed(it->second, value.first, replaced == values.end() ? value.second : replaced->second);
    if (!t) throw Error(ExitCode::kUnsupported, "feed '" + name + "' of dtype " + dtype_name(it->second));
    feeds[name] = std::move(*t);
  }
  return feeds;
}

std::vector<Tensor> run_outputs(const TestCase& c, const std::map<std::string, std::vector<double>>& values = {}) {
  io::Model model = io::load_model(c.dir + "/frozen_model.pb");
  std::vector<std::string> fetches;
  for (const auto& e : c.expected) fetches.push_back(e.tensor);
  return runtime::Executor(model.graph()).run(make_feeds(c, model.graph(), values), fetches);
}

Outcome run_case(const TestCase& c, std::string* why) {
  try {
    auto got = run_outputs(c);
    for (std::size_t i = 0; i < got.size(); ++i) {
      *why = compare(c.expected[i], got[i]);
      if (!why->empty()) return Outcome::kDiffers;
    }
    return Outcome::kPassed;
  } catch (const Error& e) {
    *why = e.what();
    return e.code() == ExitCode::kUnsupported ? Outcome::kRefused : Outcome::kDiffers;
  }
}

// Tests whose data the corpus lacks (MANIFEST.md: the input file was not in the source repository).
const std::map<std::string, std::string> kMissingData = {{"conv_3", "image.placeholder.csv is a resource reference, not data"}};

// Tests whose CSV feeds do not determine the float32 values TensorFlow fed, where the outputs are
// so ill-conditioned that the difference exceeds the tolerance. TF fed float64 draws rounded to
// float32; the CSV kept the float64 values to 8 decimals, which does not tell on which side of a
// float32 rounding boundary a value lay (and below 0.125 a float32 step is finer than 1e-8). Conformance.UnderdeterminedFeeds proves each entry: TensorFlow's
// every output lies within what our executor computes over the float32 inputs the CSV admits,
// and the admitted inputs move some output by more than the tolerance.
const std::map<std::string, std::string> kUnderdeterminedFeeds = {
    {"conv_4", "86 of 240 image values admit 2-3 float32 values; six chained convolutions cancel outputs of 1e4 to ~1, "
               "where one float32 step of one input moves them by up to 2.6e-3"}};

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

// The outputs are linear in the feed (the graphs listed are chains of convolutions), so each
// output's range over all admitted inputs is its value at the CSV's input plus, per ambiguous
// input, the most its admitted alternatives move it either way.
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
    int beyond_tolerance = 0;
    for (std::size_t o = 0; o < at_csv.size(); ++o)
      for (std::int64_t e = 0; e < at_csv[o].num_elements(); ++e) {
        const auto k = static_cast<std::size_t>(e);
        const double want = c.expected[o].values[k], got = element_as_double(at_csv[o], e);
        const double tolerance = 1e-4 * std::max(1.0, std::abs(want)) + 1e-5;
        beyond_tolerance += std::abs(got - want) > tolerance;
        EXPECT_GE(want, got + lo[o][k] - tolerance) << test << " " << c.expected[o].tensor << "[" << e << "]";
        EXPECT_LE(want, got + hi[o][k] + tolerance) << test << " " << c.expected[o].tensor << "[" << e << "]";
      }
    EXPECT_GT(beyond_tolerance, 0) << test << " reproduces TensorFlow at the CSV's input now: take it off kUnderdeterminedFeeds";
    std::cout << "[ conformance ] " << test << ": " << ambiguous << " feed values admit several float32 values; TensorFlow's outputs lie within "
              << "the admitted range, " << beyond_tolerance << " of them beyond the tolerance at the CSV's input\n";
  }
}

}  // namespace
}  // namespace tffreeze
