// The CUDA backend: fused kernels generated from their descriptions
// (codegen.cpp), the other ops' kernels from the backend's kernel table
// (op_kernels.h), matmul through cuBLASLt where it can (else our kernel);
// compiled by NVRTC for the device's architecture, loaded and launched
// through the driver API on one stream per run. An op without a CUDA
// kernel raises CompileError naming it: nothing falls back to the host.
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "backends/cuda/codegen.h"
#include "backends/cuda/cublaslt.h"
#include "backends/cuda/disk_cache.h"
#include "backends/cuda/driver.h"
#include "backends/cuda/nvrtc.h"
#include "backends/cuda/op_kernels.h"
#include "ops/op_def.h"
#include "runtime/backend.h"
#include "tensorstitch/error.h"

namespace ts::cuda {
namespace {

struct CudaKernel : CompiledKernel {
  CUmodule module = nullptr;  // kept loaded for the process (modules are small)
  CUfunction fn = nullptr;    // the generated kernel; Matmul kernels: the epilogue
  bool op = false;            // a kernel-table kernel (OpSource launch facts)
  OpSource launch;
  std::shared_ptr<void> table;     // its table on the device
  std::shared_ptr<GemmPlan> gemm;  // a product through cuBLASLt
  // Matmul kernels: the product (into the start of the workspace), then fn.
  std::shared_ptr<const CudaKernel> product;
  int64_t product_bytes = 0;
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

// Streams are reused for the same reason; one per run in flight. Each has
// an error record (4 int64: tag, index, size, dimension) that index-checking
// kernels write on a bad index.
struct PooledStream {
  CUstream stream = nullptr;
  CUdeviceptr record = 0;
  CUevent drained = nullptr;  // recorded where an asynchronous run ends
  char* staging = nullptr;    // pinned memory for host feeds (kStagingBytes), made on first use
};
constexpr size_t kStagingBytes = size_t(4) << 20;
struct StreamPool {
  std::mutex mu;
  std::vector<PooledStream> idle;
};

struct CudaStream : Stream {
  StreamPool* pool = nullptr;
  const Driver* d = nullptr;
  PooledStream s;
  size_t staged = 0;  // bytes of `staging` this run's uploads use
  // The index-checking launches since the record was cleared: the op (its
  // name is only spelled out for an error) and what its indices address
  // ("axis", "dimension").
  std::vector<std::pair<const detail::Node*, const char*>> checked;
  ~CudaStream() override {
    if (!pool) return;  // its creation failed
    // A run that failed while launching may have left work queued, maybe
    // reading its staging memory: the stream is reused once that is done.
    d->cuStreamSynchronize(s.stream);
    std::lock_guard<std::mutex> lock(pool->mu);
    pool->idle.push_back(s);
  }
};

bool tf32_enabled() {
  const char* env = std::getenv("TENSORSTITCH_TF32");
  return env && std::string(env) == "1";
}

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
    std::thread([this] { wait_loop(); }).detach();
  }

  Device device() const override { return Device{Device::Kind::CUDA, index_}; }

  std::shared_ptr<const CompiledKernel> compile(std::shared_ptr<const KernelDesc> desc) override {
    std::shared_ptr<CudaKernel> k;
    if (desc->kind == KernelDesc::Kind::Op) {
      k = compile_op(*desc);
    } else if (desc->kind == KernelDesc::Kind::Matmul) {
      const KernelDesc product = matmul_product(*desc);
      k = load(render(matmul_epilogue(*desc), "ts_kernel"));
      k->product = compile_op(product);
      const int64_t bytes = num_elements(product.outputs[0].dims) * int64_t(dtype_size(product.outputs[0].dtype));
      k->product_bytes = (bytes + 255) / 256 * 256;
      k->workspace_bytes = k->product_bytes + 256 + k->product->workspace_bytes;
    } else {
      k = load(render(*desc, "ts_kernel"));
    }
    k->desc = std::move(desc);
    return k;
  }

  std::unique_ptr<Stream> new_stream() override {
    auto s = std::make_unique<CudaStream>();
    s->pool = streams_;
    s->d = d_;
    {
      std::lock_guard<std::mutex> lock(streams_->mu);
      if (!streams_->idle.empty()) {
        s->s = streams_->idle.back();
        streams_->idle.pop_back();
        return s;
      }
    }
    current();
    check(d_->cuStreamCreate(&s->s.stream, 1), "cuStreamCreate");  // CU_STREAM_NON_BLOCKING
    CUresult rc = d_->cuMemAlloc(&s->s.record, 64);
    if (!rc) rc = d_->cuEventCreate(&s->s.drained, 2);  // CU_EVENT_DISABLE_TIMING
    if (rc) {
      d_->cuStreamDestroy(s->s.stream);
      s->pool = nullptr;
      check(rc, "setting up a stream");
    }
    return s;
  }

  void launch(const CompiledKernel& ck, const KernelDesc& desc, const std::vector<NDArray>& ins,
              std::vector<NDArray>& outs, void* workspace, Stream& stream) override {
    current();
    const auto& k = static_cast<const CudaKernel&>(ck);
    auto& cs = static_cast<CudaStream&>(stream);
    if (desc.kind == KernelDesc::Kind::Op) return launch_op(k, desc, ins, outs, workspace, cs);
    if (desc.kind == KernelDesc::Kind::Matmul) {
      char* product = align256(workspace);
      const TensorType& t = desc.inputs[size_t(desc.contraction_input)].type;
      std::vector<NDArray> product_out{NDArray::wrap(product, t.dims, t.dtype, nullptr, device())};
      launch_op(*k.product, desc, {ins[0], ins[1]}, product_out, product + k.product_bytes, cs);
      std::vector<NDArray> with_product = ins;
      with_product[size_t(desc.contraction_input)] = product_out[0];
      return launch_fused(k, desc, with_product, outs, cs);
    }
    launch_fused(k, desc, ins, outs, cs);
  }

  void on_complete(Stream& stream, std::function<void()> done) override {
    current();
    auto& cs = static_cast<CudaStream&>(stream);
    check(d_->cuStreamSynchronize(cs.s.stream), "a kernel on the GPU");
    raise_recorded_error(cs);
    done();
  }

  void when_complete(Stream& stream, std::function<void(std::exception_ptr)> done) override {
    current();
    auto& cs = static_cast<CudaStream&>(stream);
    check(d_->cuEventRecord(cs.s.drained, cs.s.stream), "cuEventRecord");
    {
      std::lock_guard<std::mutex> lock(waiter_->mu);
      waiter_->queue.emplace_back(&cs, std::move(done));
    }
    waiter_->cv.notify_one();
  }

  void synchronize() override {
    current();
    check(d_->cuCtxSynchronize(), "synchronizing the GPU");
  }

  void copy_on(const NDArray& src, NDArray& dst, Stream& stream) override {
    auto& cs = static_cast<CudaStream&>(stream);
    const size_t bytes = src.nbytes();
    if (bytes == 0) return;
    if (src.device().kind == Device::Kind::CUDA) {
      current();
      check(d_->cuMemcpyDtoDAsync(reinterpret_cast<CUdeviceptr>(dst.data()), reinterpret_cast<CUdeviceptr>(src.data()),
                                  bytes, cs.s.stream),
            "copy on the GPU");
      return;
    }
    if (cs.staged + bytes > kStagingBytes) return copy(src, dst);  // large feeds: straight from pageable memory
    current();
    if (!cs.s.staging) {
      void* p = nullptr;
      check(d_->cuMemHostAlloc(&p, kStagingBytes, 0), "allocating pinned staging memory");
      cs.s.staging = static_cast<char*>(p);
    }
    char* at = cs.s.staging + cs.staged;
    cs.staged += (bytes + 255) / 256 * 256;
    std::memcpy(at, src.data(), bytes);
    check(d_->cuMemcpyHtoDAsync(reinterpret_cast<CUdeviceptr>(dst.data()), at, bytes, cs.s.stream), "copy to the GPU");
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
    if (src.device().kind == Device::Kind::CPU && dst.device().kind == Device::Kind::CUDA) {
      check(d_->cuMemcpyHtoD(reinterpret_cast<CUdeviceptr>(dst.data()), src.data(), bytes), "copy to the GPU");
      // From pageable memory the call returns once the data is staged, not
      // written; our streams do not wait for the default stream: finish it.
      check(d_->cuStreamSynchronize(nullptr), "copy to the GPU");
    }
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
  // ShapeError for the first bad index the stream's kernels recorded.
  void raise_recorded_error(CudaStream& cs) {
    if (cs.checked.empty()) return;
    long long record[4] = {0, 0, 0, 0};
    check(d_->cuMemcpyDtoH(record, cs.s.record, sizeof record), "reading the error record");
    const auto checked = std::move(cs.checked);
    cs.checked.clear();
    if (record[0] > 0 && size_t(record[0]) <= checked.size()) {
      const auto& [node, what] = checked[size_t(record[0] - 1)];
      throw ShapeError(detail::describe(*node) + ": index " + std::to_string(record[1]) + " is out of range for " + what + " " +
                       std::to_string(record[3]) + " of size " + std::to_string(record[2]));
    }
  }

  // Completes asynchronous runs in order, on a thread of its own (a driver
  // callback may not call the driver; finishing a run may copy).
  struct Waiter {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::pair<CudaStream*, std::function<void(std::exception_ptr)>>> queue;
  };
  void wait_loop() {
    for (;;) {
      std::pair<CudaStream*, std::function<void(std::exception_ptr)>> next;
      {
        std::unique_lock<std::mutex> lock(waiter_->mu);
        waiter_->cv.wait(lock, [&] { return !waiter_->queue.empty(); });
        next = std::move(waiter_->queue.front());
        waiter_->queue.pop_front();
      }
      std::exception_ptr error;
      try {
        current();
        check(d_->cuEventSynchronize(next.first->s.drained), "a kernel on the GPU");
        raise_recorded_error(*next.first);
      } catch (...) {
        error = std::current_exception();
      }
      next.second(error);
    }
  }

  static char* align256(void* p) {
    return reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(p) + 255) / 256 * 256);
  }

  std::shared_ptr<CudaKernel> load(const std::string& source, bool exact = false) {
    const std::string cubin = cached_compile(std::string(prelude()) + "\n" + source, arch_, exact);
    current();
    auto k = std::make_shared<CudaKernel>();
    check(d_->cuModuleLoadData(&k->module, cubin.data()), "cuModuleLoadData");
    check(d_->cuModuleGetFunction(&k->fn, k->module, "ts_kernel"), "cuModuleGetFunction");
    return k;
  }

  // A kernel-table kernel, or cuBLASLt for a float matmul it can run.
  std::shared_ptr<CudaKernel> compile_op(const KernelDesc& desc) {
    if (desc.node->type == "matmul" && desc.inputs[0].type.dtype == desc.outputs[0].dtype &&
        desc.inputs[1].type.dtype == desc.outputs[0].dtype) {
      std::string why;
      if (auto gemm = plan_gemm(matmul_shape(desc), desc.outputs[0].dtype, desc.allow_tf32 || tf32_enabled(), &why)) {
        auto k = std::make_shared<CudaKernel>();
        k->gemm = std::move(gemm);
        k->workspace_bytes = gemm_workspace(*k->gemm);
        return k;
      }
    }
    OpSource launch;
    const std::string source = render_op(desc, "ts_kernel", &launch);
    std::shared_ptr<CudaKernel> k = load(source, launch.exact);
    k->op = true;
    k->launch = launch;
    k->workspace_bytes = launch.workspace_bytes;
    if (!launch.table.empty()) {
      k->table = allocate(launch.table.size() * sizeof(int64_t));
      check(d_->cuMemcpyHtoD(reinterpret_cast<CUdeviceptr>(k->table.get()), launch.table.data(),
                             launch.table.size() * sizeof(int64_t)),
            "uploading a kernel's table");
    }
    return k;
  }

  void launch_op(const CudaKernel& k, const KernelDesc& desc, const std::vector<NDArray>& ins, std::vector<NDArray>& outs,
                 void* workspace, CudaStream& cs) {
    if (k.gemm) return run_gemm(*k.gemm, ins[0].data(), ins[1].data(), outs[0].data(), workspace, cs.s.stream);
    const OpSource& l = k.launch;
    if (l.copy_first && outs[0].nbytes())
      check(d_->cuMemcpyDtoDAsync(reinterpret_cast<CUdeviceptr>(outs[0].data()), reinterpret_cast<CUdeviceptr>(ins[0].data()),
                                  outs[0].nbytes(), cs.s.stream),
            "copy on the GPU");
    if (l.blocks == 0) return;
    long long tag = 0;
    if (l.index_what) {
      if (cs.checked.empty()) check(d_->cuMemsetD8Async(cs.s.record, 0, 32, cs.s.stream), "clearing the error record");
      cs.checked.emplace_back(desc.node, l.index_what);
      tag = (long long)cs.checked.size();
    }
    std::vector<void*> ptrs{k.table.get(), reinterpret_cast<void*>(cs.s.record)};
    for (const NDArray& a : ins) ptrs.push_back(a.data());
    for (NDArray& a : outs) ptrs.push_back(a.data());
    void* ws = workspace;
    unsigned long long run = cs.run_index;
    std::vector<void*> args{&ptrs[0], &ptrs[1], &tag, &run, &ws};
    for (size_t i = 2; i < ptrs.size(); ++i) args.push_back(&ptrs[i]);
    check(d_->cuLaunchKernel(k.fn, unsigned(l.blocks), 1, 1, unsigned(l.threads), 1, 1, 0, cs.s.stream, args.data(), nullptr),
          "cuLaunchKernel");
  }

  // Elementwise, reduction and row kernels: inputs, outputs 1.., output 0.
  void launch_fused(const CudaKernel& k, const KernelDesc& desc, const std::vector<NDArray>& ins, std::vector<NDArray>& outs,
                    CudaStream& cs) {
    std::vector<void*> ptrs;
    for (const NDArray& a : ins) ptrs.push_back(a.data());
    for (size_t o = 1; o < outs.size(); ++o) ptrs.push_back(outs[o].data());
    ptrs.push_back(outs[0].data());
    std::vector<void*> args;
    for (void*& p : ptrs) args.push_back(&p);
    const int64_t n = num_elements(desc.space);
    int64_t blocks = 0;
    if (desc.kind == KernelDesc::Kind::Reduce) blocks = num_elements(desc.outputs[0].dims);  // a block per output element
    else if (desc.kind == KernelDesc::Kind::Row) blocks = desc.row ? n / desc.row : 0;       // a block per row
    else blocks = (n + kThreads * kElementsPerThread - 1) / (kThreads * kElementsPerThread);
    if (blocks == 0) return;
    check(d_->cuLaunchKernel(k.fn, unsigned(blocks), 1, 1, unsigned(block_threads(desc)), 1, 1, 0, cs.s.stream, args.data(),
                             nullptr),
          "cuLaunchKernel");
  }

  // Driver calls act on the calling thread's current context.
  void current() const { check(d_->cuCtxSetCurrent(ctx_), "cuCtxSetCurrent"); }

  void release_cached() {
    std::lock_guard<std::mutex> lock(blocks_->mu);
    for (const auto& kv : blocks_->free) d_->cuMemFree(kv.second);
    blocks_->free.clear();
  }

  BlockCache* blocks_ = new BlockCache;  // leaked: see BlockCache
  StreamPool* streams_ = new StreamPool;
  Waiter* waiter_ = new Waiter;  // leaked with its thread, which never ends

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
