// Whole-file reads with a size cap, and atomic writes (temp file in the target directory, then
// rename), so a failed run never leaves a half-written output.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tffreeze {

// Protobuf messages cannot exceed 2 GiB; neither can anything we read whole.
inline constexpr std::uint64_t kMaxWholeFileBytes = (std::uint64_t{1} << 31) - 1;

// Reads a regular file. Errors (exit 3): missing, a directory, unreadable, larger than max_bytes.
std::string read_file(const std::string& path, std::uint64_t max_bytes = kMaxWholeFileBytes);

// Writes bytes to path atomically; path "-" writes to stdout.
void write_file_atomic(const std::string& path, std::string_view bytes);
// The same, with the content streamed by `write(fd)` (false on failure, errno set): large
// outputs need not be held in memory twice. `path` must be a file, not "-".
void write_file_atomic_with(const std::string& path, const std::function<bool(int fd)>& write);

// Usage error (exit 2) when output names the same file as one of the inputs (by identity, not
// by spelling): inputs are never modified.
void refuse_overwriting_input(const std::string& output, const std::vector<std::string>& inputs);

bool is_directory(const std::string& path);
bool is_regular_file(const std::string& path);
std::string join_path(const std::string& dir, const std::string& name);
std::string file_name(const std::string& path);   // last component
std::string parent_dir(const std::string& path);  // all but the last component; "." for none
std::string extension(const std::string& path);   // ".pb", lower case; "" if none

}  // namespace tffreeze
