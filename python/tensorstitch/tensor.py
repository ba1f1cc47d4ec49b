"""Symbolic ``Tensor`` and ``Operation`` handles, with Python operators."""
from . import _core


class Operation:
    """An operation of a Graph: ``.name``, ``.type``, ``.inputs``, ``.outputs``,
    ``.control_dependencies``."""

    __slots__ = ("_op", "graph")

    def __init__(self, op, graph):
        self._op = op
        self.graph = graph

    name = property(lambda self: self._op.name)
    type = property(lambda self: self._op.type)
    inputs = property(lambda self: [Tensor(t, self.graph) for t in self._op.inputs])
    outputs = property(lambda self: [Tensor(t, self.graph) for t in self._op.outputs])
    control_dependencies = property(lambda self: [Operation(o, self.graph) for o in self._op.control_dependencies])

    def __eq__(self, other):
        return isinstance(other, Operation) and self._op == other._op

    def __hash__(self):
        return hash(self._op)

    def __repr__(self):
        return f"ts.Operation(type={self.type!r}, name={self.name!r})"


class Tensor:
    """A symbolic tensor: ``.shape`` (-1 where known only at run time, None if
    unranked), ``.dtype``, ``.name``, ``.op``, ``.graph``."""

    __slots__ = ("_t", "graph")
    __array_priority__ = 1000  # NumPy operands defer to our operators

    def __init__(self, t, graph):
        self._t = t
        self.graph = graph

    shape = property(lambda self: self._t.shape)
    dtype = property(lambda self: self._t.dtype)
    name = property(lambda self: self._t.name)
    op = property(lambda self: Operation(self._t.op, self.graph))

    @property
    def ndim(self):
        s = self.shape
        return None if s is None else len(s)

    def __eq__(self, other):
        return isinstance(other, Tensor) and self._t == other._t

    def __hash__(self):
        return hash(self._t)

    def __repr__(self):
        return f"ts.Tensor(name={self.name!r}, shape={self.shape}, dtype={self.dtype!r})"

    def __bool__(self):
        raise TypeError("a symbolic ts.Tensor has no truth value; use g.if_then_else or g.select")

    def __iter__(self):
        raise TypeError("a symbolic ts.Tensor is not iterable; use g.split or indexing")

    # Arithmetic: each maps to the Graph method of the same meaning.
    def __add__(self, o): return self.graph.add(self, o)
    def __radd__(self, o): return self.graph.add(o, self)
    def __sub__(self, o): return self.graph.subtract(self, o)
    def __rsub__(self, o): return self.graph.subtract(o, self)
    def __mul__(self, o): return self.graph.multiply(self, o)
    def __rmul__(self, o): return self.graph.multiply(o, self)
    def __truediv__(self, o): return self.graph.divide(self, o)
    def __rtruediv__(self, o): return self.graph.divide(o, self)
    def __floordiv__(self, o): return self.graph.floor_divide(self, o)
    def __rfloordiv__(self, o): return self.graph.floor_divide(o, self)
    def __mod__(self, o): return self.graph.modulo(self, o)
    def __rmod__(self, o): return self.graph.modulo(o, self)
    def __pow__(self, o): return self.graph.power(self, o)
    def __rpow__(self, o): return self.graph.power(o, self)
    def __matmul__(self, o): return self.graph.matmul(self, o)
    def __rmatmul__(self, o): return self.graph.matmul(o, self)
    def __neg__(self): return self.graph.negative(self)
    def __pos__(self): return self
    def __abs__(self): return self.graph.abs(self)
    def __invert__(self): return self.graph.logical_not(self)
    def __lt__(self, o): return self.graph.less(self, o)
    def __le__(self, o): return self.graph.less_equal(self, o)
    def __gt__(self, o): return self.graph.greater(self, o)
    def __ge__(self, o): return self.graph.greater_equal(self, o)

    def __getitem__(self, key):
        return self.graph._getitem(self, key)


def unwrap_op(x, graph):
    """An Operation (or a Tensor's producing operation) as a core handle."""
    if isinstance(x, Tensor):
        x = x.op
    if not isinstance(x, Operation):
        raise _core.GraphError(f"expected a ts.Operation or ts.Tensor, got {type(x).__name__}")
    if x.graph is not graph:
        raise _core.GraphError(f"operation '{x.name}' belongs to another graph")
    return x._op
