// TensorFlow's OrderedCode key encoding, as checkpoints use it for the keys of tensor slices
// (partitioned variables in V2 bundles, every tensor in V1 checkpoints).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tffreeze/tf/checkpoint.pb.h"

namespace tffreeze::io::checkpoint {

void write_num_increasing(std::string* dest, std::uint64_t value);
void write_signed_num_increasing(std::string* dest, std::int64_t value);
void write_string(std::string* dest, std::string_view s);

// The table key of one slice of a tensor: 0, name, rank, then (start, length) per dimension,
// with length -1 for "the whole dimension".
std::string encode_tensor_name_slice(std::string_view name, const tffreeze::tf::TensorSliceProto& slice, int rank);

}  // namespace tffreeze::io::checkpoint
