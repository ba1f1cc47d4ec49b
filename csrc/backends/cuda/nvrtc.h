// NVRTC, loaded at run time (dlopen), so the package builds and imports with
// no CUDA anywhere.
#pragma once
#include <string>
#include <vector>

namespace ts::cuda {

// Compiles CUDA C `source` for `arch` (e.g. "sm_90") to a CUBIN. NVRTC is
// loaded from the first of `libraries` that loads, else from the default
// search path ("libnvrtc.so.12", then ".so.13"). Throws DeviceError naming
// what was tried when none loads, CompileError with NVRTC's log when the
// source does not compile. No GPU is needed.
// `exact`: no contraction of multiply-adds (--fmad=false), for kernels that
// must equal the host's bits.
std::string nvrtc_compile(const std::string& source, const std::string& arch, const std::vector<std::string>& libraries,
                          bool exact = false);

// Loads the driver and NVRTC and compiles an empty kernel on a background
// thread when a GPU is present, so the first real compile does not pay
// NVRTC's start-up (a few hundred milliseconds). Returns at once.
void warm_up_async();
// Waits for the warm-up to end: a process must not exit while NVRTC or the
// driver is starting up on another thread (the Python front calls it at exit).
void finish_warm_up();

// Where the Python front found a CUDA library (`stem`, e.g. "nvrtc") in pip
// packages or the toolkit; set at import, read by the CUDA backend.
void set_library_candidates(const std::string& stem, const std::vector<std::string>& paths);
std::vector<std::string> library_candidates(const std::string& stem);

}  // namespace ts::cuda
