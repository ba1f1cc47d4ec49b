"""``ts.Graph``: build a graph of tensor operations once, run it many times.

Every method adds operations (nothing runs while building) and takes
``name=None``. Shape and dtype errors are raised where an op is built.
"""
from __future__ import annotations

import contextlib
import secrets
import numbers
import operator
import weakref
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _core
from ._dtypes import DType, as_dtype, bool_, float32, int32, is_floating, is_integer
from .descriptors import Conv2dDescriptor, Pool2dDescriptor
from .dot import graph_to_dot
from .executable import Executable, Future, TensorType, resolve_device
from .ndarray import NDArray, _numpy_value, asarray
from .tensor import Operation, Tensor, unwrap_op

# What the builders take: a Tensor of the graph, or a value that becomes a
# constant (NumPy arrays, NDArrays, Python scalars and nested lists).
TensorLike = Union[Tensor, NDArray, np.ndarray, np.generic, float, int, bool, Sequence[Any]]
Axes = Union[int, Sequence[int], None]
DTypeLike = Union[DType, str, np.dtype, type]

_INT64_MAX = 2**63 - 1
_INT64_MIN = -(2**63)


def _weak_dtype(value, like):
    """The dtype a Python scalar or list takes next to a tensor of dtype ``like``
    (JAX-style weak typing: ``x * 2.0`` keeps x's float dtype)."""
    kind = {"b": "bool", "i": "int", "u": "int", "f": "float"}.get(_numpy_value(value).dtype.kind)
    if kind is None:
        raise _core.DTypeError(f"cannot make a constant from {type(value).__name__} {value!r}")
    return _core.weak_scalar_dtype(kind, like)


def _value_array(value, dtype):
    """A constant's or variable's value: arrays keep their dtype, Python values
    default to float32 / int32 / bool."""
    if dtype is None and not isinstance(value, (NDArray, np.ndarray, np.generic)):
        dtype = _weak_dtype(value, None)
    return asarray(value, dtype=dtype)


def _axes(axes):
    """An int or a sequence of ints as a list (validated by ``_attrs``)."""
    if axes is None:
        return None
    if isinstance(axes, (numbers.Integral, np.integer)):
        return [axes]
    return list(axes)


# Attributes that are numbers, not integers; single integers; and yes/no flags.
_FLOAT_ATTRS = frozenset({"value", "low", "high", "mean", "stddev"})
_INT_ATTRS = frozenset({"axis", "k", "depth", "count", "trailing", "seed"})
_FLAG_ATTRS = frozenset({"transpose_a", "transpose_b", "keepdims", "descending", "exclusive", "reverse", "tf32",
                         "fusion"})


def _where(op, name):
    return f"{op} '{name}'" if name else op


def _attr_int(where, key, v):
    """An integer attribute value, checked: a TypeError for non-integers (1.5,
    inf, a tuple), a ShapeError for values beyond int64."""
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    try:
        i = operator.index(v)
    except TypeError:
        raise TypeError(f"{where}: attribute '{key}' must be an integer; got {type(v).__name__} {v!r}") from None
    if not _INT64_MIN <= i <= _INT64_MAX:
        raise _core.ShapeError(f"{where}: attribute '{key}' value {i} does not fit in 64 bits")
    return i


def _attr_float(where, key, v):
    """A number attribute, checked: a TypeError for anything else (None included)."""
    if not isinstance(v, (numbers.Real, np.number)) or isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{where}: attribute '{key}' must be a number; got {type(v).__name__} {v!r:.60}")
    return float(v)


def _seed(where, seed):
    """A random op's seed: the given integer, or a fresh random one."""
    return secrets.randbits(63) if seed is None else _attr_int(where, "seed", seed)


def _attrs(where, kw):
    """Attributes for the core, validated: drops None; flags must be bools,
    integer attributes integers (lists of them for sequences)."""
    out = {}
    for k, v in kw.items():
        if v is None:
            continue
        if k in _FLAG_ATTRS:
            if not isinstance(v, (bool, np.bool_, numbers.Integral)) or int(v) not in (0, 1):
                raise TypeError(f"{where}: '{k}' must be True or False; got {type(v).__name__} {v!r}")
            out[k] = int(v)
        elif isinstance(v, (str, _core.DType)):
            out[k] = v
        elif k in _FLOAT_ATTRS:
            out[k] = _attr_float(where, k, v)
        elif k in _INT_ATTRS:
            out[k] = _attr_int(where, k, v)
        elif isinstance(v, (list, tuple, np.ndarray)):
            out[k] = [_attr_int(where, k, x) for x in v]
        else:
            out[k] = _attr_int(where, k, v)
    return out


class Graph:
    """A graph of symbolic tensors and operations: build it once with these
    methods (nothing runs while building), then ``run`` or ``compile`` it."""

    def __init__(self):
        self._attach(_core.Graph())

    @classmethod
    def _from_core(cls, core):
        """A Python Graph around an existing core graph (a loaded graph file)."""
        g = cls.__new__(cls)
        g._attach(core)
        return g

    def _attach(self, core):
        self._g = core
        # Names of variables that optimizers leave alone by default (a batch
        # norm's running statistics).
        self._not_trainable = set()
        # core tensor id -> a weak reference to its Python wrapper: one object
        # per tensor while any is alive (tensors hash by identity), and no
        # reference cycle keeps the graph alive.
        self._tensors = {}

    def _wrap(self, t):
        """The Python Tensor of a core tensor: always the same object for the same tensor."""
        ref = self._tensors.get(t.key)
        w = ref() if ref is not None else None
        if w is None:
            w = Tensor(t, self)
            self._tensors[t.key] = weakref.ref(w)
        return w

    def __repr__(self):
        return f"ts.Graph({len(self._g.operations())} operations)"

    def to_dot(self) -> str:
        """Graphviz source of every operation, tensors (dtype, shape) on the edges."""
        return graph_to_dot(self)

    # ---- plumbing ----
    def _tensor(self, x, like=None, dtype=None):
        """``x`` as a Tensor of this graph; Python and NumPy values become constants."""
        if isinstance(x, Tensor):
            if x.graph is not self:
                raise _core.GraphError(f"tensor '{x.name}' belongs to another graph")
            return x
        if isinstance(x, (NDArray, np.ndarray, np.generic)):
            return self.constant(x, dtype)
        return self.constant(x, dtype if dtype is not None else _weak_dtype(x, like))

    def _op(self, type, inputs, name=None, **attrs):
        checked = _attrs(_where(type, name), attrs)
        ins = [self._tensor(x)._t for x in inputs]
        return [self._wrap(t) for t in self._g.op(type, ins, checked, name or "")]

    def _op1(self, type, inputs, name=None, **attrs):
        return self._op(type, inputs, name, **attrs)[0]

    def _pair(self, a, b):
        """Two operands, Python values typed after the other operand."""
        la = a.dtype if isinstance(a, Tensor) else None
        lb = b.dtype if isinstance(b, Tensor) else None
        return self._tensor(a, like=lb), self._tensor(b, like=la)

    # ---- inputs and state ----
    def placeholder(self, shape: Optional[Sequence[Optional[int]]], dtype: DTypeLike = float32,
                    name: Optional[str] = None) -> Tensor:
        """An input fed at run time. ``shape``: ints, -1 for sizes known only at
        run time; ``None`` for an unranked placeholder."""
        if shape is not None:
            where = _where("placeholder", name)
            if isinstance(shape, (numbers.Integral, np.integer)):
                shape = (shape,)
            try:
                dims = list(shape)
            except TypeError:
                raise TypeError(f"{where}: shape must be a sequence of ints or None; got {shape!r}") from None
            # None is TF1's spelling of a run-time size.
            shape = [-1 if d is None else _attr_int(where, "shape", d) for d in dims]
            if len(shape) > 16:
                raise _core.ShapeError(f"{where}: rank {len(shape)} exceeds the maximum of 16")
        return self._wrap(self._g.placeholder(shape, as_dtype(dtype), name or "placeholder"))

    def constant(self, value: Any, dtype: Optional[DTypeLike] = None, name: Optional[str] = None) -> Tensor:
        """A constant tensor. Python floats default to float32, ints to int32."""
        return self._wrap(self._g.constant(_value_array(value, dtype), name or "constant"))

    def variable(self, initial_value: Any, dtype: Optional[DTypeLike] = None, name: Optional[str] = None) -> Tensor:
        """A tensor whose value persists across runs and changes only through
        ``assign``. Using it reads its value at the start of the run.

        ``name`` is the variable's key in checkpoints (``save_variables``), so
        a name already used in the graph raises GraphError; without a name the
        variable is called ``variable``, ``variable_1``, ...
        """
        return self._wrap(self._g.variable(_value_array(initial_value, dtype), name or ""))

    def read_variable(self, variable: Tensor, name: Optional[str] = None) -> Tensor:
        """The variable's value at this point of the run: after the assignments
        this op has control dependencies on, else at the start of the run."""
        return self._op1("read_variable", [variable], name)

    def assign(self, variable: Tensor, value: TensorLike, name: Optional[str] = None) -> Operation:
        """An Operation writing ``value`` into ``variable`` when the run succeeds."""
        variable = self._tensor(variable)
        value = self._tensor(value, like=variable.dtype)
        return Operation(self._g.assign(variable._t, value._t, name or "assign"), self)

    def variables(self) -> List[Tensor]:
        """Every variable of the graph, in creation order."""
        return [self._wrap(t) for t in self._g.variables()]

    def operations(self) -> List[Operation]:
        """Every operation of the graph, in creation order."""
        return [Operation(o, self) for o in self._g.operations()]

    def variable_value(self, variable: Tensor) -> NDArray:
        """The committed value of a variable, as an NDArray."""
        return self._g.variable_value(self._tensor(variable)._t)

    def set_variable_value(self, variable: Tensor, value: Any) -> None:
        """Overwrite a variable's committed value (same shape and dtype)."""
        variable = self._tensor(variable)
        self._g.set_variable_value(variable._t, asarray(value, dtype=variable.dtype))

    @contextlib.contextmanager
    def control_dependencies(self, ops: Sequence[Union[Operation, Tensor]]) -> Iterator[None]:
        """Operations created inside run after ``ops`` (operations or tensors)."""
        self._g.push_control_dependencies([unwrap_op(o, self) for o in ops])
        try:
            yield
        finally:
            self._g.pop_control_dependencies()

    # ---- elementwise ----
    def cast(self, x: TensorLike, dtype: DTypeLike, name: Optional[str] = None) -> Tensor:
        """Elementwise conversion to ``dtype`` (floats to integers truncate and saturate; NaN gives 0)."""
        return self._op1("cast", [x], name, dtype=as_dtype(dtype))

    def select(self, cond: TensorLike, a: TensorLike, b: TensorLike, name: Optional[str] = None) -> Tensor:
        """``a`` where ``cond`` is true (nonzero), else ``b``; all three broadcast."""
        a, b = self._pair(a, b)
        return self._op1("select", [cond, a, b], name)

    def clamp(self, x: TensorLike, lo: TensorLike, hi: TensorLike, name: Optional[str] = None) -> Tensor:
        """``minimum(maximum(x, lo), hi)`` with broadcasting."""
        x = self._tensor(x)
        return self._op1("clamp", [x, self._tensor(lo, like=x.dtype), self._tensor(hi, like=x.dtype)], name)

    # ---- elementwise (NumPy broadcasting; results shaped like the broadcast inputs) ----
    def negative(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """-x."""
        return self._op1("negative", [x], name)

    def abs(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """|x|."""
        return self._op1("abs", [x], name)

    def sign(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """-1, 0 or 1 by the sign of x (NaN stays NaN)."""
        return self._op1("sign", [x], name)

    def square(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """x * x."""
        return self._op1("square", [x], name)

    def square_root(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """sqrt(x)."""
        return self._op1("square_root", [x], name)

    def reciprocal_square_root(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """1 / sqrt(x)."""
        return self._op1("reciprocal_square_root", [x], name)

    def reciprocal(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """1 / x."""
        return self._op1("reciprocal", [x], name)

    def exp(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """e ** x."""
        return self._op1("exp", [x], name)

    def exp2(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """2 ** x."""
        return self._op1("exp2", [x], name)

    def log(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """Natural logarithm."""
        return self._op1("log", [x], name)

    def log2(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """Base-2 logarithm."""
        return self._op1("log2", [x], name)

    def log1p(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """log(1 + x), accurate near 0."""
        return self._op1("log1p", [x], name)

    def expm1(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """e ** x - 1, accurate near 0."""
        return self._op1("expm1", [x], name)

    def sin(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """Sine (radians)."""
        return self._op1("sin", [x], name)

    def cos(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """Cosine (radians)."""
        return self._op1("cos", [x], name)

    def tan(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """Tangent (radians)."""
        return self._op1("tan", [x], name)

    def asin(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """Arcsine."""
        return self._op1("asin", [x], name)

    def acos(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """Arccosine."""
        return self._op1("acos", [x], name)

    def atan(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """Arctangent."""
        return self._op1("atan", [x], name)

    def sinh(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """Hyperbolic sine."""
        return self._op1("sinh", [x], name)

    def cosh(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """Hyperbolic cosine."""
        return self._op1("cosh", [x], name)

    def tanh(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """Hyperbolic tangent."""
        return self._op1("tanh", [x], name)

    def asinh(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """Inverse hyperbolic sine."""
        return self._op1("asinh", [x], name)

    def acosh(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """Inverse hyperbolic cosine."""
        return self._op1("acosh", [x], name)

    def atanh(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """Inverse hyperbolic tangent."""
        return self._op1("atanh", [x], name)

    def erf(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """The error function."""
        return self._op1("erf", [x], name)

    def floor(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """Largest integer <= x."""
        return self._op1("floor", [x], name)

    def ceil(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """Smallest integer >= x."""
        return self._op1("ceil", [x], name)

    def round(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """Nearest integer, halves to even (as NumPy)."""
        return self._op1("round", [x], name)

    def sigmoid(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """1 / (1 + e ** -x)."""
        return self._op1("sigmoid", [x], name)

    def relu(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """max(x, 0)."""
        return self._op1("relu", [x], name)

    def gelu(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """x * Phi(x), Phi the standard normal CDF (exact, with erf)."""
        return self._op1("gelu", [x], name)

    def logical_not(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """True where x is zero or False."""
        return self._op1("logical_not", [x], name)

    def is_nan(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """True where x is NaN."""
        return self._op1("is_nan", [x], name)

    def is_inf(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """True where x is +-inf."""
        return self._op1("is_inf", [x], name)

    def is_finite(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """True where x is neither NaN nor infinite."""
        return self._op1("is_finite", [x], name)

    def identity(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """x itself (a copy in the results, never an alias)."""
        return self._op1("identity", [x], name)

    def add(self, a: TensorLike, b: TensorLike, name: Optional[str] = None) -> Tensor:
        """a + b."""
        return self._op1("add", list(self._pair(a, b)), name)

    def subtract(self, a: TensorLike, b: TensorLike, name: Optional[str] = None) -> Tensor:
        """a - b."""
        return self._op1("subtract", list(self._pair(a, b)), name)

    def multiply(self, a: TensorLike, b: TensorLike, name: Optional[str] = None) -> Tensor:
        """a * b."""
        return self._op1("multiply", list(self._pair(a, b)), name)

    def divide(self, a: TensorLike, b: TensorLike, name: Optional[str] = None) -> Tensor:
        """a / b (true division: integers give float32)."""
        return self._op1("divide", list(self._pair(a, b)), name)

    def floor_divide(self, a: TensorLike, b: TensorLike, name: Optional[str] = None) -> Tensor:
        """floor(a / b), as Python's //; integer division by zero gives 0."""
        return self._op1("floor_divide", list(self._pair(a, b)), name)

    def modulo(self, a: TensorLike, b: TensorLike, name: Optional[str] = None) -> Tensor:
        """a mod b with the sign of b, as Python's %."""
        return self._op1("modulo", list(self._pair(a, b)), name)

    def power(self, a: TensorLike, b: TensorLike, name: Optional[str] = None) -> Tensor:
        """a ** b."""
        return self._op1("power", list(self._pair(a, b)), name)

    def maximum(self, a: TensorLike, b: TensorLike, name: Optional[str] = None) -> Tensor:
        """The larger of a and b (NaN wins)."""
        return self._op1("maximum", list(self._pair(a, b)), name)

    def minimum(self, a: TensorLike, b: TensorLike, name: Optional[str] = None) -> Tensor:
        """The smaller of a and b (NaN wins)."""
        return self._op1("minimum", list(self._pair(a, b)), name)

    def atan2(self, a: TensorLike, b: TensorLike, name: Optional[str] = None) -> Tensor:
        """The angle of the point (b, a), in radians."""
        return self._op1("atan2", list(self._pair(a, b)), name)

    def equal(self, a: TensorLike, b: TensorLike, name: Optional[str] = None) -> Tensor:
        """a == b."""
        return self._op1("equal", list(self._pair(a, b)), name)

    def not_equal(self, a: TensorLike, b: TensorLike, name: Optional[str] = None) -> Tensor:
        """a != b."""
        return self._op1("not_equal", list(self._pair(a, b)), name)

    def less(self, a: TensorLike, b: TensorLike, name: Optional[str] = None) -> Tensor:
        """a < b."""
        return self._op1("less", list(self._pair(a, b)), name)

    def less_equal(self, a: TensorLike, b: TensorLike, name: Optional[str] = None) -> Tensor:
        """a <= b."""
        return self._op1("less_equal", list(self._pair(a, b)), name)

    def greater(self, a: TensorLike, b: TensorLike, name: Optional[str] = None) -> Tensor:
        """a > b."""
        return self._op1("greater", list(self._pair(a, b)), name)

    def greater_equal(self, a: TensorLike, b: TensorLike, name: Optional[str] = None) -> Tensor:
        """a >= b."""
        return self._op1("greater_equal", list(self._pair(a, b)), name)

    def logical_and(self, a: TensorLike, b: TensorLike, name: Optional[str] = None) -> Tensor:
        """a and b, on truth values."""
        return self._op1("logical_and", list(self._pair(a, b)), name)

    def logical_or(self, a: TensorLike, b: TensorLike, name: Optional[str] = None) -> Tensor:
        """a or b, on truth values."""
        return self._op1("logical_or", list(self._pair(a, b)), name)

    def logical_xor(self, a: TensorLike, b: TensorLike, name: Optional[str] = None) -> Tensor:
        """a xor b, on truth values."""
        return self._op1("logical_xor", list(self._pair(a, b)), name)

    # ---- reductions (axes=None: all; integers and bools sum and multiply in int64) ----
    def reduce_sum(self, x: TensorLike, axes: Axes = None, keepdims: bool = False,
                   name: Optional[str] = None) -> Tensor:
        """Sum over ``axes``; ``keepdims`` keeps reduced axes as size 1."""
        return self._op1("reduce_sum", [x], name, axes=_axes(axes), keepdims=keepdims)

    def reduce_mean(self, x: TensorLike, axes: Axes = None, keepdims: bool = False,
                    name: Optional[str] = None) -> Tensor:
        """Mean over ``axes``; ``keepdims`` keeps reduced axes as size 1."""
        return self._op1("reduce_mean", [x], name, axes=_axes(axes), keepdims=keepdims)

    def reduce_max(self, x: TensorLike, axes: Axes = None, keepdims: bool = False,
                   name: Optional[str] = None) -> Tensor:
        """Maximum over ``axes``; ``keepdims`` keeps reduced axes as size 1."""
        return self._op1("reduce_max", [x], name, axes=_axes(axes), keepdims=keepdims)

    def reduce_min(self, x: TensorLike, axes: Axes = None, keepdims: bool = False,
                   name: Optional[str] = None) -> Tensor:
        """Minimum over ``axes``; ``keepdims`` keeps reduced axes as size 1."""
        return self._op1("reduce_min", [x], name, axes=_axes(axes), keepdims=keepdims)

    def reduce_prod(self, x: TensorLike, axes: Axes = None, keepdims: bool = False,
                    name: Optional[str] = None) -> Tensor:
        """Product over ``axes``; ``keepdims`` keeps reduced axes as size 1."""
        return self._op1("reduce_prod", [x], name, axes=_axes(axes), keepdims=keepdims)

    # ---- shape and data movement ----
    def reshape(self, x: TensorLike, shape: Sequence[int], name: Optional[str] = None) -> Tensor:
        """The same elements in a new shape; one dimension may be -1. A view: no copy."""
        return self._op1("reshape", [x], name, shape=list(shape))

    def transpose(self, x: TensorLike, perm: Optional[Sequence[int]] = None, name: Optional[str] = None) -> Tensor:
        """Permute the axes (``perm=None`` reverses them)."""
        return self._op1("transpose", [x], name, perm=_axes(perm))

    def slice(self, x: TensorLike, starts: Sequence[Optional[int]], ends: Sequence[Optional[int]],
              strides: Optional[Sequence[int]] = None, name: Optional[str] = None) -> Tensor:
        """Python slicing per dimension: ``x[starts[d]:ends[d]:strides[d]]``;
        ``None`` entries mean the default, fewer entries than dims leave the rest."""
        return self._slice(x, starts, ends, strides, 0, name)

    def _slice(self, x, starts, ends, strides, trailing, name):
        """``slice`` whose last ``trailing`` entries apply to the last dimensions."""
        where = _where("slice", name)
        strides = [1] * len(starts) if strides is None else [_attr_int(where, "strides", s) for s in strides]
        st = [(0 if s > 0 else _INT64_MAX) if a is None else a for a, s in zip(starts, strides)]
        en = [(_INT64_MAX if s > 0 else _INT64_MIN) if e is None else e for e, s in zip(ends, strides)]
        return self._op1("slice", [x], name, starts=st, ends=en, strides=strides, trailing=trailing or None)

    def concat(self, tensors: Sequence[TensorLike], axis: int, name: Optional[str] = None) -> Tensor:
        """Join tensors along an existing ``axis``; other dimensions must match."""
        return self._op1("concat", list(tensors), name, axis=axis)

    def split(self, x: TensorLike, sizes_or_count: Union[int, Sequence[int]], axis: int = 0,
              name: Optional[str] = None) -> List[Tensor]:
        """Split into ``count`` equal parts or parts of the given ``sizes``; returns a list."""
        if isinstance(sizes_or_count, (numbers.Integral, np.integer)):
            return self._op("split", [x], name, axis=axis, count=sizes_or_count)
        return self._op("split", [x], name, axis=axis, sizes=list(sizes_or_count))

    def stack(self, tensors: Sequence[TensorLike], axis: int = 0, name: Optional[str] = None) -> Tensor:
        """Join tensors of one shape along a new axis."""
        tensors = [self._tensor(t)._t for t in tensors]
        return self._wrap(_core.stack(self._g, tensors, _attr_int(_where("stack", name), "axis", axis), name or ""))

    def expand_dims(self, x: TensorLike, axis: Axes, name: Optional[str] = None) -> Tensor:
        """Insert size-1 axes at ``axis`` (an int or a list, positions in the result)."""
        return self._op1("expand_dims", [x], name, axes=_axes(axis))

    def squeeze(self, x: TensorLike, axes: Axes = None, name: Optional[str] = None) -> Tensor:
        """Remove size-1 axes (``axes=None``: all of them)."""
        return self._op1("squeeze", [x], name, axes=_axes(axes))

    def broadcast_to(self, x: TensorLike, shape: Sequence[int], name: Optional[str] = None) -> Tensor:
        """Broadcast ``x`` to ``shape`` (NumPy's rules)."""
        return self._op1("broadcast_to", [x], name, shape=list(shape))

    def pad(self, x: TensorLike, pads: Sequence[Tuple[int, int]], mode: str = "constant", value: float = 0,
            name: Optional[str] = None) -> Tensor:
        """Pad with ``pads`` = [(before, after), ...] per dimension; modes
        constant, reflect, symmetric, edge (as NumPy's)."""
        flat = [p for pair in pads for p in pair]
        return self._op1("pad", [x], name, pads=flat, mode=mode, value=value)

    def tile(self, x: TensorLike, reps: Sequence[int], name: Optional[str] = None) -> Tensor:
        """Repeat ``x`` ``reps[d]`` times along each dimension d."""
        return self._op1("tile", [x], name, reps=list(reps))

    def flip(self, x: TensorLike, axes: Axes = None, name: Optional[str] = None) -> Tensor:
        """Reverse the order of elements along ``axes`` (None: all)."""
        return self._op1("flip", [x], name, axes=_axes(axes))

    def gather(self, x: TensorLike, indices: TensorLike, axis: int = 0, name: Optional[str] = None) -> Tensor:
        """NumPy's ``take``: out = x[:axis] + indices.shape + x[axis+1:]."""
        return self._op1("gather", [x, self._tensor(indices, like=int32)], name, axis=axis)

    def gather_nd(self, x: TensorLike, indices: TensorLike, name: Optional[str] = None) -> Tensor:
        """Slices of ``x`` picked by the last dimension of ``indices`` (k coordinates each)."""
        return self._op1("gather_nd", [x, self._tensor(indices, like=int32)], name)

    def scatter_add(self, x: TensorLike, indices: TensorLike, updates: TensorLike, axis: int = 0,
                    name: Optional[str] = None) -> Tensor:
        """``x`` with ``updates`` added at ``indices`` along ``axis`` (the adjoint of ``gather``)."""
        x = self._tensor(x)
        return self._op1("scatter_add", [x, self._tensor(indices, like=int32), self._tensor(updates, like=x.dtype)],
                         name, axis=axis)

    def scatter_nd_add(self, x: TensorLike, indices: TensorLike, updates: TensorLike,
                       name: Optional[str] = None) -> Tensor:
        """``x`` with ``updates`` added at the coordinates in ``indices`` (the adjoint of ``gather_nd``)."""
        x = self._tensor(x)
        return self._op1("scatter_nd_add", [x, self._tensor(indices, like=int32),
                                            self._tensor(updates, like=x.dtype)], name)

    def take_along_axis(self, x: TensorLike, indices: TensorLike, axis: int, name: Optional[str] = None) -> Tensor:
        """NumPy's ``take_along_axis``: ``indices`` has x's rank and picks along ``axis``."""
        return self._op1("take_along_axis", [x, self._tensor(indices, like=int32)], name, axis=axis)

    def one_hot(self, indices: TensorLike, depth: int, axis: int = -1, dtype: DTypeLike = float32,
                name: Optional[str] = None) -> Tensor:
        """One-hot vectors of length ``depth`` inserted at ``axis``; out-of-range indices give zeros."""
        return self._op1("one_hot", [self._tensor(indices, like=int32)], name, depth=depth, axis=axis,
                         dtype=as_dtype(dtype))

    def shape_of(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """The shape of ``x`` at run time, as an int64 vector."""
        return self._op1("shape_of", [x], name)

    def top_k(self, x: TensorLike, k: int, axis: int = -1, name: Optional[str] = None) -> Tuple[Tensor, Tensor]:
        """The ``k`` largest values along ``axis`` and their int64 indices (ties: lower index first)."""
        values, indices = self._op("top_k", [x], name, k=k, axis=axis)
        return values, indices

    def sort(self, x: TensorLike, axis: int = -1, descending: bool = False, name: Optional[str] = None) -> Tensor:
        """Stable sort; NaN sorts as the largest value."""
        return self._op1("sort", [x], name, axis=axis, descending=descending)

    def argsort(self, x: TensorLike, axis: int = -1, descending: bool = False, name: Optional[str] = None) -> Tensor:
        """The int64 indices that sort ``x`` stably along ``axis``."""
        return self._op1("argsort", [x], name, axis=axis, descending=descending)

    def cumsum(self, x: TensorLike, axis: int, exclusive: bool = False, reverse: bool = False,
               name: Optional[str] = None) -> Tensor:
        """Running sums along ``axis`` (optionally exclusive and/or from the end)."""
        return self._op1("cumsum", [x], name, axis=axis, exclusive=exclusive, reverse=reverse)

    # ---- reductions ----
    def argmax(self, x: TensorLike, axis: Optional[int] = None, keepdims: bool = False,
               name: Optional[str] = None) -> Tensor:
        """Index (int64) of the first maximum along ``axis`` (None: of the flattened input); NaN wins."""
        return self._op1("argmax", [x], name, axis=axis, keepdims=keepdims)

    def argmin(self, x: TensorLike, axis: Optional[int] = None, keepdims: bool = False,
               name: Optional[str] = None) -> Tensor:
        """Index (int64) of the first minimum along ``axis`` (None: of the flattened input); NaN wins."""
        return self._op1("argmin", [x], name, axis=axis, keepdims=keepdims)

    def mean_variance(self, x: TensorLike, axes: Axes = None, keepdims: bool = False,
                      name: Optional[str] = None) -> Tuple[Tensor, Tensor]:
        """(mean, population variance) over ``axes``."""
        x = self._tensor(x)
        attrs = _attrs(_where("mean_variance", name), {"axes": _axes(axes), "keepdims": keepdims})
        mean, var = _core.mean_variance(self._g, x._t, attrs.get("axes"), bool(attrs.get("keepdims")), name or "")
        return self._wrap(mean), self._wrap(var)

    # ---- neural network ----
    def softmax(self, x: TensorLike, axis: int = -1, name: Optional[str] = None) -> Tensor:
        """exp(x) / sum(exp(x)) along ``axis``, one pass over memory."""
        return self._op1("softmax", [x], name, axis=axis)

    def log_softmax(self, x: TensorLike, axis: int = -1, name: Optional[str] = None) -> Tensor:
        """x - log(sum(exp(x))) along ``axis``."""
        return self._op1("log_softmax", [x], name, axis=axis)

    def logsumexp(self, x: TensorLike, axes: Axes = None, keepdims: bool = False,
                  name: Optional[str] = None) -> Tensor:
        """log(sum(exp(x))) over ``axes`` (None: all), without overflow: the
        maximum is subtracted first (and held out of the gradient)."""
        x = self._tensor(x)
        attrs = _attrs(_where("logsumexp", name), {"axes": _axes(axes), "keepdims": keepdims})
        return self._wrap(_core.logsumexp(self._g, x._t, attrs.get("axes"), bool(attrs.get("keepdims")), name or ""))

    def normalize(self, x: TensorLike, mean: TensorLike, variance: TensorLike, gamma: Optional[TensorLike] = None,
                  beta: Optional[TensorLike] = None, epsilon: float = 1e-5, name: Optional[str] = None) -> Tensor:
        """(x - mean) / sqrt(variance + epsilon) * gamma + beta, with statistics
        from ``mean_variance`` (keepdims=True, or shapes that broadcast): batch
        norm over batch, height and width; layer or instance norm over others."""
        x = self._tensor(x)
        mean, variance = self._tensor(mean, like=x.dtype), self._tensor(variance, like=x.dtype)
        gamma = None if gamma is None else self._tensor(gamma, like=x.dtype)._t
        beta = None if beta is None else self._tensor(beta, like=x.dtype)._t
        eps = _attr_float(_where("normalize", name), "epsilon", epsilon)
        return self._wrap(_core.normalize(self._g, x._t, mean._t, variance._t, gamma, beta, eps, name or ""))

    def softmax_cross_entropy(self, logits: TensorLike, labels: TensorLike, axis: int = -1, reduction: str = "sum",
                              name: Optional[str] = None) -> Tensor:
        """-sum(labels * log_softmax(logits)) along ``axis``; labels are
        probabilities of the logits' shape. ``reduction``: "sum", "mean" (over
        the remaining elements) or "none". One fused kernel per row."""
        logits = self._tensor(logits)
        labels = self._tensor(labels, like=logits.dtype)
        axis = _attr_int(_where("softmax_cross_entropy", name), "axis", axis)
        return self._wrap(_core.softmax_cross_entropy(self._g, logits._t, labels._t, axis, str(reduction), name or ""))

    def sigmoid_cross_entropy(self, logits: TensorLike, labels: TensorLike, reduction: str = "sum",
                              name: Optional[str] = None) -> Tensor:
        """Binary cross-entropy of sigmoid(logits) against labels in [0, 1]
        (same shape), computed stably from the logits; reduced as
        ``softmax_cross_entropy``."""
        logits = self._tensor(logits)
        labels = self._tensor(labels, like=logits.dtype)
        return self._wrap(_core.sigmoid_cross_entropy(self._g, logits._t, labels._t, str(reduction), name or ""))

    def leaky_relu(self, x: TensorLike, alpha: float = 0.01, name: Optional[str] = None) -> Tensor:
        """x where x > 0, else alpha * x (float x)."""
        alpha = _attr_float(_where("leaky_relu", name), "alpha", alpha)
        return self._wrap(_core.leaky_relu(self._g, self._tensor(x)._t, alpha, name or ""))

    def softplus(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """log(1 + exp(x)), without overflow for large x."""
        return self._wrap(_core.softplus(self._g, self._tensor(x)._t, name or ""))

    def silu(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """x * sigmoid(x) (also called swish)."""
        return self._wrap(_core.silu(self._g, self._tensor(x)._t, name or ""))

    def dropout(self, x: TensorLike, rate: float, seed: Optional[int] = None, name: Optional[str] = None) -> Tensor:
        """x with each element zeroed with probability ``rate`` and the rest
        scaled by 1 / (1 - rate); a new mask every run, reproducible for a
        ``seed`` (None: a random one) and run count. The gradient uses the
        same mask."""
        where = _where("dropout", name)
        rate = _attr_float(where, "rate", rate)
        return self._wrap(_core.dropout(self._g, self._tensor(x)._t, rate, _seed(where, seed), name or ""))

    def random_uniform(self, shape: Sequence[int], low: float = 0.0, high: float = 1.0, dtype: DTypeLike = float32,
                       seed: Optional[int] = None, name: Optional[str] = None) -> Tensor:
        """Uniform numbers on [low, high): a new draw every run, reproducible
        for a ``seed`` (None: a random one) and run count, the same bits on
        the CPU and CUDA (Philox 4x32-10)."""
        return self._random("random_uniform", shape, dtype, seed, name, low=low, high=high)

    def random_normal(self, shape: Sequence[int], mean: float = 0.0, stddev: float = 1.0, dtype: DTypeLike = float32,
                      seed: Optional[int] = None, name: Optional[str] = None) -> Tensor:
        """Normal numbers (by inversion of the error function), drawn like
        ``random_uniform``."""
        return self._random("random_normal", shape, dtype, seed, name, mean=mean, stddev=stddev)

    def _random(self, type, shape, dtype, seed, name, **params):
        return self._op1(type, [], name, shape=list(shape), dtype=as_dtype(dtype), seed=_seed(_where(type, name), seed),
                         **params)

    def conv2d(self, x: TensorLike, w: TensorLike, desc: Optional[Conv2dDescriptor] = None,
               name: Optional[str] = None) -> Tensor:
        """2-D convolution (``ts.Conv2dDescriptor``; default: stride 1, VALID,
        NCHW input, OIHW weights), differentiable in x and w."""
        desc = self._conv_desc("conv2d", desc, name)
        x = self._tensor(x)
        return self._wrap(_core.conv2d(self._g, x._t, self._tensor(w, like=x.dtype)._t, desc._core(), name or ""))

    def conv2d_transpose(self, x: TensorLike, w: TensorLike, output_shape: Sequence[int],
                         desc: Optional[Conv2dDescriptor] = None, name: Optional[str] = None) -> Tensor:
        """The gradient of ``conv2d`` with respect to its input (of
        ``output_shape``) applied to x: a stride-2 convolution's transpose
        doubles the size. Same descriptor and weights as that convolution."""
        where = _where("conv2d_transpose", name)
        desc = self._conv_desc("conv2d_transpose", desc, name)
        shape = [_attr_int(where, "output_shape", v) for v in output_shape]
        x = self._tensor(x)
        return self._wrap(_core.conv2d_transpose(self._g, x._t, self._tensor(w, like=x.dtype)._t, shape, desc._core(),
                                                 name or ""))

    def _conv_desc(self, op, desc, name):
        if desc is None:
            return Conv2dDescriptor()
        if not isinstance(desc, Conv2dDescriptor):
            raise TypeError(f"{_where(op, name)}: expected a ts.Conv2dDescriptor; got {type(desc).__name__}")
        return desc

    def max_pool2d(self, x: TensorLike, desc: Pool2dDescriptor, name: Optional[str] = None) -> Tensor:
        """The maximum of each window (``ts.Pool2dDescriptor``) of a 4-D float input."""
        return self._pool("max_pool2d", x, desc, name)

    def avg_pool2d(self, x: TensorLike, desc: Pool2dDescriptor, name: Optional[str] = None) -> Tensor:
        """The mean of each window; padding does not count (TensorFlow's and MPSGraph's default)."""
        return self._pool("avg_pool2d", x, desc, name)

    def _pool(self, op, x, desc, name):
        if not isinstance(desc, Pool2dDescriptor):
            raise TypeError(f"{_where(op, name)}: expected a ts.Pool2dDescriptor; got {type(desc).__name__}")
        return self._wrap(getattr(_core, op)(self._g, self._tensor(x)._t, desc._core(), name or ""))

    def lstm_cell(self, x: TensorLike, h: TensorLike, c: TensorLike, w_input: TensorLike, w_recurrent: TensorLike,
                  bias: TensorLike, name: Optional[str] = None) -> Tuple[Tensor, Tensor]:
        """One LSTM step, gate order i, f, g, o: x (batch, input), h and c
        (batch, hidden), w_input (input, 4*hidden), w_recurrent (hidden,
        4*hidden), bias (4*hidden). Returns (h, c)."""
        ts_ = [self._tensor(v)._t for v in (x, h, c, w_input, w_recurrent, bias)]
        h_new, c_new = _core.lstm_cell(self._g, *ts_, name or "")
        return self._wrap(h_new), self._wrap(c_new)

    def lstm(self, x: TensorLike, h0: Optional[TensorLike], c0: Optional[TensorLike], w_input: TensorLike,
             w_recurrent: TensorLike, bias: TensorLike, name: Optional[str] = None):
        """The LSTM over a time-major sequence x (time, batch, input) of known
        length; h0 and c0 default to zeros. Returns (outputs (time, batch,
        hidden), (h, c) after the last step); gradients flow through every step."""
        opt = [None if v is None else self._tensor(v)._t for v in (h0, c0)]
        outs, h, c = _core.lstm(self._g, self._tensor(x)._t, *opt,
                                *[self._tensor(v)._t for v in (w_input, w_recurrent, bias)], name or "")
        return self._wrap(outs), (self._wrap(h), self._wrap(c))

    def gru_cell(self, x: TensorLike, h: TensorLike, w_input: TensorLike, w_recurrent: TensorLike, bias: TensorLike,
                 recurrent_bias: TensorLike, name: Optional[str] = None) -> Tensor:
        """One GRU step, gate order r, z, n (PyTorch's): weights (input,
        3*hidden) and (hidden, 3*hidden), biases (3*hidden). Returns h."""
        ts_ = [self._tensor(v)._t for v in (x, h, w_input, w_recurrent, bias, recurrent_bias)]
        return self._wrap(_core.gru_cell(self._g, *ts_, name or ""))

    def gru(self, x: TensorLike, h0: Optional[TensorLike], w_input: TensorLike, w_recurrent: TensorLike,
            bias: TensorLike, recurrent_bias: TensorLike, name: Optional[str] = None) -> Tuple[Tensor, Tensor]:
        """The GRU over a time-major sequence; h0 defaults to zeros. Returns
        (outputs, h after the last step)."""
        h0 = None if h0 is None else self._tensor(h0)._t
        outs, h = _core.gru(self._g, self._tensor(x)._t, h0,
                            *[self._tensor(v)._t for v in (w_input, w_recurrent, bias, recurrent_bias)], name or "")
        return self._wrap(outs), self._wrap(h)

    def stop_gradient(self, x: TensorLike, name: Optional[str] = None) -> Tensor:
        """x itself; gradients do not flow back through it (they are zero)."""
        return self._op1("stop_gradient", [x], name)

    # ---- linear algebra ----
    def matmul(self, a: TensorLike, b: TensorLike, transpose_a: bool = False, transpose_b: bool = False,
               name: Optional[str] = None) -> Tensor:
        """NumPy's ``matmul`` (1-D operands are vectors, batch dims broadcast), optionally transposing the last two dims."""
        a, b = self._pair(a, b)
        return self._op1("matmul", [a, b], name, transpose_a=transpose_a, transpose_b=transpose_b)

    # ---- optimizers ----
    def sgd(self, learning_rate: TensorLike, value: TensorLike, gradient: TensorLike,
            name: Optional[str] = None) -> Tensor:
        """The SGD update: ``value - learning_rate * gradient``."""
        value = self._tensor(value)
        lr, gradient = self._tensor(learning_rate, like=value.dtype), self._tensor(gradient, like=value.dtype)
        return self._wrap(_core.sgd(self._g, lr._t, value._t, gradient._t, name or ""))

    def adam(self, learning_rate: TensorLike, beta1: TensorLike, beta2: TensorLike, epsilon: TensorLike,
             value: TensorLike, gradient: TensorLike, m: TensorLike, v: TensorLike, step: TensorLike,
             name: Optional[str] = None) -> Tuple[Tensor, Tensor, Tensor]:
        """One Adam update (Kingma & Ba); ``step`` is the 1-based number of this
        update. Returns (new value, new m, new v)."""
        value = self._tensor(value)
        dt = value.dtype
        args = [self._tensor(h, like=dt)._t for h in (learning_rate, beta1, beta2, epsilon, value, gradient, m, v, step)]
        return tuple(self._wrap(t) for t in _core.adam(self._g, *args, name or ""))

    # ---- autodiff ----
    def gradients(self, y: TensorLike, xs: Union[Tensor, Sequence[Tensor]]) -> Dict[Tensor, Tensor]:
        """``{x: d sum(y) / dx}`` for each x in ``xs``; zeros for an x that y does not depend on."""
        single = isinstance(xs, Tensor)
        xs = [xs] if single else list(xs)
        y = self._tensor(y)
        grads = self._g.gradients(y._t, [self._tensor(x)._t for x in xs])
        return {x: self._wrap(g) for x, g in zip(xs, grads)}

    # ---- control flow ----
    def if_then_else(self, pred: TensorLike, then_fn: Callable[[], Any], else_fn: Callable[[], Any],
                     name: Optional[str] = None) -> List[Tensor]:
        """``then_fn()`` if the bool scalar ``pred`` is true, else ``else_fn()``,
        decided on the device. Each function builds its branch (called once,
        now) and returns a list of tensors; the branches' lists match in
        length, dtypes and shapes. Returns the chosen branch's list.

        Branches may use any tensor built outside them (weights, say), and
        gradients flow through the branch taken."""
        where = _where("if_then_else", name)
        p = self._tensor(pred)
        build = [self._body(fn, f"{where} ({side})", 0, None) for fn, side in ((then_fn, "then"), (else_fn, "else"))]
        return [self._wrap(t) for t in _core.if_then_else(self._g, p._t, build[0], build[1], name or "")]

    def while_loop(self, cond_fn: Callable[..., Any], body_fn: Callable[..., Any], initial_values: Sequence[TensorLike],
                   name: Optional[str] = None) -> List[Tensor]:
        """``values = initial_values; while cond_fn(*values): values = body_fn(*values)``,
        run on the device. ``cond_fn`` returns a bool scalar tensor;
        ``body_fn`` returns a list of new values with the dtypes and shapes of
        the old. Returns the final values. Not differentiable: use
        ``for_loop`` with a count."""
        where = _where("while_loop", name)
        init = self._carried(where, initial_values)
        cond = self._body(cond_fn, f"{where} (cond)", len(init), None, single=True)
        body = self._body(body_fn, f"{where} (body)", len(init), [t.dtype for t in init])
        return [self._wrap(t) for t in _core.while_loop(self._g, cond, body, [t._t for t in init], name or "")]

    def for_loop(self, n: Union[int, Tensor], body_fn: Callable[..., Any], initial_values: Sequence[TensorLike],
                 name: Optional[str] = None) -> List[Tensor]:
        """``values = initial_values; for i in range(n): values = body_fn(i, *values)``,
        run on the device; ``i`` is an int32 scalar tensor. ``n`` is an int, or
        an integer scalar tensor read when the loop starts. ``body_fn``
        returns a list of new values with the dtypes and shapes of the old.
        Returns the final values. Differentiable when ``n`` is an int."""
        where = _where("for_loop", name)
        if isinstance(n, Tensor):
            count = self._tensor(n)._t
        else:
            if isinstance(n, (bool, np.bool_)):
                raise TypeError(f"{where}: the trip count must be an int or a scalar tensor; got {n!r}")
            count = _attr_int(where, "n", n)
        init = self._carried(where, initial_values)
        body = self._body(body_fn, where, len(init) + 1, [t.dtype for t in init])
        return [self._wrap(t) for t in _core.for_loop(self._g, count, body, [t._t for t in init], name or "")]

    def _carried(self, where, values):
        """A loop's initial values as tensors."""
        if isinstance(values, (Tensor, str, bytes)) or not isinstance(values, Sequence):
            raise TypeError(f"{where}: initial_values must be a list of tensors; got {type(values).__name__}")
        return [self._tensor(v) for v in values]

    def _body(self, fn, where, arity, likes, single=False):
        """A core body builder calling ``fn`` on Python tensors; its results
        (a list, or one tensor where ``single``) become tensors, Python values
        taking the carried dtypes."""
        if not callable(fn):
            raise TypeError(f"{where}: expected a function; got {type(fn).__name__}")

        def build(params):
            out = fn(*[self._wrap(t) for t in params])
            if single or isinstance(out, Tensor):
                out = [out]
            elif not isinstance(out, (list, tuple)):
                raise TypeError(f"{where}: the function must return a list of tensors; got {type(out).__name__}")
            if likes is not None and len(out) != len(likes):
                raise _core.GraphError(f"{where}: the function returns {len(out)} values; expected {len(likes)} "
                                       "(one per loop-carried value)")
            return [self._tensor(x, like=likes[k] if likes else None)._t for k, x in enumerate(out)]

        return build

    # ---- indexing sugar ----
    def _getitem(self, x, key):
        """NumPy basic indexing, lowered in the core (ts::basic_index)."""
        key = key if isinstance(key, tuple) else (key,)
        if sum(k is Ellipsis for k in key) > 1:
            raise IndexError("an index can only have a single ellipsis ('...')")
        entries = []
        for k in key:
            if k is None:
                entries.append(("new_axis", None, None, 1))
            elif k is Ellipsis:
                entries.append(("ellipsis", None, None, 1))
            elif isinstance(k, slice):
                where = f"indexing '{x.name}'"
                step = 1 if k.step is None else _attr_int(where, "step", k.step)
                bound = [None if b is None else _attr_int(where, "slice bound", b) for b in (k.start, k.stop)]
                entries.append(("slice", bound[0], bound[1], step))
            elif isinstance(k, (numbers.Integral, np.integer)) and not isinstance(k, (bool, np.bool_)):
                entries.append(("int", _attr_int(f"indexing '{x.name}'", "index", k), None, 1))
            else:
                raise TypeError(f"unsupported index {k!r}: basic slicing takes ints, slices, None and '...'")
        return self._wrap(_core.basic_index(self._g, x._t, entries))

    # ---- running ----
    def run(self, feeds: Optional[Dict[Tensor, Any]] = None, targets: Union[Tensor, Sequence[Tensor]] = (),
            target_ops: Sequence[Union[Operation, Tensor]] = (), device: Any = None) -> List[NDArray]:
        """Run the graph: feed placeholders, return the targets as NDArrays and
        execute ``target_ops`` (e.g. assignments). Compiles on first use and
        caches the executable per input signature."""
        targets, single = _targets(targets)
        ops = [unwrap_op(o, self) for o in target_ops]
        return self._g.run(self._feed_pairs(feeds), [self._target(t) for t in targets], ops, resolve_device(device))

    def _feed_pairs(self, feeds):
        """``{placeholder: value}`` as (core tensor, NDArray) pairs."""
        pairs = []
        for ph, value in (feeds or {}).items():
            ph = self._feed_key(ph)
            pairs.append((ph._t, _core.to_feed(value, ph.dtype, ph.name)))
        return pairs

    def run_async(self, feeds: Optional[Dict[Tensor, Any]] = None, targets: Union[Tensor, Sequence[Tensor]] = (),
                  target_ops: Sequence[Union[Operation, Tensor]] = (), device: Any = None) -> Future:
        """Like ``run`` but returns a ``ts.Future`` at once."""
        targets, _ = _targets(targets)
        ops = [unwrap_op(o, self) for o in target_ops]
        return Future(self._g.run_async(self._feed_pairs(feeds), [self._target(t) for t in targets], ops,
                                        resolve_device(device)))

    def compile(self, feeds: Optional[Dict[Tensor, Any]] = None, targets: Union[Tensor, Sequence[Tensor]] = (),
                target_ops: Sequence[Union[Operation, Tensor]] = (), device: Any = None,
                tf32: bool = False, fusion: bool = True) -> Executable:
        """Compile for the given feed types (``{placeholder: ts.TensorType}``);
        -1 dims stay open and specialize per concrete shape on each run.
        ``tf32=True`` lets float32 matmuls use TF32 tensor cores on GPUs that
        have them (faster, with 10-bit mantissas in the products;
        ``TENSORSTITCH_TF32=1`` turns it on everywhere). ``fusion=False``
        runs every op as its own kernel (what stitching saves, measured;
        ``TENSORSTITCH_FUSION=0`` turns fusion off everywhere)."""
        targets, _ = _targets(targets)
        feeds = feeds or {}
        order, types = [], []
        for ph, t in feeds.items():
            ph = self._feed_key(ph)
            t = TensorType.of(t)
            order.append(ph)
            types.append((ph._t, None if t.shape is None else list(t.shape), t.dtype))
        ops = [unwrap_op(o, self) for o in target_ops]
        flags = _attrs("compile", {"tf32": tf32, "fusion": fusion})
        exe = self._g.compile(types, [self._target(t) for t in targets], ops, resolve_device(device),
                              bool(flags.get("tf32")), bool(flags.get("fusion")))
        return Executable(exe, order, self)

    def _target(self, t):
        """A target as a core tensor: it must be a Tensor of this graph."""
        if not isinstance(t, Tensor):
            raise _core.GraphError(f"targets must be tensors of this graph; got {type(t).__name__} {t!r:.60}")
        if t.graph is not self:
            raise _core.GraphError(f"target '{t.name}' belongs to another graph")
        return t._t

    def _feed_key(self, ph):
        if not isinstance(ph, Tensor):
            raise _core.FeedError(f"feeds must be keyed by placeholder tensors; got {type(ph).__name__}")
        if ph.graph is not self:
            raise _core.GraphError(f"fed tensor '{ph.name}' belongs to another graph")
        if ph.op.type != "placeholder":
            raise _core.FeedError(f"only placeholders can be fed; '{ph.name}' is the output of {ph.op.type} "
                                  f"'{ph.op.name}'")
        return ph


def _targets(targets):
    if isinstance(targets, Tensor):
        return [targets], True
    return list(targets), False
