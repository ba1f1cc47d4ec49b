// The CUDA backend: kernels generated from their descriptions (codegen.cpp),
// compiled by NVRTC for the device's architecture, loaded and launched
// through the driver API on one stream per run. Elementwise, reduction and
// row kernels so far; the others (matmul, the ops with kernels of their
// own) raise CompileError naming the op (never a silent fallback to the host).
#include <map>
#include <memory>
#include <vector>
#include <mutex>
#include <string>

#include "backends/cuda/codegen.h"
#include "backends/cuda/driver.h"
#include "backends/cuda/nvrtc.h"
#include "runtime/backend.h"
#include "tensorstitch/error.h"

namespace ts::cuda {
namespace {

struct CudaKernel : CompiledKernel {
  CUmodule module = nullptr;  // kept loaded for the process (modules are small)
  CUfunction fn = nullptr;
};

// Device memory freed by one run serves the next: cuMemAlloc and cuMemFree
// synchronize the device and cost far more than a small kernel. Blocks are
// kept by exact size class (four per power of two, as on the host). Leaked
// on purpose, like the host cache: arrays may be freed during static
// teardown. Memory is only reused once the run that freed it has drained
// (runs free their buffers after their stream synchronizes).
struct BlockCache {
  std::mutex mu;
  std::multimap<size_t, CUdeviceptr> free;
};

size_t size_class(size_t bytes) {
  if (bytes <= 512) return 512;
  const size_t top = size_t(1) << (63 - __builtin_clzll(bytes)), step = top / 4;
  return (bytes + step - 1) / step * step;
}

// Streams are reused for the same reason; one per run in flight.
struct StreamPool {
  std::mutex mu;
  std::vector<CUstream> idle;
};

struct CudaStream : Stream {
  StreamPool* pool = nullptr;
  CUstream stream = nullptr;
  ~CudaStream() override {
    std::lock_guard<std::mutex> lock(pool->mu);
    pool->idle.push_back(stream);
  }
};

class CudaBackend : public Backend {
 public:
  explicit CudaBackend(int index) : index_(index) {
    std::string why;
    d_ = driver(&why);
    if (!d_) throw DeviceError("cuda:" + std::to_string(index) + " is not available: " + why);
    const int count = device_count();
    if (index < 0 || index >= count)
      throw DeviceError("cuda:" + std::to_string(index) + " does not exist; this machine has " + std::to_string(count) +
                        " GPU" + (count == 1 ? "" : "s"));
    check(d_->cuDeviceGet(&dev_, index), "cuDeviceGet");
    check(d_->cuDevicePrimaryCtxRetain(&ctx_, dev_), "cuDevicePrimaryCtxRetain");
    int major = 0, minor = 0;
    check(d_->cuDeviceGetAttribute(&major, 75, dev_), "compute capability");  // ..._COMPUTE_CAPABILITY_MAJOR
    check(d_->cuDeviceGetAttribute(&minor, 76, dev_), "compute capability");  // ..._COMPUTE_CAPABILITY_MINOR
    arch_ = "sm_" + std::to_string(major) + std::to_string(minor);
  }

  Device device() const override { return Device{Device::Kind::CUDA, index_}; }

  std::shared_ptr<const CompiledKernel> compile(std::shared_ptr<const KernelDesc> desc) override {
    const std::string cubin = nvrtc_compile(std::string(prelude()) + "\n" + render(*desc, "ts_kernel"), arch_,
                                            library_candidates("nvrtc"));
    current();
    auto k = std::make_shared<CudaKernel>();
    check(d_->cuModuleLoadData(&k->module, cubin.data()), "cuModuleLoadData");
    check(d_->cuModuleGetFunction(&k->fn, k->module, "ts_kernel"), "cuModuleGetFunction");
    k->desc = std::move(desc);
    return k;
  }

  std::unique_ptr<Stream> new_stream() override {
    auto s = std::make_unique<CudaStream>();
    s->pool = streams_;
    {
      std::lock_guard<std::mutex> lock(streams_->mu);
      if (!streams_->idle.empty()) {
        s->stream = streams_->idle.back();
        streams_->idle.pop_back();
        return s;
      }
    }
    current();
    check(d_->cuStreamCreate(&s->stream, 1), "cuStreamCreate");  // CU_STREAM_NON_BLOCKING
    return s;
  }

  void launch(const CompiledKernel& k, const KernelDesc& desc, const std::vector<NDArray>& ins,
              std::vector<NDArray>& outs, void*, Stream& stream) override {
    current();
    std::vector<void*> ptrs;
    for (const NDArray& a : ins) ptrs.push_back(a.data());
    for (size_t o = 1; o < outs.size(); ++o) ptrs.push_back(outs[o].data());
    ptrs.push_back(outs[0].data());
    std::vector<void*> args;
    for (void*& p : ptrs) args.push_back(&p);
    const int64_t n = num_elements(desc.space);
    int64_t threads = kThreads, blocks = 0;
    if (desc.kind == KernelDesc::Kind::Reduce) {
      blocks = num_elements(desc.outputs[0].dims);  // a block per output element
    } else if (desc.kind == KernelDesc::Kind::Row) {
      blocks = desc.row ? n / desc.row : 0;  // a block per row
    } else {
      if (n == 0) return;
      blocks = (n + threads * kElementsPerThread - 1) / (threads * kElementsPerThread);
    }
    if (blocks == 0) return;
    check(d_->cuLaunchKernel(static_cast<const CudaKernel&>(k).fn, unsigned(blocks), 1, 1, unsigned(threads), 1, 1, 0,
                             static_cast<CudaStream&>(stream).stream, args.data(), nullptr),
          "cuLaunchKernel");
  }

  void on_complete(Stream& stream, std::function<void()> done) override {
    current();
    check(d_->cuStreamSynchronize(static_cast<CudaStream&>(stream).stream), "a kernel on the GPU");
    done();
  }

  std::shared_ptr<void> allocate(size_t bytes) override {
    const size_t size = size_class(bytes);
    CUdeviceptr p = 0;
    {
      std::lock_guard<std::mutex> lock(blocks_->mu);
      auto it = blocks_->free.find(size);
      if (it != blocks_->free.end()) {
        p = it->second;
        blocks_->free.erase(it);
      }
    }
    if (!p) {
      current();
      CUresult rc = d_->cuMemAlloc(&p, size);
      if (rc == 2) {  // out of memory: give the cached blocks back and try once more
        release_cached();
        rc = d_->cuMemAlloc(&p, size);
      }
      check(rc, ("allocating " + std::to_string(bytes) + " bytes on " + device().str()).c_str());
    }
    BlockCache* cache = blocks_;
    return std::shared_ptr<void>(reinterpret_cast<void*>(p), [cache, size](void* q) {
      std::lock_guard<std::mutex> lock(cache->mu);
      cache->free.emplace(size, reinterpret_cast<CUdeviceptr>(q));
    });
  }

  void copy(const NDArray& src, NDArray& dst) override {
    current();
    const size_t bytes = src.nbytes();
    if (src.device().kind == Device::Kind::CPU && dst.device().kind == Device::Kind::CUDA)
      check(d_->cuMemcpyHtoD(reinterpret_cast<CUdeviceptr>(dst.data()), src.data(), bytes), "copy to the GPU");
    else if (src.device().kind == Device::Kind::CUDA && dst.device().kind == Device::Kind::CPU)
      check(d_->cuMemcpyDtoH(dst.data(), reinterpret_cast<CUdeviceptr>(src.data()), bytes), "copy from the GPU");
    else if (src.device().kind == Device::Kind::CUDA && dst.device().kind == Device::Kind::CUDA) {
      check(d_->cuMemcpyDtoD(reinterpret_cast<CUdeviceptr>(dst.data()), reinterpret_cast<CUdeviceptr>(src.data()), bytes),
            "copy on the GPU");
      // A device-to-device copy may return before it is done, and our
      // streams do not wait for the default stream it runs on: finish it.
      check(d_->cuStreamSynchronize(nullptr), "copy on the GPU");
    }
    else
      src.copy_into(dst);
  }

 private:
  // Driver calls act on the calling thread's current context.
  void current() const { check(d_->cuCtxSetCurrent(ctx_), "cuCtxSetCurrent"); }

  void release_cached() {
    std::lock_guard<std::mutex> lock(blocks_->mu);
    for (const auto& kv : blocks_->free) d_->cuMemFree(kv.second);
    blocks_->free.clear();
  }

  BlockCache* blocks_ = new BlockCache;  // leaked: see BlockCache
  StreamPool* streams_ = new StreamPool;

  int index_;
  const Driver* d_ = nullptr;
  CUdevice dev_ = 0;
  CUcontext ctx_ = nullptr;
  std::string arch_;
};

const bool registered = register_backend(
    Device::Kind::CUDA, [](int index) -> std::unique_ptr<Backend> { return std::make_unique<CudaBackend>(index); },
    device_count);

}  // namespace
}  // namespace ts::cuda
