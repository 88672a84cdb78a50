// TF 2 tensor lists (the DT_VARIANT values TensorArray becomes in tf.function, e.g. in Keras
// RNN loops): a list of tensors of one dtype. Values are immutable and shared; an update
// makes a new list.
#pragma once

#include <cstdint>
#include <vector>

#include "common/tensor.h"

namespace tffreeze {

struct TensorList {
  tf::DataType element_dtype = tf::DT_INVALID;
  std::vector<std::int64_t> element_shape;  // -1: unknown dimension
  bool shape_known = false;                 // false: unknown rank
  std::vector<Tensor> items;                // dtype DT_INVALID: not set yet
  bool dynamic_size = false;                // TF 1 TensorArray(dynamic_size=True): writes past the end grow it
};

}  // namespace tffreeze
