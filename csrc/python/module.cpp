// pybind11 bindings: conversions only; the Python package adds the API sugar.
#include <functional>

#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "backends/cpu/kernel_table.h"
#include "backends/cuda/op_kernels.h"
#include "backends/cuda/nvrtc.h"
#include "ops/op_def.h"
#include "python/dlpack.h"
#include "runtime/allocator.h"
#include "runtime/backend.h"
#include "runtime/kernel_cache.h"
#include "runtime/thread_pool.h"
#include "tensorstitch/tensorstitch.h"

namespace py = pybind11;
using namespace ts;

namespace {

const char* buffer_format(DType t) {
  switch (t) {
    case DType::Bool: return "?";
    case DType::Int8: return "b";
    case DType::UInt8: return "B";
    case DType::Int32: return "i";
    case DType::Int64: return "q";
    case DType::Float16: return "e";
    case DType::BFloat16: return "";  // no buffer format exists (see def_buffer)
    case DType::Float32: return "f";
    case DType::Float64: return "d";
  }
  return "B";
}

// Wraps a C-contiguous NumPy array without copying; the array stays alive
// while any NDArray refers to its memory.
// Keeps a NumPy array alive while an NDArray uses its memory; let go with
// the GIL held (it may be the last reference). One allocation with its
// control block: feeding is on every run's path.
struct HeldArray {
  py::object array;
  explicit HeldArray(py::object a) : array(std::move(a)) {}
  ~HeldArray() {
    py::gil_scoped_acquire gil;
    array = py::object();
  }
};

NDArray wrap_numpy(py::array arr, DType dt) {
  if (!(arr.flags() & py::array::c_style)) throw FeedError("internal: array must be C-contiguous");
  void* data = const_cast<void*>(arr.data());
  Dims shape(arr.shape(), arr.shape() + arr.ndim());
  return NDArray::wrap(data, shape, dt, std::make_shared<HeldArray>(std::move(arr)));
}

// The DType of a native-endian NumPy array, or false.
bool numpy_dtype(const py::array& a, DType* out) {
  const py::dtype dt = a.dtype();
  const char kind = dt.kind(), order = dt.byteorder();
  if (order == '>') return false;
  const py::ssize_t size = dt.itemsize();
  if (kind == 'b') *out = DType::Bool;
  else if (kind == 'f' && size == 2) *out = DType::Float16;
  else if (kind == 'f' && size == 4) *out = DType::Float32;
  else if (kind == 'f' && size == 8) *out = DType::Float64;
  else if (kind == 'i' && size == 1) *out = DType::Int8;
  else if (kind == 'u' && size == 1) *out = DType::UInt8;
  else if (kind == 'i' && size == 4) *out = DType::Int32;
  else if (kind == 'i' && size == 8) *out = DType::Int64;
  else return false;
  return true;
}

// A feed value as an NDArray for a placeholder of dtype `want`: NDArrays as
// they are, NumPy arrays that already fit wrapped without copying, anything
// else through the Python rules (tensorstitch.executable.feed_array).
NDArray to_feed(const py::handle& obj, DType want, const std::function<std::string()>& name) {
  if (py::isinstance<NDArray>(obj)) return obj.cast<NDArray>();
  if (py::isinstance<py::array>(obj)) {
    py::array a = py::reinterpret_borrow<py::array>(obj);
    DType dt;
    const bool fits = (a.flags() & py::array::c_style) && (a.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_);
    if (fits && numpy_dtype(a, &dt) && dt == want && a.ndim() <= 16) return wrap_numpy(a, dt);
  }
  // Leaked on purpose: a static py::object would be released after the
  // interpreter has finalized.
  static py::object* slow = new py::object(py::module_::import("tensorstitch.executable").attr("feed_array"));
  return (*slow)(py::cast(want), obj, name()).cast<NDArray>();
}

TensorType make_type(const py::object& shape, DType dt) {
  TensorType t;
  t.dtype = dt;
  if (shape.is_none()) t.ranked = false;
  else t.dims = shape.cast<Dims>();
  return t;
}

py::object shape_tuple(const TensorType& t) {
  if (!t.ranked) return py::none();
  return py::tuple(py::cast(t.dims));
}

// The exception classes live as long as the process (plain pointers, so
// nothing is released after the interpreter has finalized).
PyObject *error_base, *shape_error, *dtype_error, *graph_error, *feed_error, *device_error, *compile_error;

void register_errors(py::module_& m) {
  error_base = PyErr_NewException("tensorstitch.Error", PyExc_Exception, nullptr);
  auto sub = [&](const char* name, PyObject* std_base) {
    PyObject* cls = PyErr_NewException((std::string("tensorstitch.") + name).c_str(),
                                       py::make_tuple(py::handle(error_base), py::handle(std_base)).ptr(), nullptr);
    m.attr(name) = py::handle(cls);
    return cls;
  };
  m.attr("Error") = py::handle(error_base);
  shape_error = sub("ShapeError", PyExc_ValueError);
  dtype_error = sub("DTypeError", PyExc_ValueError);
  graph_error = sub("GraphError", PyExc_ValueError);
  feed_error = sub("FeedError", PyExc_ValueError);
  device_error = sub("DeviceError", PyExc_RuntimeError);
  compile_error = sub("CompileError", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ShapeError& e) { PyErr_SetString(shape_error, e.what());
    } catch (const DTypeError& e) { PyErr_SetString(dtype_error, e.what());
    } catch (const GraphError& e) { PyErr_SetString(graph_error, e.what());
    } catch (const FeedError& e) { PyErr_SetString(feed_error, e.what());
    } catch (const DeviceError& e) { PyErr_SetString(device_error, e.what());
    } catch (const CompileError& e) { PyErr_SetString(compile_error, e.what());
    } catch (const Error& e) { PyErr_SetString(error_base, e.what());
    }
  });
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "tensorstitch C++ core";
  register_errors(m);

  py::enum_<DType>(m, "DType")
      .value("bool", DType::Bool).value("int8", DType::Int8).value("uint8", DType::UInt8)
      .value("int32", DType::Int32).value("int64", DType::Int64).value("float16", DType::Float16)
      .value("bfloat16", DType::BFloat16).value("float32", DType::Float32).value("float64", DType::Float64);
  m.def("dtype_from_name", &dtype_from_name);
  m.def("promote_types", &promote_types);
  m.def("dtype_size", &dtype_size);

  py::class_<Device>(m, "Device")
      .def(py::init(&Device::parse), py::arg("spec"))
      .def_property_readonly("kind", [](const Device& d) { return d.kind == Device::Kind::CPU ? "cpu" : "cuda"; })
      .def_readonly("index", &Device::index)
      .def("__str__", &Device::str)
      .def("__repr__", [](const Device& d) { return "ts.Device('" + d.str() + "')"; })
      .def("__eq__", [](const Device& a, const Device& b) { return a == b; })
      .def("__hash__", [](const Device& d) { return std::hash<std::string>()(d.str()); });
  m.def("devices", &devices);
  m.def("default_device", &default_device);
  m.def("num_threads", &num_threads);
  m.def("op_names", &op_names);
  m.def("op_info", [](const std::string& name) {
    const OpDef* d = find_op(name);
    if (!d) throw GraphError("unknown operation type '" + name + "'");
    py::dict info;
    info["differentiable"] = d->differentiable;
    info["num_inputs"] = d->num_inputs;
    info["pure"] = d->pure;
    info["scalar"] = d->scalar ? py::object(py::str(d->scalar)) : py::object(py::none());
    info["elementwise"] = d->cls == OpClass::Elementwise;
    info["bool_result"] = d->bool_result;
    std::vector<std::string> dtypes, domains;
    for (int t = 0; t < kNumDTypes; ++t)
      if (d->dtypes & dtype_bit(DType(t))) dtypes.push_back(dtype_name(DType(t)));
    for (InputDomain x : d->domains) domains.push_back(domain_name(x));
    info["dtypes"] = dtypes;
    info["domains"] = domains;
    return info;
  });
  // CUDA code generation without a GPU: the embedded prelude, and NVRTC
  // (loaded at run time) compiling source to a CUBIN.
  m.def("_host_allocations", &host_allocation_count);
  m.def("_set_library_candidates", &cuda::set_library_candidates);
  m.def("_warm_up_cuda", &cuda::warm_up_async);
  m.def("_finish_cuda_warm_up", [] {
    py::gil_scoped_release nogil;
    cuda::finish_warm_up();
  });
  m.def("_kernel_compiles", &kernel_compile_count);
  m.def("_cuda_prelude", [] { return std::string(cuda::prelude()); });
  // The ops each backend has a kernel of its own for (tests compare them).
  m.def("_kernel_names", [](const std::string& backend) {
    if (backend == "cpu") return cpu::kernel_names();
    if (backend == "cuda") return cuda::op_kernel_names();
    throw py::value_error("_kernel_names: unknown backend '" + backend + "'");
  });
  m.def("_nvrtc_compile", [](const std::string& source, const std::string& arch, const std::vector<std::string>& libs) {
    std::string cubin;
    {
      py::gil_scoped_release release;
      cubin = cuda::nvrtc_compile(source, arch, libs);
    }
    return py::bytes(cubin);
  });

  // Classes are declared before any signature names them, so docstrings
  // and type stubs show Python names rather than C++ ones.
  py::class_<NDArray> ndarray(m, "NDArray", py::buffer_protocol());
  py::class_<Tensor> tensor(m, "Tensor");
  py::class_<Operation> operation(m, "Operation");
  py::class_<Future> future(m, "Future");
  m.def("to_feed", [](const py::handle& obj, DType want, const std::string& name) {
    return to_feed(obj, want, [&] { return name; });
  });

  ndarray
      .def_buffer([](NDArray& a) {
        // NumPy would take raw bits for a bfloat16 buffer; refusing makes it
        // fall back to __array__, which gives an ml_dtypes.bfloat16 array.
        if (a.dtype() == DType::BFloat16)
          throw py::buffer_error("bfloat16 has no buffer-protocol format; use np.asarray(array) or DLPack");
        // Likewise for device memory: __array__ copies it to the host.
        if (a.device().kind != Device::Kind::CPU)
          throw py::buffer_error("the array is on " + a.device().str() + "; np.asarray(array) copies it to the host");
        std::vector<py::ssize_t> shape(a.shape().begin(), a.shape().end()), strides(a.rank());
        py::ssize_t s = py::ssize_t(dtype_size(a.dtype()));
        for (int d = a.rank() - 1; d >= 0; --d) {
          strides[d] = s;
          s *= std::max<py::ssize_t>(shape[d], 1);
        }
        return py::buffer_info(a.data(), py::ssize_t(dtype_size(a.dtype())), buffer_format(a.dtype()), a.rank(),
                               shape, strides, true);
      })
      .def_static("_wrap_numpy", &wrap_numpy)
      .def_property_readonly("shape", [](const NDArray& a) { return py::tuple(py::cast(a.shape())); })
      .def_property_readonly("dtype", &NDArray::dtype)
      .def_property_readonly("device", &NDArray::device)
      .def("_to_host", [](const NDArray& a) {
        // A host copy of a device array (np.asarray calls this); the array itself on the host.
        if (a.device().kind == Device::Kind::CPU) return a;
        py::gil_scoped_release nogil;
        NDArray host(a.shape(), a.dtype());
        backend_for(a.device()).copy(a, host);
        return host;
      })
      .def_property_readonly("size", &NDArray::size)
      .def_property_readonly("nbytes", &NDArray::nbytes)
      .def_property_readonly("ndim", &NDArray::rank)
      .def("_astype", &NDArray::astype)
      // The elements' raw bits as a read-only NumPy view (bfloat16 as uint16).
      .def("_bits", [](py::object self) {
        const NDArray& a = self.cast<const NDArray&>();
        const char* fmt = a.dtype() == DType::BFloat16 ? "H" : buffer_format(a.dtype());
        std::vector<py::ssize_t> shape(a.shape().begin(), a.shape().end());
        py::array view(py::dtype(fmt), shape, {}, a.data(), self);
        py::detail::array_proxy(view.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
        return view;
      })
      .def("__dlpack__", [](const NDArray& a, py::kwargs) { return to_dlpack(a); })
      .def_static("_from_dlpack", &from_dlpack)
      .def("_data_ptr", [](const NDArray& a) { return reinterpret_cast<uintptr_t>(a.data()); })
      .def("_to_device", [](const NDArray& a, const Device& d) {
        py::gil_scoped_release nogil;
        return copy_to(a, d);
      });

  operation
      .def_property_readonly("id", &Operation::id)
      .def_property_readonly("name", &Operation::name)
      .def_property_readonly("type", &Operation::type)
      .def_property_readonly("inputs", &Operation::inputs)
      .def_property_readonly("outputs", &Operation::outputs)
      .def_property_readonly("control_dependencies", &Operation::control_dependencies)
      .def("__eq__", [](const Operation& a, const Operation& b) { return a == b; })
      .def("__hash__", [](const Operation& o) { return std::hash<const void*>()(o.graph_data().get()) ^ size_t(o.id()); });

  tensor
      .def_property_readonly("id", &Tensor::id)
      // Unique among live tensors of a graph and its control-flow bodies.
      .def_property_readonly("key", [](const Tensor& t) {
        return py::make_tuple(reinterpret_cast<uintptr_t>(t.graph_data().get()), t.id());
      })
      .def_property_readonly("shape", [](const Tensor& t) { return shape_tuple(t.type()); })
      .def_property_readonly("dtype", &Tensor::dtype)
      .def_property_readonly("name", &Tensor::name)
      .def_property_readonly("op", &Tensor::op)
      .def_property_readonly("output_index", &Tensor::output_index)
      .def("__eq__", [](const Tensor& a, const Tensor& b) { return a == b; })
      .def("__hash__", [](const Tensor& t) { return std::hash<const void*>()(t.graph_data().get()) ^ size_t(t.id()); });

  py::class_<Executable>(m, "Executable")
      .def("run", [](const Executable& e, const std::vector<NDArray>& feeds) {
             py::gil_scoped_release nogil;
             return e.run(feeds);
           })
      .def("run_async", [](const Executable& e, const std::vector<NDArray>& feeds) {
             py::gil_scoped_release nogil;
             return e.run_async(feeds);
           })
      .def("run_objects", [](const Executable& e, const py::sequence& values) {
             const auto& feeds = e.feed_tensors();
             if (size_t(py::len(values)) != feeds.size())
               throw FeedError("run: got " + std::to_string(py::len(values)) + " feeds; expected " +
                               std::to_string(feeds.size()));
             std::vector<NDArray> arrays;
             arrays.reserve(feeds.size());
             for (size_t i = 0; i < feeds.size(); ++i)
               arrays.push_back(to_feed(values[i], feeds[i].dtype(), [&] { return feeds[i].name(); }));
             py::gil_scoped_release nogil;
             return e.run(arrays);
           })
      .def("profile", [](const Executable& e, const std::vector<NDArray>& feeds) {
        std::vector<KernelProfile> rows;
        {
          py::gil_scoped_release nogil;
          rows = e.profile(feeds);
        }
        py::list out;
        for (const KernelProfile& r : rows) {
          py::dict d;
          d["name"] = r.name;
          d["ops"] = r.ops;
          d["seconds"] = r.seconds;
          d["bytes"] = r.bytes;
          d["flops"] = r.flops;
          out.append(d);
        }
        return out;
      })
      .def("copy_bandwidth", [](const Executable& e) {
        py::gil_scoped_release nogil;
        return e.copy_bandwidth();
      })
      .def("explain", [](const Executable& e) { return e.explain(); })
      .def("explain_for", [](const Executable& e, const std::vector<std::pair<py::object, DType>>& types) {
        std::vector<TensorType> tt;
        for (auto& [shape, dt] : types) tt.push_back(make_type(shape, dt));
        return e.explain(tt);
      })
      .def("steps", &Executable::steps)
      .def("_cuda_sources", [](const Executable& e) {
        // Per kernel of the latest plan: its CUDA source, or None where the
        // generator does not render that kind yet.
        std::vector<py::object> out;
        int i = 0;
        for (const auto& k : e.kernels()) {
          try {
            out.push_back(py::str(cuda::render_step(*k, "ts_kernel_" + std::to_string(i))));
          } catch (const CompileError&) {
            out.push_back(py::none());
          }
          ++i;
        }
        return out;
      })
      .def_property_readonly("feed_tensors", &Executable::feed_tensors)
      .def_property_readonly("targets", &Executable::targets)
      .def_property_readonly("device", &Executable::device);

  py::class_<Graph>(m, "Graph")
      .def(py::init<>())
      .def("placeholder", [](Graph& g, const py::object& shape, DType dt, const std::string& name) {
        return g.placeholder(make_type(shape, dt), name);
      })
      .def("constant", &Graph::constant)
      .def("variable", &Graph::variable)
      .def("op", &Graph::op, py::arg("type"), py::arg("inputs"), py::arg("attrs") = Attrs{}, py::arg("name") = "")
      .def("assign", &Graph::assign)
      .def("push_control_dependencies", &Graph::push_control_dependencies)
      .def("pop_control_dependencies", &Graph::pop_control_dependencies)
      .def("operations", &Graph::operations)
      .def("variables", &Graph::variables)
      // A copy: the committed value must not change through the caller's array.
      .def("variable_value", [](const Graph& g, const Tensor& v) { return g.variable_value(v).clone(); })
      .def("set_variable_value", &Graph::set_variable_value)
      .def("gradients", &Graph::gradients)
      .def("compile", [](Graph& g, const std::vector<std::tuple<Tensor, py::object, DType>>& feeds,
                         const std::vector<Tensor>& targets, const std::vector<Operation>& ops, const Device& dev,
                         bool tf32, bool fusion) {
        std::vector<std::pair<Tensor, TensorType>> f;
        for (auto& [t, shape, dt] : feeds) f.emplace_back(t, make_type(shape, dt));
        return g.compile(f, targets, ops, dev, tf32, fusion);
      })
      .def("run", [](Graph& g, const std::vector<std::pair<Tensor, NDArray>>& feeds, const std::vector<Tensor>& targets,
                     const std::vector<Operation>& ops, const Device& dev) {
        py::gil_scoped_release nogil;
        return g.run(feeds, targets, ops, dev);
      })
      .def("run_async", [](Graph& g, const std::vector<std::pair<Tensor, NDArray>>& feeds,
                           const std::vector<Tensor>& targets, const std::vector<Operation>& ops, const Device& dev) {
        py::gil_scoped_release nogil;
        return g.run_async(feeds, targets, ops, dev);
      })
      .def_property_readonly("_id", [](const Graph& g) { return reinterpret_cast<uintptr_t>(g.data().get()); });

  // The C++ Future of an asynchronous run; python/tensorstitch/executable.py wraps it.
  future.def("done", &Future::done)
      .def("state", [](const Future& f) {
        switch (f.state()) {
          case Future::State::Pending: return "pending";
          case Future::State::Running: return "running";
          case Future::State::Finished: return "finished";
          case Future::State::Failed: return "failed";
        }
        return "pending";
      })
      .def("wait", [](const Future& f, std::optional<double> timeout) {
        py::gil_scoped_release nogil;
        return f.wait(timeout ? std::max(0.0, *timeout) : -1.0);
      }, py::arg("timeout") = py::none())
      .def("result", [](const Future& f) {
        py::gil_scoped_release nogil;
        return f.result();
      })
      .def("on_done", [](const Future& f, py::function fn) {
        // The callable is released, and called, holding the GIL; it runs on a
        // run thread (or here, when the run is already done). Nothing runs
        // once the interpreter is finalizing.
        auto held = std::shared_ptr<py::function>(new py::function(std::move(fn)), [](py::function* p) {
          if (_Py_IsFinalizing()) return;  // leaked: the interpreter is going away
          py::gil_scoped_acquire gil;
          delete p;
        });
        f.on_done([held] {
          if (_Py_IsFinalizing()) return;
          py::gil_scoped_acquire gil;
          try {
            (*held)();
          } catch (py::error_already_set& e) {
            e.discard_as_unraisable("tensorstitch Future callback");
          }
        });
      });
  py::class_<GraphFile>(m, "GraphFile")
      .def_readonly("graph", &GraphFile::graph)
      .def_readonly("feeds", &GraphFile::feeds)
      .def_readonly("targets", &GraphFile::targets)
      .def_readonly("target_ops", &GraphFile::target_ops);
  m.attr("GRAPH_FILE_VERSION") = kGraphFileVersion;
  m.def("save_graph", &save_graph, py::call_guard<py::gil_scoped_release>());
  m.def("load_graph", &load_graph, py::call_guard<py::gil_scoped_release>());
  m.def("graph_file_bytes", [](const Graph& g, const std::vector<Tensor>& feeds, const std::vector<Tensor>& targets,
                               const std::vector<Operation>& ops) { return py::bytes(graph_file_bytes(g, feeds, targets, ops)); });
  m.def("graph_from_bytes", [](const py::bytes& b, const std::string& where) {
    std::string bytes = b;
    py::gil_scoped_release unlocked;
    return graph_from_bytes(bytes, where);
  });
  m.def("drain_async_runs", [] {
    py::gil_scoped_release nogil;
    drain_async_runs();
  });

  // Composites (csrc/ir/composites.cpp, bound after the classes they name): the front's sugar lowers through these.
  m.def("weak_scalar_dtype", [](const std::string& kind, std::optional<DType> like) {
    const ScalarKind k = kind == "bool" ? ScalarKind::Bool : kind == "int" ? ScalarKind::Int : ScalarKind::Float;
    return weak_scalar_dtype(k, like);
  });
  m.def("sgd", &sgd, py::arg("graph"), py::arg("learning_rate"), py::arg("value"), py::arg("gradient"), py::arg("name") = "");
  m.def("adam", [](Graph& g, const Tensor& lr, const Tensor& b1, const Tensor& b2, const Tensor& eps, const Tensor& value,
                   const Tensor& grad, const Tensor& m, const Tensor& v, const Tensor& step, const std::string& name) {
    auto r = adam(g, lr, b1, b2, eps, value, grad, m, v, step, name);
    return py::make_tuple(r[0], r[1], r[2]);
  });
  m.def("mean_variance", &mean_variance);
  m.def("normalize", &normalize);
  m.def("logsumexp", &logsumexp);
  m.def("softmax_cross_entropy", [](Graph& g, const Tensor& logits, const Tensor& labels, int64_t axis,
                                    const std::string& reduction, const std::string& name) {
    return softmax_cross_entropy(g, logits, labels, axis, parse_reduction(reduction, "softmax_cross_entropy '" + name + "'"),
                                 name);
  });
  m.def("sigmoid_cross_entropy", [](Graph& g, const Tensor& logits, const Tensor& labels, const std::string& reduction,
                                    const std::string& name) {
    return sigmoid_cross_entropy(g, logits, labels, parse_reduction(reduction, "sigmoid_cross_entropy '" + name + "'"),
                                 name);
  });
  m.def("leaky_relu", &leaky_relu);
  m.def("softplus", &softplus);
  m.def("silu", &silu);
  m.def("dropout", &dropout);
  py::class_<Pool2d>(m, "Pool2d")
      .def(py::init<>())
      .def_readwrite("kernel", &Pool2d::kernel)
      .def_readwrite("strides", &Pool2d::strides)
      .def_readwrite("padding", &Pool2d::padding)
      .def_readwrite("pads", &Pool2d::pads)
      .def_readwrite("layout", &Pool2d::layout);
  m.def("max_pool2d", &max_pool2d);
  py::class_<Conv2d>(m, "Conv2d")
      .def(py::init<>())
      .def_readwrite("strides", &Conv2d::strides)
      .def_readwrite("dilations", &Conv2d::dilations)
      .def_readwrite("padding", &Conv2d::padding)
      .def_readwrite("pads", &Conv2d::pads)
      .def_readwrite("data_layout", &Conv2d::data_layout)
      .def_readwrite("weights_layout", &Conv2d::weights_layout)
      .def_readwrite("groups", &Conv2d::groups);
  m.def("conv2d", &conv2d);
  m.def("conv2d_transpose", &conv2d_transpose);
  m.def("lstm_cell", &lstm_cell);
  m.def("lstm", &lstm);
  m.def("gru_cell", &gru_cell);
  m.def("gru", &gru);
  m.def("avg_pool2d", &avg_pool2d);
  // Control flow (csrc/ir/control_flow.cpp): bodies are Python callables on core tensors.
  m.def("if_then_else", &if_then_else);
  m.def("while_loop", &while_loop);
  m.def("for_loop", &for_loop);
  m.def("stack", &stack);
  // key: (kind, start, stop, step) with kind "int", "slice", "new_axis" or "ellipsis".
  m.def("basic_index", [](Graph& g, const Tensor& x,
                          const std::vector<std::tuple<std::string, std::optional<int64_t>, std::optional<int64_t>, int64_t>>& key) {
    std::vector<IndexEntry> entries;
    for (const auto& [kind, start, stop, step] : key) {
      IndexEntry e;
      e.kind = kind == "int" ? IndexEntry::Kind::Int : kind == "slice" ? IndexEntry::Kind::Slice
               : kind == "new_axis" ? IndexEntry::Kind::NewAxis : IndexEntry::Kind::Ellipsis;
      e.start = start;
      e.stop = stop;
      e.step = step;
      entries.push_back(e);
    }
    return basic_index(g, x, entries);
  });
}
