// Little-endian bytes in and out for graph files. The reader checks every
// length against what is left before it reads or allocates, so a truncated
// or corrupted file throws GraphError instead of reading past its end.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

#include "tensorstitch/error.h"

namespace ts::detail {

struct ByteWriter {
  std::string out;
  template <class T>
  void put(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out.append(b, sizeof(T));
  }
  void str(const std::string& s) {
    put<uint64_t>(s.size());
    out += s;
  }
};

struct ByteReader {
  const char* p;
  size_t left;
  std::string where;  // names the file in errors

  [[noreturn]] void fail(const std::string& what) const {
    throw GraphError(where + ": " + what + " (the file is truncated or corrupted)");
  }
  void need(uint64_t bytes, const char* what) const {
    if (bytes > left) fail(std::string("expected ") + std::to_string(bytes) + " bytes of " + what + ", " +
                           std::to_string(left) + " left");
  }
  template <class T>
  T get(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, p, sizeof(T));
    p += sizeof(T);
    left -= sizeof(T);
    return v;
  }
  // A count of items each at least `item_bytes` long: never more than fit.
  uint64_t count(const char* what, uint64_t item_bytes) {
    const uint64_t n = get<uint64_t>(what);
    if (item_bytes && n > left / item_bytes) fail(std::string("a count of ") + std::to_string(n) + " " + what);
    return n;
  }
  // Names and modes are UTF-8 (they reach Python and error messages).
  std::string str(const char* what) {
    const uint64_t n = count(what, 1);
    std::string s(p, size_t(n));
    if (!utf8(s)) fail(std::string(what) + " that is not UTF-8");
    p += n;
    left -= size_t(n);
    return s;
  }
  // Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates), as
  // Python decodes it.
  static bool utf8(const std::string& s) {
    auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
    for (size_t i = 0; i < s.size();) {
      const unsigned char c = byte(i);
      size_t extra;
      unsigned char lo = 0x80, hi = 0xbf;  // the second byte's range
      if (c < 0x80) extra = 0;
      else if (c >= 0xc2 && c <= 0xdf) extra = 1;
      else if (c >= 0xe0 && c <= 0xef) extra = 2, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
      else if (c >= 0xf0 && c <= 0xf4) extra = 3, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
      else return false;
      if (i + extra >= s.size() + (extra ? 0 : 1)) return false;
      for (size_t k = 1; k <= extra; ++k) {
        const unsigned char b = byte(i + k);
        if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf)) return false;
      }
      i += extra + 1;
    }
    return true;
  }
  const char* take(uint64_t bytes, const char* what) {
    need(bytes, what);
    const char* at = p;
    p += bytes;
    left -= size_t(bytes);
    return at;
  }
};

}  // namespace ts::detail
