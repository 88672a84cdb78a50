// Shared by the module's files: JSON results as Python objects, and the Checkpoint class.
#pragma once

#include <pybind11/pybind11.h>

#include <nlohmann/json.hpp>

namespace tffreeze::python {

namespace py = pybind11;

// The same object json.loads gives for the CLI's --json output (names that are not UTF-8 as
// U+FFFD, as the CLI prints them).
py::object to_python(const nlohmann::json& value);

void bind_checkpoint(py::module_& m);

}  // namespace tffreeze::python
