#include "runtime/kernel_cache.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <map>
#include <thread>
#include <sstream>
#include <type_traits>

#include "ir/graph_data.h"
#include "ops/op_def.h"

namespace ts {
namespace {

std::atomic<uint64_t> compiles{0};

void put(std::ostringstream& s, const Dims& d) {
  s << '(';
  for (int64_t x : d) s << x << ',';
  s << ')';
}

void put(std::ostringstream& s, const Attr& a) {
  std::visit(
      [&](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::vector<int64_t>>) put(s, v);
        else if constexpr (std::is_same_v<V, std::string>) s << v.size() << ':' << v;  // length-prefixed
        else if constexpr (std::is_same_v<V, double>) s << std::hexfloat << v << std::defaultfloat;  // exact
        else if constexpr (std::is_same_v<V, DType>) s << 'd' << int(v);
        else s << v;
      },
      a);
}

void put(std::ostringstream& s, const detail::Node* n) {
  if (!n) {
    s << '-';
    return;
  }
  s << n->type;
  // An impure op's kernel reads its node id (the random stream it draws).
  if (n->def && !n->def->pure) s << '#' << n->id;
  s << '{';
  for (const auto& [key, value] : n->attrs) {
    s << key << '=';
    put(s, value);
    s << ';';
  }
  s << '}';
}

}  // namespace

std::string fingerprint(const KernelDesc& k) {
  std::ostringstream s;
  s << int(k.kind) << '|' << int(k.compute) << '|';
  put(s, k.space);
  put(s, k.node);
  for (size_t j = 0; j < k.inputs.size(); ++j) {
    const KernelOperand& o = k.inputs[j];
    s << "|i" << int(o.type.dtype) << o.type.ranked;
    put(s, o.type.dims);
    s << o.reg << o.invariant << o.epilogue << bool(k.value_read[j]);
  }
  for (const KernelStep& st : k.body) {
    s << "|s";
    put(s, st.node);
    s << (st.scalar ? st.scalar : "") << st.arity << int(st.reduce) << st.per_row << st.round << int(st.round_to) << ','
      << st.dst << ',' << st.a << ',' << st.b << ',' << st.c;
  }
  for (const TensorType& t : k.outputs) {
    s << "|o" << int(t.dtype);
    put(s, t.dims);
  }
  for (int r : k.extra_regs) s << "|x" << r;
  s << '|' << k.num_regs << ',' << k.value_reg << ',' << k.reduced_reg << ',' << k.result_reg << ',' << k.epilogue_step
    << ',' << int(k.reduce) << ',' << k.row << ',' << k.row_result << ',' << k.contraction_input << ',' << k.allow_tf32;
  return s.str();
}

std::shared_ptr<const CompiledKernel> KernelCache::compile(Backend& backend, const std::shared_ptr<const KernelDesc>& desc) {
  const std::string key = fingerprint(*desc);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(key);
    if (it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->second;
    }
  }
  // Compiled outside the lock; two threads may both compile a new kernel,
  // and the first to finish is kept.
  std::shared_ptr<const CompiledKernel> k = backend.compile(desc);
  compiles.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (it != index_.end()) return it->second->second;
  lru_.emplace_front(key, std::move(k));
  index_[key] = lru_.begin();
  if (lru_.size() > kMaxKernels) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
  return lru_.front().second;
}

uint64_t kernel_compile_count() { return compiles.load(); }

std::vector<std::shared_ptr<const CompiledKernel>> KernelCache::compile_all(
    Backend& backend, const std::vector<std::shared_ptr<const KernelDesc>>& descs) {
  // One representative description per distinct kernel, and each one's.
  std::map<std::string, size_t> first;
  std::vector<size_t> unique, representative(descs.size());
  for (size_t i = 0; i < descs.size(); ++i) {
    const auto [it, added] = first.emplace(fingerprint(*descs[i]), i);
    if (added) unique.push_back(i);
    representative[i] = it->second;
  }
  std::vector<std::shared_ptr<const CompiledKernel>> done(descs.size());
  const size_t workers = backend.device().kind == Device::Kind::CPU
                             ? 1
                             : std::min<size_t>({unique.size(), std::max(1u, std::thread::hardware_concurrency()), 16});
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mu;
  auto work = [&] {
    for (size_t u; (u = next.fetch_add(1)) < unique.size();) {
      try {
        done[unique[u]] = compile(backend, descs[unique[u]]);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (!error) error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < workers; ++t) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  if (error) std::rethrow_exception(error);
  for (size_t i = 0; i < descs.size(); ++i) done[i] = done[representative[i]];
  return done;
}

}  // namespace ts
