// The CUDA backend: kernels generated from their descriptions (codegen.cpp),
// compiled by NVRTC for the device's architecture, loaded and launched
// through the driver API on one stream per run. Elementwise kernels so far;
// other kinds raise CompileError naming the op (never a silent fallback to
// the host).
#include <memory>
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

struct CudaStream : Stream {
  const Driver* d = nullptr;
  CUcontext ctx = nullptr;
  CUstream stream = nullptr;
  ~CudaStream() override {
    if (!stream) return;
    d->cuCtxSetCurrent(ctx);
    d->cuStreamDestroy(stream);  // after the work queued on it completes
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
    if (desc->kind != KernelDesc::Kind::Elementwise)
      throw CompileError("'" + desc->ops.front() + "': this kind of kernel does not run on CUDA yet");
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
    current();
    auto s = std::make_unique<CudaStream>();
    s->d = d_;
    s->ctx = ctx_;
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
    if (n == 0) return;
    const unsigned threads = 256, blocks = unsigned((n + threads - 1) / threads);
    check(d_->cuLaunchKernel(static_cast<const CudaKernel&>(k).fn, blocks, 1, 1, threads, 1, 1, 0,
                             static_cast<CudaStream&>(stream).stream, args.data(), nullptr),
          "cuLaunchKernel");
  }

  void on_complete(Stream& stream, std::function<void()> done) override {
    current();
    check(d_->cuStreamSynchronize(static_cast<CudaStream&>(stream).stream), "a kernel on the GPU");
    done();
  }

  std::shared_ptr<void> allocate(size_t bytes) override {
    current();
    CUdeviceptr p = 0;
    check(d_->cuMemAlloc(&p, bytes ? bytes : 1), "cuMemAlloc");
    const Driver* d = d_;
    CUcontext ctx = ctx_;
    return std::shared_ptr<void>(reinterpret_cast<void*>(p), [d, ctx](void* q) {
      d->cuCtxSetCurrent(ctx);
      d->cuMemFree(reinterpret_cast<CUdeviceptr>(q));
    });
  }

  void copy(const NDArray& src, NDArray& dst) override {
    current();
    const size_t bytes = src.nbytes();
    if (src.device().kind == Device::Kind::CPU && dst.device().kind == Device::Kind::CUDA)
      check(d_->cuMemcpyHtoD(reinterpret_cast<CUdeviceptr>(dst.data()), src.data(), bytes), "copy to the GPU");
    else if (src.device().kind == Device::Kind::CUDA && dst.device().kind == Device::Kind::CPU)
      check(d_->cuMemcpyDtoH(dst.data(), reinterpret_cast<CUdeviceptr>(src.data()), bytes), "copy from the GPU");
    else if (src.device().kind == Device::Kind::CUDA && dst.device().kind == Device::Kind::CUDA)
      check(d_->cuMemcpyDtoD(reinterpret_cast<CUdeviceptr>(dst.data()), reinterpret_cast<CUdeviceptr>(src.data()), bytes),
            "copy on the GPU");
    else
      src.copy_into(dst);
  }

 private:
  // Driver calls act on the calling thread's current context.
  void current() const { check(d_->cuCtxSetCurrent(ctx_), "cuCtxSetCurrent"); }

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
