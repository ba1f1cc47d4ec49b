#include <map>

#include "ops/op_def.h"

namespace ts {
namespace {

std::map<std::string, OpDef>& registry() {
  static std::map<std::string, OpDef> ops;
  return ops;
}

template <class Node>
const Attr& get_attr(const Node& node, const char* key) {
  auto it = node.attrs.find(key);
  if (it == node.attrs.end())
    throw GraphError(detail::describe(node) + ": missing attribute '" + key + "'");
  return it->second;
}

template <class T, class Node>
const T& typed_attr(const Node& node, const char* key, const char* want) {
  const Attr& a = get_attr(node, key);
  if (auto p = std::get_if<T>(&a)) return *p;
  throw GraphError(detail::describe(node) + ": attribute '" + key + "' must be " + want);
}

}  // namespace

int64_t attr_int(const detail::Node& n, const char* key) { return typed_attr<int64_t>(n, key, "an int"); }
double attr_float(const detail::Node& n, const char* key) {
  const Attr& a = get_attr(n, key);
  if (auto p = std::get_if<int64_t>(&a)) return double(*p);
  return typed_attr<double>(n, key, "a number");
}
const std::string& attr_str(const detail::Node& n, const char* key) {
  return typed_attr<std::string>(n, key, "a string");
}
const std::vector<int64_t>& attr_ints(const detail::Node& n, const char* key) {
  return typed_attr<std::vector<int64_t>>(n, key, "a list of ints");
}

void register_op(const OpDef& def) { registry()[def.name] = def; }

const char* domain_name(InputDomain d) {
  switch (d) {
    case InputDomain::Real: return "real";
    case InputDomain::Positive: return "positive";
    case InputDomain::Unit: return "unit";
    case InputDomain::AboveOne: return "above_one";
    case InputDomain::AboveMinusOne: return "above_minus_one";
    case InputDomain::NonZero: return "nonzero";
    case InputDomain::Exponent: return "exponent";
    case InputDomain::Moderate: return "moderate";
    case InputDomain::Small: return "small";
  }
  return "real";
}

const OpDef* find_op(const std::string& name) {
  auto it = registry().find(name);
  return it == registry().end() ? nullptr : &it->second;
}

std::vector<std::string> op_names() {
  std::vector<std::string> names;
  for (auto& kv : registry()) names.push_back(kv.first);
  return names;
}

int64_t InferCtx::i(const char* key) const { return attr_int(node, key); }
double InferCtx::f(const char* key) const { return attr_float(node, key); }
const std::string& InferCtx::s(const char* key) const { return attr_str(node, key); }
const std::vector<int64_t>& InferCtx::ints(const char* key) const { return attr_ints(node, key); }
DType InferCtx::dt(const char* key) const { return typed_attr<DType>(node, key, "a dtype"); }

}  // namespace ts
