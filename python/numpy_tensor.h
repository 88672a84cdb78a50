// NumPy arrays <-> tffreeze::Tensor for the Python module (and its fuzz target). Results leave
// without a copy: the array's base owns the tensor. Feeds are copied once into the Tensor, which
// owns its bytes (the executor's kernels keep them), converted to C order and little-endian.
#pragma once

#include <pybind11/numpy.h>

#include <string>

#include "common/tensor.h"

namespace tffreeze::python {

namespace py = pybind11;

// float32 <-> DT_FLOAT and so on; bool, float16 (DT_HALF), (u)int8-64, complex64/128. Strings are
// object arrays of bytes. DT_BFLOAT16 has no NumPy dtype: it leaves as float32. Throws Error
// (exit 4) for dtypes NumPy cannot hold (resource, variant).
py::dtype numpy_dtype(tf::DataType dtype);

// The TF dtype of a NumPy dtype; object, bytes ('S') and str ('U') arrays are DT_STRING.
// Throws py::type_error for the rest (datetime, structured, ...).
tf::DataType tf_dtype(const py::dtype& dtype);

// Anything np.asarray takes, as a Tensor. `what` names it in errors (a feed's name).
// Throws py::type_error for a dtype TF has no equivalent of or a string element that is
// neither bytes nor str.
Tensor to_tensor(const py::handle& value, const std::string& what);

// The tensor as an array; fixed-size dtypes without a copy (the array owns the tensor).
py::array to_numpy(Tensor&& tensor);

}  // namespace tffreeze::python
