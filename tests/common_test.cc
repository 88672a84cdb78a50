// dtype names and sizes, shapes, half floats, file helpers.
#include <cmath>
#include <iostream>
#include <filesystem>

#include "common/dtype.h"
#include "common/error.h"
#include "common/file_util.h"
#include "common/mapped_file.h"
#include "support.h"

namespace tffreeze {
namespace {

TEST(Dtype, NamesRoundTrip) {
  for (auto dt : {tf::DT_FLOAT, tf::DT_DOUBLE, tf::DT_HALF, tf::DT_INT8, tf::DT_INT32, tf::DT_INT64, tf::DT_UINT8, tf::DT_BOOL,
                  tf::DT_STRING, tf::DT_BFLOAT16, tf::DT_COMPLEX64}) {
    auto parsed = parse_dtype(dtype_name(dt));
    ASSERT_TRUE(parsed) << dtype_name(dt);
    EXPECT_EQ(*parsed, dt);
  }
  EXPECT_EQ(parse_dtype("float"), tf::DT_FLOAT);
  EXPECT_EQ(parse_dtype("DT_INT64"), tf::DT_INT64);
  EXPECT_EQ(parse_dtype("half"), tf::DT_HALF);
  EXPECT_FALSE(parse_dtype("floaty"));
  EXPECT_EQ(dtype_name(tf::DT_FLOAT_REF), "float32_ref");
  EXPECT_EQ(base_type(tf::DT_FLOAT_REF), tf::DT_FLOAT);
  // A fuzzed attr's dtype far past the reference types: named as a number (it recursed once a
  // hundred and overflowed the stack).
  const auto huge = static_cast<tf::DataType>(0x7ffffff);
  EXPECT_FALSE(is_ref_type(huge));
  EXPECT_EQ(dtype_name(huge), "DT_" + std::to_string(0x7ffffff));
  EXPECT_EQ(dtype_name(static_cast<tf::DataType>(250)), "DT_250");
}

TEST(Dtype, Sizes) {
  EXPECT_EQ(dtype_size(tf::DT_FLOAT), 4);
  EXPECT_EQ(dtype_size(tf::DT_HALF), 2);
  EXPECT_EQ(dtype_size(tf::DT_COMPLEX128), 16);
  EXPECT_EQ(dtype_size(tf::DT_STRING), 0);
  EXPECT_EQ(dtype_size(tf::DT_RESOURCE), 0);
}

TEST(Shape, NumElementsRefusesOverflowAndUnknown) {
  tf::TensorShapeProto s;
  EXPECT_EQ(num_elements(s), 1);  // scalar
  s.add_dim()->set_size(3);
  s.add_dim()->set_size(4);
  EXPECT_EQ(num_elements(s), 12);
  EXPECT_EQ(shape_string(s), "[3,4]");
  s.add_dim()->set_size(-1);
  EXPECT_FALSE(num_elements(s));
  tf::TensorShapeProto huge;
  for (int i = 0; i < 5; ++i) huge.add_dim()->set_size(1'000'000'000);
  EXPECT_FALSE(num_elements(huge));
  tf::TensorShapeProto unknown;
  unknown.set_unknown_rank(true);
  EXPECT_FALSE(num_elements(unknown));
  EXPECT_EQ(shape_string(unknown), "?");
}

TEST(Half, ConvertsNormalsSubnormalsAndSpecials) {
  EXPECT_EQ(half_to_float(0x3c00), 1.0f);
  EXPECT_EQ(half_to_float(0xc000), -2.0f);
  EXPECT_EQ(half_to_float(0x3555), 0.333251953125f);
  EXPECT_EQ(half_to_float(0x0001), 5.960464477539063e-08f);  // smallest subnormal
  EXPECT_EQ(half_to_float(0x7bff), 65504.0f);
  EXPECT_TRUE(std::isinf(half_to_float(0x7c00)));
  EXPECT_TRUE(std::isnan(half_to_float(0x7e00)));
  EXPECT_TRUE(std::signbit(half_to_float(0x8000)));
}

TEST(FileUtil, AtomicWriteReplacesAndLeavesNoTemp) {
  std::string dir = test::temp_dir();
  std::string path = dir + "/out.pb";
  write_file_atomic(path, "first");
  write_file_atomic(path, "second");
  EXPECT_EQ(read_file(path), "second");
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1);
}

TEST(FileUtil, WriteIntoMissingDirectoryFailsCleanly) {
  try {
    write_file_atomic(test::temp_dir() + "/no/such/dir/out.pb", "x");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("out.pb"), std::string::npos);
  }
}

TEST(FileUtil, ReadErrorsNameTheFile) {
  std::string dir = test::temp_dir();
  try {
    read_file(dir + "/missing.pb");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("missing.pb: cannot open"), std::string::npos);
  }
  try {
    read_file(dir);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos);
  }
  test::write_bytes(dir + "/big", std::string(100, 'x'));
  try {
    read_file(dir + "/big", 10);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUnsupported);
  }
}

// Copies come by pread, not through the mapping: the bytes asked for, and a file that shrank
// after it was opened is a clean error naming it (through the mapping it would be a SIGBUS).
TEST(FileUtil, MappedFileReadsRangesAndNamesAFileThatShrank) {
  std::string dir = test::temp_dir();
  std::string content;
  for (int i = 0; i < 5000; ++i) content += static_cast<char>(i * 7 % 251);
  test::write_bytes(dir + "/data", content);
  MappedFile file(dir + "/data");
  std::string got(1000, '\0');
  file.read(3000, got.size(), got.data());
  EXPECT_EQ(got, content.substr(3000, 1000));
  EXPECT_EQ(file.bytes().substr(3000, 1000), got);
  std::filesystem::resize_file(dir + "/data", 3500);
  try {
    file.read(3000, got.size(), got.data());
    FAIL() << "read past the end";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find(dir + "/data: ends before byte 4000"), std::string::npos) << e.what();
  }
}

TEST(FileUtil, RefusesToOverwriteAnInput) {
  std::string dir = test::temp_dir();
  test::write_bytes(dir + "/in.pb", "x");
  EXPECT_THROW(refuse_overwriting_input(dir + "/./in.pb", {dir + "/in.pb"}), Error);
  EXPECT_NO_THROW(refuse_overwriting_input(dir + "/other.pb", {dir + "/in.pb"}));
  EXPECT_EQ(extension("a/b/model.PBTXT"), ".pbtxt");
  EXPECT_EQ(extension("a/.hidden"), "");
  EXPECT_EQ(file_name("a/b/c/"), "c");
}

}  // namespace
}  // namespace tffreeze

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

namespace tffreeze {
namespace {

// A writer killed at some point of a large write leaves either nothing or the complete file,
// never a partial one, and no temporary file either.
TEST(FileUtil, KilledMidWriteLeavesNoPartialFile) {
  const std::size_t size = std::size_t{256} << 20;
  int partial = 0, absent = 0, complete = 0;
  for (int delay_ms : {5, 20, 60, 150}) {
    const std::string dir = test::temp_dir();
    const std::string path = dir + "/out.pb";
    pid_t pid = ::fork();
    if (pid == 0) {
      std::string bytes(size, 'x');
      write_file_atomic(path, bytes);
      ::_exit(0);
    }
    ::usleep(static_cast<useconds_t>(delay_ms) * 1000);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    int files = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++files;
    if (!std::filesystem::exists(path)) {
      ++absent;
      EXPECT_EQ(files, 0) << "a temporary file was left behind (delay " << delay_ms << " ms)";
    } else if (std::filesystem::file_size(path) == size) {
      ++complete;
      EXPECT_EQ(files, 1);
    } else {
      ++partial;
    }
  }
  EXPECT_EQ(partial, 0);
  std::cout << "[ info ] killed writers: " << absent << " left nothing, " << complete << " had finished, 0 partial\n";
}

}  // namespace
}  // namespace tffreeze
