"""Saving and loading a graph's variables by name, in the safetensors format,
and whole graphs (with their variables) as graph files."""
from collections.abc import Mapping
from typing import TYPE_CHECKING, List, NamedTuple

import numpy as np
from safetensors.numpy import load_file, save_file

from . import _core
from ._dtypes import bfloat16
from .optim import STATE_PREFIX

if TYPE_CHECKING:
    from .graph import Graph
    from .tensor import Operation, Tensor

# NumPy has no bfloat16: such variables are stored as their raw 16 bits and
# named in the file's metadata.
_BF16_KEY = "tensorstitch.bfloat16"


def save_variables(graph, path):
    """Write every variable of ``graph`` to ``path`` (safetensors), keyed by name."""
    tensors, bf16 = {}, []
    for v in graph.variables():
        value = graph.variable_value(v)
        if value.dtype == bfloat16:
            raw = value._bits().copy()
            tensors[v.name] = raw
            bf16.append(v.name)
        else:
            tensors[v.name] = np.array(value.numpy(), order="C")  # keeps 0-d arrays 0-d
    save_file(tensors, str(path), metadata={_BF16_KEY: ",".join(bf16)})


def load_variables(graph, path, strict=True, optimizer_state=False):
    """Set the graph's variables from a file written by ``save_variables``.

    With ``strict``, every variable must be in the file and every tensor of
    the file must name a variable; optimizer state (names under
    ``optimizer/``) counts only when ``optimizer_state`` is True, so an
    inference graph loads a training checkpoint. Shapes and dtypes must match,
    and nothing changes unless everything does."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        meta = f.metadata() or {}
    bf16 = set(filter(None, meta.get(_BF16_KEY, "").split(",")))
    stored = load_file(str(path))
    variables = {v.name: v for v in graph.variables()}
    def counted(names):
        return {n for n in names if optimizer_state or not n.startswith(STATE_PREFIX)}

    if strict:
        missing = sorted(counted(variables) - set(stored))
        unexpected = sorted(counted(stored) - set(variables))
        if missing or unexpected:
            raise _core.GraphError(f"load_variables: {path}: missing variables {missing}, unexpected {unexpected}")
    # Check everything before changing anything.
    updates = []
    for name, array in stored.items():
        if name not in variables:
            continue
        v = variables[name]
        if name in bf16:
            value = _core.NDArray._wrap_numpy(np.ascontiguousarray(array.view(np.uint16)), bfloat16)
        else:
            value = array
        got_dtype = bfloat16 if name in bf16 else array.dtype
        if tuple(array.shape) != tuple(v.shape):
            raise _core.ShapeError(f"load_variables: '{name}' has shape {array.shape} in {path}; "
                                   f"the variable has {v.shape}")
        if (bfloat16 if name in bf16 else _core.dtype_from_name(array.dtype.name)) != v.dtype:
            raise _core.DTypeError(f"load_variables: '{name}' has dtype {got_dtype} in {path}; "
                                   f"the variable has {v.dtype!r}")
        updates.append((v, value))
    for v, value in updates:
        graph.set_variable_value(v, value)


class GraphFile(NamedTuple):
    """What ``load_graph`` returns: the graph, its feeds (placeholders, in the
    saved order), targets and target operations."""
    graph: "Graph"
    feeds: List["Tensor"]
    targets: List["Tensor"]
    target_ops: List["Operation"]


def _placeholders(feeds):
    """A sequence of placeholders, or the keys of a {placeholder: type} mapping."""
    return list(feeds.keys()) if isinstance(feeds, Mapping) else list(feeds)


def save_graph(graph, path, targets, feeds=(), target_ops=()):
    """Write ``graph`` (its ops, attributes, constants and control-flow bodies),
    the current values of its variables (as safetensors) and the ``feeds``
    (placeholders, or a {placeholder: TensorType} mapping) and ``targets`` to
    run, to one versioned file. ``load_graph`` reads it back, in Python or
    from C++ (``ts::load_graph``), where it runs without Python."""
    def core(items, kind):
        for item in items:
            if getattr(item, "graph", None) is not graph:
                raise _core.GraphError(f"save_graph: a {kind} is not a tensor or operation of this graph: {item!r}")
        return [item._op if kind == "target operation" else item._t for item in items]

    _core.save_graph(str(path), graph._g, core(_placeholders(feeds), "feed"), core(list(targets), "target"),
                     core(list(target_ops), "target operation"))


def load_graph(path):
    """Read a file written by ``save_graph``: a ``GraphFile`` (graph, feeds,
    targets, target_ops), the graph rebuilt op by op and validated as when
    built by hand, its variables holding the saved values. A truncated or
    corrupted file, or one of another format version, raises ``ts.GraphError``."""
    return _graph_file(_core.load_graph(str(path)))


def _graph_file(f):
    from .graph import Graph
    from .tensor import Operation

    g = Graph._from_core(f.graph)
    return GraphFile(g, [g._wrap(t) for t in f.feeds], [g._wrap(t) for t in f.targets],
                     [Operation(o, g) for o in f.target_ops])
