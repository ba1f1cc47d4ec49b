#include "backends/cuda/driver.h"

#include <dlfcn.h>

#include <mutex>

#include "tensorstitch/error.h"

namespace ts::cuda {
namespace {

template <class F>
bool bind(void* lib, F& fn, const char* name) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  return fn != nullptr;
}

struct Loaded {
  Driver api;
  bool ok = false;
  std::string why;
};

const Loaded& load() {
  static Loaded* loaded = [] {
    auto* l = new Loaded;  // never unloaded: arrays may outlive static teardown
    void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char* e = dlerror();
      l->why = std::string("no CUDA driver (libcuda.so.1: ") + (e ? e : "not found") + ")";
      return l;
    }
    Driver& d = l->api;
    const bool bound = bind(lib, d.cuInit, "cuInit") && bind(lib, d.cuDeviceGetCount, "cuDeviceGetCount") &&
                       bind(lib, d.cuDeviceGet, "cuDeviceGet") &&
                       bind(lib, d.cuDeviceGetAttribute, "cuDeviceGetAttribute") &&
                       bind(lib, d.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain") &&
                       bind(lib, d.cuCtxSetCurrent, "cuCtxSetCurrent") &&
                       bind(lib, d.cuCtxSynchronize, "cuCtxSynchronize") && bind(lib, d.cuMemAlloc, "cuMemAlloc_v2") &&
                       bind(lib, d.cuMemFree, "cuMemFree_v2") && bind(lib, d.cuMemcpyHtoD, "cuMemcpyHtoD_v2") &&
                       bind(lib, d.cuMemcpyDtoH, "cuMemcpyDtoH_v2") && bind(lib, d.cuMemcpyDtoD, "cuMemcpyDtoD_v2") &&
                       bind(lib, d.cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2") &&
                       bind(lib, d.cuMemsetD8Async, "cuMemsetD8Async") &&
                       bind(lib, d.cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2") &&
                       bind(lib, d.cuMemHostAlloc, "cuMemHostAlloc") && bind(lib, d.cuMemFreeHost, "cuMemFreeHost") &&
                       bind(lib, d.cuEventCreate, "cuEventCreate") && bind(lib, d.cuEventRecord, "cuEventRecord") &&
                       bind(lib, d.cuEventSynchronize, "cuEventSynchronize") &&
                       bind(lib, d.cuStreamCreate, "cuStreamCreate") &&
                       bind(lib, d.cuStreamSynchronize, "cuStreamSynchronize") &&
                       bind(lib, d.cuStreamDestroy, "cuStreamDestroy_v2") &&
                       bind(lib, d.cuModuleLoadData, "cuModuleLoadData") &&
                       bind(lib, d.cuModuleGetFunction, "cuModuleGetFunction") &&
                       bind(lib, d.cuLaunchKernel, "cuLaunchKernel") && bind(lib, d.cuGetErrorString, "cuGetErrorString");
    if (!bound) {
      l->why = "the CUDA driver (libcuda.so.1) lacks an entry point this build needs; update the driver";
      return l;
    }
    if (CUresult rc = d.cuInit(0)) {
      l->why = "the CUDA driver failed to initialize (error " + std::to_string(rc) + ")";
      return l;
    }
    l->ok = true;
    return l;
  }();
  return *loaded;
}

}  // namespace

const Driver* driver(std::string* why) {
  const Loaded& l = load();
  if (!l.ok && why) *why = l.why;
  return l.ok ? &l.api : nullptr;
}

int device_count() {
  const Driver* d = driver();
  int n = 0;
  if (!d || d->cuDeviceGetCount(&n) != 0) return 0;
  return n;
}

void check(CUresult rc, const char* what) {
  if (rc == 0) return;
  const char* msg = nullptr;
  if (const Driver* d = driver()) d->cuGetErrorString(rc, &msg);
  // 2: CUDA_ERROR_OUT_OF_MEMORY.
  throw DeviceError(std::string(what) + ": " + (msg ? msg : "CUDA error " + std::to_string(rc)) +
                    (rc == 2 ? " (GPU out of memory)" : ""));
}

}  // namespace ts::cuda
