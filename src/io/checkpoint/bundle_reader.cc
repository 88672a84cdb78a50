#include "io/checkpoint/bundle_reader.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>

#include "common/crc32c.h"
#include "common/dtype.h"
#include "common/error.h"
#include "common/mapped_file.h"
#include "common/varint.h"
#include "io/checkpoint/ordered_code.h"
#include "io/checkpoint/slices.h"
#include "io/checkpoint/sstable.h"
#include "io/proto_io.h"

namespace tffreeze::io::checkpoint {
namespace {

std::string shard_name(const std::string& prefix, int shard, int num_shards) {
  char buf[64];
  std::snprintf(buf, sizeof buf, ".data-%05d-of-%05d", shard, num_shards);
  return prefix + buf;
}

class Bundle final : public Checkpoint {
 public:
  explicit Bundle(const std::string& prefix) : prefix_(prefix), index_(prefix + ".index") {
    const std::string& index_path = index_.path();
    bool have_header = false;
    index_.for_each([&](std::string_view key, std::string_view value) {
      if (key.empty()) {
        if (!parse_binary(value, &header_, &why_)) throw_bad_input(index_path, "bad bundle header: " + why_);
        have_header = true;
        return true;
      }
      tf::BundleEntryProto entry;
      if (!parse_binary(value, &entry, &why_)) {
        throw_bad_input(index_path, "bad entry for '" + printable(key) + "': " + why_);
      }
      if (key.front() == '\0') {  // a slice of a partitioned tensor (OrderedCode key)
        slice_entries_.emplace(std::string(key), std::move(entry));
      } else {
        add_entry(std::string(key), std::move(entry));
      }
      return true;
    });
    if (!have_header) throw_bad_input(index_path, "no bundle header (is this a V1 checkpoint or another table?)");
    if (header_.endianness() != tf::BundleHeaderProto::LITTLE) {
      throw_unsupported(index_path, "big-endian checkpoints are not supported");
    }
    if (header_.num_shards() < 1 || header_.num_shards() > 100000) {
      throw_bad_input(index_path, "header claims " + std::to_string(header_.num_shards()) + " shards");
    }
    shards_.resize(static_cast<std::size_t>(header_.num_shards()));
    std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  }

  const std::string& prefix() const override { return prefix_; }
  Format format() const override { return Format::kV2; }
  const std::vector<Entry>& entries() const override { return entries_; }

  Tensor read(const std::string& name) const override {
    auto it = protos_.find(name);
    if (it == protos_.end()) throw_bad_input(prefix_, "checkpoint has no tensor '" + name + "'");
    const tf::BundleEntryProto& entry = it->second;
    const std::string where = prefix_ + ": tensor '" + name + "'";
    if (entry.slices_size() == 0) return read_stored(entry, dims_of(entry.shape()), where);
    const int rank = entry.shape().dim_size();
    std::vector<const tf::BundleEntryProto*> parts;
    std::uint64_t stored = 0;
    for (const auto& slice : entry.slices()) {
      auto s = slice_entries_.find(encode_tensor_name_slice(name, slice, rank));
      if (s == slice_entries_.end()) throw Error(ExitCode::kBadInput, where + ": a slice listed in its entry is missing");
      parts.push_back(&s->second);
      stored += static_cast<std::uint64_t>(std::max<std::int64_t>(s->second.size(), 0));
    }
    auto n = num_elements(entry.shape());
    const int esize = dtype_size(entry.dtype());
    if (n && esize && static_cast<std::uint64_t>(*n) * static_cast<std::uint64_t>(esize) > stored) {
      throw Error(ExitCode::kBadInput, where + ": its slices hold " + std::to_string(stored) + " bytes, the shape " +
                                           shape_string(entry.shape()) + " needs more");
    }
    Tensor full = allocate_tensor(entry.dtype(), dims_of(entry.shape()), where);
    for (int i = 0; i < entry.slices_size(); ++i) {
      const auto& slice = entry.slices(i);
      const auto* s = &*parts[static_cast<std::size_t>(i)];
      auto part_shape = slice_shape(slice, full.shape, where);
      Tensor part = read_stored(*s, part_shape, where);
      copy_slice_into(part, slice, &full);
    }
    return full;
  }

  bool streamable(const Entry& e) const override {
    return e.slices == 0 && e.dtype != tf::DT_STRING && dtype_size(e.dtype) > 0 && e.bytes > 0;
  }

  bool stream(const std::string& name, const std::function<void(std::string_view)>& sink) const override {
    const Entry* e = find(name);
    if (!e || !streamable(*e)) return false;
    const tf::BundleEntryProto& entry = protos_.at(name);
    const std::string where = prefix_ + ": tensor '" + name + "'";
    StoredView stored = stored_bytes(entry, where);
    check_fixed_size(entry.dtype(), e->shape, stored.bytes.size(), where);
    std::uint32_t crc = 0;
    const std::size_t size = stored.bytes.size();
    auto buffer = std::make_unique_for_overwrite<char[]>(std::min(size, kStreamChunk));
    for (std::size_t at = 0; at < size; at += kStreamChunk) {
      const std::size_t n = std::min(size - at, kStreamChunk);
      stored.file->read(static_cast<std::size_t>(entry.offset()) + at, n, buffer.get());
      crc = crc32c::extend(crc, buffer.get(), n);
      sink({buffer.get(), n});
    }
    check_crc(crc, entry, *stored.file, where);
    return true;
  }

  std::optional<StoredView> read_view(const std::string& name) const override {
    auto it = protos_.find(name);
    if (it == protos_.end()) throw_bad_input(prefix_, "checkpoint has no tensor '" + name + "'");
    const tf::BundleEntryProto& entry = it->second;
    // Sliced tensors are reassembled and strings decoded: those need read()'s copy.
    if (entry.slices_size() > 0 || !tf::DataType_IsValid(entry.dtype()) || dtype_size(entry.dtype()) == 0) return std::nullopt;
    const std::string where = prefix_ + ": tensor '" + name + "'";
    StoredView view = stored_bytes(entry, where);
    check_fixed_size(entry.dtype(), dims_of(entry.shape()), view.bytes.size(), where);
    const std::uint32_t crc = crc32c::value(view.bytes.data(), view.bytes.size());
    release(entry, *view.file);
    check_crc(crc, entry, *view.file, where);
    return view;
  }

 private:
  static constexpr std::size_t kStreamChunk = std::size_t{1} << 20;

  static std::string printable(std::string_view key) {
    std::string s;
    for (char c : key.substr(0, 80)) s += (c >= 32 && c < 127) ? c : '?';
    return s;
  }

  void add_entry(std::string name, tf::BundleEntryProto entry) {
    Entry e;
    e.name = name;
    e.dtype = entry.dtype();
    e.shape = dims_of(entry.shape());
    e.bytes = entry.size();
    e.slices = entry.slices_size();
    if (e.slices == 0) {
      e.shard = entry.shard_id();
      e.offset = entry.offset();
    }
    entries_.push_back(e);
    protos_.emplace(std::move(name), std::move(entry));
  }

  // Shared: a view handed out (read_view) keeps its shard mapped after the bundle is gone.
  std::shared_ptr<const MappedFile> shard(int id, const std::string& where) const {
    if (id < 0 || id >= static_cast<int>(shards_.size())) {
      throw Error(ExitCode::kBadInput, where + ": shard " + std::to_string(id) + " of " + std::to_string(shards_.size()));
    }
    std::lock_guard<std::mutex> lock(shards_mutex_);
    auto& slot = shards_[static_cast<std::size_t>(id)];
    if (!slot) {
      std::string path = shard_name(prefix_, id, header_.num_shards());
      try {
        slot = std::make_shared<MappedFile>(path);
      } catch (const Error& e) {
        throw Error(ExitCode::kBadInput, where + ": data shard missing or unreadable: " + e.what());
      }
    }
    return slot;
  }

  // The entry's bytes in its mapped shard, bounds checked.
  StoredView stored_bytes(const tf::BundleEntryProto& entry, const std::string& where) const {
    std::shared_ptr<const MappedFile> file = shard(entry.shard_id(), where);
    const auto size = static_cast<std::uint64_t>(file->bytes().size());
    if (entry.offset() < 0 || entry.size() < 0 || static_cast<std::uint64_t>(entry.offset()) > size ||
        static_cast<std::uint64_t>(entry.size()) > size - static_cast<std::uint64_t>(entry.offset())) {
      throw Error(ExitCode::kBadInput, where + ": bytes [" + std::to_string(entry.offset()) + ", +" + std::to_string(entry.size()) +
                                           ") lie past the end of " + file->path() + " (" + std::to_string(size) + " bytes)");
    }
    std::string_view data = file->bytes().substr(static_cast<std::size_t>(entry.offset()), static_cast<std::size_t>(entry.size()));
    return {std::move(file), data};
  }

  static void check_fixed_size(tf::DataType dtype, const std::vector<std::int64_t>& shape, std::size_t stored, const std::string& where) {
    auto n = num_elements(shape_proto(shape));
    if (!n) throw Error(ExitCode::kBadInput, where + ": shape " + dims_string(shape) + " is invalid");
    const int esize = dtype_size(dtype);
    if (esize == 0) throw Error(ExitCode::kUnsupported, where + ": dtype " + dtype_name(dtype) + " is not supported");
    if (static_cast<std::uint64_t>(stored) != static_cast<std::uint64_t>(*n) * static_cast<std::uint64_t>(esize)) {
      throw Error(ExitCode::kBadInput, where + ": shape " + dims_string(shape) + " of " + dtype_name(dtype) + " needs " +
                                           std::to_string(*n * esize) + " bytes, the entry has " + std::to_string(stored));
    }
  }

  // Once read through the mapping, the pages leave this process (they stay in the page cache):
  // reading a large file tensor by tensor keeps the resident set small.
  static void release(const tf::BundleEntryProto& entry, const MappedFile& file) {
    file.release(static_cast<std::size_t>(entry.offset()), static_cast<std::size_t>(entry.size()));
  }

  static void check_crc(std::uint32_t crc, const tf::BundleEntryProto& entry, const MappedFile& file, const std::string& where) {
    if (crc32c::mask(crc) != entry.crc32c()) {
      throw Error(ExitCode::kBadInput, where + ": checksum mismatch in " + file.path() + " (the data is corrupt)");
    }
  }

  // One stored run of bytes (a whole tensor or one slice), checked and decoded.
  Tensor read_stored(const tf::BundleEntryProto& entry, std::vector<std::int64_t> shape, const std::string& where) const {
    StoredView stored = stored_bytes(entry, where);
    std::string_view data = stored.bytes;
    Tensor t;
    t.dtype = entry.dtype();
    t.shape = std::move(shape);
    auto n = num_elements(shape_proto(t.shape));
    if (!n) throw Error(ExitCode::kBadInput, where + ": shape " + dims_string(t.shape) + " is invalid");
    if (!tf::DataType_IsValid(t.dtype)) {
      throw Error(ExitCode::kBadInput, where + ": unknown dtype " + std::to_string(static_cast<int>(t.dtype)));
    }
    std::uint32_t crc = 0;
    if (t.dtype == tf::DT_STRING) {
      crc = read_strings(data, *n, &t, where);
      release(entry, *stored.file);
    } else {
      check_fixed_size(t.dtype, t.shape, data.size(), where);
      t.bytes.resize(data.size());
      // A chunk at a time, checksummed while it is still in the cache.
      for (std::size_t at = 0; at < data.size(); at += kStreamChunk) {
        const std::size_t n = std::min(data.size() - at, kStreamChunk);
        stored.file->read(static_cast<std::size_t>(entry.offset()) + at, n, t.bytes.data() + at);
        crc = crc32c::extend(crc, t.bytes.data() + at, n);
      }
    }
    check_crc(crc, entry, *stored.file, where);
    return t;
  }

  // [varint64 length]*n [masked crc32c of the lengths as uint32] [bytes]*n. The checksum covers
  // the lengths (as uint32), that masked checksum, and the bytes.
  static std::uint32_t read_strings(std::string_view data, std::int64_t n, Tensor* t, const std::string& where) {
    if (n > static_cast<std::int64_t>(data.size())) throw Error(ExitCode::kBadInput, where + ": more strings than bytes");
    std::vector<std::uint64_t> lengths(static_cast<std::size_t>(n));
    std::uint32_t crc = 0;
    std::string_view in = data;
    for (auto& len : lengths) {
      if (!get_varint64(&in, &len)) throw Error(ExitCode::kBadInput, where + ": bad string length");
      if (len <= 0xffffffffu) {
        auto len32 = static_cast<std::uint32_t>(len);
        crc = crc32c::extend(crc, &len32, 4);
      } else {
        crc = crc32c::extend(crc, &len, 8);
      }
    }
    if (in.size() < 4) throw Error(ExitCode::kBadInput, where + ": string lengths checksum missing");
    std::uint32_t stored;
    std::memcpy(&stored, in.data(), 4);
    if (stored != crc32c::mask(crc)) throw Error(ExitCode::kBadInput, where + ": string lengths checksum mismatch");
    crc = crc32c::extend(crc, in.data(), 4);
    in.remove_prefix(4);
    t->strings.reserve(lengths.size());
    for (auto len : lengths) {
      if (len > in.size()) throw Error(ExitCode::kBadInput, where + ": string of " + std::to_string(len) + " bytes runs past the entry");
      t->strings.emplace_back(in.substr(0, static_cast<std::size_t>(len)));
      crc = crc32c::extend(crc, in.data(), static_cast<std::size_t>(len));
      in.remove_prefix(static_cast<std::size_t>(len));
    }
    if (!in.empty()) throw Error(ExitCode::kBadInput, where + ": " + std::to_string(in.size()) + " bytes left after the strings");
    return crc;
  }

  std::string prefix_;
  TableReader index_;
  tf::BundleHeaderProto header_;
  std::string why_;
  std::vector<Entry> entries_;
  std::map<std::string, tf::BundleEntryProto> protos_;
  std::map<std::string, tf::BundleEntryProto> slice_entries_;
  mutable std::mutex shards_mutex_;
  mutable std::vector<std::shared_ptr<const MappedFile>> shards_;
};

}  // namespace

std::unique_ptr<Checkpoint> open_bundle(const std::string& prefix) { return std::make_unique<Bundle>(prefix); }

}  // namespace tffreeze::io::checkpoint
