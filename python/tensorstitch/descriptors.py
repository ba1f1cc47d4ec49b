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


def _padding(where, padding):
    """"VALID", "SAME" or ((top, bottom), (left, right))."""
    if isinstance(padding, str):
        return padding
    try:
        (top, bottom), (left, right) = padding
    except (TypeError, ValueError):
        raise TypeError(f"{where}: padding must be 'VALID', 'SAME' or ((top, bottom), (left, right)); "
                        f"got {padding!r:.60}") from None
    return (_pair(where, "padding", (top, bottom)), _pair(where, "padding", (left, right)))


def _set_padding(core, padding):
    if isinstance(padding, str):
        core.padding = padding
    else:
        core.padding = "EXPLICIT"
        core.pads = [*padding[0], *padding[1]]


def _layout(where, key, value):
    if not isinstance(value, str):
        raise TypeError(f"{where}: {key} must be a string; got {value!r:.60}")
    return value


class Conv2dDescriptor:
    """A 2-D convolution: ``strides`` and ``dilations`` as (height, width) or
    one int; ``padding`` "VALID", "SAME" (TensorFlow's rule) or ((top,
    bottom), (left, right)); ``data_layout`` "NCHW" or "NHWC";
    ``weights_layout`` "OIHW" or "HWIO"; ``groups`` (depthwise: the channel
    count)."""

    def __init__(self, strides=(1, 1), dilations=(1, 1), padding="VALID", data_layout="NCHW", weights_layout="OIHW",
                 groups=1):
        where = "Conv2dDescriptor"
        self.strides = _pair(where, "strides", strides)
        self.dilations = _pair(where, "dilations", dilations)
        self.padding = _padding(where, padding)
        self.data_layout = _layout(where, "data_layout", data_layout)
        self.weights_layout = _layout(where, "weights_layout", weights_layout)
        if not isinstance(groups, numbers.Integral) or isinstance(groups, bool):
            raise TypeError(f"{where}: groups must be an integer; got {groups!r:.60}")
        self.groups = int(groups)

    def _core(self):
        d = _core.Conv2d()
        d.strides, d.dilations = list(self.strides), list(self.dilations)
        d.data_layout, d.weights_layout, d.groups = self.data_layout, self.weights_layout, self.groups
        _set_padding(d, self.padding)
        return d

    def __repr__(self):
        return (f"ts.Conv2dDescriptor(strides={self.strides}, dilations={self.dilations}, padding={self.padding!r}, "
                f"data_layout={self.data_layout!r}, weights_layout={self.weights_layout!r}, groups={self.groups})")


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
        self.padding = _padding(where, padding)
        self.data_layout = _layout(where, "data_layout", data_layout)

    def _core(self):
        d = _core.Pool2d()
        d.kernel, d.strides, d.layout = list(self.kernel), list(self.strides), self.data_layout
        _set_padding(d, self.padding)
        return d

    def __repr__(self):
        return (f"ts.Pool2dDescriptor(kernel={self.kernel}, strides={self.strides}, padding={self.padding!r}, "
                f"data_layout={self.data_layout!r})")
