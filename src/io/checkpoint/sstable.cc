#include "io/checkpoint/sstable.h"

#include <leveldb/env.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <leveldb/table.h>
#include <leveldb/table_builder.h>
#include <snappy.h>

#include <cstdio>
#include <cstring>
#include <new>

#include "common/error.h"
#include "common/file_util.h"
#include "common/varint.h"

namespace tffreeze::io::checkpoint {
namespace {

constexpr std::uint64_t kTableMagic = 0xdb4775248b80fb57ull;
constexpr std::size_t kFooterSize = 48;
constexpr std::size_t kBlockTrailer = 5;  // compression type + crc32c

struct Handle {
  std::uint64_t offset = 0, size = 0;
};

[[noreturn]] void corrupt(const std::string& path, const std::string& what) {
  throw_bad_input(path, "corrupt checkpoint table: " + what);
}

Handle read_handle(std::string_view* in, std::uint64_t file_size, const std::string& path, const char* what) {
  Handle h;
  if (!get_varint64(in, &h.offset) || !get_varint64(in, &h.size)) corrupt(path, std::string("bad ") + what + " handle");
  if (h.offset > file_size || h.size > file_size - h.offset || file_size - h.offset - h.size < kBlockTrailer) {
    corrupt(path, std::string(what) + " block at " + std::to_string(h.offset) + " (+" + std::to_string(h.size) +
                      " bytes) lies outside the file of " + std::to_string(file_size) + " bytes");
  }
  return h;
}

// The index block's values are the handles of the data blocks. LevelDB would allocate a buffer
// of whatever size a handle claims before reading it, so each is checked here first.
void check_index_block(const std::string& file, const Handle& index, const std::string& path) {
  std::string_view raw(file.data() + index.offset, index.size);
  std::string uncompressed;
  const char type = file[index.offset + index.size];
  if (type == 1) {
    std::size_t n = 0;
    if (!snappy::GetUncompressedLength(raw.data(), raw.size(), &n) || n > 64 * raw.size() + 1024 ||
        !snappy::Uncompress(raw.data(), raw.size(), &uncompressed)) {
      corrupt(path, "index block does not decompress");
    }
    raw = uncompressed;
  } else if (type != 0) {
    corrupt(path, "unknown block compression type " + std::to_string(static_cast<int>(type)));
  }
  if (raw.size() < 4) corrupt(path, "index block too small");
  std::uint32_t restarts;
  std::memcpy(&restarts, raw.data() + raw.size() - 4, 4);
  if (restarts > (raw.size() - 4) / 4) corrupt(path, "index block restart count");
  std::string_view entries = raw.substr(0, raw.size() - 4 - 4 * std::size_t{restarts});
  const auto file_size = static_cast<std::uint64_t>(file.size());
  while (!entries.empty()) {
    std::uint64_t shared, non_shared, value_len;
    if (!get_varint64(&entries, &shared) || !get_varint64(&entries, &non_shared) || !get_varint64(&entries, &value_len) ||
        non_shared > entries.size() || value_len > entries.size() - non_shared) {
      corrupt(path, "index block entry");
    }
    entries.remove_prefix(non_shared);
    std::string_view value = entries.substr(0, value_len);
    entries.remove_prefix(value_len);
    read_handle(&value, file_size, path, "data");
  }
}

}  // namespace

bool is_table_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  std::uint64_t magic = 0;
  bool ok = std::fseek(f, -8, SEEK_END) == 0 && std::fread(&magic, 8, 1, f) == 1 && magic == kTableMagic;
  std::fclose(f);
  return ok;
}

struct TableReader::Impl {
  std::unique_ptr<leveldb::RandomAccessFile> file;
  std::unique_ptr<leveldb::Table> table;
  leveldb::Options options;
};

TableReader::TableReader(const std::string& path) : path_(path), impl_(std::make_unique<Impl>()) {
  // Index files are small next to the data; holding one in memory to check it is cheap.
  const std::string file = read_file(path, std::uint64_t{1} << 32);
  if (file.size() < kFooterSize) corrupt(path, "shorter than a table footer (" + std::to_string(file.size()) + " bytes)");
  std::string_view footer(file.data() + file.size() - kFooterSize, kFooterSize);
  std::uint64_t magic;
  std::memcpy(&magic, footer.data() + 40, 8);
  if (magic != kTableMagic) corrupt(path, "no table magic number at the end (not a checkpoint index?)");
  const auto size = static_cast<std::uint64_t>(file.size());
  file_size_ = size;
  read_handle(&footer, size, path, "metaindex");
  Handle index = read_handle(&footer, size, path, "index");
  check_index_block(file, index, path);

  leveldb::RandomAccessFile* raw = nullptr;
  leveldb::Status s = leveldb::Env::Default()->NewRandomAccessFile(path, &raw);
  if (!s.ok()) throw_bad_input(path, s.ToString());
  impl_->file.reset(raw);
  impl_->options.paranoid_checks = true;
  impl_->options.block_cache = nullptr;
  leveldb::Table* table = nullptr;
  try {
    s = leveldb::Table::Open(impl_->options, raw, size, &table);
  } catch (const std::bad_alloc&) {
    corrupt(path, "a block claims more memory than is available");
  }
  if (!s.ok()) corrupt(path, s.ToString());
  impl_->table.reset(table);
}

TableReader::~TableReader() = default;

void TableReader::for_each(const std::function<bool(std::string_view, std::string_view)>& visit) const {
  leveldb::ReadOptions ro;
  ro.verify_checksums = true;
  ro.fill_cache = false;
  std::unique_ptr<leveldb::Iterator> it(impl_->table->NewIterator(ro));
  try {
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (!visit(std::string_view(it->key().data(), it->key().size()), std::string_view(it->value().data(), it->value().size()))) {
        return;
      }
    }
  } catch (const std::bad_alloc&) {
    corrupt(path_, "a block claims more memory than is available");
  }
  if (!it->status().ok()) corrupt(path_, it->status().ToString());
}

std::optional<std::string> TableReader::get(std::string_view key) const {
  leveldb::ReadOptions ro;
  ro.verify_checksums = true;
  ro.fill_cache = false;
  std::unique_ptr<leveldb::Iterator> it(impl_->table->NewIterator(ro));
  it->Seek(leveldb::Slice(key.data(), key.size()));
  if (!it->status().ok()) corrupt(path_, it->status().ToString());
  if (!it->Valid() || std::string_view(it->key().data(), it->key().size()) != key) return std::nullopt;
  return it->value().ToString();
}

struct TableWriter::Impl {
  std::unique_ptr<leveldb::WritableFile> file;
  std::unique_ptr<leveldb::TableBuilder> builder;
  leveldb::Options options;
};

TableWriter::TableWriter(const std::string& path) : path_(path), impl_(std::make_unique<Impl>()) {
  impl_->options.compression = leveldb::kNoCompression;
  impl_->options.block_size = 256 * 1024;  // TensorFlow's table default
  impl_->options.block_restart_interval = 16;
  leveldb::WritableFile* file = nullptr;
  leveldb::Status s = leveldb::Env::Default()->NewWritableFile(path, &file);
  if (!s.ok()) throw Error(ExitCode::kBadInput, path + ": cannot create: " + s.ToString());
  impl_->file.reset(file);
  impl_->builder = std::make_unique<leveldb::TableBuilder>(impl_->options, file);
}

TableWriter::~TableWriter() {
  if (impl_->builder) impl_->builder->Abandon();
}

void TableWriter::add(std::string_view key, std::string_view value) {
  impl_->builder->Add(leveldb::Slice(key.data(), key.size()), leveldb::Slice(value.data(), value.size()));
}

void TableWriter::finish() {
  leveldb::Status s = impl_->builder->Finish();
  impl_->builder.reset();
  if (s.ok()) s = impl_->file->Sync();
  if (s.ok()) s = impl_->file->Close();
  if (!s.ok()) throw Error(ExitCode::kBadInput, path_ + ": cannot write: " + s.ToString());
}

}  // namespace tffreeze::io::checkpoint
