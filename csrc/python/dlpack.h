// DLPack exchange for the Python module (see dlpack.cpp).
#pragma once
#include <pybind11/pybind11.h>

#include "tensorstitch/ndarray.h"

namespace ts {
namespace py = pybind11;

// A "dltensor" capsule sharing the array's memory.
py::capsule to_dlpack(const NDArray& a);
// Consumes a "dltensor" capsule: zero-copy when dense row-major, else a copy.
NDArray from_dlpack(const py::capsule& capsule);

}  // namespace ts
