// Control flow that runs on the device, without returning to the caller
// between iterations: branches and loops whose bodies are graphs of their own,
// built once by calling a function on the body's parameters.
//
// A body may use any tensor of the graphs around it (weights, say): such
// tensors are passed into the body, and gradients flow back to them. Ops
// added through the graph's handle while a body is being built go into the
// body. Placeholders and assignments cannot be created inside a body.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "tensorstitch/graph.h"

namespace ts {

// Builds a body from its parameters; returns its results.
using BodyFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

// then_fn() if the bool scalar `pred` is true, else else_fn(); both return
// tensors of the same dtypes and shapes. Differentiable.
std::vector<Tensor> if_then_else(Graph& g, const Tensor& pred, const BodyFn& then_fn, const BodyFn& else_fn,
                                 const std::string& name = "");
// values = initial; while cond_fn(values) (a bool scalar): values =
// body_fn(values). Carried values keep their dtypes and shapes. Not
// differentiable (use for_loop).
std::vector<Tensor> while_loop(Graph& g, const BodyFn& cond_fn, const BodyFn& body_fn,
                               const std::vector<Tensor>& initial, const std::string& name = "");
// values = initial; for i in 0..n-1: values = body_fn({i, values...}), i an
// int32 scalar. `n` is a count, or an integer scalar tensor (read on the
// device when the loop starts). Differentiable when `n` is a count.
std::vector<Tensor> for_loop(Graph& g, const std::variant<int64_t, Tensor>& n, const BodyFn& body_fn,
                             const std::vector<Tensor>& initial, const std::string& name = "");

}  // namespace ts
