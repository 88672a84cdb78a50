// A read-only memory mapping of a whole file: pages are read only when touched, so reading one
// tensor of a large checkpoint shard does not read the rest.
#pragma once

#include <string>
#include <string_view>

namespace tffreeze {

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);  // throws Error (exit 3) naming the file
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view bytes() const { return {static_cast<const char*>(data_), size_}; }
  // Copies [offset, offset + n) into `out` with pread, not through the mapping: a copy made this
  // way faults no page of the mapping in and has none to drop afterwards (on a VM each fault and
  // each drop, a TLB shootdown, cost more than copying the page). Throws Error (exit 3) naming
  // the file when the range is past its end (the file shrank after it was opened).
  void read(std::size_t offset, std::size_t n, char* out) const;
  // Drops the pages of [offset, offset + n), widened to whole 64 KiB windows, from this process's memory (they stay in the page
  // cache), so reading a large file tensor by tensor keeps the resident set small.
  void release(std::size_t offset, std::size_t n) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;  // kept open for read()
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace tffreeze
