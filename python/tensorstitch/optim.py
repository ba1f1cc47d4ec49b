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
    return [v for v in graph.variables() if is_floating(v.dtype) and not v.name.startswith(STATE_PREFIX)]


def _state_scope(graph, kind):
    """A fresh ``optimizer/<kind>[_k]/`` prefix for one minimize call."""
    names = {v.name for v in graph.variables()}
    scope, k = f"{STATE_PREFIX}{kind}", 1
    while any(n.startswith(scope + "/") for n in names):
        scope, k = f"{STATE_PREFIX}{kind}_{k}", k + 1
    return scope + "/"


def _gradients(graph, loss, variables):
    if not variables:
        raise _core.GraphError("minimize: no variables to train")
    grads = graph.gradients(loss, variables)
    return [(v, grads[v]) for v in variables]


class SGD:
    """Plain stochastic gradient descent: v <- v - lr * dloss/dv."""

    def __init__(self, learning_rate=0.01):
        self.learning_rate = learning_rate

    def minimize(self, graph, loss, variables=None):
        """The assignment ops of one step (variables=None: every trainable one)."""
        ops = []
        for v, g in _gradients(graph, loss, _trainable(graph, variables)):
            ops.append(graph.assign(v, graph.sgd(self.learning_rate, v, g), name=f"{v.name}/sgd"))
        return ops


class Adam:
    """Adam (Kingma & Ba, 2015). Its state (the step count, and m and v per
    variable) lives in graph variables named ``optimizer/adam/step``,
    ``optimizer/adam/<var>/m`` and ``optimizer/adam/<var>/v``, so it is saved
    with the model and skipped by an inference graph that loads it."""

    def __init__(self, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8):
        self.learning_rate = learning_rate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon

    def minimize(self, graph, loss, variables=None):
        """The assignment ops of one Adam step (variables=None: every trainable one)."""
        pairs = _gradients(graph, loss, _trainable(graph, variables))
        scope = _state_scope(graph, "adam")
        step = graph.variable(np.zeros((), np.float32), name=scope + "step")
        t = step + 1.0
        ops = [graph.assign(step, t, name=scope + "step/update")]
        for v, g in pairs:
            zeros = asarray(np.zeros(v.shape, np.float32), dtype=v.dtype)
            m = graph.variable(zeros, name=f"{scope}{v.name}/m")
            s = graph.variable(zeros, name=f"{scope}{v.name}/v")
            new_v, new_m, new_s = graph.adam(self.learning_rate, self.beta1, self.beta2, self.epsilon, v, g, m, s, t)
            ops += [graph.assign(v, new_v, name=f"{v.name}/adam"), graph.assign(m, new_m), graph.assign(s, new_s)]
        return ops
