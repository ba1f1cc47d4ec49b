// Error classes. The Python module maps each to the exception of the same name.
#pragma once
#include <stdexcept>
#include <string>

namespace ts {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct ShapeError : Error { using Error::Error; };
struct DTypeError : Error { using Error::Error; };
struct GraphError : Error { using Error::Error; };
struct FeedError : Error { using Error::Error; };
struct DeviceError : Error { using Error::Error; };
struct CompileError : Error { using Error::Error; };

}  // namespace ts
