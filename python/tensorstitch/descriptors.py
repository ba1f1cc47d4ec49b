"""Descriptors of the windowed neural-network ops, as MPSGraph has them."""
import numbers

from . import _core


def _pair(where, key, v):
    """An int or a pair of ints, as a (height, width) pair."""
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        return (int(v), int(v))
    try:
        a, b = v
    except (TypeError, ValueError):
        raise TypeError(f"{where}: '{key}' must be an int or a pair of ints; got {v!r:.60}") from None
    if not all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in (a, b)):
        raise TypeError(f"{where}: '{key}' must be an int or a pair of ints; got {v!r:.60}")
    return (int(a), int(b))


class Pool2dDescriptor:
    """A 2-D pooling window: ``kernel`` and ``strides`` as (height, width) or
    one int (``strides=None``: the kernel, windows that do not overlap);
    ``padding`` "VALID", "SAME" (TensorFlow's rule, the extra row or column
    of an odd total after) or ((top, bottom), (left, right)); ``data_layout``
    "NCHW" or "NHWC"."""

    def __init__(self, kernel, strides=None, padding="VALID", data_layout="NCHW"):
        where = "Pool2dDescriptor"
        self.kernel = _pair(where, "kernel", kernel)
        self.strides = self.kernel if strides is None else _pair(where, "strides", strides)
        if isinstance(padding, str):
            self.padding = padding
        else:
            try:
                (top, bottom), (left, right) = padding
            except (TypeError, ValueError):
                raise TypeError(f"{where}: padding must be 'VALID', 'SAME' or ((top, bottom), (left, right)); "
                                f"got {padding!r:.60}") from None
            self.padding = (_pair(where, "padding", (top, bottom)), _pair(where, "padding", (left, right)))
        if not isinstance(data_layout, str):
            raise TypeError(f"{where}: data_layout must be 'NCHW' or 'NHWC'; got {data_layout!r:.60}")
        self.data_layout = data_layout

    def _core(self):
        d = _core.Pool2d()
        d.kernel, d.strides, d.layout = list(self.kernel), list(self.strides), self.data_layout
        if isinstance(self.padding, str):
            d.padding = self.padding
        else:
            d.padding = "EXPLICIT"
            d.pads = [*self.padding[0], *self.padding[1]]
        return d

    def __repr__(self):
        return (f"ts.Pool2dDescriptor(kernel={self.kernel}, strides={self.strides}, padding={self.padding!r}, "
                f"data_layout={self.data_layout!r})")
