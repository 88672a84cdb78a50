// Fuzz target: the Python module's NumPy <-> Tensor layer (python/numpy_tensor.cc) in an embedded
// interpreter. The input picks a dtype, a shape and a layout (transposed, strided, big-endian) and
// gives the element bytes; the array goes in as a feed would (to_tensor), is checked against a
// placeholder as run() checks feeds, and comes back (to_numpy) with the same values. Only
// tffreeze::Error or a Python TypeError/ValueError may leave; anything else is a finding.
#include <pybind11/embed.h>

#include "api/run.h"
#include "common/dtype.h"
#include "fuzz_support.h"
#include "numpy_tensor.h"

namespace py = pybind11;

// The interpreter keeps what it allocates until it exits: its blocks are not leaks of ours.
extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }

namespace {

const char* const kDtypes[] = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                               "float16", "float32", "float64", "complex64", "complex128", "object", "S4", "U3", "datetime64[s]"};

// The array the input describes: [dtype][layout][rank][dims...][element bytes...].
py::object make_array(const py::module_& np, const std::uint8_t* data, std::size_t size) {
  const std::string dtype = kDtypes[data[0] % std::size(kDtypes)];
  const int layout = data[1] % 4, rank = data[2] % 4;
  if (size < 3 + static_cast<std::size_t>(rank)) return py::none();
  py::list shape;
  for (int i = 0; i < rank; ++i) shape.append(data[3 + i] % 5);
  py::bytes payload(reinterpret_cast<const char*>(data + 3 + rank), size - 3 - static_cast<std::size_t>(rank));
  py::object array;
  if (dtype == "object") {
    array = np.attr("array")(payload.attr("split")(py::bytes("\0", 1)), py::arg("dtype") = "object");  // bytes elements
  } else {
    py::object dt = np.attr("dtype")(dtype);
    const auto n = py::len(payload) / dt.attr("itemsize").cast<std::size_t>();
    array = np.attr("frombuffer")(payload, py::arg("dtype") = dt, py::arg("count") = n);
  }
  const std::size_t want = [&] { std::size_t p = 1; for (auto d : shape) p *= d.cast<std::size_t>(); return p; }();
  if (py::len(array) < want) return py::none();
  array = array[py::slice(0, static_cast<py::ssize_t>(want), 1)].attr("reshape")(shape);
  if (layout == 1) array = array.attr("T");
  if (layout == 2 && rank > 0) array = array[py::slice(py::none(), py::none(), py::int_(-1))];
  if (layout == 3 && dtype != "object") array = array.attr("astype")(array.attr("dtype").attr("newbyteorder")(">"));
  return array;
}

void round_trip(const py::module_& np, const py::object& array) {
  tffreeze::Tensor t = tffreeze::python::to_tensor(array, "feed 'x'");
  if (t.dtype != tffreeze::tf::DT_STRING &&
      static_cast<std::int64_t>(t.bytes.size()) != t.num_elements() * tffreeze::dtype_size(t.dtype)) std::abort();
  // As run() checks a feed: a placeholder of this dtype and shape accepts it.
  tffreeze::tf::GraphDef graph;
  auto* node = graph.add_node();
  node->set_name("x");
  node->set_op("Placeholder");
  (*node->mutable_attr())["dtype"].set_type(t.dtype);
  *(*node->mutable_attr())["shape"].mutable_shape() = tffreeze::shape_proto(t.shape);
  tffreeze::api::check_feeds(graph, {{"x", t}});
  const bool strings = t.dtype == tffreeze::tf::DT_STRING;
  py::object back = tffreeze::python::to_numpy(std::move(t));
  bool same = true;
  if (strings) {  // str elements come back as their UTF-8 bytes
    py::list want = array.attr("ravel")().attr("tolist")(), got = back.attr("ravel")().attr("tolist")();
    same = py::len(want) == py::len(got);
    for (std::size_t i = 0; same && i < py::len(want); ++i) {
      py::object w = py::isinstance<py::str>(want[i]) ? want[i].attr("encode")("utf-8") : py::object(want[i]);
      same = w.equal(got[i]);
    }
  } else {  // bit for bit (NaN included), in the native byte order the result has
    py::object expected = np.attr("ascontiguousarray")(array.attr("astype")(back.attr("dtype"))).attr("ravel")();
    same = np.attr("array_equal")(back.attr("ravel")().attr("view")("uint8"), expected.attr("view")("uint8")).cast<bool>();
  }
  if (!same) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto* interpreter = new py::scoped_interpreter();  // never finalized: modules stay loaded
  static auto* np = new py::module_(py::module_::import("numpy"));
  (void)interpreter;
  if (size < 3) return 0;
  try {
    py::object array = make_array(*np, data, size);
    if (!array.is_none()) round_trip(*np, array);
  } catch (const tffreeze::Error&) {
  } catch (const py::type_error&) {
  } catch (const py::value_error&) {
  } catch (const py::error_already_set& e) {
    if (!e.matches(PyExc_TypeError) && !e.matches(PyExc_ValueError)) throw;
  }
  return 0;
}
