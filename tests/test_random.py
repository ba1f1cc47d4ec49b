"""random_uniform, random_normal and dropout: Philox 4x32-10 checked against
its published known answer and a NumPy implementation, reproducibility for a
seed and run count, independence from the thread count, moments and a
Kolmogorov-Smirnov test, dropout's scaling and gradient, and bad input."""
import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.stats as st

import tensorstitch as ts
from helpers import covers

M0, M1, W0, W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85
MASK = 0xFFFFFFFF


def philox(i, run, k0, k1):
    """The first word of Philox 4x32-10 for counters (i, run), vectorized over i."""
    i = np.asarray(i, np.uint64)
    c = [i & MASK, i >> np.uint64(32), np.full_like(i, run & MASK), np.full_like(i, run >> 32)]
    k0, k1 = np.uint64(k0), np.uint64(k1)
    for _ in range(10):
        p0, p1 = np.uint64(M0) * c[0], np.uint64(M1) * c[2]
        c = [((p1 >> np.uint64(32)) ^ c[1] ^ k0) & MASK, p1 & MASK, ((p0 >> np.uint64(32)) ^ c[3] ^ k1) & MASK, p0 & MASK]
        k0, k1 = (k0 + np.uint64(W0)) & np.uint64(MASK), (k1 + np.uint64(W1)) & np.uint64(MASK)
    return c[0]


def uniform_reference(n, seed, node, run):
    k1 = ((seed >> 32) ^ (node * W0)) & MASK
    return (philox(np.arange(n), run, seed & MASK, k1) >> np.uint64(8)).astype(np.float64) / 2**24


def draw(build, runs=1):
    g = ts.Graph()
    t = build(g)
    return [np.asarray(g.run({}, [t])[0]) for _ in range(runs)]


@covers("random_uniform", "random_normal")
def test_philox_known_answer_and_numpy_reference():
    # Random123's known answer for counter 0, key 0: 0x6627e8d5 is the first word.
    assert int(philox([0], 0, 0, 0)[0]) == 0x6627E8D5
    (first,) = draw(lambda g: g.random_uniform((1,), dtype=ts.float64, seed=0))
    assert first[0] == (0x6627E8D5 >> 8) / 2**24
    runs = draw(lambda g: g.random_uniform((5000,), dtype=ts.float64, seed=(5 << 32) + 9), runs=3)
    for run, got in enumerate(runs):
        np.testing.assert_array_equal(got, uniform_reference(5000, (5 << 32) + 9, 0, run))


def test_reproducible_for_a_seed_and_run_count():
    a = draw(lambda g: g.random_normal((1000,), seed=42), runs=3)
    b = draw(lambda g: g.random_normal((1000,), seed=42), runs=3)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], a[1]) and not np.array_equal(a[1], a[2])
    c = draw(lambda g: g.random_normal((1000,), seed=43))[0]
    assert not np.array_equal(a[0], c)
    # Two ops with one seed draw different numbers.
    g = ts.Graph()
    u, v = g.random_uniform((100,), seed=1), g.random_uniform((100,), seed=1)
    uu, vv = g.run({}, [u, v])
    assert not np.array_equal(np.asarray(uu), np.asarray(vv))


PROBE = """
import hashlib, numpy as np, tensorstitch as ts
g = ts.Graph()
t = [g.random_uniform((1 << 18,), seed=3), g.random_normal((1 << 18,), 2.0, 0.5, ts.float64, seed=3)]
print(hashlib.sha256(b"".join(np.asarray(r).tobytes() for r in g.run({}, t))).hexdigest())
"""


def test_values_do_not_depend_on_the_thread_count():
    digests = set()
    for threads in ("1", "2", "4"):
        env = dict(os.environ, TENSORSTITCH_NUM_THREADS=threads, TENSORSTITCH_DEVICE="cpu")
        out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        digests.add(out.stdout.strip())
    assert len(digests) == 1


@pytest.mark.parametrize("dt", [ts.float32, ts.float64, ts.float16, ts.bfloat16], ids=lambda d: d.name)
def test_moments_and_kolmogorov_smirnov(dt):
    n = 200_000
    (u,) = draw(lambda g: g.random_uniform((n,), -2.0, 3.0, dt, seed=11))
    (z,) = draw(lambda g: g.random_normal((n,), 1.5, 2.0, dt, seed=12))
    u, z = u.astype(np.float64), z.astype(np.float64)
    assert u.min() >= -2.0 and u.max() <= 3.0
    assert abs(u.mean() - 0.5) < 0.02 and abs(u.var() - 25 / 12) < 0.05
    assert abs(z.mean() - 1.5) < 0.02 and abs(z.std() - 2.0) < 0.02
    if dt in (ts.float32, ts.float64):  # narrower dtypes round the draws onto a coarse grid
        assert st.kstest(u, st.uniform(-2, 5).cdf).pvalue > 1e-3
        assert st.kstest(z, st.norm(1.5, 2.0).cdf).pvalue > 1e-3


def test_shape_like_a_tensor_of_unknown_size():
    g = ts.Graph()
    x = g.placeholder((-1, 3))
    u = g._op1("random_uniform", [x], None, dtype=ts.float32, seed=1, low=0.0, high=1.0)
    (got,) = g.run({x: np.zeros((5, 3), np.float32)}, [u])
    assert np.asarray(got).shape == (5, 3)


def test_dropout_scales_and_its_gradient_uses_the_mask():
    g = ts.Graph()
    x = g.placeholder((-1, 100), ts.float64)
    y = g.dropout(x, 0.3, seed=5)
    grad = g.gradients(g.reduce_sum(y * 2.0), [x])[x]
    xv = np.random.default_rng(0).normal(size=(200, 100)) + 5.0  # nonzero everywhere
    out, gx = [np.asarray(r) for r in g.run({x: xv}, [y, grad])]
    kept = out != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(out[kept], xv[kept] / 0.7, rtol=1e-12)
    np.testing.assert_allclose(gx, np.where(kept, 2.0 / 0.7, 0.0), rtol=1e-12)
    (same,) = g.run({x: xv}, [g.dropout(x, 0.0)])
    np.testing.assert_array_equal(np.asarray(same), xv)


def test_bad_input_raises_naming_the_op():
    g = ts.Graph()
    with pytest.raises(ts.GraphError, match=r"dropout 'd'.*rate must be in \[0, 1\)"):
        g.dropout(g.placeholder((2,)), 1.0, name="d")
    with pytest.raises(ts.DTypeError, match="dropout.*int32"):
        g.dropout(g.placeholder((2,), ts.int32), 0.5)
    with pytest.raises(ts.ShapeError, match="random_uniform.*negative dimension"):
        g.random_uniform((2, -1))
    with pytest.raises(ts.DTypeError, match="random_normal.*int32.*float"):
        g.random_normal((2,), dtype=ts.int32)
    with pytest.raises(ts.ShapeError, match="low must be below high"):
        g.random_uniform((2,), 1.0, 1.0)
    with pytest.raises(ts.ShapeError, match="stddev must be >= 0"):
        g.random_normal((2,), 0.0, -1.0)
    with pytest.raises(TypeError, match="seed"):
        g.random_uniform((2,), seed=1.5)
