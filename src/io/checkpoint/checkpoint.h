// Reading TensorFlow checkpoints: V2 tensor bundles (PREFIX.index + PREFIX.data-NNNNN-of-MMMMM,
// sharded, snappy-compressed index blocks, partitioned variables) and legacy V1 checkpoints
// (SavedTensorSlices tables). Data shards are memory-mapped and read tensor by tensor.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/tensor.h"

namespace tffreeze {
class MappedFile;
}

namespace tffreeze::io::checkpoint {

enum class Format { kV2, kV1 };

struct Entry {
  std::string name;
  tf::DataType dtype = tf::DT_INVALID;
  std::vector<std::int64_t> shape;
  std::int64_t bytes = 0;  // stored size
  int slices = 0;          // > 0: a partitioned variable stored as this many slices
  int shard = 0;           // V2: data shard and byte offset (-1 for V1 and sliced tensors)
  std::int64_t offset = -1;
};

// A tensor's bytes where they lie in a mapped data shard, checked as read() checks them; `file`
// keeps the mapping alive (Python's Checkpoint hands them out as NumPy views, no copy).
struct StoredView {
  std::shared_ptr<const MappedFile> file;
  std::string_view bytes;
};

class Checkpoint {
 public:
  virtual ~Checkpoint() = default;
  // The prefix (V2) or table file(s) pattern (V1) that was opened.
  virtual const std::string& prefix() const = 0;
  virtual Format format() const = 0;
  // Every tensor, sorted by name (the V2 header and slice keys are not tensors).
  virtual const std::vector<Entry>& entries() const = 0;
  // Reads one tensor, checking its checksum and size. Throws Error (exit 3) naming the tensor
  // and the file; (exit 4) for dtypes tffreeze cannot hold.
  virtual Tensor read(const std::string& name) const = 0;
  // The stored bytes of a tensor of a fixed-size dtype held as one run (a V2 bundle's unsliced
  // tensor), passed to `sink` in chunks straight from the memory-mapped file, each chunk's pages
  // released after it; the checksum is checked as the bytes pass and a mismatch throws Error
  // (exit 3) after the last chunk, so a sink writing an atomic output leaves nothing behind.
  // False (nothing passed) when the tensor is not stored so: read() it instead.
  virtual bool stream(const std::string& name, const std::function<void(std::string_view)>& sink) const;
  // Whether stream() passes this entry's bytes.
  virtual bool streamable(const Entry& entry) const;

  // The tensor's bytes in place when it is stored as one run of fixed-size elements (V2, not
  // partitioned); nullopt otherwise (then read() it). Throws as read() does.
  virtual std::optional<StoredView> read_view(const std::string& /*name*/) const { return std::nullopt; }

  const Entry* find(const std::string& name) const;
};

// `path` may be a prefix, PREFIX.index, a directory with a "checkpoint" state file (its
// model_checkpoint_path), a SavedModel directory or its variables/ directory, or a V1
// checkpoint file. Throws Error (exit 3) saying what was looked for.
std::unique_ptr<Checkpoint> open_checkpoint(const std::string& path);

// The prefix `path` resolves to, without opening it.
std::string resolve_checkpoint_prefix(const std::string& path);

// Whether `path` looks like a checkpoint rather than a model (for `inspect`).
bool looks_like_checkpoint(const std::string& path);

}  // namespace tffreeze::io::checkpoint
