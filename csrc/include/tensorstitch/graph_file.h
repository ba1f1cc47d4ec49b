// Graph files: a graph (its operations, attributes, constants and control-flow
// bodies), the values of its variables (as safetensors) and the feeds and
// targets to run, in one versioned file. Python saves one after training
// (ts.save_graph); native code loads it and runs it without Python.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tensorstitch/graph.h"

namespace ts {

// The format this build writes; it reads versions 1 to this one.
constexpr uint32_t kGraphFileVersion = 1;

struct GraphFile {
  Graph graph;
  std::vector<Tensor> feeds;         // placeholders, in the saved order
  std::vector<Tensor> targets;
  std::vector<Operation> target_ops;  // e.g. a training step's assignments
};

// The file's bytes. Throws GraphError when a feed is not a placeholder or
// anything named belongs to another graph.
std::string graph_file_bytes(const Graph& g, const std::vector<Tensor>& feeds, const std::vector<Tensor>& targets,
                             const std::vector<Operation>& target_ops = {});
void save_graph(const std::string& path, const Graph& g, const std::vector<Tensor>& feeds,
                const std::vector<Tensor>& targets, const std::vector<Operation>& target_ops = {});

// Rebuilds the graph, every op validated as when built by hand. A truncated
// or corrupted file, or one of another format version, throws GraphError
// (naming `where`, and both versions where they differ).
GraphFile graph_from_bytes(const std::string& bytes, const std::string& where = "graph file");
GraphFile load_graph(const std::string& path);

}  // namespace ts
