// The narrow interface every backend implements (docs/design.md, "Backends").
// The planner and the executor are the same for all backends: the planner
// lowers regions to KernelDescs and has the backend compile each once, at
// plan time; the executor allocates through the backend, launches the
// compiled kernels on one of its streams and waits for completion. The IR
// and the passes never see a backend; a new one (Metal, say) implements this
// and registers a factory for its device kind.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "ir/kernel_desc.h"
#include "tensorstitch/device.h"
#include "tensorstitch/ndarray.h"

namespace ts {

// What a backend made of a KernelDesc: its own code plus what it declared.
struct CompiledKernel {
  virtual ~CompiledKernel() = default;
  std::shared_ptr<const KernelDesc> desc;
  // Scratch memory the kernel needs per launch, which the executor provides
  // from the run's arena (no allocation inside a kernel).
  int64_t workspace_bytes = 0;
};

// An ordered queue of work. The CPU's runs each launch before returning;
// a GPU's maps to a device stream.
struct Stream {
  virtual ~Stream() = default;
  // The index of the run the work belongs to (the executable's run
  // counter): counter-based random ops derive their stream from it.
  uint64_t run_index = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;

  // Compiles a kernel description (plan time; backends cache by content).
  // Throws CompileError when the backend cannot run it.
  virtual std::shared_ptr<const CompiledKernel> compile(std::shared_ptr<const KernelDesc> desc) = 0;
  virtual std::unique_ptr<Stream> new_stream() = 0;
  // Runs the kernel on `stream` for the step described by `desc` (equal to
  // the one it was compiled from, up to node names: errors name this one).
  // `outs` are allocated (on this device) with the description's output
  // types; `workspace` holds workspace_bytes.
  virtual void launch(const CompiledKernel& k, const KernelDesc& desc, const std::vector<NDArray>& ins,
                      std::vector<NDArray>& outs, void* workspace, Stream& stream) = 0;
  // Waits for all work launched on `stream` so far, then calls `done`;
  // throws the device's error (a bad index, say) instead.
  virtual void on_complete(Stream& stream, std::function<void()> done) = 0;
  // Returns at once; `done` gets the device's error (or null) once the
  // stream drains, from the backend's own thread on devices that complete
  // asynchronously (never from a driver callback: it may call the backend).
  virtual void when_complete(Stream& stream, std::function<void(std::exception_ptr)> done);
  // Device memory, 64-byte aligned; freed when the last owner lets go.
  virtual std::shared_ptr<void> allocate(size_t bytes) = 0;
  // Copies src into dst (same shape and dtype), either on this device or
  // between it and the host; complete when it returns.
  virtual void copy(const NDArray& src, NDArray& dst) = 0;
  // Waits for all work on the device, other libraries' included (arrays
  // they hand over may still be being written).
  virtual void synchronize() {}
  // Copies src (a host array or one on this device) into dst on this device,
  // ordered with the work on `stream`; a host src may change once the call
  // returns.
  virtual void copy_on(const NDArray& src, NDArray& dst, Stream& stream);

  // An uninitialized array on this device.
  NDArray empty(const Dims& dims, DType dtype);
  // Launches and waits: for constant folding and other one-off work.
  std::vector<NDArray> run_now(const CompiledKernel& k, const std::vector<NDArray>& ins);
};

using BackendFactory = std::unique_ptr<Backend> (*)(int index);
// How many devices of its kind a backend sees on this machine.
using DeviceCount = int (*)();
// Called by each backend at load time.
bool register_backend(Device::Kind kind, BackendFactory factory, DeviceCount count = nullptr);
// Every device some backend sees, the CPU first.
std::vector<Device> available_devices();
// The backend for a device (created once); DeviceError when none is there.
Backend& backend_for(const Device& device);
// The host backend: constant folding runs here, whatever the target device.
Backend& host_backend();
// A copy of `a` on `where`, made by the backend of whichever side is a device.
NDArray copy_to(const NDArray& a, const Device& where);

}  // namespace ts
