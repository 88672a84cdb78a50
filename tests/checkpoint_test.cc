// Checkpoints TensorFlow wrote: every one reads, known values are right, checksums are checked,
// our writer reproduces them, and damaged files give one-line errors.
#include <google/protobuf/util/message_differencer.h>

#include <filesystem>
#include <map>
#include <iostream>
#include <random>
#include <set>

#include "common/crc32c.h"
#include "common/dtype.h"
#include "common/error.h"
#include "common/varint.h"
#include "io/checkpoint/bundle_writer.h"
#include "io/checkpoint/checkpoint.h"
#include "io/checkpoint/object_graph.h"
#include "io/checkpoint/ordered_code.h"
#include "io/checkpoint/sstable.h"
#include "io/model.h"
#include "io/npy.h"
#include "io/proto_io.h"
#include "support.h"

namespace tffreeze::io::checkpoint {
namespace {

namespace fs = std::filesystem;

const std::string kServing = "tensorflow-serving/tensorflow_serving/servables/tensorflow/testdata/";

float scalar(const Checkpoint& c, const std::string& name) {
  Tensor t = c.read(name);
  EXPECT_EQ(t.dtype, tf::DT_FLOAT) << name;
  EXPECT_EQ(t.num_elements(), 1) << name;
  return t.get<float>(0);
}

// Every checkpoint prefix among the fixtures: V2 (*.index) and the two V1 ones.
std::vector<std::string> all_checkpoints() {
  std::vector<std::string> out;
  for (const auto& p : test::fixtures_with_suffix({".index"})) out.push_back(p.substr(0, p.size() - 6));
  for (const auto& p : test::fixtures_with_suffix({"/00000123/export", "/00000123/export-00000-of-00001"})) out.push_back(p);
  return out;
}

TEST(Checkpoint, EveryFixtureCheckpointReadsEveryTensor) {
  auto prefixes = all_checkpoints();
  if (prefixes.empty()) {
    if (test::in_ci()) FAIL() << "no checkpoint fixtures (CI=true)";
    GTEST_SKIP() << "fixtures not found";
  }
  EXPECT_GE(prefixes.size(), 37u);
  int tensors = 0, strings = 0;
  for (const auto& prefix : prefixes) {
    SCOPED_TRACE(prefix);
    auto ckpt = open_checkpoint(prefix);
    ASSERT_FALSE(ckpt->entries().empty());
    for (const auto& e : ckpt->entries()) {
      Tensor t = ckpt->read(e.name);
      EXPECT_EQ(t.dtype, e.dtype);
      EXPECT_EQ(t.shape, e.shape);
      if (t.dtype == tf::DT_STRING) ++strings;
      else EXPECT_EQ(static_cast<std::int64_t>(t.bytes.size()), t.num_elements() * static_cast<std::int64_t>(dtype_size(t.dtype)));
      ++tensors;
    }
  }
  EXPECT_GT(tensors, 450);
  EXPECT_GT(strings, 10);  // TF 2 object graphs: string checksums verified
}

TEST(Checkpoint, HalfPlusTwoValuesInEveryVariant) {
  struct Case {
    const char* dir;
    bool has_c;
  };
  for (Case c : {Case{"saved_model_half_plus_two_2_versions/00000123", true}, Case{"saved_model_half_plus_two_cpu/00000123", true},
                 Case{"saved_model_half_plus_two_cpu_with_saved_model_config/00000123", true},
                 Case{"saved_model_half_plus_two_gpu/00000123", true}, Case{"saved_model_half_plus_two_gpu_trt/00000123", true},
                 Case{"saved_model_half_plus_two_mkl/00000123", true}, Case{"saved_model_half_plus_two_mlmd/00000123", true}}) {
    REQUIRE_FIXTURE(dir, kServing + c.dir);
    SCOPED_TRACE(dir);
    auto ckpt = open_checkpoint(dir);  // a SavedModel directory resolves to variables/variables
    EXPECT_EQ(ckpt->format(), Format::kV2);
    EXPECT_EQ(scalar(*ckpt, "a"), 0.5f);
    EXPECT_EQ(scalar(*ckpt, "b"), 2.0f);
    if (c.has_c) EXPECT_EQ(scalar(*ckpt, "c"), 3.0f);
  }
  REQUIRE_FIXTURE(three, kServing + "saved_model_half_plus_three/00000123/variables");
  auto ckpt = open_checkpoint(three);
  EXPECT_EQ(scalar(*ckpt, "b"), 3.0f);
}

TEST(Checkpoint, SnappyCompressedIndexIsReadAsSuch) {
  REQUIRE_FIXTURE(index, kServing + "saved_model_half_plus_two_cpu/00000123/variables/variables.index");
  // The fixture really is compressed: its (single) data block, which ends 5 bytes before the
  // metaindex block the footer points at, has the snappy type byte (1) in its trailer.
  std::string bytes = test::read_bytes(index);
  std::string_view footer(bytes.data() + bytes.size() - 48, 48);
  std::uint64_t metaindex_offset = 0;
  for (int i = 0, shift = 0;; ++i, shift += 7) {
    metaindex_offset |= std::uint64_t{static_cast<unsigned char>(footer[i]) & 0x7fu} << shift;
    if (!(static_cast<unsigned char>(footer[i]) & 0x80)) break;
  }
  ASSERT_GE(metaindex_offset, 5u);
  EXPECT_EQ(bytes[metaindex_offset - 5], 1);
  EXPECT_EQ(open_checkpoint(index)->entries().size(), 5u);
}

TEST(Checkpoint, LegacyV1Checkpoints) {
  REQUIRE_FIXTURE(bundle, "tensorflow-serving/tensorflow_serving/session_bundle/testdata/half_plus_two/00000123/export");
  auto v1 = open_checkpoint(bundle);  // resolves the sharded export-00000-of-00001
  EXPECT_EQ(v1->format(), Format::kV1);
  EXPECT_EQ(scalar(*v1, "a"), 0.5f);
  EXPECT_EQ(scalar(*v1, "b"), 2.0f);
  REQUIRE_FIXTURE(bad, kServing + "bad_half_plus_two/00000123");
  auto legacy = open_checkpoint(bad);  // via the "checkpoint" state file
  EXPECT_EQ(legacy->format(), Format::kV1);
  EXPECT_EQ(scalar(*legacy, "Variable"), 0.5f);
  EXPECT_EQ(scalar(*legacy, "Variable_1"), 2.0f);
}

TEST(Checkpoint, MovingAverageShadows) {
  REQUIRE_FIXTURE(model2, "unlicensed/caicloud-tensorflow-tutorial/1.0.0rc2/Chapter05/Saved_model/model2.ckpt");
  auto c = open_checkpoint(model2);
  EXPECT_EQ(scalar(*c, "v"), 10.0f);
  EXPECT_EQ(scalar(*c, "v/ExponentialMovingAverage"), 0.099999905f);
  REQUIRE_FIXTURE(p3, "unlicensed/yuezxl-learn_backup/python/project/tensorflow/data/test/model/persistant-3-model.ckpt");
  auto d = open_checkpoint(p3);
  EXPECT_EQ(scalar(*d, "v"), 10.0f);
  EXPECT_NEAR(scalar(*d, "v/ExponentialMovingAverage"), 2.08f, 1e-6);
  REQUIRE_FIXTURE(mnist, "unlicensed/caicloud-tensorflow-tutorial/1.4.0/Chapter05/MNIST_model");
  auto m = open_checkpoint(mnist);  // state file lists steps that are not there; the latest is
  EXPECT_NE(m->prefix().find("mnist_model-29001"), std::string::npos);
  for (const char* v : {"layer1/weights", "layer1/biases", "layer2/weights", "layer2/biases"}) {
    const Entry* raw = m->find(v);
    const Entry* shadow = m->find(std::string(v) + "/ExponentialMovingAverage");
    ASSERT_TRUE(raw && shadow) << v;
    EXPECT_EQ(raw->shape, shadow->shape);
    EXPECT_NE(m->read(v).bytes, m->read(std::string(v) + "/ExponentialMovingAverage").bytes) << v;
  }
}

TEST(Checkpoint, ShardedTensor2Tensor) {
  REQUIRE_FIXTURE(prefix, "tensor2tensor/tensor2tensor/test_data/transformer_test_ckpt/model.ckpt-1");
  auto c = open_checkpoint(prefix);
  EXPECT_EQ(c->entries().size(), 250u);
  std::set<int> shards;
  for (const auto& e : c->entries()) {
    shards.insert(e.shard);
    c->read(e.name);
  }
  EXPECT_TRUE(shards.count(1));
  // The directory's state file points at the same checkpoint.
  EXPECT_EQ(open_checkpoint(prefix.substr(0, prefix.rfind('/')))->entries().size(), 250u);
}

TEST(Checkpoint, EstimatorSlotsAndObjectGraphs) {
  REQUIRE_FIXTURE(tfx, "tensorflow-tfx/tfx/components/testdata/trainer/current/Format-Serving/model.ckpt-1000");
  auto c = open_checkpoint(tfx);
  EXPECT_EQ(c->entries().size(), 60u);
  int adagrad = 0, ftrl = 0;
  for (const auto& e : c->entries()) {
    adagrad += e.name.find("Adagrad") != std::string::npos;
    ftrl += e.name.find("Ftrl") != std::string::npos;
  }
  EXPECT_GT(adagrad, 0);
  EXPECT_GT(ftrl, 0);
  EXPECT_FALSE(read_object_graph(*c));  // TF 1 name-based
  REQUIRE_FIXTURE(tf2, kServing + "saved_model_half_plus_two_tf2_cpu/00000123");
  auto v = open_checkpoint(tf2);
  auto graph = read_object_graph(*v);
  ASSERT_TRUE(graph);
  std::map<std::string, std::string> keys;
  for (const auto& a : object_attributes(*graph)) keys[a.path] = a.checkpoint_key;
  for (const char* name : {"a", "b", "c"}) {
    ASSERT_TRUE(keys.count(name)) << name;
    EXPECT_EQ(keys[name], std::string(name) + "/.ATTRIBUTES/VARIABLE_VALUE");
  }
  EXPECT_EQ(scalar(*v, keys["a"]), 0.5f);
  EXPECT_EQ(scalar(*v, keys["b"]), 2.0f);
}

TEST(Checkpoint, KerasWeightsEqualTheirNpyFilesByteForByte) {
  REQUIRE_FIXTURE(dir, "scisharp-tensorflow-net/test/TensorFlowNET.Keras.UnitTest/Assets/simple_model_from_auto_compile");
  auto c = open_checkpoint(dir);
  auto graph = read_object_graph(*c);
  ASSERT_TRUE(graph);
  std::map<std::string, std::string> keys;
  for (const auto& a : object_attributes(*graph)) keys[a.path] = a.checkpoint_key;
  Tensor bias = c->read(keys.at("layer_with_weights-0/bias"));
  Tensor kernel = c->read(keys.at("layer_with_weights-1/kernel"));
  Tensor bias_npy = read_npy(dir + "/bias0.npy"), kernel_npy = read_npy(dir + "/kernel1.npy");
  EXPECT_EQ(bias_npy.shape, (std::vector<std::int64_t>{100}));
  EXPECT_EQ(kernel_npy.shape, (std::vector<std::int64_t>{100, 10}));
  EXPECT_EQ(bias.bytes, bias_npy.bytes);
  EXPECT_EQ(kernel.bytes, kernel_npy.bytes);
  EXPECT_EQ(bias, bias_npy);
}

TEST(Checkpoint, RegressionWeightsEqualTensorFlowsFrozenConstants) {
  REQUIRE_FIXTURE(ckpt_dir, "tensorflow-onnx/tests/models/regression/checkpoint");
  REQUIRE_FIXTURE(frozen, "tensorflow-onnx/tests/models/regression/graphdef/frozen.pb");
  auto c = open_checkpoint(ckpt_dir);
  auto model = io::load_model(frozen);
  int compared = 0;
  for (const auto& node : model.graph().node()) {
    if (node.op() != "Const" || !c->find(node.name())) continue;
    Tensor frozen_value = tensor_from_proto(node.attr().at("value").tensor(), node.name());
    EXPECT_EQ(c->read(node.name()), frozen_value) << node.name();
    ++compared;
  }
  EXPECT_EQ(compared, 2);  // W and b
}

// Re-writing a fixture's tensors (in their original data order) reproduces it.
TEST(BundleWriter, RewritesRealCheckpointsExactly) {
  auto prefixes = test::fixtures_with_suffix({".index"});
  if (prefixes.empty()) GTEST_SKIP() << "fixtures not found";
  int identical_data = 0, identical_index = 0, compared = 0;
  for (auto index_path : prefixes) {
    const std::string prefix = index_path.substr(0, index_path.size() - 6);
    SCOPED_TRACE(prefix);
    auto original = open_checkpoint(prefix);
    std::vector<Entry> order = original->entries();
    bool single_shard = true;
    for (const auto& e : order) single_shard &= e.shard == 0 && e.slices == 0;
    std::sort(order.begin(), order.end(), [](const Entry& a, const Entry& b) { return a.offset < b.offset; });
    const std::string out = test::temp_dir() + "/rewritten";
    {
      BundleWriter writer(out);
      for (const auto& e : order) writer.add(e.name, original->read(e.name));
      writer.finish();
    }
    auto copy = open_checkpoint(out);
    ASSERT_EQ(copy->entries().size(), original->entries().size());
    for (const auto& e : original->entries()) EXPECT_EQ(copy->read(e.name), original->read(e.name)) << e.name;
    if (!single_shard) continue;  // t2t: two shards in, one out
    ++compared;
    // The data file is byte-identical.
    if (test::read_bytes(out + ".data-00000-of-00001") == test::read_bytes(prefix + ".data-00000-of-00001")) ++identical_data;
    else ADD_FAILURE() << "data differs";
    // The index matches TensorFlow's entry for entry (header and every BundleEntryProto).
    std::vector<std::pair<std::string, std::string>> ours, theirs;
    TableReader(out + ".index").for_each([&](std::string_view k, std::string_view v) { return ours.emplace_back(k, v), true; });
    TableReader(index_path).for_each([&](std::string_view k, std::string_view v) { return theirs.emplace_back(k, v), true; });
    ASSERT_EQ(ours.size(), theirs.size());
    for (std::size_t i = 0; i < ours.size(); ++i) {
      EXPECT_EQ(ours[i].first, theirs[i].first);
      if (ours[i].first.empty()) {
        tf::BundleHeaderProto a, b;
        a.ParseFromString(ours[i].second);
        b.ParseFromString(theirs[i].second);
        EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(a, b)) << a.DebugString() << " vs " << b.DebugString();
      } else {
        tf::BundleEntryProto a, b;
        a.ParseFromString(ours[i].second);
        b.ParseFromString(theirs[i].second);
        EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(a, b)) << ours[i].first;
      }
    }
    if (test::read_bytes(out + ".index") == test::read_bytes(index_path)) ++identical_index;
  }
  std::cout << "[ info ] rewrote " << compared << " single-shard checkpoints: " << identical_data << " identical .data, "
            << identical_index << " byte-identical .index\n";
  EXPECT_GT(compared, 25);
  EXPECT_EQ(identical_data, compared);
  // Five of the originals have snappy-compressed blocks (we write uncompressed, as TF does by
  // default); every uncompressed one is reproduced byte for byte.
  EXPECT_GE(identical_index, compared - 5);
}

TEST(BundleWriter, NothingVisibleUntilFinish) {
  std::string dir = test::temp_dir();
  Tensor t{tf::DT_FLOAT, {2}, std::string(8, '\0'), {}};
  {
    BundleWriter writer(dir + "/ckpt");
    writer.add("x", t);
    EXPECT_THROW(writer.add("x", t), Error);
  }  // abandoned
  EXPECT_TRUE(fs::is_empty(dir));
  {
    BundleWriter writer(dir + "/ckpt");
    writer.add("x", t);
    Tensor s{tf::DT_STRING, {3}, {}, {"", "abc", std::string(300, 'z')}};
    writer.add("s", s);
    writer.finish();
  }
  auto c = open_checkpoint(dir + "/ckpt");
  EXPECT_EQ(c->read("s").strings[2], std::string(300, 'z'));
}

// Copies a fixture checkpoint to a temp dir so it can be damaged.
std::string copy_checkpoint(const std::string& prefix) {
  std::string dir = test::temp_dir();
  std::string name = prefix.substr(prefix.rfind('/') + 1);
  fs::path src_dir = fs::path(prefix).parent_path();
  for (const auto& f : fs::directory_iterator(src_dir)) {
    std::string fname = f.path().filename().string();
    if (fname.rfind(name + ".", 0) == 0) fs::copy_file(f.path(), fs::path(dir) / fname);
  }
  return dir + "/" + name;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    return e.what();
  }
  return "";
}

TEST(CheckpointErrors, CorruptChecksumMissingShardAndTruncation) {
  REQUIRE_FIXTURE(prefix, "unlicensed/caicloud-tensorflow-tutorial/1.4.0/Chapter05/MNIST_model/mnist_model-29001");
  std::string copy = copy_checkpoint(prefix);
  std::string data = test::read_bytes(copy + ".data-00000-of-00001");
  auto c = open_checkpoint(copy);
  const Entry* w = c->find("layer1/weights");
  ASSERT_TRUE(w);
  data[static_cast<std::size_t>(w->offset + 1000)] ^= 0x10;
  test::write_bytes(copy + ".data-00000-of-00001", data);
  auto damaged = open_checkpoint(copy);
  std::string msg = error_of([&] { damaged->read("layer1/weights"); });
  EXPECT_NE(msg.find("tensor 'layer1/weights': checksum mismatch"), std::string::npos) << msg;
  EXPECT_NO_THROW(damaged->read("layer2/biases"));  // other tensors still read
  test::write_bytes(copy + ".data-00000-of-00001", data.substr(0, data.size() / 2));
  auto truncated = open_checkpoint(copy);
  bool saw_past_end = false;
  for (const auto& e : truncated->entries()) {
    std::string m = error_of([&] { truncated->read(e.name); });
    saw_past_end |= m.find("lie past the end of") != std::string::npos;
  }
  EXPECT_TRUE(saw_past_end);
  fs::remove(copy + ".data-00000-of-00001");
  auto missing = open_checkpoint(copy);
  msg = error_of([&] { missing->read("layer2/biases"); });
  EXPECT_NE(msg.find("data shard missing or unreadable"), std::string::npos) << msg;
  msg = error_of([&] { open_checkpoint(copy + "-nope"); });
  EXPECT_NE(msg.find("no checkpoint"), std::string::npos) << msg;
}

TEST(CheckpointErrors, MutatedIndexAndDataNeverCrash) {
  std::mt19937 rng(7);
  int cases = 0, rejected = 0;
  for (const char* rel : {"tensorflow-tfx/tfx/components/testdata/trainer/current/Format-Serving/model.ckpt-1000",
                          "tensorflow-serving/tensorflow_serving/servables/tensorflow/testdata/saved_model_half_plus_two_tf2_cpu/00000123/variables/variables",
                          "scisharp-tensorflow-net/test/TensorFlowNET.Keras.UnitTest/Assets/lstm_from_sequential/variables/variables"}) {
    REQUIRE_FIXTURE(prefix, rel);
    for (const char* part : {".index", ".data-00000-of-00001"}) {
      const std::string original = test::read_bytes(prefix + part);
      for (int k = 0; k < 40; ++k) {
        std::string copy = copy_checkpoint(prefix);
        std::string bytes = original;
        if (k < 20) bytes = bytes.substr(0, bytes.size() * static_cast<std::size_t>(k) / 20);
        else for (int f = 0; f < 1 + k % 3; ++f) bytes[rng() % bytes.size()] ^= static_cast<char>(1u << (rng() % 8));
        test::write_bytes(copy + part, bytes);
        ++cases;
        std::string msg = error_of([&] {
          auto c = open_checkpoint(copy);
          for (const auto& e : c->entries()) c->read(e.name);
          if (auto g = read_object_graph(*c)) object_attributes(*g);
        });
        if (!msg.empty()) ++rejected;
      }
    }
  }
  std::cout << "[ info ] " << cases << " damaged checkpoints, " << rejected << " rejected with one-line errors, 0 crashes\n";
  EXPECT_GT(rejected, cases / 2);
}

TEST(OrderedCode, MatchesTensorFlowsDocumentedEncodings) {
  std::string s;
  write_signed_num_increasing(&s, 0x424242);
  EXPECT_EQ(s, std::string("\xf0\x42\x42\x42", 4));
  s.clear();
  write_signed_num_increasing(&s, -0x800);
  EXPECT_EQ(s, std::string("\x38\x00", 2));
  s.clear();
  write_signed_num_increasing(&s, -1);
  EXPECT_EQ(s, std::string("\x7f", 1));
  s.clear();
  write_num_increasing(&s, 0);
  EXPECT_EQ(s, std::string("\x00", 1));
  s.clear();
  write_num_increasing(&s, 0x1234);
  EXPECT_EQ(s, std::string("\x02\x12\x34", 3));
  s.clear();
  write_string(&s, std::string("a\0\xff", 3));
  EXPECT_EQ(s, std::string("a\x00\xff\xff\x00\x00\x01", 7));
}

TEST(Npy, RoundTripAndErrors) {
  std::string dir = test::temp_dir();
  Tensor t{tf::DT_INT64, {2, 3}, std::string(48, '\x01'), {}};
  write_npy(t, dir + "/t.npy");
  EXPECT_EQ(read_npy(dir + "/t.npy"), t);
  std::string bytes = test::read_bytes(dir + "/t.npy");
  EXPECT_EQ((bytes.size() - 48) % 64, 0u);  // header padded to 64 bytes like NumPy's
  test::write_bytes(dir + "/short.npy", bytes.substr(0, bytes.size() - 1));
  EXPECT_NE(error_of([&] { read_npy(dir + "/short.npy"); }).find("needs 48 bytes, the file has 47"), std::string::npos);
  std::string fortran = bytes;
  fortran.replace(fortran.find("False"), 5, "True ");
  test::write_bytes(dir + "/f.npy", fortran);
  try {
    read_npy(dir + "/f.npy");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUnsupported);
  }
  Tensor scalar{tf::DT_FLOAT, {}, std::string(4, '\0'), {}};
  EXPECT_EQ(parse_npy(to_npy(scalar, "s"), "s"), scalar);
}

// Bit by bit, as the definition goes: the reference for the three-stream hardware path.
std::uint32_t crc32c_bitwise(std::uint32_t crc, const unsigned char* p, std::size_t n) {
  crc = ~crc;
  for (std::size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
  }
  return ~crc;
}

TEST(Crc32c, ThreeStreamsAgreeWithTheDefinitionAroundTheirBlockSize) {
  std::mt19937 rng(7);
  std::string data(3 * 3 * 8192 + 100, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  for (std::size_t n : {0, 1, 8, 3 * 8192 - 1, 3 * 8192, 3 * 8192 + 1, 3 * 8192 + 9, 6 * 8192 + 5, 9 * 8192 + 100})
    for (std::uint32_t start : {0u, 0xdeadbeefu})
      for (std::size_t offset : {0, 3}) {
        const std::size_t len = std::min(n, data.size() - offset);
        EXPECT_EQ(crc32c::extend(start, p + offset, len), crc32c_bitwise(start, p + offset, len)) << n << " from " << offset;
      }
}

TEST(Crc32c, KnownValues) {
  // RFC 3720 test vector: 32 bytes of zeros.
  std::string zeros(32, '\0');
  EXPECT_EQ(crc32c::value(zeros.data(), zeros.size()), 0x8a9136aau);
  EXPECT_EQ(crc32c::value("123456789", 9), 0xe3069283u);
  EXPECT_EQ(crc32c::unmask(crc32c::mask(0x12345678u)), 0x12345678u);
  std::string big(100003, 'x');  // long input: the wide path and the tail agree with chunking
  std::uint32_t whole = crc32c::value(big.data(), big.size());
  std::uint32_t parts = crc32c::extend(crc32c::value(big.data(), 77), big.data() + 77, big.size() - 77);
  EXPECT_EQ(whole, parts);
}

}  // namespace
}  // namespace tffreeze::io::checkpoint

namespace tffreeze::io::checkpoint {
namespace {

// A V2 bundle assembled by hand: header, the given entries (key -> entry), one data shard.
void write_raw_bundle(const std::string& prefix, const std::map<std::string, tf::BundleEntryProto>& entries,
                      const std::string& data) {
  test::write_bytes(prefix + ".data-00000-of-00001", data);
  TableWriter index(prefix + ".index");
  tf::BundleHeaderProto header;
  header.set_num_shards(1);
  index.add("", to_binary(header));
  for (const auto& [key, entry] : entries) index.add(key, to_binary(entry));
  index.finish();
}

tf::BundleEntryProto entry_for(tf::DataType dtype, std::vector<std::int64_t> shape, const std::string& data, std::int64_t offset,
                               std::int64_t size) {
  tf::BundleEntryProto e;
  e.set_dtype(dtype);
  *e.mutable_shape() = shape_proto(shape);
  e.set_offset(offset);
  e.set_size(size);
  e.set_crc32c(crc32c::mask(crc32c::value(data.data() + offset, static_cast<std::size_t>(size))));
  return e;
}

tf::TensorSliceProto rows(std::int64_t start, std::int64_t length) {
  tf::TensorSliceProto s;
  auto* e = s.add_extent();
  e->set_start(start);
  e->set_length(length);
  s.add_extent();  // the whole second dimension
  return s;
}

TEST(PartitionedVariable, SlicesAreReassembled) {
  // w: float [4, 3] = 0..11, stored as rows [0, 2) and rows [2, 4), the way a partitioned
  // variable is saved: a full entry listing the slices, and one entry per slice under its
  // OrderedCode key.
  std::string data(48, '\0');
  for (int i = 0; i < 12; ++i) {
    float v = static_cast<float>(i);
    std::memcpy(data.data() + 4 * i, &v, 4);
  }
  std::map<std::string, tf::BundleEntryProto> entries;
  tf::BundleEntryProto full;
  full.set_dtype(tf::DT_FLOAT);
  *full.mutable_shape() = shape_proto({4, 3});
  *full.add_slices() = rows(2, 2);  // listed out of order on purpose
  *full.add_slices() = rows(0, 2);
  entries["w"] = full;
  entries[encode_tensor_name_slice("w", rows(0, 2), 2)] = entry_for(tf::DT_FLOAT, {2, 3}, data, 0, 24);
  entries[encode_tensor_name_slice("w", rows(2, 2), 2)] = entry_for(tf::DT_FLOAT, {2, 3}, data, 24, 24);
  const std::string prefix = test::temp_dir() + "/part";
  write_raw_bundle(prefix, entries, data);
  auto c = open_checkpoint(prefix);
  ASSERT_EQ(c->entries().size(), 1u);  // slice keys are not tensors
  EXPECT_EQ(c->entries()[0].slices, 2);
  Tensor w = c->read("w");
  EXPECT_EQ(w.shape, (std::vector<std::int64_t>{4, 3}));
  EXPECT_EQ(w.bytes, data);
  // A slice reaching past the tensor is refused.
  entries["w"].mutable_slices(0)->mutable_extent(0)->set_length(5);
  write_raw_bundle(prefix, entries, data);
  EXPECT_NE(error_of([&] { open_checkpoint(prefix)->read("w"); }).find("missing"), std::string::npos);
}

TEST(CheckpointErrors, HandMadeBadEntries) {
  std::string data = "abcdefgh";
  const std::string prefix = test::temp_dir() + "/bad";
  std::map<std::string, tf::BundleEntryProto> entries;
  entries["shape_vs_bytes"] = entry_for(tf::DT_FLOAT, {3}, data, 0, 8);
  entries["unknown_dtype"] = entry_for(static_cast<tf::DataType>(77), {2}, data, 0, 8);
  entries["variant"] = entry_for(tf::DT_VARIANT, {1}, data, 0, 8);
  entries["past_end"] = entry_for(tf::DT_FLOAT, {2}, data, 0, 8);
  entries["past_end"].set_offset(4);
  entries["past_end"].set_size(1000);
  entries["huge_shape"] = entry_for(tf::DT_FLOAT, {1000000, 1000000, 1000000}, data, 0, 8);
  // A string tensor whose (correctly checksummed) length claims more bytes than follow.
  std::string strings;
  put_varint64(&strings, 100);
  std::uint32_t len32 = 100, crc = crc32c::value(&len32, 4), masked = crc32c::mask(crc);
  strings.append(reinterpret_cast<const char*>(&masked), 4);
  strings += "short";
  const std::int64_t string_offset = static_cast<std::int64_t>(data.size());
  data += strings;
  entries["bad_string"] = entry_for(tf::DT_STRING, {1}, data, string_offset, static_cast<std::int64_t>(strings.size()));
  write_raw_bundle(prefix, entries, data);
  auto c = open_checkpoint(prefix);
  auto expect = [&](const char* name, ExitCode code, const std::string& fragment) {
    try {
      c->read(name);
      ADD_FAILURE() << name << " read";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      EXPECT_NE(std::string(e.what()).find(std::string("tensor '") + name + "'"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(prefix), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect("shape_vs_bytes", ExitCode::kBadInput, "needs 12 bytes, the entry has 8");
  expect("unknown_dtype", ExitCode::kBadInput, "unknown dtype 77");
  expect("variant", ExitCode::kUnsupported, "not supported");
  expect("past_end", ExitCode::kBadInput, "lie past the end of");
  expect("huge_shape", ExitCode::kBadInput, "needs");
  expect("bad_string", ExitCode::kBadInput, "string of 100 bytes runs past the entry");
}

}  // namespace
}  // namespace tffreeze::io::checkpoint

namespace tffreeze::io::checkpoint {
namespace {

TEST(CheckpointResolution, WhatIsAndIsNotACheckpoint) {
  REQUIRE_FIXTURE(no_vars, "scisharp-tensorflow-net/test/TensorFlowNET.UnitTest/Utilities/models/example1");
  EXPECT_NE(error_of([&] { open_checkpoint(no_vars); }).find("SavedModel has no variables"), std::string::npos);
  REQUIRE_FIXTURE(v1, "tensorflow-serving/tensorflow_serving/servables/tensorflow/testdata/bad_half_plus_two/00000123/export");
  EXPECT_TRUE(looks_like_checkpoint(v1));
  EXPECT_TRUE(looks_like_checkpoint(v1.substr(0, v1.rfind('/'))));  // the directory's state file
  REQUIRE_FIXTURE(graph, "tensorflow-rust/tensorflow-sys/examples/assets/multiplication.pb");
  EXPECT_FALSE(looks_like_checkpoint(graph));
  std::string dir = test::temp_dir();
  test::write_bytes(dir + "/model", test::read_bytes(graph));  // a graph without an extension
  EXPECT_FALSE(looks_like_checkpoint(dir + "/model"));
  REQUIRE_FIXTURE(index, "tensorflow-onnx/tests/models/regression/checkpoint/model.index");
  EXPECT_TRUE(looks_like_checkpoint(index));
  EXPECT_EQ(resolve_checkpoint_prefix(index), index.substr(0, index.size() - 6));
  EXPECT_EQ(resolve_checkpoint_prefix(index.substr(0, index.size() - 6) + ".data-00000-of-00001"), index.substr(0, index.size() - 6));
}

}  // namespace
}  // namespace tffreeze::io::checkpoint
