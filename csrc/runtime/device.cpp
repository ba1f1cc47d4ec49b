#include "tensorstitch/device.h"

#include <cstdlib>

#include "tensorstitch/error.h"

namespace ts {

Device Device::parse(const std::string& spec) {
  Device d;
  if (spec == "cpu") return d;
  if (spec.rfind("cuda", 0) == 0) {
    d.kind = Kind::CUDA;
    if (spec.size() == 4) return d;
    if (spec[4] == ':' && spec.size() > 5 && spec.find_first_not_of("0123456789", 5) == std::string::npos) {
      d.index = std::stoi(spec.substr(5));
      return d;
    }
  }
  throw DeviceError("unknown device '" + spec + "'; expected 'cpu', 'cuda' or 'cuda:N'");
}

std::string Device::str() const {
  return kind == Kind::CPU ? "cpu" : "cuda:" + std::to_string(index);
}

// The CUDA backend is a later issue; until it exists only the CPU is usable.
std::vector<Device> devices() { return {Device{}}; }

void check_device_available(const Device& d) {
  for (const Device& have : devices())
    if (have == d) return;
  throw DeviceError("device '" + d.str() + "' is not available; available: cpu");
}

Device default_device() {
  if (const char* env = std::getenv("TENSORSTITCH_DEVICE"); env && *env) return Device::parse(env);
  return devices().back();
}

}  // namespace ts
