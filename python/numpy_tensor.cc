#include "numpy_tensor.h"

#include <cstring>

#include "common/dtype.h"
#include "common/error.h"

namespace tffreeze::python {

py::dtype numpy_dtype(tf::DataType dtype) {
  switch (dtype) {
    case tf::DT_BOOL: return py::dtype("bool");
    case tf::DT_INT8: return py::dtype("int8");
    case tf::DT_INT16: return py::dtype("int16");
    case tf::DT_INT32: return py::dtype("int32");
    case tf::DT_INT64: return py::dtype("int64");
    case tf::DT_UINT8: return py::dtype("uint8");
    case tf::DT_UINT16: return py::dtype("uint16");
    case tf::DT_UINT32: return py::dtype("uint32");
    case tf::DT_UINT64: return py::dtype("uint64");
    case tf::DT_HALF: return py::dtype("float16");
    case tf::DT_FLOAT: case tf::DT_BFLOAT16: return py::dtype("float32");
    case tf::DT_DOUBLE: return py::dtype("float64");
    case tf::DT_COMPLEX64: return py::dtype("complex64");
    case tf::DT_COMPLEX128: return py::dtype("complex128");
    case tf::DT_STRING: return py::dtype("object");
    default: throw Error(ExitCode::kUnsupported, "a " + dtype_name(dtype) + " tensor has no NumPy equivalent");
  }
}

tf::DataType tf_dtype(const py::dtype& dtype) {
  const char kind = dtype.kind();
  const auto size = dtype.itemsize();
  if (kind == 'O' || kind == 'S' || kind == 'U') return tf::DT_STRING;
  if (kind == 'b' && size == 1) return tf::DT_BOOL;
  if (kind == 'i' || kind == 'u') {
    const bool u = kind == 'u';
    switch (size) {
      case 1: return u ? tf::DT_UINT8 : tf::DT_INT8;
      case 2: return u ? tf::DT_UINT16 : tf::DT_INT16;
      case 4: return u ? tf::DT_UINT32 : tf::DT_INT32;
      case 8: return u ? tf::DT_UINT64 : tf::DT_INT64;
      default: break;
    }
  }
  if (kind == 'f' && size == 2) return tf::DT_HALF;
  if (kind == 'f' && size == 4) return tf::DT_FLOAT;
  if (kind == 'f' && size == 8) return tf::DT_DOUBLE;
  if (kind == 'c' && size == 8) return tf::DT_COMPLEX64;
  if (kind == 'c' && size == 16) return tf::DT_COMPLEX128;
  throw py::type_error("NumPy dtype " + py::str(py::handle(dtype)).cast<std::string>() + " has no TensorFlow equivalent");
}

namespace {

// bytes as they are, str as UTF-8 (what TF's string tensors hold).
std::string string_element(const py::handle& item, const std::string& what) {
  if (PyBytes_Check(item.ptr())) return item.cast<std::string>();
  if (PyUnicode_Check(item.ptr())) {
    py::ssize_t size = 0;
    const char* utf8 = PyUnicode_AsUTF8AndSize(item.ptr(), &size);
    if (!utf8) {  // lone surrogates have no UTF-8 form (a fuzz finding: pybind11 threw cast_error)
      PyErr_Clear();
      throw py::value_error(what + ": a string is not valid Unicode (it holds a lone surrogate)");
    }
    return {utf8, static_cast<std::size_t>(size)};
  }
  throw py::type_error(what + ": a string tensor's elements must be bytes or str, not " +
                       py::str(py::type::handle_of(item).attr("__name__")).cast<std::string>());
}

// The elements as Python objects. A str array whose code points are not Unicode (made from raw
// bytes) makes NumPy raise SystemError; the user's mistake is a ValueError (a fuzz finding).
py::list string_items(const py::array& array, const std::string& what) {
  try {
    return array.attr("ravel")().attr("tolist")();
  } catch (const py::error_already_set& e) {
    if (!e.matches(PyExc_SystemError) && !e.matches(PyExc_ValueError)) throw;
    throw py::value_error(what + ": the strings are not valid Unicode");
  }
}

}  // namespace

Tensor to_tensor(const py::handle& value, const std::string& what) {
  py::module_ np = py::module_::import("numpy");
  py::array array = np.attr("asarray")(value);
  Tensor t;
  t.shape.assign(array.shape(), array.shape() + array.ndim());
  t.dtype = tf_dtype(array.dtype());
  if (t.dtype == tf::DT_STRING) {
    for (const auto& item : string_items(array, what)) t.strings.push_back(string_element(item, what));
    return t;
  }
  // One copy, in C order and little-endian whatever the array's layout (a view, a transpose,
  // big-endian data from a file): the Tensor owns its bytes.
  py::array c = np.attr("ascontiguousarray")(array, py::arg("dtype") = array.dtype().attr("newbyteorder")("<"));
  t.bytes.assign(static_cast<const char*>(c.data()), static_cast<std::size_t>(c.nbytes()));
  return t;
}

namespace {

std::vector<py::ssize_t> array_shape(const std::vector<std::int64_t>& dims) { return {dims.begin(), dims.end()}; }

py::array strings_to_numpy(const Tensor& t) {
  py::module_ np = py::module_::import("numpy");
  py::array flat = np.attr("empty")(static_cast<py::ssize_t>(t.strings.size()), py::arg("dtype") = "object");
  auto** data = static_cast<PyObject**>(flat.mutable_data());
  for (std::size_t i = 0; i < t.strings.size(); ++i) {
    PyObject* item = PyBytes_FromStringAndSize(t.strings[i].data(), static_cast<py::ssize_t>(t.strings[i].size()));
    if (!item) throw py::error_already_set();
    Py_XDECREF(data[i]);  // np.empty's object arrays hold None
    data[i] = item;
  }
  py::tuple shape(t.shape.size());
  for (std::size_t i = 0; i < t.shape.size(); ++i) shape[i] = t.shape[i];
  return flat.attr("reshape")(shape);
}

// NumPy has no bfloat16: its bits are the top half of a float32.
Tensor bfloat16_as_float(const Tensor& t) {
  Tensor out;
  out.dtype = tf::DT_FLOAT;
  out.shape = t.shape;
  const std::int64_t n = t.num_elements();
  out.bytes.resize(static_cast<std::size_t>(n) * 4);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint32_t bits = static_cast<std::uint32_t>(t.get<std::uint16_t>(i)) << 16;
    std::memcpy(out.bytes.data() + i * 4, &bits, 4);
  }
  return out;
}

}  // namespace

py::array to_numpy(Tensor&& tensor) {
  if (tensor.dtype == tf::DT_STRING) return strings_to_numpy(tensor);
  if (tensor.dtype == tf::DT_BFLOAT16) tensor = bfloat16_as_float(tensor);
  py::dtype dtype = numpy_dtype(tensor.dtype);
  auto* owner = new Tensor(std::move(tensor));
  py::capsule base(owner, [](void* p) { delete static_cast<Tensor*>(p); });
  return py::array(dtype, array_shape(owner->shape), {}, owner->bytes.data(), base);
}

}  // namespace tffreeze::python
