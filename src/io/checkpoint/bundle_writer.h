// Writing V2 tensor bundles that TensorFlow reads: PREFIX.data-00000-of-00001 (tensors in the
// order they are added) and PREFIX.index (header + entries sorted by name, with checksums).
// Nothing is visible until finish(): both files are written under temporary names and renamed,
// data first, index last.
#pragma once

#include <cstdio>
#include <map>
#include <string>

#include "common/tensor.h"
#include "tffreeze/tf/checkpoint.pb.h"

namespace tffreeze::io::checkpoint {

class BundleWriter {
 public:
  explicit BundleWriter(std::string prefix);
  ~BundleWriter();  // removes the temporary files unless finish() succeeded
  BundleWriter(const BundleWriter&) = delete;
  BundleWriter& operator=(const BundleWriter&) = delete;

  // Throws Error (exit 2) for a duplicate or empty name, (exit 4) for unsupported dtypes.
  void add(const std::string& name, const Tensor& tensor);
  // The header's version (TensorFlow writes producer 1).
  void set_version(const tf::VersionDef& version) { *header_.mutable_version() = version; }
  void finish();

 private:
  void append(const void* data, std::size_t n);

  std::string prefix_, data_tmp_, index_tmp_;
  std::FILE* data_ = nullptr;
  std::int64_t offset_ = 0;
  tf::BundleHeaderProto header_;
  std::map<std::string, tf::BundleEntryProto> entries_;
  bool finished_ = false;
};

}  // namespace tffreeze::io::checkpoint
