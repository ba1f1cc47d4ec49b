// The CPU backend: fused kernels run on the tile interpreter (fused.cpp),
// other ops on their kernel from the kernel table, in the calling thread
// with the thread pool; completion is immediate.
#include "backends/cpu/fused.h"
#include "backends/cpu/kernel_table.h"
#include "runtime/allocator.h"
#include "tensorstitch/error.h"

namespace ts::cpu {
namespace {

struct OpKernel : CompiledKernel {
  KernelEntry entry;
  std::shared_ptr<const void> params;  // from the entry's prepare step
};

struct CpuStream : Stream {};

class CpuBackend : public Backend {
 public:
  Device device() const override { return Device{}; }

  std::shared_ptr<const CompiledKernel> compile(std::shared_ptr<const KernelDesc> desc) override {
    if (desc->fused()) return compile_fused(desc);
    auto k = std::make_shared<OpKernel>();
    k->entry = find_kernel(desc->node->type);
    if (!k->entry.run) throw CompileError(detail::describe(*desc->node) + ": the CPU backend has no kernel for this op");
    if (k->entry.prepare) k->params = k->entry.prepare(*desc);
    k->desc = std::move(desc);
    return k;
  }

  std::unique_ptr<Stream> new_stream() override { return std::make_unique<CpuStream>(); }

  void launch(const CompiledKernel& k, const KernelDesc& desc, const std::vector<NDArray>& ins,
              std::vector<NDArray>& outs, void* workspace, Stream& stream) override {
    if (k.desc->fused()) {
      run_fused(static_cast<const FusedKernel&>(k), ins, outs, workspace);
      return;
    }
    const OpKernel& op = static_cast<const OpKernel&>(k);
    KernelCtx ctx{*desc.node, ins, outs, op.params.get(), stream.run_index};
    op.entry.run(ctx);
  }

  void on_complete(Stream&, std::function<void()> done) override { done(); }

  std::shared_ptr<void> allocate(size_t bytes) override { return allocate_host(bytes); }

  void copy(const NDArray& src, NDArray& dst) override { src.copy_into(dst); }
};

const bool registered =
    register_backend(Device::Kind::CPU, [](int) -> std::unique_ptr<Backend> { return std::make_unique<CpuBackend>(); });

}  // namespace
}  // namespace ts::cpu
