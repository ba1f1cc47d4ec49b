#include "tensorstitch/ndarray.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "ir/scalar_types.h"
#include "runtime/allocator.h"
#include "runtime/backend.h"
#include "runtime/thread_pool.h"

namespace ts {

int64_t num_elements(const Dims& dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    if (__builtin_mul_overflow(n, d, &n))
      throw ShapeError("the element count of shape " + std::to_string(dims.size()) + "-d overflows 64 bits");
  return n;
}

NDArray::NDArray(const Dims& shape, DType dtype, Device device)
    : shape_(shape), dtype_(dtype), device_(device) {
  if (device.kind != Device::Kind::CPU) throw DeviceError("cannot allocate on " + device.str());
  int64_t bytes = int64_t(dtype_size(dtype));
  for (int64_t d : shape) {
    if (d < 0) throw ShapeError("cannot allocate an array with a negative dimension");
    if (d && __builtin_mul_overflow(bytes, d, &bytes))
      throw ShapeError("cannot allocate an array of shape with " + std::to_string(shape.size()) +
                       " dimensions: its size overflows 64 bits");
  }
  owner_ = allocate_host(nbytes());
  data_ = owner_.get();
}

NDArray NDArray::wrap(void* data, const Dims& shape, DType dtype, std::shared_ptr<void> owner, Device device) {
  NDArray a;
  a.owner_ = std::move(owner);
  a.data_ = data;
  a.shape_ = shape;
  a.dtype_ = dtype;
  a.device_ = device;
  return a;
}

NDArray NDArray::full(const Dims& shape, DType dtype, double value) {
  NDArray a(shape, dtype);
  dispatch_all(dtype, [&](auto tag) {
    using T = decltype(tag);
    const T v = convert<T>(value);
    T* p = a.data_as<T>();
    for (int64_t i = 0; i < a.size(); ++i) p[i] = v;
  });
  return a;
}

NDArray NDArray::zeros(const Dims& shape, DType dtype) {
  NDArray a(shape, dtype);
  std::memset(a.data(), 0, a.nbytes());
  return a;
}

NDArray NDArray::reshaped(const Dims& shape) const {
  if (num_elements(shape) != size()) throw ShapeError("reshaped: element count differs");
  NDArray a = *this;
  a.shape_ = shape;
  return a;
}

NDArray NDArray::clone() const {
  if (device_.kind != Device::Kind::CPU) return copy_to(*this, device_);
  NDArray a(shape_, dtype_, device_);
  if (nbytes()) std::memcpy(a.data(), data_, nbytes());
  return a;
}

NDArray NDArray::astype(DType dtype) const {
  if (dtype == dtype_) return clone();
  // Device arrays convert on the host (rare: kernels convert as they load).
  if (device_.kind != Device::Kind::CPU) return copy_to(copy_to(*this, Device{}).astype(dtype), device_);
  NDArray out(shape_, dtype, device_);
  copy_into(out);
  return out;
}

void NDArray::copy_into(NDArray& out) const {
  if (out.size() != size()) throw ShapeError("copy_into: element count differs");
  if (device_.kind != Device::Kind::CPU || out.device().kind != Device::Kind::CPU)
    throw DeviceError("copy_into: both arrays must be on the host; got " + device_.str() + " and " + out.device().str());
  if (out.dtype() == dtype_) {
    if (nbytes()) std::memcpy(out.data(), data_, nbytes());
    return;
  }
  dispatch_all(dtype_, [&](auto from) {
    dispatch_all(out.dtype(), [&](auto to) {
      using From = decltype(from);
      using To = decltype(to);
      const From* src = data_as<From>();
      To* dst = out.data_as<To>();
      parallel_for(size(), 1 << 16, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) dst[i] = convert<To>(src[i]);
      });
    });
  });
}

}  // namespace ts
