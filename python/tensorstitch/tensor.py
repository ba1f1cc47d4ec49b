"""Symbolic ``Tensor`` and ``Operation`` handles, with Python operators."""
from . import _core


class Operation:
    """An operation of a Graph: ``.name``, ``.type``, ``.inputs``, ``.outputs``,
    ``.control_dependencies``."""

    __slots__ = ("_op", "graph")

    def __init__(self, op, graph):
        self._op = op
        self.graph = graph

    name = property(lambda self: self._op.name, doc="The operation's unique name in its graph.")
    type = property(lambda self: self._op.type, doc="The registered op type, e.g. 'matmul'.")
    inputs = property(lambda self: [self.graph._wrap(t) for t in self._op.inputs], doc="Input tensors.")
    outputs = property(lambda self: [self.graph._wrap(t) for t in self._op.outputs], doc="Output tensors.")
    control_dependencies = property(lambda self: [Operation(o, self.graph) for o in self._op.control_dependencies],
                                    doc="Operations this one runs after.")

    def __eq__(self, other):
        return isinstance(other, Operation) and self._op == other._op

    def __hash__(self):
        return hash(self._op)

    def __repr__(self):
        return f"ts.Operation(type={self.type!r}, name={self.name!r})"


class Tensor:
    """A symbolic tensor of a ``ts.Graph``: nothing is computed until the graph runs.

    ``.shape`` has -1 where a size is known only at run time (None when even
    the rank is unknown); ``.dtype``, ``.name``, ``.op`` (the producing
    operation) and ``.graph``. Python operators build ops: ``+ - * / // % **
    @``, comparisons including ``==`` and ``!=`` (elementwise, as in NumPy,
    JAX and PyTorch), ``& | ^ ~`` on bool tensors, and basic indexing
    ``t[1:3, ::2, None, ...]``. Tensors hash by identity, so they serve as
    dict keys (feeds) although ``==`` builds an op.
    """

    __slots__ = ("_t", "graph", "__weakref__")
    __array_priority__ = 1000  # NumPy operands defer to our operators

    def __init__(self, t, graph):
        self._t = t
        self.graph = graph

    shape = property(lambda self: self._t.shape, doc="Static shape: a tuple with -1 for run-time sizes, or None.")
    dtype = property(lambda self: self._t.dtype, doc="Element type, a ts.DType.")
    name = property(lambda self: self._t.name, doc="Unique name in the graph.")
    op = property(lambda self: Operation(self._t.op, self.graph), doc="The operation producing this tensor.")

    @property
    def ndim(self):
        """The rank, or None when it is known only at run time."""
        s = self.shape
        return None if s is None else len(s)

    @property
    def T(self):
        """The transpose (axes reversed), as ``g.transpose(x)``."""
        return self.graph.transpose(self)

    __hash__ = object.__hash__

    def __repr__(self):
        return f"ts.Tensor(name={self.name!r}, shape={self.shape}, dtype={self.dtype})"

    def __bool__(self):
        raise TypeError(f"the symbolic tensor '{self.name}' has no truth value while the graph is being built; "
                        "to choose between values use g.select(cond, a, b), and compare with g.equal or ==, "
                        "which build ops")

    def __iter__(self):
        raise TypeError(f"the symbolic tensor '{self.name}' is not iterable; use g.split or indexing")

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
    def __eq__(self, o): return self.graph.equal(self, o)
    def __ne__(self, o): return self.graph.not_equal(self, o)
    def __and__(self, o): return self.graph.logical_and(*self._bools("&", o))
    def __rand__(self, o): return self.graph.logical_and(*self._bools("&", o))
    def __or__(self, o): return self.graph.logical_or(*self._bools("|", o))
    def __ror__(self, o): return self.graph.logical_or(*self._bools("|", o))
    def __xor__(self, o): return self.graph.logical_xor(*self._bools("^", o))
    def __rxor__(self, o): return self.graph.logical_xor(*self._bools("^", o))

    def _bools(self, symbol, other):
        """``&``, ``|`` and ``^`` are logical on bool tensors; on numbers they
        would mean bitwise operations, which we do not have."""
        for t in (self, other):
            if isinstance(t, Tensor) and t.dtype != _core.DType.bool:
                raise _core.DTypeError(f"'{symbol}' takes bool tensors; '{t.name}' has dtype {t.dtype}. "
                                       "Compare first (x > 0) or use g.logical_and/or/xor")
        return self, other

    def __getitem__(self, key):
        return self.graph._getitem(self, key)

    # NumPy-style methods: each is the Graph method of the same name.
    def reshape(self, *shape):
        """The same elements in a new shape (``x.reshape(2, -1)`` or ``x.reshape((2, -1))``)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return self.graph.reshape(self, shape)

    def transpose(self, *perm):
        """Permutes the axes (none given: reverses them)."""
        if len(perm) == 1 and isinstance(perm[0], (tuple, list)):
            perm = perm[0]
        return self.graph.transpose(self, list(perm) if perm else None)

    def astype(self, dtype):
        """Elementwise conversion to ``dtype``, as ``g.cast``."""
        return self.graph.cast(self, dtype)

    def sum(self, axis=None, keepdims=False):
        """Sum over ``axis`` (an int, a list, or None for all)."""
        return self.graph.reduce_sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        """Mean over ``axis`` (an int, a list, or None for all)."""
        return self.graph.reduce_mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        """Maximum over ``axis`` (an int, a list, or None for all)."""
        return self.graph.reduce_max(self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        """Minimum over ``axis`` (an int, a list, or None for all)."""
        return self.graph.reduce_min(self, axis, keepdims)

    def prod(self, axis=None, keepdims=False):
        """Product over ``axis`` (an int, a list, or None for all)."""
        return self.graph.reduce_prod(self, axis, keepdims)

    def argmax(self, axis=None, keepdims=False):
        """Index of the maximum along ``axis`` (None: of the flattened tensor)."""
        return self.graph.argmax(self, axis, keepdims)

    def argmin(self, axis=None, keepdims=False):
        """Index of the minimum along ``axis`` (None: of the flattened tensor)."""
        return self.graph.argmin(self, axis, keepdims)


def unwrap_op(x, graph):
    """An Operation (or a Tensor's producing operation) as a core handle."""
    if isinstance(x, Tensor):
        x = x.op
    if not isinstance(x, Operation):
        raise _core.GraphError(f"expected a ts.Operation or ts.Tensor, got {type(x).__name__}")
    if x.graph is not graph:
        raise _core.GraphError(f"operation '{x.name}' belongs to another graph")
    return x._op
