#include <cstring>
#include <sstream>
#include <unordered_map>

#include "ops/op_def.h"
#include "passes/program.h"

namespace ts {
namespace {

// Small known inputs are keyed by value, so equal constants built twice count as one.
constexpr int64_t kValueKeyElements = 16;

void write_attr(std::ostringstream& s, const Attr& a) {
  std::visit([&](const auto& v) {
    using V = std::decay_t<decltype(v)>;
    if constexpr (std::is_same_v<V, std::vector<int64_t>>) {
      for (int64_t x : v) s << x << ',';
    } else if constexpr (std::is_same_v<V, DType>) {
      s << dtype_name(v);
    } else if constexpr (std::is_same_v<V, double>) {
      // The bits, not a rounded decimal: 1234567.0 and 1234568.0 differ, and so do 0.0 and -0.0.
      uint64_t bits;
      std::memcpy(&bits, &v, sizeof bits);
      s << bits;
    } else if constexpr (std::is_same_v<V, std::string>) {
      s << v.size() << '#' << v;  // length-prefixed: no separator inside can fake another key
    } else {
      s << v;
    }
  }, a);
}

std::string key_of(const Program& p, const detail::Node& n) {
  std::ostringstream s;
  s << n.type << '|';
  for (const auto& [name, value] : n.attrs) {
    s << name << '=' << value.index() << ':';
    write_attr(s, value);
    s << ';';
  }
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const int t = p.resolve(n.inputs[i]);
    auto it = p.known.find(t);
    if (n.def->reads_value(i) && it != p.known.end() && it->second.size() <= kValueKeyElements) {
      const NDArray& a = it->second;
      s << "v" << dtype_name(a.dtype());
      for (int64_t d : a.shape()) s << 'x' << d;
      s << ':' << std::string(static_cast<const char*>(a.data()), a.nbytes()) << '|';
    } else {
      s << 't' << t << (n.def->reads_value(i) ? "|" : "s|");
    }
  }
  return s.str();
}

}  // namespace

void cse(Program& p) {
  std::unordered_map<std::string, int> first;  // key -> node computing it
  for (int id : p.nodes) {
    const detail::Node& n = p.node(id);
    if (!n.def->pure || n.def->cls == OpClass::Source) continue;
    auto [it, inserted] = first.emplace(key_of(p, n), id);
    if (inserted) continue;
    const detail::Node& same = p.node(it->second);
    for (size_t k = 0; k < n.outputs.size(); ++k) p.alias[n.outputs[k]] = p.resolve(same.outputs[k]);
  }
  prune(p, true);
}

}  // namespace ts
