// Legacy V1 checkpoints (TensorSliceWriter): tables whose "" entry lists every tensor and its
// slices (SavedTensorSliceMeta), and whose other entries hold the slices' values.
#pragma once

#include <memory>
#include <vector>

#include "io/checkpoint/checkpoint.h"

namespace tffreeze::io::checkpoint {

// `files`: the table file(s) of one checkpoint (sharded V1 checkpoints have several).
std::unique_ptr<Checkpoint> open_tensor_slices(const std::string& prefix, const std::vector<std::string>& files);

}  // namespace tffreeze::io::checkpoint
