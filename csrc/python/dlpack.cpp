// DLPack both ways: NDArrays export themselves as "dltensor" capsules, and
// capsules from PyTorch, JAX, CuPy or NumPy become NDArrays without a copy
// when they are dense row-major. The structs follow the DLPack ABI (v0.8
// legacy capsules, which every producer and consumer supports).
#include "python/dlpack.h"

#include <cstring>
#include <string>

#include "runtime/backend.h"
#include "tensorstitch/error.h"

namespace ts {
namespace {

struct DLDevice {
  int32_t device_type;
  int32_t device_id;
};
struct DLDataType {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
};
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;  // in elements; null means row-major
  uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor*);
};

enum : uint8_t { kDLInt = 0, kDLUInt = 1, kDLFloat = 2, kDLBfloat = 4, kDLBool = 6 };
constexpr int32_t kDLCPU = 1;
constexpr int32_t kDLCUDA = 2;

DLDataType dl_dtype(DType t) {
  switch (t) {
    case DType::Bool: return {kDLBool, 8, 1};
    case DType::Int8: return {kDLInt, 8, 1};
    case DType::UInt8: return {kDLUInt, 8, 1};
    case DType::Int32: return {kDLInt, 32, 1};
    case DType::Int64: return {kDLInt, 64, 1};
    case DType::Float16: return {kDLFloat, 16, 1};
    case DType::BFloat16: return {kDLBfloat, 16, 1};
    case DType::Float32: return {kDLFloat, 32, 1};
    case DType::Float64: return {kDLFloat, 64, 1};
  }
  return {kDLUInt, 8, 1};
}

DType from_dl(DLDataType t) {
  if (t.lanes == 1) {
    for (DType d : {DType::Bool, DType::Int8, DType::UInt8, DType::Int32, DType::Int64, DType::Float16,
                    DType::BFloat16, DType::Float32, DType::Float64}) {
      const DLDataType want = dl_dtype(d);
      if (want.code == t.code && want.bits == t.bits) return d;
    }
  }
  throw DTypeError("asarray: DLPack dtype (code " + std::to_string(t.code) + ", " + std::to_string(t.bits) +
                   " bits, " + std::to_string(t.lanes) + " lanes) is not supported; expected bool, int8, uint8, "
                   "int32, int64, float16, bfloat16, float32 or float64");
}

// What an exported capsule owns: the array (keeping its buffer alive) and
// the shape and strides the DLTensor points at.
struct Export {
  DLManagedTensor managed;
  NDArray array;
  std::vector<int64_t> shape, strides;
};

void delete_export(DLManagedTensor* m) { delete static_cast<Export*>(m->manager_ctx); }

void capsule_destructor(PyObject* capsule) {
  // Still named "dltensor": nobody consumed it, so it is ours to free.
  if (!PyCapsule_IsValid(capsule, "dltensor")) return;
  auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, "dltensor"));
  if (m && m->deleter) m->deleter(m);
}

}  // namespace

py::capsule to_dlpack(const NDArray& a) {
  auto* e = new Export;
  e->array = a;
  e->shape.assign(a.shape().begin(), a.shape().end());
  e->strides.assign(a.shape().size(), 1);
  for (int d = a.rank() - 2; d >= 0; --d) e->strides[d] = e->strides[d + 1] * std::max<int64_t>(a.shape()[d + 1], 1);
  DLTensor& t = e->managed.dl_tensor;
  t.data = a.data();
  // Device memory is described as such: the consumer reads it on the GPU.
  t.device = a.device().kind == Device::Kind::CUDA ? DLDevice{kDLCUDA, a.device().index} : DLDevice{kDLCPU, 0};
  t.ndim = a.rank();
  t.dtype = dl_dtype(a.dtype());
  t.shape = e->shape.data();
  t.strides = e->strides.data();
  t.byte_offset = 0;
  e->managed.manager_ctx = e;
  e->managed.deleter = delete_export;
  return py::capsule(&e->managed, "dltensor", capsule_destructor);
}

NDArray from_dlpack(const py::capsule& capsule) {
  if (std::strcmp(capsule.name(), "dltensor") != 0)
    throw FeedError(std::string("asarray: expected an unused 'dltensor' capsule; got '") + capsule.name() + "'");
  auto* m = capsule.get_pointer<DLManagedTensor>();
  const DLTensor& t = m->dl_tensor;
  if (t.device.device_type != kDLCPU && t.device.device_type != kDLCUDA)
    throw DeviceError("asarray: the DLPack array is on device type " + std::to_string(t.device.device_type) +
                      "; only CPU (1) and CUDA (2) arrays are supported");
  const Device device = t.device.device_type == kDLCUDA ? Device{Device::Kind::CUDA, t.device.device_id} : Device{};
  if (device.kind == Device::Kind::CUDA) check_device_available(device);
  const DType dt = from_dl(t.dtype);
  if (t.ndim < 0 || t.ndim > 16) throw ShapeError("asarray: DLPack rank " + std::to_string(t.ndim) + " exceeds 16");
  Dims shape(t.shape, t.shape + t.ndim);
  for (int64_t d : shape)
    if (d < 0) throw ShapeError("asarray: negative dimension in a DLPack array");
  // From here on the managed tensor is ours: its deleter runs when the last
  // NDArray sharing the memory goes.
  PyCapsule_SetName(capsule.ptr(), "used_dltensor");
  std::shared_ptr<void> owner(m, [](void* p) {
    auto* mt = static_cast<DLManagedTensor*>(p);
    if (mt->deleter) {
      py::gil_scoped_acquire gil;  // producers may release Python objects
      mt->deleter(mt);
    }
  });
  char* data = static_cast<char*>(t.data) + t.byte_offset;
  NDArray view = NDArray::wrap(data, shape, dt, owner, device);
  // Dense row-major arrays are used in place; anything else is gathered.
  bool dense = true;
  if (t.strides) {
    int64_t expect = 1;
    for (int d = t.ndim - 1; d >= 0; --d) {
      if (shape[d] != 1 && t.strides[d] != expect) dense = false;
      expect *= shape[d];
    }
  }
  if (device.kind == Device::Kind::CUDA) {
    if (!dense && view.size() != 0)
      throw DeviceError("asarray: a strided CUDA array cannot be used in place; make it contiguous first");
    // The producer's streams are not ours: its pending writes finish first.
    backend_for(device).synchronize();
    return view;
  }
  if (dense || view.size() == 0) return view;
  NDArray out(shape, dt);
  const size_t es = dtype_size(dt);
  std::vector<int64_t> idx(t.ndim, 0);
  char* dst = static_cast<char*>(out.data());
  for (int64_t i = 0; i < out.size(); ++i) {
    int64_t off = 0;
    for (int d = 0; d < t.ndim; ++d) off += idx[d] * t.strides[d];
    std::memcpy(dst + i * es, data + off * int64_t(es), es);
    for (int d = t.ndim - 1; d >= 0 && ++idx[d] == shape[d]; --d) idx[d] = 0;
  }
  return out;
}

}  // namespace ts
