#include "ir/safetensors.h"

#include <algorithm>
#include <limits>
#include <map>

#include "ir/byte_io.h"

namespace ts::detail {
namespace {

const char* const kCodes[kNumDTypes] = {"BOOL", "I8", "U8", "I32", "I64", "F16", "BF16", "F32", "F64"};

std::string quoted(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      static const char* hex = "0123456789abcdef";
      q += "\\u00";
      q += hex[(c >> 4) & 15];
      q += hex[c & 15];
      continue;
    }
    q += c;
  }
  return q + "\"";
}

// The subset of JSON a safetensors header uses: objects, arrays, strings,
// non-negative integers. Depth is bounded by the format (three levels).
struct Json {
  enum class Kind { Object, Array, String, Int } kind = Kind::Int;
  std::vector<std::pair<std::string, Json>> members;  // objects
  std::vector<Json> items;                            // arrays
  std::string text;
  uint64_t value = 0;
};

struct Parser {
  const std::string& s;
  size_t i = 0;
  const std::string& where;

  [[noreturn]] void fail(const std::string& what) const {
    throw GraphError(where + ": the safetensors header is malformed: " + what + " at byte " + std::to_string(i));
  }
  void space() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) ++i;
  }
  bool eat(char c) {
    space();
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) fail(std::string("expected '") + c + "'");
  }
  std::string string() {
    expect('"');
    std::string out;
    while (i < s.size() && s[i] != '"') {
      char c = s[i++];
      if (c == '\\') {
        if (i >= s.size()) fail("an unfinished escape");
        c = s[i++];
        if (c == 'u') {
          if (i + 4 > s.size()) fail("an unfinished escape");
          unsigned v = 0;
          for (int k = 0; k < 4; ++k, ++i) {
            const char h = s[i];
            const int digit = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
                                                             : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
            if (digit < 0) fail("a bad escape");
            v = v * 16 + unsigned(digit);
          }
          if (v > 0x7f) fail("a non-ASCII escape");
          c = char(v);
        } else if (c == 'n') {
          c = '\n';
        } else if (c == 't') {
          c = '\t';
        }
      }
      out += c;
    }
    expect('"');
    if (!ByteReader::utf8(out)) fail("a string that is not UTF-8");
    return out;
  }
  Json value(int depth) {
    if (depth > 4) fail("nesting too deep");
    space();
    Json j;
    if (i >= s.size()) fail("an unexpected end");
    if (s[i] == '{') {
      j.kind = Json::Kind::Object;
      ++i;
      if (eat('}')) return j;
      do {
        std::string key = string();
        expect(':');
        j.members.emplace_back(std::move(key), value(depth + 1));
      } while (eat(','));
      expect('}');
    } else if (s[i] == '[') {
      j.kind = Json::Kind::Array;
      ++i;
      if (eat(']')) return j;
      do j.items.push_back(value(depth + 1));
      while (eat(','));
      expect(']');
    } else if (s[i] == '"') {
      j.kind = Json::Kind::String;
      j.text = string();
    } else {
      if (s[i] < '0' || s[i] > '9') fail("an unexpected character");
      for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
        if (j.value > (std::numeric_limits<uint64_t>::max() - 9) / 10) fail("an integer too large");
        j.value = j.value * 10 + uint64_t(s[i] - '0');
      }
    }
    return j;
  }
};

const Json* member(const Json& j, const char* key) {
  for (const auto& [k, v] : j.members)
    if (k == key) return &v;
  return nullptr;
}

}  // namespace

std::string write_safetensors(const std::vector<std::pair<std::string, NDArray>>& tensors) {
  std::string header = "{";
  uint64_t offset = 0;
  for (const auto& [name, a] : tensors) {
    std::string shape;
    for (int64_t d : a.shape()) shape += (shape.empty() ? "" : ",") + std::to_string(d);
    header += (header.size() > 1 ? "," : "") + quoted(name) + ":{\"dtype\":\"" + kCodes[int(a.dtype())] +
              "\",\"shape\":[" + shape + "],\"data_offsets\":[" + std::to_string(offset) + "," +
              std::to_string(offset + a.nbytes()) + "]}";
    offset += a.nbytes();
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
  ByteWriter w;
  w.put<uint64_t>(header.size());
  w.out += header;
  for (const auto& kv : tensors) w.out.append(static_cast<const char*>(kv.second.data()), kv.second.nbytes());
  return w.out;
}

std::vector<std::pair<std::string, NDArray>> read_safetensors(const char* data, size_t size, const std::string& where) {
  ByteReader r{data, size, where};
  const uint64_t header_bytes = r.get<uint64_t>("safetensors header length");
  const std::string header(r.take(header_bytes, "safetensors header"), size_t(header_bytes));
  const char* base = r.p;
  const size_t data_bytes = r.left;
  Parser parser{header, 0, where};
  const Json root = parser.value(0);
  if (root.kind != Json::Kind::Object) parser.fail("not an object");
  std::vector<std::pair<std::string, NDArray>> out;
  for (const auto& [name, t] : root.members) {
    if (name == "__metadata__") continue;
    const std::string what = where + ": tensor '" + name + "'";
    const Json* dtype = member(t, "dtype");
    const Json* shape = member(t, "shape");
    const Json* range = member(t, "data_offsets");
    if (!dtype || dtype->kind != Json::Kind::String || !shape || shape->kind != Json::Kind::Array || !range ||
        range->kind != Json::Kind::Array || range->items.size() != 2 || shape->items.size() > 16)
      throw GraphError(what + ": expected dtype, shape (rank <= 16) and data_offsets");
    const auto code = std::find(std::begin(kCodes), std::end(kCodes), dtype->text);
    if (code == std::end(kCodes)) throw GraphError(what + ": unknown dtype '" + dtype->text + "'");
    const DType dt = DType(code - std::begin(kCodes));
    Dims dims;
    uint64_t elements = 1;
    for (const Json& d : shape->items) {
      if (d.kind != Json::Kind::Int || d.value > uint64_t(std::numeric_limits<int64_t>::max()))
        throw GraphError(what + ": a dimension is not a size");
      if (d.value && elements > std::numeric_limits<uint64_t>::max() / 16 / d.value)
        throw GraphError(what + ": the shape's size overflows");
      elements *= d.value;
      dims.push_back(int64_t(d.value));
    }
    const uint64_t begin = range->items[0].value, end = range->items[1].value;
    if (range->items[0].kind != Json::Kind::Int || range->items[1].kind != Json::Kind::Int || begin > end ||
        end > data_bytes || end - begin != elements * dtype_size(dt))
      throw GraphError(what + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                       ") do not hold a " + dtype_name(dt) + " array of " + std::to_string(elements) +
                       " elements within the " + std::to_string(data_bytes) + " data bytes");
    NDArray a(dims, dt);
    if (a.nbytes()) std::memcpy(a.data(), base + begin, a.nbytes());
    out.emplace_back(name, a);
  }
  return out;
}

}  // namespace ts::detail
