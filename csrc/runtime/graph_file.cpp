// Graph files (tensorstitch/graph_file.h). Layout, little-endian:
//   "TSGRAPH\0", u32 version, u64 length of the graph section,
//   the graph section: the outer graph, then the feeds, targets and target ops,
//   the variables' values: a safetensors blob, keyed by variable name.
// A graph is its nodes in creation order (which is topological); tensor ids
// are implied by that order, so a node names its inputs by id. Loading adds
// each node through the same path as building by hand (the op's shape rule
// validates it), after checking every id against what exists so far.
#include "tensorstitch/graph_file.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "ir/byte_io.h"
#include "ir/graph_data.h"
#include "ir/safetensors.h"
#include "ops/op_def.h"
#include "runtime/backend.h"

namespace ts {

using detail::Body;
using detail::ByteReader;
using detail::ByteWriter;
using detail::GraphData;
using detail::Node;

namespace {

constexpr char kMagic[8] = {'T', 'S', 'G', 'R', 'A', 'P', 'H', '\0'};
enum : uint8_t { kNoValue = 0, kInlineValue = 1, kVariableValue = 2 };
enum : uint8_t { kDType = 0, kInt = 1, kFloat = 2, kString = 3, kInts = 4 };

void write_array(ByteWriter& w, const NDArray& a) {
  w.put<uint8_t>(uint8_t(a.dtype()));
  w.put<uint64_t>(a.shape().size());
  for (int64_t d : a.shape()) w.put<int64_t>(d);
  w.out.append(static_cast<const char*>(a.data()), a.nbytes());
}

void write_graph(ByteWriter& w, const GraphData& g) {
  w.put<uint64_t>(g.nodes.size());
  for (const Node& n : g.nodes) {
    w.str(n.type);
    w.str(n.name);
    w.put<uint64_t>(n.inputs.size());
    for (int t : n.inputs) w.put<int32_t>(t);
    w.put<uint64_t>(n.control_deps.size());
    for (int d : n.control_deps) w.put<int32_t>(d);
    w.put<uint64_t>(n.attrs.size());
    for (const auto& [key, attr] : n.attrs) {
      w.str(key);
      if (const auto* v = std::get_if<DType>(&attr)) {
        w.put<uint8_t>(kDType);
        w.put<uint8_t>(uint8_t(*v));
      } else if (const auto* i = std::get_if<int64_t>(&attr)) {
        w.put<uint8_t>(kInt);
        w.put<int64_t>(*i);
      } else if (const auto* f = std::get_if<double>(&attr)) {
        w.put<uint8_t>(kFloat);
        w.put<double>(*f);
      } else if (const auto* s = std::get_if<std::string>(&attr)) {
        w.put<uint8_t>(kString);
        w.str(*s);
      } else {
        const auto& v = std::get<std::vector<int64_t>>(attr);
        w.put<uint8_t>(kInts);
        w.put<uint64_t>(v.size());
        for (int64_t x : v) w.put<int64_t>(x);
      }
    }
    if (n.def->state == StateRole::Variable) {
      w.put<uint8_t>(kVariableValue);
    } else if (n.value.defined()) {
      w.put<uint8_t>(kInlineValue);
      write_array(w, copy_to(n.value, Device{}));
    } else {
      w.put<uint8_t>(kNoValue);
    }
    w.put<uint64_t>(n.bodies.size());
    for (const auto& body : n.bodies) {
      write_graph(w, *body->g);
      for (const std::vector<int>* ids : {&body->params, &body->param_inputs, &body->results}) {
        w.put<uint64_t>(ids->size());
        for (int t : *ids) w.put<int32_t>(t);
      }
    }
  }
}

// What loading knows besides the bytes: the file's name and its variables.
struct Loader {
  ByteReader r;
  std::map<std::string, NDArray> variables;

  [[noreturn]] void fail(const std::string& what) const { throw GraphError(r.where + ": " + what); }

  std::vector<int> ids(const char* what, int64_t limit) {
    std::vector<int> out(size_t(r.count(what, 4)));
    for (int& id : out) {
      id = r.get<int32_t>(what);
      if (id < 0 || id >= limit)
        fail(std::string(what) + " " + std::to_string(id) + " is out of range (" + std::to_string(limit) + " so far)");
    }
    return out;
  }

  NDArray array() {
    const uint8_t code = r.get<uint8_t>("a dtype");
    if (code >= kNumDTypes) fail("unknown dtype code " + std::to_string(code));
    const uint64_t rank = r.count("dimensions", 8);
    if (rank > 16) fail("an array of rank " + std::to_string(rank) + "; at most 16");
    Dims dims;
    uint64_t bytes = dtype_size(DType(code));
    for (uint64_t k = 0; k < rank; ++k) {
      const int64_t d = r.get<int64_t>("a dimension");
      if (d < 0) fail("an array dimension of " + std::to_string(d));
      if (d && bytes > r.left / uint64_t(d)) fail("an array larger than the file");
      bytes *= uint64_t(d);
      dims.push_back(d);
    }
    NDArray a(dims, DType(code));
    if (bytes) std::memcpy(a.data(), r.take(bytes, "array data"), bytes);
    return a;
  }

  Attr attr() {
    switch (r.get<uint8_t>("an attribute tag")) {
      case kDType: {
        const uint8_t code = r.get<uint8_t>("a dtype");
        if (code >= kNumDTypes) fail("unknown dtype code " + std::to_string(code));
        return DType(code);
      }
      case kInt: return r.get<int64_t>("an integer attribute");
      case kFloat: return r.get<double>("a float attribute");
      case kString: return r.str("a string attribute");
      case kInts: {
        std::vector<int64_t> v(size_t(r.count("integers", 8)));
        for (int64_t& x : v) x = r.get<int64_t>("an integer");
        return v;
      }
      default: fail("unknown attribute tag");
    }
  }

  // The node inputs a control-flow op's body parameters come from, as the
  // builders of csrc/ir/control_flow.cpp lay them out; the executor feeds
  // bodies in exactly that order.
  static std::vector<int> expected_param_inputs(const OpDef& def, const Attrs& attrs, size_t inputs) {
    size_t first = def.control == ControlKind::Branch ? 1 : 0;  // a branch's predicate
    std::vector<int> out;
    if (def.control == ControlKind::ForLoop) {
      out.push_back(-1);  // the step index
      const auto it = attrs.find("trip_count");
      first = it != attrs.end() && std::holds_alternative<int64_t>(it->second) && std::get<int64_t>(it->second) < 0;
    }
    for (size_t i = first; i < inputs; ++i) out.push_back(int(i));
    return out;
  }

  std::shared_ptr<const Body> body(const std::shared_ptr<GraphData>& parent) {
    auto b = std::make_shared<Body>();
    b->g = std::make_shared<GraphData>();
    b->g->parent = parent;
    graph(b->g, true);
    const int64_t tensors = int64_t(b->g->tensors.size());
    b->params = ids("a body parameter", tensors);
    b->param_inputs.resize(size_t(r.count("parameter inputs", 4)));
    for (int& i : b->param_inputs) i = r.get<int32_t>("a parameter input");
    b->results = ids("a body result", tensors);
    // Every placeholder of a body is one of its parameters, once.
    size_t placeholders = 0;
    for (const Node& m : b->g->nodes) placeholders += m.def->fed;
    std::set<int> seen;
    for (int t : b->params)
      if (!b->g->producer(t).def->fed || !seen.insert(t).second) fail("a body parameter that is not its own placeholder");
    if (placeholders != b->params.size()) fail("a body with a placeholder that is not a parameter");
    return b;
  }

  void graph(const std::shared_ptr<GraphData>& g, bool in_body) {
    const uint64_t count = r.count("nodes", 8);
    for (uint64_t k = 0; k < count; ++k) {
      const std::string type = r.str("an op type"), name = r.str("an op name");
      const OpDef* def = find_op(type);
      if (!def) fail("unknown operation type '" + type + "'");
      const std::string where = type + " '" + name + "'";
      std::vector<Tensor> inputs;
      for (int t : ids("an input tensor", int64_t(g->tensors.size()))) inputs.emplace_back(g, t);
      const std::vector<int> deps = ids("a control dependency", int64_t(g->nodes.size()));
      Attrs attrs;
      const uint64_t num_attrs = r.count("attributes", 9);
      for (uint64_t a = 0; a < num_attrs; ++a) {
        std::string key = r.str("an attribute name");
        attrs[key] = attr();
      }
      NDArray value;
      const uint8_t kind = r.get<uint8_t>("a value tag");
      if (kind == kInlineValue) {
        value = array();
      } else if (kind == kVariableValue) {
        const auto it = variables.find(name);
        if (it == variables.end()) fail("variable '" + name + "' has no value in the file");
        value = it->second;
      } else if (kind != kNoValue) {
        fail("unknown value tag " + std::to_string(kind));
      }
      if ((def->state == StateRole::Variable) != (kind == kVariableValue) ||
          (def->cls == OpClass::Source && !def->fed) != (kind == kInlineValue))
        fail(where + ": its value is missing or not of its kind");
      if (in_body && (def->state == StateRole::Variable || def->state == StateRole::Assign))
        fail(where + ": variables and assignments cannot be inside a control-flow body");
      // State ops read a variable node's output, as Graph::assign checks.
      if ((def->state == StateRole::Assign || def->state == StateRole::Read) &&
          (inputs.empty() || g->producer(inputs[0].id()).def->state != StateRole::Variable))
        fail(where + ": input 0 is not a variable");
      if (def->fed)
        for (const auto& [key, attr] : attrs)
          if (key == "shape" && std::holds_alternative<std::vector<int64_t>>(attr))
            for (int64_t d : std::get<std::vector<int64_t>>(attr))
              if (d < -1) fail(where + ": dimension " + std::to_string(d) + "; expected a size >= 0 or -1");
      std::vector<std::shared_ptr<const Body>> bodies(size_t(r.count("bodies", 8)));
      for (auto& b : bodies) b = body(g);
      check_bodies(*def, where, inputs, attrs, bodies);
      const int id = detail::add_node(g, type, inputs, attrs, name, value, std::move(bodies));
      Node& n = g->nodes[size_t(id)];
      if (n.name != name) fail(where + ": the name is used twice");
      n.control_deps = deps;
      if (def->state == StateRole::Variable) g->variable_values[id] = value;
    }
  }

  void check_bodies(const OpDef& def, const std::string& where, const std::vector<Tensor>& inputs, const Attrs& attrs,
                    const std::vector<std::shared_ptr<const Body>>& bodies) {
    const size_t want = def.control == ControlKind::None ? 0 : def.control == ControlKind::ForLoop ? 1 : 2;
    if (bodies.size() != want)
      fail(where + ": " + std::to_string(bodies.size()) + " bodies; expected " + std::to_string(want));
    const std::vector<int> expected = expected_param_inputs(def, attrs, inputs.size());
    for (size_t b = 0; b < bodies.size(); ++b) {
      const Body& body = *bodies[b];
      if (body.param_inputs != expected || body.params.size() != body.param_inputs.size())
        fail(where + ": body " + std::to_string(b) + "'s parameters do not match the op's inputs");
      for (size_t k = 0; k < body.params.size(); ++k) {
        if (body.param_inputs[k] < 0) continue;
        const TensorType& outer = inputs[size_t(body.param_inputs[k])].type();
        const TensorType& inner = body.g->tensors[size_t(body.params[k])].type;
        if (outer.dtype != inner.dtype || outer.ranked != inner.ranked || outer.dims.size() != inner.dims.size())
          fail(where + ": body " + std::to_string(b) + " parameter " + std::to_string(k) + " is " + inner.str() +
               "; its input is " + outer.str());
      }
    }
  }
};

}  // namespace

std::string graph_file_bytes(const Graph& g, const std::vector<Tensor>& feeds, const std::vector<Tensor>& targets,
                             const std::vector<Operation>& target_ops) {
  const GraphData& d = *g.data();
  std::lock_guard<std::recursive_mutex> lock(d.mu);
  auto mine = [&](const std::shared_ptr<GraphData>& other, const char* what) {
    if (other.get() != &d) throw GraphError(std::string("save_graph: a ") + what + " belongs to another graph");
  };
  ByteWriter section;
  write_graph(section, d);
  section.put<uint64_t>(feeds.size());
  for (const Tensor& t : feeds) {
    mine(t.graph_data(), "feed");
    if (!d.producer(t.id()).def->fed)
      throw GraphError("save_graph: feeds must be placeholders; got the output of " + detail::describe(d.producer(t.id())));
    section.put<int32_t>(t.id());
  }
  section.put<uint64_t>(targets.size());
  for (const Tensor& t : targets) {
    mine(t.graph_data(), "target");
    section.put<int32_t>(t.id());
  }
  section.put<uint64_t>(target_ops.size());
  for (const Operation& op : target_ops) {
    mine(op.graph_data(), "target operation");
    section.put<int32_t>(op.id());
  }
  std::vector<std::pair<std::string, NDArray>> values;
  for (const auto& [id, value] : d.variable_values) values.emplace_back(d.nodes[size_t(id)].name, copy_to(value, Device{}));
  ByteWriter w;
  w.out.append(kMagic, sizeof kMagic);
  w.put<uint32_t>(kGraphFileVersion);
  w.put<uint64_t>(section.out.size());
  w.out += section.out;
  w.out += detail::write_safetensors(values);
  return w.out;
}

void save_graph(const std::string& path, const Graph& g, const std::vector<Tensor>& feeds,
                const std::vector<Tensor>& targets, const std::vector<Operation>& target_ops) {
  const std::string bytes = graph_file_bytes(g, feeds, targets, target_ops);
  // Written beside the target, then renamed: a reader never sees half a file.
  const std::string partial = path + ".partial";
  {
    std::ofstream f(partial, std::ios::binary | std::ios::trunc);
    if (!f || !f.write(bytes.data(), std::streamsize(bytes.size())))
      throw GraphError("save_graph: cannot write " + partial);
  }
  if (std::rename(partial.c_str(), path.c_str()) != 0) {
    std::remove(partial.c_str());
    throw GraphError("save_graph: cannot write " + path);
  }
}

GraphFile graph_from_bytes(const std::string& bytes, const std::string& where) {
  ByteReader head{bytes.data(), bytes.size(), where};
  if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw GraphError(where + ": not a tensorstitch graph file (no TSGRAPH header)");
  head.take(sizeof kMagic, "the header");
  const uint32_t version = head.get<uint32_t>("the format version");
  if (version < 1 || version > kGraphFileVersion)
    throw GraphError(where + ": format version " + std::to_string(version) + "; this build of tensorstitch reads " +
                     "versions 1 to " + std::to_string(kGraphFileVersion) + (version > kGraphFileVersion ? " (upgrade it)" : ""));
  const uint64_t section = head.get<uint64_t>("the graph section length");
  const char* graph_bytes = head.take(section, "the graph section");
  Loader load{ByteReader{graph_bytes, size_t(section), where}, {}};
  for (auto& [name, value] : detail::read_safetensors(head.p, head.left, where))
    load.variables[name] = std::move(value);
  GraphFile out;
  const std::shared_ptr<GraphData>& g = out.graph.data();
  load.graph(g, false);
  const int64_t tensors = int64_t(g->tensors.size());
  for (int t : load.ids("a feed", tensors)) {
    if (!g->producer(t).def->fed) load.fail("feed " + std::to_string(t) + " is not a placeholder");
    out.feeds.emplace_back(g, t);
  }
  for (int t : load.ids("a target", tensors)) out.targets.emplace_back(g, t);
  for (int n : load.ids("a target operation", int64_t(g->nodes.size()))) out.target_ops.emplace_back(g, n);
  if (load.r.left) load.fail(std::to_string(load.r.left) + " unexpected bytes after the graph");
  return out;
}

GraphFile load_graph(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw GraphError("load_graph: cannot open " + path);
  std::ostringstream s;
  s << f.rdbuf();
  return graph_from_bytes(s.str(), path);
}

}  // namespace ts
