// Devices an NDArray can live on and an executable can run on.
#pragma once
#include <string>
#include <vector>

namespace ts {

struct Device {
  enum class Kind { CPU, CUDA };
  Kind kind = Kind::CPU;
  int index = 0;

  // "cpu", "cuda", "cuda:1"; throws DeviceError on anything else.
  static Device parse(const std::string& spec);
  std::string str() const;
  bool operator==(const Device& o) const { return kind == o.kind && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
};

// The devices this process can run on (the CPU always).
std::vector<Device> devices();
// TENSORSTITCH_DEVICE when set, else the first GPU a CUDA driver sees, else
// the CPU.
Device default_device();
// Throws DeviceError unless `d` is in devices().
void check_device_available(const Device& d);

}  // namespace ts
