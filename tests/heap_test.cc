// The CLI's heap reservation (runtime/heap.h): the heap grows by the reservation at once, before
// anything touches it, and the grown range is advised for huge pages. Run in a child: the
// reservation is process-wide.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "runtime/heap.h"
#include "support.h"

namespace tffreeze {
namespace {

struct Mapping {
  std::string header, flags;  // the smaps line naming the range, and its VmFlags line
};

// The mapping of /proc/self/smaps that holds `address` (empty when none does).
Mapping mapping_at(std::uintptr_t address) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line, header;
  while (std::getline(smaps, line)) {
    std::uintptr_t begin = 0, end = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> begin >> dash >> end && dash == '-') header = begin <= address && address < end ? line : "";
    else if (!header.empty() && line.rfind("VmFlags:", 0) == 0) return {header, line};
  }
  return {};
}

TEST(Heap, ReservationGrowsTheHeapOnceAndAdvisesHugePages) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "ASan's allocator does not take memory from the heap (sbrk)";
#endif
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const auto before = reinterpret_cast<std::uintptr_t>(sbrk(0));
    runtime::reserve_heap_in_large_pages(std::size_t{64} << 20);
    const auto after = reinterpret_cast<std::uintptr_t>(sbrk(0));
    if (after - before < (std::uintptr_t{64} << 20)) _exit(2);  // not grown by the reservation
    if (mapping_at(after - 1).flags.find(" hg") == std::string::npos) _exit(3);  // not advised
    // Blocks up to 32 MiB come from the heap (here, or a free block below), not from new mappings.
    auto* block = static_cast<char*>(std::malloc(std::size_t{16} << 20));
    const std::string header = mapping_at(reinterpret_cast<std::uintptr_t>(block)).header;
    std::free(block);
    _exit(header.find("[heap]") != std::string::npos ? 0 : 4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: the heap did not grow; 3: no huge-page advice; 4: a block outside it";
}

}  // namespace
}  // namespace tffreeze
