"""Optimizers that add their update ops to a graph: ``minimize`` returns the
assignment operations to pass as ``target_ops`` to ``Graph.run``."""
import numpy as np

from . import _core
from ._dtypes import is_floating
from .ndarray import asarray


def _trainable(graph, variables):
    if variables is not None:
        return list(variables)
    state = getattr(graph, "_optimizer_state", set())
    return [v for v in graph.variables() if is_floating(v.dtype) and v not in state]


def _state_variable(graph, value, name):
    v = graph.variable(value, name=name)
    if not hasattr(graph, "_optimizer_state"):
        graph._optimizer_state = set()
    graph._optimizer_state.add(v)
    return v


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
    """Adam (Kingma & Ba, 2015). Its state (m, v per variable and the step
    count) lives in graph variables named ``<var>/adam_m``, ``<var>/adam_v``
    and ``adam_step``, so it is saved and loaded with the model."""

    def __init__(self, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8):
        self.learning_rate = learning_rate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon

    def minimize(self, graph, loss, variables=None):
        """The assignment ops of one Adam step (variables=None: every trainable one)."""
        pairs = _gradients(graph, loss, _trainable(graph, variables))
        step = _state_variable(graph, np.zeros((), np.float32), "adam_step")
        t = step + 1.0
        ops = [graph.assign(step, t, name="adam_step/update")]
        for v, g in pairs:
            zeros = asarray(np.zeros(v.shape, np.float32), dtype=v.dtype)
            m = _state_variable(graph, zeros, f"{v.name}/adam_m")
            s = _state_variable(graph, zeros, f"{v.name}/adam_v")
            new_v, new_m, new_s = graph.adam(self.learning_rate, self.beta1, self.beta2, self.epsilon, v, g, m, s, t)
            ops += [graph.assign(v, new_v, name=f"{v.name}/adam"), graph.assign(m, new_m), graph.assign(s, new_s)]
        return ops
