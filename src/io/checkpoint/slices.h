// Partitioned tensors: copying a stored slice into its place in the full tensor.
#pragma once

#include <string>
#include <vector>

#include "common/tensor.h"
#include "tffreeze/tf/checkpoint.pb.h"

namespace tffreeze::io::checkpoint {

// The shape of `slice` within a tensor of shape `full` (a missing length is the whole dim).
// Throws Error (exit 3, prefixed with `where`) when the slice does not fit.
std::vector<std::int64_t> slice_shape(const tf::TensorSliceProto& slice, const std::vector<std::int64_t>& full,
                                      const std::string& where);

// The part of `full` that `slice` selects (the inverse of copy_slice_into).
Tensor extract_slice(const Tensor& full, const tf::TensorSliceProto& slice, const std::string& where);

// Parses a Saver "shape_and_slice" spec such as "4 3 0,2:-" (full shape, then start,length or
// "-" per dimension). Returns false when `spec` is malformed.
bool parse_shape_and_slice(const std::string& spec, std::vector<std::int64_t>* full_shape, tf::TensorSliceProto* slice);

// A zero-filled tensor (empty strings for DT_STRING) to assemble slices into. Throws Error:
// exit 4 for dtypes tffreeze cannot hold, exit 3 for shapes beyond kMaxExpandedTensorBytes.
Tensor allocate_tensor(tf::DataType dtype, std::vector<std::int64_t> shape, const std::string& where);

// Copies `part` (shaped like the slice) into `full` at the slice's position.
void copy_slice_into(const Tensor& part, const tf::TensorSliceProto& slice, Tensor* full);

}  // namespace tffreeze::io::checkpoint
