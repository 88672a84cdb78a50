#include "io/checkpoint/bundle_writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/crc32c.h"
#include "common/dtype.h"
#include "common/error.h"
#include "common/varint.h"
#include "io/checkpoint/sstable.h"
#include "io/proto_io.h"

namespace tffreeze::io::checkpoint {
namespace {

std::string temp_name(const std::string& path) { return path + ".tmp" + std::to_string(::getpid()); }

}  // namespace

BundleWriter::BundleWriter(std::string prefix)
    : prefix_(std::move(prefix)),
      data_tmp_(temp_name(prefix_ + ".data-00000-of-00001")),
      index_tmp_(temp_name(prefix_ + ".index")) {
  data_ = std::fopen(data_tmp_.c_str(), "wb");
  if (!data_) throw Error(ExitCode::kBadInput, prefix_ + ": cannot create checkpoint data file: " + std::strerror(errno));
  header_.set_num_shards(1);
  header_.set_endianness(tf::BundleHeaderProto::LITTLE);
  header_.mutable_version()->set_producer(1);
}

BundleWriter::~BundleWriter() {
  if (data_) std::fclose(data_);
  if (!finished_) {
    std::remove(data_tmp_.c_str());
    std::remove(index_tmp_.c_str());
  }
}

void BundleWriter::append(const void* data, std::size_t n) {
  if (n && std::fwrite(data, 1, n, data_) != n) {
    throw Error(ExitCode::kBadInput, data_tmp_ + ": write failed: " + std::strerror(errno));
  }
  offset_ += static_cast<std::int64_t>(n);
}

void BundleWriter::add(const std::string& name, const Tensor& t) {
  if (name.empty() || name.front() == '\0') throw Error(ExitCode::kUsage, prefix_ + ": invalid tensor name");
  if (entries_.count(name)) throw Error(ExitCode::kUsage, prefix_ + ": tensor '" + name + "' added twice");
  tf::BundleEntryProto entry;
  entry.set_dtype(t.dtype);
  *entry.mutable_shape() = shape_proto(t.shape);
  entry.set_offset(offset_);
  std::uint32_t crc = 0;
  if (t.dtype == tf::DT_STRING) {
    // See the reader: varint64 lengths, masked checksum of the lengths, then the bytes.
    std::string lengths;
    for (const auto& s : t.strings) {
      put_varint64(&lengths, s.size());
      if (s.size() <= 0xffffffffu) {
        auto len32 = static_cast<std::uint32_t>(s.size());
        crc = crc32c::extend(crc, &len32, 4);
      } else {
        std::uint64_t len64 = s.size();
        crc = crc32c::extend(crc, &len64, 8);
      }
    }
    append(lengths.data(), lengths.size());
    std::uint32_t masked = crc32c::mask(crc);
    append(&masked, 4);
    crc = crc32c::extend(crc, &masked, 4);
    for (const auto& s : t.strings) {
      append(s.data(), s.size());
      crc = crc32c::extend(crc, s.data(), s.size());
    }
  } else {
    if (dtype_size(t.dtype) == 0) throw Error(ExitCode::kUnsupported, prefix_ + ": tensor '" + name + "' of dtype " + dtype_name(t.dtype));
    append(t.bytes.data(), t.bytes.size());
    crc = crc32c::value(t.bytes.data(), t.bytes.size());
  }
  entry.set_size(offset_ - entry.offset());
  entry.set_crc32c(crc32c::mask(crc));
  entries_.emplace(name, std::move(entry));
}

void BundleWriter::finish() {
  if (std::fflush(data_) != 0 || ::fsync(::fileno(data_)) != 0) {
    throw Error(ExitCode::kBadInput, data_tmp_ + ": write failed: " + std::strerror(errno));
  }
  std::fclose(data_);
  data_ = nullptr;
  {
    TableWriter index(index_tmp_);
    index.add("", to_binary(header_));
    for (const auto& [name, entry] : entries_) index.add(name, to_binary(entry));  // std::map: byte order
    index.finish();
  }
  const std::string data_final = prefix_ + ".data-00000-of-00001", index_final = prefix_ + ".index";
  if (std::rename(data_tmp_.c_str(), data_final.c_str()) != 0 || std::rename(index_tmp_.c_str(), index_final.c_str()) != 0) {
    throw Error(ExitCode::kBadInput, prefix_ + ": cannot rename checkpoint files into place: " + std::strerror(errno));
  }
  finished_ = true;
}

}  // namespace tffreeze::io::checkpoint
