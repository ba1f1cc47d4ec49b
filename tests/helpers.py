"""Shared test machinery: running ops on random inputs against NumPy in
float64, per-dtype tolerances, random (broadcast) shapes, and the registry
that proves every registered op is tested."""
import zlib

import numpy as np

import tensorstitch as ts

COVERED = set()


def covers(*names):
    """Marks a test as covering these op types (see test_coverage.py)."""
    COVERED.update(names)

    def mark(fn):
        return fn
    return mark


FLOATS = [ts.float16, ts.bfloat16, ts.float32, ts.float64]
INTS = [ts.int8, ts.uint8, ts.int32, ts.int64]
NUMERIC = INTS + FLOATS
ALL = [ts.bool] + NUMERIC

# (rtol, atol) by result dtype; integers and bool are exact.
TOL = {ts.float64: (1e-10, 1e-12), ts.float32: (2e-5, 2e-6), ts.float16: (3e-3, 2e-3),
       ts.bfloat16: (2e-2, 1e-2)}


def np_dtype(dt):
    return np.float32 if dt == ts.bfloat16 else ts._dtypes.to_numpy_dtype(dt)


def as_input(values, dt):
    """(feed value, the exact values the op sees) for float64 ``values`` in dtype ``dt``."""
    if dt == ts.bfloat16:
        nd = ts.asarray(np.asarray(values, np.float32), dtype=ts.bfloat16)
        return nd, nd.numpy().astype(np.float64)
    if dt == ts.bool:
        arr = np.asarray(values) != 0
        return arr, arr
    arr = np.asarray(values).astype(np_dtype(dt))
    return arr, (arr.astype(np.float64) if ts._dtypes.is_floating(dt) else arr)


def to_numpy(nd):
    return np.asarray(nd.numpy())


def assert_close(got, want, dt, what=""):
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if dt in TOL:
        rtol, atol = TOL[dt]
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=rtol, atol=atol,
                                   equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want.astype(got.dtype), err_msg=what)


def random_shape(rng, rank=None, dims=(0, 1, 2, 3, 4, 5), zero_prob=0.1):
    rank = int(rng.integers(0, 4)) if rank is None else rank
    choices = [d for d in dims if d != 0]
    shape = [int(rng.choice(choices)) for _ in range(rank)]
    if rank and rng.random() < zero_prob:
        shape[int(rng.integers(rank))] = 0
    return tuple(shape)


def broadcast_shapes(rng, n, rank=None):
    """n shapes that broadcast together (some dims 1, some leading dims dropped)."""
    out = random_shape(rng, rank)
    shapes = []
    for _ in range(n):
        keep = int(rng.integers(0, len(out) + 1)) if rng.random() < 0.3 else len(out)
        s = [1 if rng.random() < 0.25 else d for d in out[len(out) - keep:]]
        shapes.append(tuple(s))
    return shapes


def dynamic(shape, rng):
    """The placeholder shape for ``shape``: some dims -1 (resolved at run time)."""
    return tuple(-1 if rng.random() < 0.5 else d for d in shape)


def run_graph(build, feeds, rng=None, dtypes=None):
    """Builds ``build(g, *placeholders)`` over placeholders shaped like
    ``feeds`` (with random -1 dims when ``rng`` is given), runs it and
    returns the outputs as NumPy arrays (a list if build returns several)."""
    g = ts.Graph()
    phs = []
    for i, f in enumerate(feeds):
        a = f if isinstance(f, ts.NDArray) else np.asarray(f)
        dt = a.dtype if isinstance(a, ts.NDArray) else ts.as_dtype(a.dtype)
        shape = a.shape if rng is None else dynamic(a.shape, rng)
        phs.append(g.placeholder(shape, dt, name=f"in{i}"))
    out = build(g, *phs)
    many = isinstance(out, (list, tuple))
    outs = list(out) if many else [out]
    results = g.run(dict(zip(phs, feeds)), outs)
    results = [to_numpy(r) for r in results]
    return results if many else results[0]


def seed_of(*parts):
    """A random seed fixed by the parts (str hashes change per process)."""
    return zlib.crc32(repr(parts).encode())
