// Ops built from other ops, in C++ so that C++ users get them too (the
// Python front calls these): optimizer updates, mean and variance, stack,
// NumPy basic indexing, and the dtype rule for Python-style scalars.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tensorstitch/graph.h"

namespace ts {

// The kind of a plain scalar written next to a tensor (a Python bool, int or float).
enum class ScalarKind { Bool, Int, Float };
// The dtype such a scalar takes next to a tensor of dtype `like` (weak
// typing, as in JAX: x * 2.0 keeps x's float dtype, i + 1 keeps i's integer
// dtype); without `like`: bool, int32 or float32.
DType weak_scalar_dtype(ScalarKind kind, std::optional<DType> like = std::nullopt);
// A rank-0 constant.
Tensor scalar_constant(Graph& g, double value, DType dtype);

// value - learning_rate * gradient.
Tensor sgd(Graph& g, const Tensor& learning_rate, const Tensor& value, const Tensor& gradient,
           const std::string& name = "");
// One Adam update (Kingma & Ba) at 1-based `step`: {new value, new m, new v}.
std::array<Tensor, 3> adam(Graph& g, const Tensor& learning_rate, const Tensor& beta1, const Tensor& beta2,
                           const Tensor& epsilon, const Tensor& value, const Tensor& gradient, const Tensor& m,
                           const Tensor& v, const Tensor& step, const std::string& name = "");
// (mean, population variance) over `axes` (nullopt: all).
std::pair<Tensor, Tensor> mean_variance(Graph& g, const Tensor& x, const std::optional<std::vector<int64_t>>& axes,
                                        bool keepdims = false, const std::string& name = "");
// (x - mean) / sqrt(variance + epsilon) * gamma + beta (gamma, beta
// optional): batch, layer or instance norm, by the axes the statistics were
// taken over.
Tensor normalize(Graph& g, const Tensor& x, const Tensor& mean, const Tensor& variance,
                 const std::optional<Tensor>& gamma, const std::optional<Tensor>& beta, double epsilon = 1e-5,
                 const std::string& name = "");
// log(sum(exp(x))) over `axes` (nullopt: all), computed as m + log(sum(exp(x - m)))
// with m the maximum, held out of the gradient.
Tensor logsumexp(Graph& g, const Tensor& x, const std::optional<std::vector<int64_t>>& axes, bool keepdims = false,
                 const std::string& name = "");
// How a loss reduces its per-element values: summed, averaged, or kept.
enum class Reduction { Sum, Mean, None };
// Parses "sum", "mean" or "none" (ShapeError-free; GraphError naming `op` otherwise).
Reduction parse_reduction(const std::string& text, const std::string& op);
// -sum(labels * log_softmax(logits)) along `axis` (labels are probabilities,
// same shape as the logits), then reduced; from primitives, so a row of it is
// one fused kernel.
Tensor softmax_cross_entropy(Graph& g, const Tensor& logits, const Tensor& labels, int64_t axis = -1,
                             Reduction reduction = Reduction::Sum, const std::string& name = "");
// max(x, 0) - x * labels + log(1 + exp(-|x|)) elementwise, then reduced.
Tensor sigmoid_cross_entropy(Graph& g, const Tensor& logits, const Tensor& labels, Reduction reduction = Reduction::Sum,
                             const std::string& name = "");
// x where x > 0, else alpha * x.
Tensor leaky_relu(Graph& g, const Tensor& x, double alpha = 0.01, const std::string& name = "");
// log(1 + exp(x)), without overflow: max(x, 0) + log1p(exp(-|x|)).
Tensor softplus(Graph& g, const Tensor& x, const std::string& name = "");
// x * sigmoid(x).
Tensor silu(Graph& g, const Tensor& x, const std::string& name = "");
// x with each element zeroed with probability `rate` (a new mask every run,
// drawn from `seed` and the run count) and the kept ones scaled by
// 1 / (1 - rate); the gradient uses the same mask.
Tensor dropout(Graph& g, const Tensor& x, double rate, int64_t seed, const std::string& name = "");
// 2-D pooling windows (as ts.Pool2dDescriptor): kernel and strides (height,
// width); padding "VALID", "SAME" (TensorFlow's rule: the output is
// ceil(input / stride), an odd total puts the extra row after) or
// "EXPLICIT" with pads (top, bottom, left, right); layout "NCHW" or "NHWC".
struct Pool2d {
  std::array<int64_t, 2> kernel{1, 1}, strides{1, 1};
  std::string padding = "VALID";
  std::array<int64_t, 4> pads{0, 0, 0, 0};
  std::string layout = "NCHW";
};
// The maximum and the mean of each window, from strided slices of the
// padded input (so both backends run them and gradients come from the
// slices); the mean counts only the elements inside the input.
Tensor max_pool2d(Graph& g, const Tensor& x, const Pool2d& d, const std::string& name = "");
Tensor avg_pool2d(Graph& g, const Tensor& x, const Pool2d& d, const std::string& name = "");
// A 2-D convolution (as ts.Conv2dDescriptor): strides and dilations
// (height, width); padding as Pool2d's (SAME by the dilated kernel's extent);
// data layout "NCHW" or "NHWC"; weights "OIHW" or "HWIO" (I = input
// channels / groups).
struct Conv2d {
  std::array<int64_t, 2> strides{1, 1}, dilations{1, 1};
  std::string padding = "VALID";
  std::array<int64_t, 4> pads{0, 0, 0, 0};
  std::string data_layout = "NCHW", weights_layout = "OIHW";
  int64_t groups = 1;
};
// The convolution as im2col from strided slices of the padded input (a
// window position per slice, joined along channels) and one product per
// group: both backends run it, and gradients come from its parts.
Tensor conv2d(Graph& g, const Tensor& x, const Tensor& w, const Conv2d& d, const std::string& name = "");
// The gradient of conv2d with respect to its input (shaped `input_shape`),
// applied to x: what a strided convolution's "deconvolution" is.
Tensor conv2d_transpose(Graph& g, const Tensor& x, const Tensor& w, const std::vector<int64_t>& input_shape,
                        const Conv2d& d, const std::string& name = "");
// One LSTM step, gate order i, f, g, o: gates = x @ w_input + h @ w_recurrent
// + bias, c' = sigmoid(f) c + sigmoid(i) tanh(g), h' = sigmoid(o) tanh(c').
// x (batch, input), h and c (batch, hidden), w_input (input, 4 hidden),
// w_recurrent (hidden, 4 hidden), bias (4 hidden). Returns {h', c'}.
std::array<Tensor, 2> lstm_cell(Graph& g, const Tensor& x, const Tensor& h, const Tensor& c, const Tensor& w_input,
                                const Tensor& w_recurrent, const Tensor& bias, const std::string& name = "");
// The LSTM over a time-major sequence x (time, batch, input) of known length,
// from h0 and c0 (zeros when absent): {outputs (time, batch, hidden), h_T, c_T}.
std::array<Tensor, 3> lstm(Graph& g, const Tensor& x, const std::optional<Tensor>& h0, const std::optional<Tensor>& c0,
                           const Tensor& w_input, const Tensor& w_recurrent, const Tensor& bias,
                           const std::string& name = "");
// One GRU step, gate order r, z, n (PyTorch's): r, z = sigmoid(x W + b + h U
// + b'), n = tanh(x W_n + b_n + r (h U_n + b'_n)), h' = (1 - z) n + z h.
// Weights (input, 3 hidden) and (hidden, 3 hidden), biases (3 hidden).
Tensor gru_cell(Graph& g, const Tensor& x, const Tensor& h, const Tensor& w_input, const Tensor& w_recurrent,
                const Tensor& bias, const Tensor& recurrent_bias, const std::string& name = "");
// The GRU over a time-major sequence: {outputs, h_T}.
std::array<Tensor, 2> gru(Graph& g, const Tensor& x, const std::optional<Tensor>& h0, const Tensor& w_input,
                          const Tensor& w_recurrent, const Tensor& bias, const Tensor& recurrent_bias,
                          const std::string& name = "");
// Tensors of one shape joined along a new axis.
Tensor stack(Graph& g, const std::vector<Tensor>& tensors, int64_t axis = 0, const std::string& name = "");

// One entry of a NumPy basic index: an int, a slice (absent bounds: the
// whole extent), a new axis (None) or an ellipsis.
struct IndexEntry {
  enum class Kind { Int, Slice, NewAxis, Ellipsis };
  Kind kind = Kind::Slice;
  std::optional<int64_t> start, stop;  // Int: start is the index
  int64_t step = 1;
};
// x[key]: a slice, then squeezes and new axes. After an ellipsis on a tensor
// of unknown rank, the entries count from the last dimension. Raises
// ShapeError for an int out of range or too many indices, IndexError-like
// GraphError for two ellipses.
Tensor basic_index(Graph& g, const Tensor& x, const std::vector<IndexEntry>& key);

}  // namespace ts
