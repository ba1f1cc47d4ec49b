"""Optimizers that add their update ops to a graph: ``minimize`` returns the
assignment operations to pass as ``target_ops`` to ``Graph.run``."""
import numpy as np

from . import _core
from ._dtypes import is_floating
from .ndarray import asarray


# Optimizer state lives in variables under this prefix, so checkpoints carry
# it and an inference graph loading one can skip it (load_variables).
STATE_PREFIX = "optimizer/"


def _trainable(graph, variables):
    if variables is not None:
        return list(variables)
    return [v for v in graph.variables() if is_floating(v.dtype) and not v.name.startswith(STATE_PREFIX)
            and v.name not in graph._not_trainable]


def _state_scope(graph, kind):
    """A fresh ``optimizer/<kind>[_k]/`` prefix for one minimize call."""
    names = {v.name for v in graph.variables()}
    scope, k = f"{STATE_PREFIX}{kind}", 1
    while any(n.startswith(scope + "/") for n in names):
        scope, k = f"{STATE_PREFIX}{kind}_{k}", k + 1
    return scope + "/"


def _gradients(graph, loss, variables, clip_norm=None):
    if not variables:
        raise _core.GraphError("minimize: no variables to train")
    grads = graph.gradients(loss, variables)
    pairs = [(v, grads[v]) for v in variables]
    if clip_norm is None:
        return pairs
    clipped, _ = clip_by_global_norm(graph, [g for _, g in pairs], clip_norm)
    return [(v, g) for (v, _), g in zip(pairs, clipped)]


def _zeros_like(v):
    return asarray(np.zeros(v.shape, np.float32), dtype=v.dtype)


def clip_by_global_norm(graph, gradients, max_norm):
    """Scales every gradient by min(1, max_norm / global_norm), where
    global_norm = sqrt(sum of all squared entries): the direction is kept,
    the step bounded. Returns (clipped gradients, global norm)."""
    if not gradients:
        raise _core.GraphError("clip_by_global_norm: no gradients")
    if not max_norm > 0:
        raise _core.GraphError(f"clip_by_global_norm: max_norm must be positive; got {max_norm!r}")
    total = None
    for g in gradients:
        s = graph.reduce_sum(graph.square(g))
        total = s if total is None else total + graph.cast(s, total.dtype)
    norm = graph.square_root(total)
    scale = graph.minimum(graph.divide(max_norm, norm + 1e-6), 1.0)
    return [g * graph.cast(scale, g.dtype) for g in gradients], norm


class SGD:
    """Stochastic gradient descent: v <- v - lr * dloss/dv. With
    ``momentum`` (PyTorch's form) a buffer b <- momentum * b + g per variable,
    stored under ``optimizer/sgd/<var>/momentum``, is the step (with
    ``nesterov``, g + momentum * b). ``clip_norm`` clips the gradients by
    their global norm first."""

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, clip_norm=None):
        if momentum < 0 or (nesterov and momentum == 0):
            raise _core.GraphError(f"SGD: momentum must be >= 0 (and > 0 with nesterov); got {momentum!r}")
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov
        self.clip_norm = clip_norm

    def minimize(self, graph, loss, variables=None):
        """The assignment ops of one step (variables=None: every trainable one)."""
        pairs = _gradients(graph, loss, _trainable(graph, variables), self.clip_norm)
        scope = _state_scope(graph, "sgd") if self.momentum else None
        ops = []
        for v, g in pairs:
            step = g
            if self.momentum:
                b = graph.variable(_zeros_like(v), name=f"{scope}{v.name}/momentum")
                new_b = self.momentum * b + g
                ops.append(graph.assign(b, new_b))
                step = g + self.momentum * new_b if self.nesterov else new_b
            ops.append(graph.assign(v, graph.sgd(self.learning_rate, v, step), name=f"{v.name}/sgd"))
        return ops


class Adam:
    """Adam (Kingma & Ba, 2015). Its state (the step count, and m and v per
    variable) lives in graph variables named ``optimizer/adam/step``,
    ``optimizer/adam/<var>/m`` and ``optimizer/adam/<var>/v``, so it is saved
    with the model and skipped by an inference graph that loads it.
    ``clip_norm`` clips the gradients by their global norm first."""

    _kind = "adam"

    def __init__(self, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8, clip_norm=None):
        self.learning_rate = learning_rate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.clip_norm = clip_norm

    def _decayed(self, graph, v):
        return v

    def minimize(self, graph, loss, variables=None):
        """The assignment ops of one step (variables=None: every trainable one)."""
        pairs = _gradients(graph, loss, _trainable(graph, variables), self.clip_norm)
        scope = _state_scope(graph, self._kind)
        step = graph.variable(np.zeros((), np.float32), name=scope + "step")
        t = step + 1.0
        ops = [graph.assign(step, t, name=scope + "step/update")]
        for v, g in pairs:
            m = graph.variable(_zeros_like(v), name=f"{scope}{v.name}/m")
            s = graph.variable(_zeros_like(v), name=f"{scope}{v.name}/v")
            new_v, new_m, new_s = graph.adam(self.learning_rate, self.beta1, self.beta2, self.epsilon,
                                             self._decayed(graph, v), g, m, s, t)
            ops += [graph.assign(v, new_v, name=f"{v.name}/{self._kind}"), graph.assign(m, new_m), graph.assign(s, new_s)]
        return ops


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): each step
    first shrinks the variable by (1 - learning_rate * weight_decay), then
    takes the Adam step. State under ``optimizer/adamw/``."""

    _kind = "adamw"

    def __init__(self, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8, weight_decay=0.01, clip_norm=None):
        super().__init__(learning_rate, beta1, beta2, epsilon, clip_norm)
        if weight_decay < 0:
            raise _core.GraphError(f"AdamW: weight_decay must be >= 0; got {weight_decay!r}")
        self.weight_decay = weight_decay

    def _decayed(self, graph, v):
        return v * (1.0 - self.learning_rate * self.weight_decay)
