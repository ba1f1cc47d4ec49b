"""Layers that create their variables on a graph when constructed and add
ops when called. Weights start from seeded initializers (Glorot for dense
and embedding tables, PyTorch's uniform for recurrent layers); every
variable is named ``<layer name>/<part>``."""
import numpy as np

from . import _core
from ._dtypes import as_dtype, float32
from .descriptors import Conv2dDescriptor
from .ndarray import asarray

__all__ = ["Dense", "Conv2d", "ConvTranspose2d", "BatchNorm", "Dropout", "Embedding", "LSTM", "GRU"]


def _unique_name(graph, kind, name):
    """``name``, or the first free ``kind``, ``kind_1``, ... of the graph."""
    if name is not None:
        return name
    taken = {v.name.split("/")[0] for v in graph.variables()}
    k, candidate = 0, kind
    while candidate in taken:
        k += 1
        candidate = f"{kind}_{k}"
    return candidate


def _positive(where, **sizes):
    for key, v in sizes.items():
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v <= 0:
            raise _core.ShapeError(f"{where}: {key} must be a positive integer; got {v!r}")


class _Layer:
    def __init__(self, graph, kind, name, seed, dtype):
        self.graph = graph
        self.name = _unique_name(graph, kind, name)
        self.dtype = as_dtype(dtype)
        self._rng = np.random.default_rng(seed)
        self.variables = []

    def _variable(self, part, value, trainable=True):
        v = self.graph.variable(asarray(np.asarray(value), dtype=self.dtype), name=f"{self.name}/{part}")
        self.variables.append(v)
        if not trainable:
            self.graph._not_trainable.add(v.name)
        return v

    def _uniform(self, shape, bound):
        return self._rng.uniform(-bound, bound, shape)


class Dense(_Layer):
    """y = x @ weight + bias; weight (in_features, out_features), Glorot uniform."""

    def __init__(self, graph, in_features, out_features, bias=True, name=None, seed=None, dtype=float32):
        _positive("Dense", in_features=in_features, out_features=out_features)
        super().__init__(graph, "dense", name, seed, dtype)
        self.weight = self._variable("weight", self._uniform((in_features, out_features),
                                                             np.sqrt(6.0 / (in_features + out_features))))
        self.bias = self._variable("bias", np.zeros(out_features)) if bias else None

    def __call__(self, x):
        y = self.graph.matmul(x, self.weight)
        return y + self.bias if self.bias is not None else y


class _Convolution(_Layer):
    """What both convolution layers share: an OIHW convolution's weights (He
    uniform over in_channels * kh * kw, seeded), a bias per output channel,
    and the descriptor. ``transposed`` stores the weights of the convolution
    it transposes: (in_channels, out_channels, kh, kw)."""

    kind = ""
    transposed = False

    def __init__(self, graph, in_channels, out_channels, kernel_size, stride, padding, data_layout, bias, name, seed,
                 dtype):
        where = type(self).__name__
        _positive(where, in_channels=in_channels, out_channels=out_channels)
        super().__init__(graph, self.kind, name, seed, dtype)
        self.desc = Conv2dDescriptor(stride, 1, padding, data_layout, "OIHW")
        kh, kw = _kernel(where, kernel_size)
        shape = (in_channels, out_channels, kh, kw) if self.transposed else (out_channels, in_channels, kh, kw)
        self.weight = self._variable("weight", self._uniform(shape, np.sqrt(6.0 / (in_channels * kh * kw))))
        self.bias = self._variable("bias", np.zeros(out_channels)) if bias else None
        self.out_channels = out_channels

    def _biased(self, y):
        if self.bias is None:
            return y
        # A (channels,) bias shaped to add to NCHW or NHWC activations.
        return y + (self.graph.reshape(self.bias, [-1, 1, 1]) if self.desc.data_layout == "NCHW" else self.bias)


class Conv2d(_Convolution):
    """A 2-D convolution with OIHW weights (He uniform, seeded) and a bias per
    output channel; ``padding`` and ``data_layout`` as ``ts.Conv2dDescriptor``."""

    kind = "conv2d"

    def __init__(self, graph, in_channels, out_channels, kernel_size, stride=1, padding="SAME", data_layout="NCHW",
                 bias=True, name=None, seed=None, dtype=float32):
        super().__init__(graph, in_channels, out_channels, kernel_size, stride, padding, data_layout, bias, name, seed,
                         dtype)

    def __call__(self, x):
        return self._biased(self.graph.conv2d(x, self.weight, self.desc))


class ConvTranspose2d(_Convolution):
    """The transpose of a strided convolution (a stride of 2 doubles height
    and width with SAME padding): weights (in_channels, out_channels, kh, kw)
    of the convolution it transposes, and a bias per output channel."""

    kind = "conv_transpose2d"
    transposed = True

    def __init__(self, graph, in_channels, out_channels, kernel_size, stride=1, padding="SAME", data_layout="NCHW",
                 bias=True, name=None, seed=None, dtype=float32):
        super().__init__(graph, in_channels, out_channels, kernel_size, stride, padding, data_layout, bias, name, seed,
                         dtype)

    def output_shape(self, x):
        """The output shape for x of known shape (SAME: input size * stride)."""
        shape = list(x.shape)
        if any(d is None or d < 0 for d in shape):
            raise _core.ShapeError(f"ConvTranspose2d '{self.name}': the input shape {tuple(shape)} must be known")
        (sh, sw), nchw = self.desc.strides, self.desc.data_layout == "NCHW"
        h, w = (shape[2], shape[3]) if nchw else (shape[1], shape[2])
        if self.desc.padding != "SAME":
            raise _core.GraphError(f"ConvTranspose2d '{self.name}': give output_shape for padding other than SAME")
        return [shape[0], self.out_channels, h * sh, w * sw] if nchw else [shape[0], h * sh, w * sw, self.out_channels]

    def __call__(self, x, output_shape=None):
        shape = self.output_shape(x) if output_shape is None else list(output_shape)
        return self._biased(self.graph.conv2d_transpose(x, self.weight, shape, self.desc))


def _kernel(where, kernel_size):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, (int, np.integer)) else tuple(kernel_size)
    _positive(where, kernel_height=kh, kernel_width=kw)
    return int(kh), int(kw)


class BatchNorm(_Layer):
    """Normalizes over ``axes`` (batch norm: batch, height and width) with
    per-channel scale and shift. ``training=True`` uses the batch's
    statistics and leaves the running-average updates in ``updates`` (pass
    them as target ops with the training step); ``training=False`` uses the
    running averages. The running statistics are not trained."""

    def __init__(self, graph, channels, axes, momentum=0.9, epsilon=1e-5, name=None, dtype=float32):
        _positive("BatchNorm", channels=channels)
        if not 0 <= momentum < 1:
            raise _core.GraphError(f"BatchNorm: momentum must be in [0, 1); got {momentum!r}")
        super().__init__(graph, "batch_norm", name, None, dtype)
        self.axes, self.momentum, self.epsilon, self.channels = list(axes), momentum, epsilon, channels
        self.gamma = self._variable("gamma", np.ones(channels))
        self.beta = self._variable("beta", np.zeros(channels))
        self.running_mean = self._variable("running_mean", np.zeros(channels), trainable=False)
        self.running_var = self._variable("running_var", np.ones(channels), trainable=False)
        self.updates = []

    def _per_channel(self, v, rank):
        """A (channels,) vector shaped to broadcast against the input."""
        shape = [1 if d in [a % rank for a in self.axes] else self.channels for d in range(rank)]
        return self.graph.reshape(v, shape)

    def __call__(self, x, training=True):
        g = self.graph
        rank = len(x.shape)
        if training:
            mean, var = g.mean_variance(x, self.axes, keepdims=True)
            flat_mean, flat_var = g.reshape(mean, [self.channels]), g.reshape(var, [self.channels])
            m = self.momentum
            self.updates = [g.assign(self.running_mean, self.running_mean * m + flat_mean * (1 - m)),
                            g.assign(self.running_var, self.running_var * m + flat_var * (1 - m))]
        else:
            mean, var = self._per_channel(self.running_mean, rank), self._per_channel(self.running_var, rank)
        return g.normalize(x, mean, var, self._per_channel(self.gamma, rank), self._per_channel(self.beta, rank),
                           self.epsilon)


class Dropout:
    """Zeroes elements with probability ``rate`` while training (a new mask
    every run), the identity otherwise."""

    def __init__(self, graph, rate, seed=None):
        if not 0 <= rate < 1:
            raise _core.GraphError(f"Dropout: rate must be in [0, 1); got {rate!r}")
        self.graph, self.rate, self.seed, self.variables = graph, rate, seed, []

    def __call__(self, x, training=True):
        return self.graph.dropout(x, self.rate, self.seed) if training and self.rate else x


class Embedding(_Layer):
    """Rows of a (vocab, dim) table, N(0, 1) initially, picked by integer indices."""

    def __init__(self, graph, vocab, dim, name=None, seed=None, dtype=float32):
        _positive("Embedding", vocab=vocab, dim=dim)
        super().__init__(graph, "embedding", name, seed, dtype)
        self.weight = self._variable("weight", self._rng.normal(size=(vocab, dim)))

    def __call__(self, indices):
        return self.graph.gather(self.weight, indices, axis=0)


class _Recurrent(_Layer):
    gates = 0

    def __init__(self, graph, input_size, hidden_size, kind, name, seed, dtype):
        _positive(kind, input_size=input_size, hidden_size=hidden_size)
        super().__init__(graph, kind.lower(), name, seed, dtype)
        bound = 1.0 / np.sqrt(hidden_size)
        n = self.gates * hidden_size
        self.hidden_size = hidden_size
        self.w_input = self._variable("w_input", self._uniform((input_size, n), bound))
        self.w_recurrent = self._variable("w_recurrent", self._uniform((hidden_size, n), bound))
        self.bias = self._variable("bias", self._uniform(n, bound))


class LSTM(_Recurrent):
    """An LSTM over time-major sequences (time, batch, input): call with x and
    an optional (h, c); returns (outputs, (h, c))."""

    gates = 4

    def __init__(self, graph, input_size, hidden_size, name=None, seed=None, dtype=float32):
        super().__init__(graph, input_size, hidden_size, "LSTM", name, seed, dtype)

    def __call__(self, x, state=None):
        h0, c0 = state if state is not None else (None, None)
        return self.graph.lstm(x, h0, c0, self.w_input, self.w_recurrent, self.bias)


class GRU(_Recurrent):
    """A GRU over time-major sequences: call with x and an optional h;
    returns (outputs, h)."""

    gates = 3

    def __init__(self, graph, input_size, hidden_size, name=None, seed=None, dtype=float32):
        super().__init__(graph, input_size, hidden_size, "GRU", name, seed, dtype)
        self.recurrent_bias = self._variable("recurrent_bias", self._uniform(3 * hidden_size, 1.0 / np.sqrt(hidden_size)))

    def __call__(self, x, h0=None):
        return self.graph.gru(x, h0, self.w_input, self.w_recurrent, self.bias, self.recurrent_bias)
