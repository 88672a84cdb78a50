// Truncated, bit-flipped and wrong-kind inputs: never a crash, always a one-line error naming
// the file, with exit code 3 (bad input) or 4 (unsupported).
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "common/error.h"
#include "freeze/freeze.h"
#include "graph/summary.h"
#include "graph/validate.h"
#include "io/model.h"
#include "support.h"

namespace tffreeze {
namespace {

// Loads, validates and summarizes; returns the exit code the CLI would give.
int load_everything(const std::string& path) {
  try {
    io::Model model = io::load_model(path);
    graph::validate_graph(model.graph());
    graph::summarize_model(model);
    // Freezing flattens TF 2 functions (no checkpoint: variables end it with exit 3 later).
    if (model.graph().library().function_size() > 0) freeze::freeze_model(model, nullptr, {});
    return 0;
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "error is not one line: " << msg;
    EXPECT_NE(msg.find(path), std::string::npos) << "error does not name the file: " << msg;
    return static_cast<int>(e.code());
  }
}

const char* kSeeds[] = {
    "tensorflow-onnx/tests/models/fc-layers/frozen.pb",
    "tensorflow-onnx/tests/models/regression/checkpoint/model.meta",
    "scisharp-tensorflow-net/graph/cond_test.meta",
    "tensorflow-serving/tensorflow_serving/servables/tensorflow/testdata/saved_model_half_plus_two_tf2_cpu/00000123/saved_model.pb",
    "tensorflow-ocaml/examples/load/lstm.pbtxt",
    "openvino/models_pbtxt/model_with_queue_ops.pbtxt",
    "arm-ml-kws-for-mcu/Pretrained_models/DS_CNN/DS_CNN_S.pb",
    "tensorflow-tfjs/tfjs-inference/test_data/model.json",
    "tensorflow-serving/tensorflow_serving/servables/tensorflow/testdata/saved_model_half_plus_two_cpu/00000123/saved_model.pb",
    "tensorflow-ocaml/examples/load/load.pb",
    "scisharp-tensorflow-net/graph/xor.meta",
    "scisharp-tensorflow-net/test/TensorFlowNET.Keras.UnitTest/Assets/lstm_from_sequential/saved_model.pb",
    "tensorflow-rust/examples/regression_savedmodel/saved_model.pb",
    "tensorflow-onnx/tests/models/gru/frozen.pb",
};

// A mutated copy keeps the original's file name so that sniffing takes the same path.
std::string mutated_copy(const std::string& original, const std::string& bytes, int n) {
  std::string dir = test::temp_dir() + "/m" + std::to_string(n);
  std::filesystem::create_directories(dir);
  std::string name = original.substr(original.rfind('/') + 1);
  test::write_bytes(dir + "/" + name, bytes);
  if (name == "model.json") {  // the weights file travels with it
    std::string src_dir = original.substr(0, original.rfind('/'));
    test::write_bytes(dir + "/weights.bin", test::read_bytes(src_dir + "/weights.bin"));
  }
  return dir + "/" + name;
}

TEST(BadInput, TruncatedAndBitFlippedFixturesNeverCrash) {
  std::mt19937 rng(1234);
  int cases = 0, rejected = 0, mutation = 0;
  for (const char* rel : kSeeds) {
    REQUIRE_FIXTURE(path, rel);
    const std::string bytes = test::read_bytes(path);
    ASSERT_FALSE(bytes.empty());
    // 84 variants per seed: truncations, bit flips, zeroed blocks and duplicated chunks (the
    // last two change lengths and varints inside the file, not just its end).
    std::vector<std::string> variants;
    for (int k = 1; k <= 28; ++k) variants.push_back(bytes.substr(0, bytes.size() * k / 29));
    for (int k = 0; k < 28; ++k) {
      std::string flipped = bytes;
      for (int f = 0; f < 1 + k % 4; ++f) flipped[rng() % flipped.size()] ^= static_cast<char>(1u << (rng() % 8));
      variants.push_back(std::move(flipped));
    }
    for (int k = 0; k < 14; ++k) {
      std::string zeroed = bytes;
      const std::size_t at = rng() % zeroed.size(), n = std::min<std::size_t>(1 + rng() % 64, zeroed.size() - at);
      std::fill(zeroed.begin() + static_cast<std::ptrdiff_t>(at), zeroed.begin() + static_cast<std::ptrdiff_t>(at + n), '\0');
      variants.push_back(std::move(zeroed));
    }
    for (int k = 0; k < 14; ++k) {
      const std::size_t at = rng() % bytes.size(), n = std::min<std::size_t>(1 + rng() % 256, bytes.size() - at);
      std::string dup = bytes;
      dup.insert(rng() % dup.size(), bytes.substr(at, n));
      variants.push_back(std::move(dup));
    }
    for (const auto& v : variants) {
      std::string file = mutated_copy(path, v, mutation++);
      int code = load_everything(file);
      EXPECT_TRUE(code == 0 || code == 3 || code == 4) << file << " gave " << code;
      ++cases;
      if (code != 0) ++rejected;
    }
  }
  std::cout << "[ info ] " << cases << " mutated inputs, " << rejected << " rejected with a one-line error, 0 crashes\n";
  EXPECT_GT(rejected, cases / 3);
  EXPECT_GE(cases, 1000);
}

TEST(BadInput, WrongKindsOfFile) {
  std::string dir = test::temp_dir();
  auto expect_code = [&](const std::string& path, int code, const std::string& fragment) {
    SCOPED_TRACE(path);
    try {
      io::load_model(path);
      ADD_FAILURE() << "loaded";
    } catch (const Error& e) {
      EXPECT_EQ(static_cast<int>(e.code()), code) << e.what();
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  test::write_bytes(dir + "/empty.pb", "");
  expect_code(dir + "/empty.pb", 3, "empty file");
  static const char kJpeg[] = "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01";
  test::write_bytes(dir + "/photo.pb", std::string(kJpeg, sizeof kJpeg - 1));
  expect_code(dir + "/photo.pb", 3, "not a GraphDef");
  test::write_bytes(dir + "/notes.pbtxt", "hello: world\n");
  expect_code(dir + "/notes.pbtxt", 3, "not a text GraphDef: line 1:");
  test::write_bytes(dir + "/cut.pb", std::string("\x0a\xff\x01", 3));  // field 1 claims 255 bytes
  expect_code(dir + "/cut.pb", 3, "truncated protobuf at byte 3: field 1 claims 255 bytes, 0 remain");
  expect_code(dir + "/does-not-exist.pb", 3, "cannot open");
  expect_code(dir, 3, "directory holds no saved_model.pb");
  test::write_bytes(dir + "/model.json", "{\"modelTopology\": {\"node\": []}, \"format\": \"layers-model\"}");
  expect_code(dir + "/model.json", 4, "only graph models are supported");
  test::write_bytes(dir + "/w.json",
                    R"({"modelTopology": {"node": [{"name": "w", "op": "Const"}]},
                        "weightsManifest": [{"paths": ["w.bin"], "weights": [{"name": "w", "shape": [1000000, 1000000], "dtype": "float32"}]}]})");
  test::write_bytes(dir + "/w.bin", std::string(16, '\0'));
  expect_code(dir + "/w.json", 3, "weight 'w': needs 1000000000000 x 4 bytes, weight data has 16");
}

TEST(BadInput, CheckpointFilesAreNamedAsSuch) {
  REQUIRE_FIXTURE(index, "tensorflow-onnx/tests/models/regression/checkpoint/model.index");
  try {
    io::load_model(index);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a checkpoint file, not a model"), std::string::npos) << e.what();
  }
}

TEST(BadInput, HostileNestingIsRefused) {
  // 10,000 nested AttrValue lists inside a NodeDef: the parser's recursion limit stops it.
  std::string nested;
  for (int i = 0; i < 10000; ++i) nested = "attr { key: \"a\" value { func { name: \"f\" " + nested;
  std::string dir = test::temp_dir();
  test::write_bytes(dir + "/deep.pbtxt", "node { name: \"n\" op: \"NoOp\" " + nested + "}");
  try {
    io::load_model(dir + "/deep.pbtxt");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
  }
}

}  // namespace
}  // namespace tffreeze
