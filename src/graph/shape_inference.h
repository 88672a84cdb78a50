// Output shapes from input shapes, for the ops whose shape rule is simple and whose kernels are
// expensive (convolutions, pooling, matrix products, element-wise ops). Used to propagate static
// shapes without computing values; other ops are evaluated on zeros by the caller.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/tensor.h"
#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::graph {

using Dims = std::vector<std::int64_t>;

// Output 0's shape, or nullopt when the op has no rule here or the inputs do not fit it.
// `values[k]` is input k's value when it is a constant (else nullptr).
std::optional<Dims> output_shape(const tffreeze::tf::NodeDef& node, const std::vector<Dims>& inputs,
                                 const std::vector<const Tensor*>& values);

}  // namespace tffreeze::graph
