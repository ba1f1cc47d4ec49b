// A dense row-major array on a device. Copies share the buffer.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "tensorstitch/device.h"
#include "tensorstitch/dtype.h"

namespace ts {

using Dims = std::vector<int64_t>;

int64_t num_elements(const Dims& dims);

class NDArray {
 public:
  NDArray() = default;
  // Allocates an uninitialized array (64-byte aligned).
  NDArray(const Dims& shape, DType dtype, Device device = Device{});
  // Wraps memory owned by `owner` without copying; `owner` is kept alive as
  // long as any NDArray refers to the memory.
  static NDArray wrap(void* data, const Dims& shape, DType dtype, std::shared_ptr<void> owner,
                      Device device = Device{});
  static NDArray zeros(const Dims& shape, DType dtype);
  // Every element `value`, converted as astype converts (host memory).
  static NDArray full(const Dims& shape, DType dtype, double value);

  bool defined() const { return data_ != nullptr || owner_ != nullptr; }
  const Dims& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  int64_t size() const { return num_elements(shape_); }
  size_t nbytes() const { return static_cast<size_t>(size()) * dtype_size(dtype_); }
  void* data() const { return data_; }
  template <class T>
  T* data_as() const { return static_cast<T*>(data_); }
  const std::shared_ptr<void>& owner() const { return owner_; }

  // Same buffer, another shape with the same number of elements.
  NDArray reshaped(const Dims& shape) const;
  // A deep copy.
  NDArray clone() const;
  // A converted copy (NaN -> 0 and saturation when converting floats to integers).
  NDArray astype(DType dtype) const;
  // Converts into `out`, an array with as many elements.
  void copy_into(NDArray& out) const;

 private:
  std::shared_ptr<void> owner_;
  void* data_ = nullptr;
  Dims shape_;
  DType dtype_ = DType::Float32;
  Device device_;
};

}  // namespace ts
