"""softmax and log_softmax against SciPy, their gradients, stability."""
import numpy as np
import pytest
import scipy.special as sp

import tensorstitch as ts
from gradcheck import check_gradients
from helpers import FLOATS, as_input, assert_close, covers, random_shape, run_graph


@covers("softmax", "log_softmax")
@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.name)
def test_softmax_matches_scipy(dt):
    rng = np.random.default_rng(1)
    for _ in range(4):
        shape = random_shape(rng, rank=int(rng.integers(1, 4)))
        axis = int(rng.integers(-len(shape), len(shape)))
        feed, ex = as_input(rng.normal(0, 3, shape), dt)
        got = run_graph(lambda g, x: [g.softmax(x, axis), g.log_softmax(x, axis)], [feed], rng)
        assert_close(got[0], sp.softmax(ex, axis), dt)
        assert_close(got[1], sp.log_softmax(ex, axis), dt)


def test_softmax_is_stable_for_large_inputs():
    x = np.array([[1000.0, 1000.0, -1000.0], [-np.inf, 0.0, -np.inf]], np.float32)
    got = run_graph(lambda g, a: [g.softmax(a), g.log_softmax(a)], [x])
    np.testing.assert_allclose(got[0], [[0.5, 0.5, 0], [0, 1, 0]], atol=1e-7)
    np.testing.assert_allclose(got[1][0, :2], np.log([0.5, 0.5]), rtol=1e-6)


def test_softmax_gradients():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 4, 2))
    for axis in (-1, 0, 1):
        check_gradients(lambda g, a: [g.softmax(a, axis), g.log_softmax(a, axis)], [x], rng=rng)


def test_softmax_rejects_integers():
    g = ts.Graph()
    with pytest.raises(ts.DTypeError, match="softmax.*int32.*floating"):
        g.softmax(g.placeholder((2, 3), ts.int32))
