#include "backends/cuda/disk_cache.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "backends/cuda/nvrtc.h"

namespace ts::cuda {
namespace {

// 128 bits of FNV-1a (two offset bases): collisions are out of reach.
std::string key_of(const std::string& text) {
  uint64_t h[2] = {1469598103934665603ull, 7809847782465536322ull};
  for (uint64_t& v : h)
    for (unsigned char c : text) v = (v ^ c) * 1099511628211ull;
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", (unsigned long long)h[0], (unsigned long long)h[1]);
  return buf;
}

std::filesystem::path cache_dir() {
  if (const char* dir = std::getenv("TENSORSTITCH_CACHE_DIR")) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "tensorstitch";
  if (const char* home = std::getenv("HOME"); home && *home) return std::filesystem::path(home) / ".cache" / "tensorstitch";
  return {};
}

}  // namespace

std::string cached_compile(const std::string& source, const std::string& arch, bool exact) {
  const std::filesystem::path dir = cache_dir();
  const std::string flags = exact ? "-nofma" : "";
  const std::filesystem::path file =
      dir.empty() ? dir : dir / (arch + flags + "-" + key_of(arch + flags + "\n" + source) + ".cubin");
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream bytes;
    if (in && (bytes << in.rdbuf())) {
      std::string cubin = bytes.str();
      if (cubin.size() > 4 && cubin.compare(0, 4, "\x7f" "ELF") == 0) return cubin;
    }
  }
  std::string cubin = nvrtc_compile(source, arch, library_candidates("nvrtc"), exact);
  if (!file.empty()) {
    // Written aside, then renamed: a reader never sees half a file.
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    const std::filesystem::path tmp = file.string() + "." + std::to_string(getpid()) + "-" +
                                      std::to_string(std::hash<std::thread::id>()(std::this_thread::get_id())) + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary);
      out.write(cubin.data(), std::streamsize(cubin.size()));
    }
    std::filesystem::rename(tmp, file, ec);
    if (ec) std::filesystem::remove(tmp, ec);
  }
  return cubin;
}

}  // namespace ts::cuda
