// A tensor value: dtype, shape and row-major little-endian element bytes (or strings). What
// checkpoints, .npy files and Const nodes hold.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "tffreeze/tf/tensor.pb.h"

namespace tffreeze {


struct TensorList;  // runtime/tensor_list.h

struct Tensor {
  tf::DataType dtype = tf::DT_INVALID;
  std::vector<std::int64_t> shape;
  std::string bytes;                  // fixed-size dtypes
  std::vector<std::string> strings;   // DT_STRING
  std::shared_ptr<const TensorList> list;  // DT_VARIANT scalars: the executor's tensor lists

  std::int64_t num_elements() const;
  template <class T>
  T get(std::int64_t i) const {
    T v;
    std::memcpy(&v, bytes.data() + i * static_cast<std::int64_t>(sizeof(T)), sizeof(T));
    return v;
  }
  bool operator==(const Tensor&) const = default;
};

// Refuse to expand a TensorProto (a few values "broadcast" to a large shape) beyond this.
inline constexpr std::int64_t kMaxExpandedTensorBytes = std::int64_t{1} << 31;

std::vector<std::int64_t> dims_of(const tf::TensorShapeProto& shape);
tf::TensorShapeProto shape_proto(const std::vector<std::int64_t>& dims);
std::string dims_string(const std::vector<std::int64_t>& dims);

// TensorProto -> Tensor with TensorFlow's rules (tensor_content, or typed values where the last
// one repeats to fill the shape). Throws Error (exit 3) prefixed with `where` on inconsistency.
Tensor tensor_from_proto(const tf::TensorProto& proto, const std::string& where);
// Tensor -> TensorProto (tensor_content for fixed-size types, string_val for strings).
void tensor_to_proto(const Tensor& tensor, tf::TensorProto* proto);
// The same, moving the payload into the proto.
void tensor_to_proto(Tensor&& tensor, tf::TensorProto* proto);

}  // namespace tffreeze

namespace tffreeze {
// Element i of a numeric or bool tensor as a double (complex: the real part). For comparing
// and summarizing values; 0 for strings.
double element_as_double(const Tensor& t, std::int64_t i);
}  // namespace tffreeze
