#include "tensorstitch/device.h"

#include <cstdlib>

#include "runtime/backend.h"
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

std::vector<Device> devices() { return available_devices(); }

void check_device_available(const Device& d) {
  std::string have_list;
  for (const Device& have : devices()) {
    if (have == d) return;
    have_list += (have_list.empty() ? "" : ", ") + have.str();
  }
  throw DeviceError("device '" + d.str() + "' is not available; available: " + have_list +
                    (d.kind == Device::Kind::CUDA ? " (CUDA needs an NVIDIA driver and GPU)" : ""));
}

Device default_device() {
  if (const char* env = std::getenv("TENSORSTITCH_DEVICE"); env && *env) return Device::parse(env);
  // The first GPU where a driver sees one, else the CPU.
  const std::vector<Device> all = devices();
  return all.size() > 1 ? all[1] : all[0];
}

}  // namespace ts
