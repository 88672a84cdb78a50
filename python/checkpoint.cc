// tffreeze.Checkpoint: a lazy, read-only mapping name -> np.ndarray. A V2 checkpoint's fixed-size
// tensors come back as read-only views of the memory-mapped data shard (checksum checked first):
// no copy, and once an array is gone its pages leave the process, so reading every tensor of a
// large checkpoint keeps the resident set near the largest tensor (BENCHMARKS.md).
#include <pybind11/eval.h>
#include <pybind11/stl.h>

#include <cstdint>

#include "api/checkpoint_report.h"
#include "common/mapped_file.h"
#include "io/checkpoint/checkpoint.h"
#include "module.h"
#include "numpy_tensor.h"

namespace tffreeze::python {
namespace {

namespace ckpt = io::checkpoint;

// What keeps a view's mapping alive; gone with the array's last reference.
struct ViewOwner {
  std::shared_ptr<const MappedFile> file;
  std::size_t offset = 0, size = 0;
  ~ViewOwner() { file->release(offset, size); }
};

// nullopt when NumPy would need the data aligned to its element and it is not.
std::optional<py::array> view_array(ckpt::StoredView view, const ckpt::Entry& entry) {
  py::dtype dtype = numpy_dtype(entry.dtype);
  const auto alignment = dtype.attr("alignment").cast<std::uintptr_t>();
  if (reinterpret_cast<std::uintptr_t>(view.bytes.data()) % alignment != 0) return std::nullopt;
  auto* owner = new ViewOwner{view.file, static_cast<std::size_t>(view.bytes.data() - view.file->bytes().data()), view.bytes.size()};
  py::capsule base(owner, [](void* p) { delete static_cast<ViewOwner*>(p); });
  std::vector<py::ssize_t> shape(entry.shape.begin(), entry.shape.end());
  py::array array(dtype, shape, {}, view.bytes.data(), base);
  array.attr("flags").attr("writeable") = false;  // the file is mapped read-only
  return array;
}

class Checkpoint {
 public:
  explicit Checkpoint(const std::string& path) {
    py::gil_scoped_release release;
    ckpt_ = ckpt::open_checkpoint(path);
  }

  py::array get(const std::string& name) const {
    const ckpt::Entry* entry = ckpt_->find(name);
    if (!entry) throw py::key_error(name);
    std::optional<ckpt::StoredView> view;
    {
      py::gil_scoped_release release;
      view = ckpt_->read_view(name);
    }
    if (view) {
      if (auto array = view_array(*view, *entry)) return *array;
      return to_numpy(copied(*view, *entry));
    }
    Tensor t;
    {
      py::gil_scoped_release release;
      t = ckpt_->read(name);
    }
    return to_numpy(std::move(t));
  }

  bool contains(const py::handle& name) const {
    return py::isinstance<py::str>(name) && ckpt_->find(name.cast<std::string>()) != nullptr;
  }
  std::size_t size() const { return ckpt_->entries().size(); }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : ckpt_->entries()) out.push_back(e.name);
    return out;
  }
  py::dict dtypes() const {
    py::dict out;
    for (const auto& e : ckpt_->entries()) out[py::str(e.name)] = numpy_dtype(e.dtype);
    return out;
  }
  py::dict shapes() const {
    py::dict out;
    for (const auto& e : ckpt_->entries()) out[py::str(e.name)] = py::tuple(py::cast(e.shape));
    return out;
  }
  py::object object_graph() const {
    nlohmann::json summary = api::checkpoint_summary_json(*ckpt_);
    return summary.contains("object_graph") ? to_python(summary["object_graph"]) : py::none();
  }
  const std::string& prefix() const { return ckpt_->prefix(); }

 private:
  // A misaligned view is copied into a Tensor (already checked: no second checksum).
  static Tensor copied(const ckpt::StoredView& view, const ckpt::Entry& entry) {
    Tensor t;
    t.dtype = entry.dtype;
    t.shape = entry.shape;
    t.bytes.assign(view.bytes.data(), view.bytes.size());
    return t;
  }

  std::unique_ptr<ckpt::Checkpoint> ckpt_;
};

// The read-only Mapping methods that need no C++: written once in Python, over the C++ ones.
const char* kMappingMethods = R"(
def keys(self):
    """The tensor names, sorted."""
    return list(iter(self))
def items(self):
    """(name, array) pairs; each tensor is read when reached."""
    for name in self:
        yield name, self[name]
def values(self):
    """The arrays; each tensor is read when reached."""
    for name in self:
        yield self[name]
def get(self, name, default=None):
    """The tensor's array, or default when the checkpoint has no such tensor."""
    return self[name] if name in self else default
)";

}  // namespace

void bind_checkpoint(py::module_& m) {
  auto cls = py::class_<Checkpoint>(m, "Checkpoint", R"(A TensorFlow checkpoint as a read-only mapping name -> numpy.ndarray.

Checkpoint(path): a prefix (model.ckpt-1000), its .index, a directory with a `checkpoint` file,
a SavedModel directory or its variables/, or a V1 checkpoint file. Tensors are read when asked
for (checksums checked); a V2 checkpoint's numeric tensors are read-only views of the
memory-mapped data file, without a copy. Raises tffreeze.Error (exit_code 3) for a missing or
damaged checkpoint.)")
      .def(py::init([](const py::object& path) {
             if (!py::isinstance<py::str>(path) && !py::hasattr(path, "__fspath__")) {
               throw py::type_error("path must be a str or os.PathLike");
             }
             return std::make_unique<Checkpoint>(py::module_::import("os").attr("fsdecode")(path).cast<std::string>());
           }),
           py::arg("path"))
      .def("__getitem__", &Checkpoint::get, py::arg("name"), "The tensor's values (KeyError when there is no such tensor).")
      .def("__contains__", &Checkpoint::contains)
      .def("__len__", &Checkpoint::size)
      .def("__iter__", [](const Checkpoint& c) { return py::iter(py::cast(c.names())); })
      .def_property_readonly("dtypes", &Checkpoint::dtypes, "name -> numpy.dtype (object for strings)")
      .def_property_readonly("shapes", &Checkpoint::shapes, "name -> shape tuple")
      .def_property_readonly("object_graph", &Checkpoint::object_graph,
                             "A TF 2 checkpoint's object graph ({nodes, attributes: [{path, attribute, checkpoint_key}]}), else None")
      .def_property_readonly("prefix", &Checkpoint::prefix, "The prefix (or V1 file pattern) that was opened")
      .def("__repr__", [](const Checkpoint& c) { return "tffreeze.Checkpoint('" + c.prefix() + "', " + std::to_string(c.size()) + " tensors)"; });
  py::dict ns;
  ns["__builtins__"] = py::module_::import("builtins");
  py::exec(kMappingMethods, ns);
  for (const char* name : {"keys", "items", "values", "get"}) cls.attr(name) = ns[name];
  py::module_::import("collections.abc").attr("Mapping").attr("register")(cls);
}

}  // namespace tffreeze::python
