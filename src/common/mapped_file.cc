#include "common/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include "common/error.h"

namespace tffreeze {

MappedFile::MappedFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw_bad_input(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw_bad_input(path, "not a regular file");
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ > 0) {
    data_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
    if (data_ == MAP_FAILED) {
      data_ = nullptr;
      ::close(fd_);
      throw_bad_input(path, std::string("cannot map: ") + std::strerror(errno));
    }
  }
}

void MappedFile::read(std::size_t offset, std::size_t n, char* out) const {
  while (n > 0) {
    const ssize_t got = ::pread(fd_, out, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      throw_bad_input(path_, got < 0 ? std::string("cannot read: ") + std::strerror(errno)
                                     : "ends before byte " + std::to_string(offset + n) + " (it shrank after it was opened)");
    }
    out += got;
    offset += static_cast<std::size_t>(got);
    n -= static_cast<std::size_t>(got);
  }
}

void MappedFile::release(std::size_t offset, std::size_t n) const {
  if (!data_ || n == 0 || offset >= size_) return;
  // Outwards to Linux's fault-around window (64 KiB: a fault maps the file's resident pages
  // around it too), else every read leaves its edge pages mapped and the resident set creeps up
  // by tens of KiB per tensor. Dropping a neighbour's page is harmless: the mapping is read-only
  // and the page comes back from the page cache when touched.
  static const std::size_t window = std::max<std::size_t>(static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)), 64 << 10);
  std::size_t begin = offset / window * window;
  std::size_t end = std::min((std::min(offset + n, size_) + window - 1) / window * window, size_);
  if (end > begin) ::madvise(static_cast<char*>(data_) + begin, end - begin, MADV_DONTNEED);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(data_, size_);
  ::close(fd_);
}

}  // namespace tffreeze
