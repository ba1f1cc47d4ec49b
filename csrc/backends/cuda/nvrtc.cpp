#include "backends/cuda/nvrtc.h"

#include <dlfcn.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "backends/cuda/driver.h"
#include "tensorstitch/error.h"

namespace ts::cuda {
namespace {

// The few entry points used, with NVRTC's C signatures (its status is an int enum).
using Program = void*;
struct Api {
  int (*create)(Program*, const char*, const char*, int, const char* const*, const char* const*) = nullptr;
  int (*compile)(Program, int, const char* const*) = nullptr;
  int (*log_size)(Program, size_t*) = nullptr;
  int (*log)(Program, char*) = nullptr;
  int (*cubin_size)(Program, size_t*) = nullptr;
  int (*cubin)(Program, char*) = nullptr;
  int (*destroy)(Program*) = nullptr;
  const char* (*error)(int) = nullptr;
};

template <class F>
void bind(void* lib, F& fn, const char* name) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  if (!fn) throw DeviceError(std::string("NVRTC: the loaded library lacks ") + name);
}

// NVRTC opens its builtins library by name when it compiles, relying on its
// own run path; that lookup fails when dlopen is intercepted (sanitizer
// runtimes) or the library was found by full path only. Loading the
// builtins next to it first makes the later lookup find them loaded.
void preload_builtins(const std::string& nvrtc_path) {
  const size_t slash = nvrtc_path.rfind('/');
  if (slash == std::string::npos) return;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(nvrtc_path.substr(0, slash), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("libnvrtc-builtins.so", 0) == 0) dlopen(entry.path().c_str(), RTLD_NOW | RTLD_GLOBAL);
  }
}

const Api& api(const std::vector<std::string>& libraries) {
  static std::mutex mu;
  static Api* loaded = nullptr;  // leaked: a warm-up thread may still use it at exit
  std::lock_guard<std::mutex> lock(mu);
  if (loaded) return *loaded;
  std::vector<std::string> tried = libraries;
  tried.push_back("libnvrtc.so.12");
  tried.push_back("libnvrtc.so.13");
  void* lib = nullptr;
  std::string errors;
  for (const std::string& path : tried) {
    preload_builtins(path);
    lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib) break;
    const char* e = dlerror();
    errors += "\n  " + path + ": " + (e ? e : "not found");
  }
  if (!lib)
    throw DeviceError("NVRTC could not be loaded (pip install nvidia-cuda-nvrtc-cu12, or install the CUDA toolkit); tried:" +
                      errors);
  auto a = std::make_unique<Api>();
  bind(lib, a->create, "nvrtcCreateProgram");
  bind(lib, a->compile, "nvrtcCompileProgram");
  bind(lib, a->log_size, "nvrtcGetProgramLogSize");
  bind(lib, a->log, "nvrtcGetProgramLog");
  bind(lib, a->cubin_size, "nvrtcGetCUBINSize");
  bind(lib, a->cubin, "nvrtcGetCUBIN");
  bind(lib, a->destroy, "nvrtcDestroyProgram");
  bind(lib, a->error, "nvrtcGetErrorString");
  loaded = a.release();
  return *loaded;
}

std::mutex candidates_mu;
std::map<std::string, std::vector<std::string>>& candidates() {
  static auto* c = new std::map<std::string, std::vector<std::string>>;
  return *c;
}

}  // namespace

void set_library_candidates(const std::string& stem, const std::vector<std::string>& paths) {
  std::lock_guard<std::mutex> lock(candidates_mu);
  candidates()[stem] = paths;
}

std::vector<std::string> library_candidates(const std::string& stem) {
  std::lock_guard<std::mutex> lock(candidates_mu);
  auto it = candidates().find(stem);
  return it == candidates().end() ? std::vector<std::string>{} : it->second;
}

std::thread& warm_up_thread() {
  static auto* t = new std::thread;  // leaked: see finish_warm_up
  return *t;
}

void warm_up_async() {
  std::thread& t = warm_up_thread();
  if (t.joinable()) return;
  t = std::thread([] {
    try {
      if (device_count() == 0) return;
      int major = 0, minor = 0;
      const Driver* d = driver();
      CUdevice dev = 0;
      if (d->cuDeviceGet(&dev, 0) || d->cuDeviceGetAttribute(&major, 75, dev) || d->cuDeviceGetAttribute(&minor, 76, dev))
        return;
      nvrtc_compile("extern \"C\" __global__ void warm() {}", "sm_" + std::to_string(major) + std::to_string(minor),
                    library_candidates("nvrtc"));
    } catch (const std::exception&) {
      // Warming is best effort: the real compile reports what is missing.
    }
  });
}

void finish_warm_up() {
  std::thread& t = warm_up_thread();
  if (t.joinable()) t.join();
}

std::string nvrtc_compile(const std::string& source, const std::string& arch, const std::vector<std::string>& libraries,
                          bool exact) {
  const Api& nv = api(libraries);
  Program prog = nullptr;
  if (int rc = nv.create(&prog, source.c_str(), "tensorstitch.cu", 0, nullptr, nullptr))
    throw CompileError(std::string("NVRTC: nvrtcCreateProgram failed: ") + nv.error(rc));
  const std::string arch_flag = "--gpu-architecture=" + arch;
  const char* options[] = {arch_flag.c_str(), "--std=c++17", "-default-device", "--fmad=false"};
  const int rc = nv.compile(prog, exact ? 4 : 3, options);
  size_t log_size = 0;
  nv.log_size(prog, &log_size);
  std::string log(log_size, '\0');
  if (log_size) nv.log(prog, &log[0]);
  std::string cubin;
  if (rc == 0) {
    size_t size = 0;
    nv.cubin_size(prog, &size);
    cubin.resize(size);
    if (size) nv.cubin(prog, &cubin[0]);
  }
  nv.destroy(&prog);
  if (rc != 0) throw CompileError(std::string("NVRTC: ") + nv.error(rc) + " for " + arch + ":\n" + log);
  return cubin;
}

}  // namespace ts::cuda
