// What gradient rules need of control-flow bodies (ir/control_flow.cpp).
#pragma once
#include <vector>

#include "ir/graph_data.h"

namespace ts::detail {

// Copies the body's ops into the graph `into` adds to (the innermost body
// being built), its parameters bound to `args`; returns its results there.
std::vector<Tensor> inline_body(Graph& into, const Body& body, const std::vector<Tensor>& args);
// Whether the body, or one nested in it, draws random numbers.
bool draws_random(const Body& body);

}  // namespace ts::detail
