"""Compiled executables, futures for asynchronous runs, and feed conversion."""
import atexit

import numpy as np

from . import _core
from ._dtypes import as_dtype, bfloat16, to_numpy_dtype
from ._dtypes import is_floating as ts_is_floating
from .dot import executable_to_dot, render_svg
from .ndarray import NDArray, _numpy_value, asarray


class TensorType:
    """A feed's type for ``Graph.compile``: a shape (-1 for run-time sizes,
    None for unranked) and a dtype."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape = None if shape is None else tuple(int(d) for d in shape)
        self.dtype = as_dtype(dtype)

    @classmethod
    def of(cls, t):
        """A TensorType from a TensorType, a (shape, dtype) pair or an array's type."""
        if isinstance(t, TensorType):
            return t
        if isinstance(t, tuple) and len(t) == 2 and not isinstance(t[0], (int, np.integer)):
            return cls(*t)
        a = asarray(t)
        return cls(a.shape, a.dtype)

    def __repr__(self):
        return f"ts.TensorType({self.shape}, {self.dtype!r})"

    def __eq__(self, other):
        return isinstance(other, TensorType) and (self.shape, self.dtype) == (other.shape, other.dtype)

    def __hash__(self):
        return hash((self.shape, self.dtype))


def resolve_device(device):
    if device is None:
        return _core.default_device()
    return device if isinstance(device, _core.Device) else _core.Device(str(device))


def feed_array(dtype, value, name=""):
    """A feed value as an NDArray for the placeholder ``name`` of ``dtype``:
    arrays keep their dtype (a mismatch is a FeedError when run), float arrays
    convert for bfloat16 placeholders, and Python values take the
    placeholder's dtype when that loses nothing; otherwise FeedError."""
    if isinstance(value, NDArray):
        return value
    if isinstance(value, (np.ndarray, np.generic)) or hasattr(value, "__dlpack__"):
        arr = asarray(value)
        if dtype == bfloat16 and arr.dtype != bfloat16 and ts_is_floating(arr.dtype):
            return arr._astype(bfloat16)
        return arr
    where = f"feed for placeholder '{name}'"
    try:
        natural = _numpy_value(value)
    except TypeError as e:
        raise _core.FeedError(f"{where}: {e}") from None
    want = to_numpy_dtype(dtype)
    with np.errstate(all="ignore"):
        converted = natural.astype(want)
        if ts_is_floating(dtype):
            lossy = np.isfinite(natural) & ~np.isfinite(converted.astype(np.float64))
        else:
            lossy = converted.astype(natural.dtype) != natural
    if np.any(lossy):
        bad = natural[np.asarray(lossy)].ravel()[0] if np.ndim(lossy) else natural.item()
        raise _core.FeedError(f"{where}: the value {bad!r} cannot be represented in {dtype}; pass a NumPy array "
                              "of that dtype to convert explicitly")
    return asarray(converted)


class Future:
    """The result of ``run_async``: ``result(timeout=None)``, ``done()``,
    ``exception(timeout=None)``, ``add_done_callback(fn)`` (fn receives this
    Future). The core completes it when the run's device work has finished;
    callbacks run on the core's run threads."""

    __slots__ = ("_f",)

    def __init__(self, f):
        self._f = f

    def result(self, timeout=None):
        """The run's outputs; raises the run's exception, or TimeoutError."""
        if not self._f.wait(timeout):
            raise TimeoutError(f"the run did not finish within {timeout} s")
        return self._f.result()

    def done(self):
        """True once the run has finished (or failed)."""
        return self._f.done()

    def exception(self, timeout=None):
        """The run's exception, or None; raises TimeoutError."""
        try:
            self.result(timeout)
        except TimeoutError:
            raise
        except Exception as e:  # the run's own error is the answer here
            return e
        return None

    def add_done_callback(self, fn):
        """Call ``fn(future)`` when the run finishes (at once if it has)."""
        self._f.on_done(lambda: fn(self))

    def __repr__(self):
        return f"<ts.Future {self._f.state()}>"


# Runs still in flight finish before the interpreter does: their arrays and
# callbacks need it.
atexit.register(_core.drain_async_runs)


class Profile:
    """What ``Executable.profile`` measured: one entry per kernel.

    ``kernels`` is a list of dicts with ``name``, ``ops`` (the ops inside),
    ``seconds``, ``bytes`` (read plus written), ``flops`` (an estimate),
    ``bandwidth`` (bytes per second) and ``fraction`` (of the device's copy
    bandwidth, measured once with the backend's own copy; on a GPU that is
    the driver's copy, which a streaming kernel can beat by 10-20%).
    ``str(profile)`` is a table, slowest first.
    """

    def __init__(self, kernels, copy_bandwidth, device):
        self.copy_bandwidth = copy_bandwidth
        self.device = device
        self.kernels = []
        for k in kernels:
            bandwidth = k["bytes"] / k["seconds"] if k["seconds"] > 0 else 0.0
            self.kernels.append(dict(k, bandwidth=bandwidth, fraction=bandwidth / copy_bandwidth))

    @property
    def seconds(self):
        """The kernels' total time."""
        return sum(k["seconds"] for k in self.kernels)

    def __str__(self):
        lines = [f"profile on {self.device}: {len(self.kernels)} kernels, {self.seconds * 1e3:.3f} ms; "
                 f"copy bandwidth {self.copy_bandwidth / 1e9:.1f} GB/s",
                 f"{'kernel':<24} {'time':>10} {'GB/s':>8} {'of copy':>8} {'GFLOP/s':>9}  ops"]
        for k in sorted(self.kernels, key=lambda k: -k["seconds"]):
            gflops = k["flops"] / k["seconds"] / 1e9 if k["seconds"] > 0 else 0.0
            lines.append(f"{k['name'][:24]:<24} {k['seconds'] * 1e6:8.1f}us {k['bandwidth'] / 1e9:8.1f} "
                         f"{k['fraction']:8.0%} {gflops:9.2f}  {', '.join(k['ops'])}")
        return "\n".join(lines)

    __repr__ = __str__


class Executable:
    """A compiled graph. ``run(feeds)`` with feeds a dict keyed by placeholder
    (or a list in compile order); ``run_async``; ``explain()``."""

    def __init__(self, exe, feeds, graph):
        self._exe = exe
        self._feeds = feeds
        self.graph = graph

    @property
    def feeds(self):
        """The placeholders fed, in the order a list of feeds follows."""
        return list(self._feeds)

    @property
    def targets(self):
        """The target tensors, in the order of the results."""
        return [self.graph._wrap(t) for t in self._exe.targets]

    def cuda_sources(self):
        """The CUDA C the code generator writes for each kernel of the latest plan.

        One entry per kernel in step order; ``None`` where the generator does
        not render that kind of kernel yet. Each is specialized to the plan's
        shapes and dtypes and is compiled after the embedded prelude (the
        portable scalar math). Needs no GPU.
        """
        return self._exe._cuda_sources()

    def __repr__(self):
        feeds = ", ".join(f"{f.name}: {f.dtype}{tuple(f.shape) if f.shape is not None else '(*)'}"
                          for f in self._feeds)
        kernels = sum(1 for kind, _ in self._exe.steps() if kind == "kernel")
        compiled = f"{kernels} kernel{'s' * (kernels != 1)}" if self._exe.steps() else "not compiled yet"
        return f"<ts.Executable feeds=({feeds}) targets={[t.name for t in self.targets]} {compiled}>"

    def to_dot(self):
        """Graphviz source of the operations this executable runs, each fused
        kernel drawn as a cluster (for the signature compiled last)."""
        return executable_to_dot(self)

    def to_svg(self, path):
        """Renders ``to_dot()`` to an SVG file (needs the graphviz package)."""
        return render_svg(self.to_dot(), path)

    def _ordered(self, feeds, what="run"):
        """Feed values in compile order (validated when keyed by placeholder)."""
        feeds = feeds or {}
        if isinstance(feeds, dict):
            known = {id(f) for f in self._feeds}
            for k in feeds:
                if id(k) not in known:
                    name = getattr(k, "name", repr(k))
                    raise _core.FeedError(f"{what}: '{name}' is not a feed of this executable; feeds are "
                                          f"{[f.name for f in self._feeds]}")
            missing = [f.name for f in self._feeds if f not in feeds]
            if missing:
                raise _core.FeedError(f"{what}: missing feeds for placeholders {missing}")
            return [feeds[f] for f in self._feeds]
        return feeds

    def run(self, feeds=None):
        """Run once; returns the targets as NDArrays. The fast path is a list
        of NDArrays or NumPy arrays of the placeholders' dtypes."""
        if type(feeds) is list:
            return self._exe.run_objects(feeds)
        return self._exe.run_objects(self._ordered(feeds))

    def _arrays(self, feeds, what):
        """The feeds as NDArrays, in compile order (FeedError on a wrong count)."""
        values = list(self._ordered(feeds, what))
        if len(values) != len(self._feeds):
            raise _core.FeedError(f"{what}: got {len(values)} feeds; expected {len(self._feeds)}")
        return [_core.to_feed(v, ph.dtype, ph.name) for ph, v in zip(self._feeds, values)]

    def run_async(self, feeds=None):
        """Like ``run`` but returns a ``ts.Future``; many runs may be in flight."""
        return Future(self._exe.run_async(self._arrays(feeds, "run")))

    def profile(self, feeds=None):
        """Run once, kernel by kernel, and return a ``ts.Profile``: each
        kernel's time, bytes moved, arithmetic, and the fraction of the
        device's copy bandwidth it reached. The run is a real one (variables
        are assigned); each kernel is waited for before the next starts."""
        return Profile(self._exe.profile(self._arrays(feeds, "profile")), self._exe.copy_bandwidth(),
                       str(self._exe.device))

    def explain(self, feeds=None):
        """The plan: kernels with the ops inside each, bytes moved, buffers and
        peak memory. With ``feeds`` ({placeholder: TensorType or array}), the
        plan for that signature; else every signature compiled so far."""
        if feeds is None:
            return self._exe.explain()
        types = [TensorType.of(v) for v in self._ordered(feeds, "explain")]
        if len(types) != len(self._feeds):
            raise _core.FeedError(f"explain: got {len(types)} feed types; expected {len(self._feeds)}")
        return self._exe.explain_for([(None if t.shape is None else list(t.shape), t.dtype) for t in types])
