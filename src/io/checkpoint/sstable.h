// Reading and writing the table files of checkpoints (LevelDB's SSTable format, which
// TensorFlow's .index files and V1 checkpoints use), through Debian's libleveldb.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tffreeze::io::checkpoint {

// Whether the file ends with the table magic number (cheap: reads 8 bytes).
bool is_table_file(const std::string& path);

class TableReader {
 public:
  // Opens and checks the table: footer, and every block handle in the index lies inside the
  // file (so no read is sized from an unchecked field). Throws Error (exit 3) naming `path`.
  explicit TableReader(const std::string& path);
  ~TableReader();
  TableReader(const TableReader&) = delete;
  TableReader& operator=(const TableReader&) = delete;

  // Visits every entry in key order, with block checksums verified. Stop by returning false.
  void for_each(const std::function<bool(std::string_view key, std::string_view value)>& visit) const;
  std::optional<std::string> get(std::string_view key) const;
  const std::string& path() const { return path_; }
  std::uint64_t file_size() const { return file_size_; }

 private:
  struct Impl;
  std::string path_;
  std::uint64_t file_size_ = 0;
  std::unique_ptr<Impl> impl_;
};

// Writes a table the way TensorFlow's bundle writer does (no compression, 256 KiB blocks).
// Keys must be added in increasing byte order.
class TableWriter {
 public:
  explicit TableWriter(const std::string& path);
  ~TableWriter();
  void add(std::string_view key, std::string_view value);
  void finish();  // throws Error on I/O failure

 private:
  struct Impl;
  std::string path_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tffreeze::io::checkpoint
