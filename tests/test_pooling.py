"""max_pool2d and avg_pool2d against a direct-loop float64 reference: random
shapes, kernels, strides, VALID/SAME/explicit padding, both layouts, a
zero-sized batch; gradients by finite differences; bad input."""
import numpy as np
import pytest

import tensorstitch as ts
from gradcheck import check_gradients
from helpers import covers, run_graph


def same_pads(n, k, s):
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def pool_reference(x, kernel, strides, padding, layout, kind):
    """Direct loops over NCHW (an NHWC input is transposed there and back)."""
    if layout == "NHWC":
        x = x.transpose(0, 3, 1, 2)
    n, c, h, w = x.shape
    (kh, kw), (sh, sw) = kernel, strides
    if padding == "VALID":
        pads = ((0, 0), (0, 0))
    elif padding == "SAME":
        pads = (same_pads(h, kh, sh), same_pads(w, kw, sw))
    else:
        pads = padding
    ho = (h + sum(pads[0]) - kh) // sh + 1
    wo = (w + sum(pads[1]) - kw) // sw + 1
    out = np.zeros((n, c, ho, wo))
    for i in range(ho):
        for j in range(wo):
            r0, c0 = i * sh - pads[0][0], j * sw - pads[1][0]
            rows = [r for r in range(r0, r0 + kh) if 0 <= r < h]
            cols = [q for q in range(c0, c0 + kw) if 0 <= q < w]
            win = x[:, :, rows][:, :, :, cols].reshape(n, c, len(rows) * len(cols))
            out[:, :, i, j] = win.max(-1) if kind == "max" else win.mean(-1)
    return out.transpose(0, 2, 3, 1) if layout == "NHWC" else out


def random_case(rng):
    kernel = tuple(int(k) for k in rng.integers(1, 4, 2))
    strides = tuple(int(s) for s in rng.integers(1, 4, 2))
    h, w = (int(kernel[0] + rng.integers(0, 5)), int(kernel[1] + rng.integers(0, 5)))
    padding = ["VALID", "SAME", ((int(rng.integers(0, kernel[0])), int(rng.integers(0, kernel[0]))),
                                 (int(rng.integers(0, kernel[1])), int(rng.integers(0, kernel[1]))))][int(rng.integers(0, 3))]
    layout = ["NCHW", "NHWC"][int(rng.integers(0, 2))]
    n, c = int(rng.integers(0, 3)), int(rng.integers(1, 4))
    shape = (n, c, h, w) if layout == "NCHW" else (n, h, w, c)
    return shape, kernel, strides, padding, layout


@covers("pool2d", "pool2d_grad")
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_matches_direct_loops(kind):
    rng = np.random.default_rng(31 if kind == "max" else 32)
    for _ in range(25):
        shape, kernel, strides, padding, layout = random_case(rng)
        desc = ts.Pool2dDescriptor(kernel, strides, padding, layout)
        x = rng.normal(size=shape)
        got = run_graph(lambda g, a: getattr(g, f"{kind}_pool2d")(a, desc), [x])
        want = pool_reference(x, kernel, strides, padding, layout, kind)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=repr(desc))
        got32 = run_graph(lambda g, a: getattr(g, f"{kind}_pool2d")(a, desc), [x.astype(np.float32)])
        np.testing.assert_allclose(got32, want, rtol=1e-5, atol=1e-6, err_msg=repr(desc))


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_gradients(kind):
    rng = np.random.default_rng(33)
    for layout, padding in (("NCHW", "SAME"), ("NHWC", ((1, 0), (0, 1))), ("NCHW", "VALID")):
        desc = ts.Pool2dDescriptor((2, 3), (2, 1), padding, layout)
        shape = (2, 3, 5, 4) if layout == "NCHW" else (2, 5, 4, 3)
        x = rng.permutation(np.prod(shape)).reshape(shape) / 7.0  # distinct values: no ties for the maximum
        check_gradients(lambda g, a: getattr(g, f"{kind}_pool2d")(a, desc), [x], rng=rng, dynamic_dims=False)


def test_max_pool_gradient_goes_to_the_first_maximum_and_nan_wins():
    g = ts.Graph()
    x = g.placeholder((1, 1, 2, 4), ts.float64)
    y = g.max_pool2d(x, ts.Pool2dDescriptor(2))
    dx = g.gradients(g.reduce_sum(y), [x])[x]
    ties = np.array([[[[1.0, 1.0, 0.0, 3.0], [1.0, 1.0, 3.0, 3.0]]]])
    out, grad = g.run({x: ties}, [y, dx])
    np.testing.assert_array_equal(out.numpy(), [[[[1.0, 3.0]]]])
    np.testing.assert_array_equal(grad.numpy(), [[[[1, 0, 0, 1], [0, 0, 0, 0]]]])
    with_nan = ties.copy()
    with_nan[0, 0, 1, 1] = np.nan
    out, grad = g.run({x: with_nan}, [y, dx])
    assert np.isnan(out.numpy()[0, 0, 0, 0]) and grad.numpy()[0, 0, 1, 1] == 1 and grad.numpy()[0, 0, 0, 0] == 0
    with pytest.raises(ts.ShapeError, match=r"pool2d_grad.*not shaped like the pooled float64\(1, 1, 1, 2\)"):
        g._op1("pool2d_grad", [x, x], mode="max", layout="NCHW", kernel=[2, 2], strides=[2, 2], dilations=[1, 1], pads=[0, 0, 0, 0])


def test_two_by_two_max_pool_halves_the_image():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    got = run_graph(lambda g, a: g.max_pool2d(a, ts.Pool2dDescriptor(2)), [x])
    np.testing.assert_array_equal(got, [[[[5, 7], [13, 15]]]])


def test_bad_pooling_input_raises():
    g = ts.Graph()
    x = g.placeholder((1, 2, 4, 4))
    with pytest.raises(ts.ShapeError, match=r"max_pool2d 'p'.*window \(5\) is larger than the padded input \(4\)"):
        g.max_pool2d(x, ts.Pool2dDescriptor(5), name="p")
    with pytest.raises(ts.GraphError, match="unknown data layout 'NWHC'"):
        g.avg_pool2d(x, ts.Pool2dDescriptor(2, data_layout="NWHC"))
    with pytest.raises(ts.GraphError, match="unknown padding 'FULL'"):
        g.avg_pool2d(x, ts.Pool2dDescriptor(2, padding="FULL"))
    with pytest.raises(ts.ShapeError, match="strides must be >= 1"):
        g.max_pool2d(x, ts.Pool2dDescriptor(2, 0))
    with pytest.raises(ts.ShapeError, match="expected a 4-D"):
        g.max_pool2d(g.placeholder((4, 4)), ts.Pool2dDescriptor(2))
    with pytest.raises(ts.DTypeError, match="float"):
        g.max_pool2d(g.placeholder((1, 1, 4, 4), ts.int32), ts.Pool2dDescriptor(2))
    with pytest.raises(TypeError, match="Pool2dDescriptor"):
        g.max_pool2d(x, (2, 2))
    with pytest.raises(TypeError, match="kernel"):
        ts.Pool2dDescriptor((2, 2, 2))
