#include "runtime/backend.h"

#include "tensorstitch/error.h"

#include <algorithm>
#include <future>
#include <map>
#include <mutex>

namespace ts {
namespace {

struct Registry {
  std::mutex mu;
  std::map<Device::Kind, BackendFactory> factories;
  std::map<Device::Kind, DeviceCount> counts;
  std::map<std::pair<int, int>, std::unique_ptr<Backend>> instances;  // (kind, index)
};
Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

bool register_backend(Device::Kind kind, BackendFactory factory, DeviceCount count) {
  std::lock_guard<std::mutex> lock(registry().mu);
  registry().factories[kind] = factory;
  if (count) registry().counts[kind] = count;
  return true;
}

std::vector<Device> available_devices() {
  std::map<Device::Kind, DeviceCount> counts;
  {
    std::lock_guard<std::mutex> lock(registry().mu);
    counts = registry().counts;
  }
  std::vector<Device> out{Device{}};
  for (const auto& [kind, count] : counts)
    for (int i = 0, n = count(); i < n; ++i) out.push_back(Device{kind, i});
  return out;
}

Backend& backend_for(const Device& device) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto& slot = r.instances[{int(device.kind), device.index}];
  if (!slot) {
    auto it = r.factories.find(device.kind);
    if (it == r.factories.end()) throw DeviceError("no backend for device " + device.str() + " in this build");
    slot = it->second(device.index);
  }
  return *slot;
}

Backend& host_backend() { return backend_for(Device{}); }

NDArray copy_to(const NDArray& a, const Device& where) {
  Backend& backend = backend_for(a.device().kind != Device::Kind::CPU ? a.device() : where);
  NDArray copy = where.kind == Device::Kind::CPU ? NDArray(a.shape(), a.dtype()) : backend_for(where).empty(a.shape(), a.dtype());
  backend.copy(a, copy);
  return copy;
}

NDArray Backend::empty(const Dims& dims, DType dtype) {
  const int64_t bytes = num_elements(dims) * int64_t(dtype_size(dtype));
  std::shared_ptr<void> memory = allocate(size_t(std::max<int64_t>(bytes, 1)));
  void* data = memory.get();
  return NDArray::wrap(data, dims, dtype, std::move(memory), device());
}

void Backend::when_complete(Stream& stream, std::function<void(std::exception_ptr)> done) {
  std::exception_ptr error;
  try {
    on_complete(stream, [] {});
  } catch (...) {
    error = std::current_exception();
  }
  done(error);
}

void Backend::copy_on(const NDArray& src, NDArray& dst, Stream&) { copy(src, dst); }

std::vector<NDArray> Backend::run_now(const CompiledKernel& k, const std::vector<NDArray>& ins) {
  std::vector<NDArray> outs;
  for (const TensorType& t : k.desc->outputs) outs.push_back(empty(t.dims, t.dtype));
  std::shared_ptr<void> workspace = k.workspace_bytes ? allocate(size_t(k.workspace_bytes)) : nullptr;
  std::unique_ptr<Stream> stream = new_stream();
  launch(k, *k.desc, ins, outs, workspace.get(), *stream);
  std::promise<void> done;
  on_complete(*stream, [&] { done.set_value(); });
  done.get_future().wait();
  return outs;
}

}  // namespace ts
