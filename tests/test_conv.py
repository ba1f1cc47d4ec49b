"""conv2d and conv2d_transpose against direct-loop float64 references:
random shapes, strides, dilations, VALID/SAME/explicit padding, both data
and weight layouts, groups (depthwise included), a zero-sized batch;
gradients in x and w by finite differences; bad input."""
import numpy as np
import pytest

import tensorstitch as ts
from gradcheck import check_gradients
from helpers import covers, run_graph


def same_pads(n, k, s):
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def conv_reference(x, w, strides, dilations, padding, groups):
    """x NCHW, w OIHW; direct loops over output positions and taps."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (dh, dw) = strides, dilations
    eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    pads = ((0, 0), (0, 0)) if padding == "VALID" else (
        (same_pads(h, eh, sh), same_pads(wd, ew, sw)) if padding == "SAME" else padding)
    xp = np.pad(x, ((0, 0), (0, 0), pads[0], pads[1]))
    ho, wo = (xp.shape[2] - eh) // sh + 1, (xp.shape[3] - ew) // sw + 1
    out = np.zeros((n, o, ho, wo))
    og = o // groups
    for gi in range(groups):
        xs = xp[:, gi * cg:(gi + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * dh:i * dh + (ho - 1) * sh + 1:sh, j * dw:j * dw + (wo - 1) * sw + 1:sw]
                out[:, gi * og:(gi + 1) * og] += np.einsum("nchw,oc->nohw", patch, w[gi * og:(gi + 1) * og, :, i, j])
    return out


def random_conv(rng):
    groups = int(rng.choice([1, 1, 2, 3]))
    cg, og = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    strides = tuple(int(s) for s in rng.integers(1, 3, 2))
    dilations = tuple(int(s) for s in rng.integers(1, 3, 2))
    h = (kh - 1) * dilations[0] + 1 + int(rng.integers(0, 4))
    wd = (kw - 1) * dilations[1] + 1 + int(rng.integers(0, 4))
    padding = ["VALID", "SAME", ((int(rng.integers(0, 3)), int(rng.integers(0, 3))),
                                 (int(rng.integers(0, 3)), int(rng.integers(0, 3))))][int(rng.integers(0, 3))]
    x = rng.normal(size=(int(rng.integers(0, 3)), groups * cg, h, wd))
    w = rng.normal(size=(groups * og, cg, kh, kw))
    return x, w, strides, dilations, padding, groups


def to_layouts(x, w, data_layout, weights_layout):
    return (x.transpose(0, 2, 3, 1) if data_layout == "NHWC" else x,
            w.transpose(2, 3, 1, 0) if weights_layout == "HWIO" else w)


def test_conv2d_matches_direct_loops():
    rng = np.random.default_rng(51)
    for case in range(40):
        x, w, strides, dilations, padding, groups = random_conv(rng)
        data_layout, weights_layout = ("NCHW", "NHWC")[case % 2], ("OIHW", "HWIO")[case // 2 % 2]
        desc = ts.Conv2dDescriptor(strides, dilations, padding, data_layout, weights_layout, groups)
        xl, wl = to_layouts(x, w, data_layout, weights_layout)
        got = run_graph(lambda g, a, b: g.conv2d(a, b, desc), [xl, wl])
        want = conv_reference(x, w, strides, dilations, padding, groups)
        if data_layout == "NHWC":
            want = want.transpose(0, 2, 3, 1)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10, err_msg=repr(desc))


def test_depthwise_convolution():
    rng = np.random.default_rng(52)
    x, w = rng.normal(size=(2, 4, 6, 6)), rng.normal(size=(4, 1, 3, 3))
    desc = ts.Conv2dDescriptor(padding="SAME", groups=4)
    got = run_graph(lambda g, a, b: g.conv2d(a, b, desc), [x, w])
    np.testing.assert_allclose(got, conv_reference(x, w, (1, 1), (1, 1), "SAME", 4), rtol=1e-10, atol=1e-12)


def test_conv2d_gradients():
    rng = np.random.default_rng(53)
    for desc, xs, ws in ((ts.Conv2dDescriptor(2, 1, "SAME"), (2, 2, 5, 5), (3, 2, 3, 3)),
                         (ts.Conv2dDescriptor(1, 2, ((1, 0), (0, 1)), "NHWC", "HWIO", groups=2), (1, 6, 6, 4),
                          (2, 2, 2, 4))):
        check_gradients(lambda g, a, b: g.conv2d(a, b, desc), [rng.normal(size=xs), rng.normal(size=ws)], rng=rng,
                        dynamic_dims=False)


def test_conv2d_transpose_is_the_input_gradient_and_doubles_with_stride_two():
    rng = np.random.default_rng(54)
    desc = ts.Conv2dDescriptor(strides=2, padding="SAME")
    w = rng.normal(size=(3, 2, 3, 3))  # a conv from 2 to 3 channels
    dy = rng.normal(size=(1, 3, 4, 4))
    got = run_graph(lambda g, a, b: g.conv2d_transpose(a, b, (1, 2, 8, 8), desc), [dy, w])
    assert got.shape == (1, 2, 8, 8)
    # <conv(z), dy> = <z, conv_transpose(dy)> for every z: check on the basis vectors.
    want = np.zeros((1, 2, 8, 8))
    for idx in np.ndindex(1, 2, 8, 8):
        z = np.zeros((1, 2, 8, 8))
        z[idx] = 1.0
        want[idx] = np.sum(conv_reference(z, w, (2, 2), (1, 1), "SAME", 1) * dy)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    check_gradients(lambda g, a, b: g.conv2d_transpose(a, b, (1, 2, 8, 8), desc), [dy, w], rng=rng, dynamic_dims=False)


def test_bad_convolution_input_raises():
    g = ts.Graph()
    x = g.placeholder((1, 3, 8, 8))
    with pytest.raises(ts.ShapeError, match=r"conv2d 'c'.*x has 3 channels.*take 2 per group"):
        g.conv2d(x, g.placeholder((4, 2, 3, 3)), name="c")
    with pytest.raises(ts.ShapeError, match="larger than the padded input"):
        g.conv2d(x, g.placeholder((4, 3, 9, 9)))
    with pytest.raises(ts.ShapeError, match="strides and dilations must be >= 1"):
        g.conv2d(x, g.placeholder((4, 3, 3, 3)), ts.Conv2dDescriptor(strides=0))
    with pytest.raises(ts.GraphError, match="unknown data layout 'CHWN'"):
        g.conv2d(x, g.placeholder((4, 3, 3, 3)), ts.Conv2dDescriptor(data_layout="CHWN"))
    with pytest.raises(ts.GraphError, match="unknown weights layout"):
        g.conv2d(x, g.placeholder((4, 3, 3, 3)), ts.Conv2dDescriptor(weights_layout="IOHW"))
    with pytest.raises(ts.DTypeError, match="one float dtype"):
        g.conv2d(x, g.placeholder((4, 3, 3, 3), ts.float64))
    with pytest.raises(ts.ShapeError, match="conv2d_transpose.*is not what a conv2d"):
        g.conv2d_transpose(g.placeholder((1, 4, 3, 3)), g.placeholder((4, 3, 3, 3)), (1, 3, 8, 8))
    with pytest.raises(TypeError, match="Conv2dDescriptor"):
        g.conv2d(x, g.placeholder((4, 3, 3, 3)), "SAME")


def im2col_reference(x, kernel, strides, dilations, pads):
    """x NHWC -> (N, Ho, Wo, kh * kw * C), taps in (kh, kw, c) order."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, strides, dilations
    xp = np.pad(x, ((0, 0), (pads[0], pads[1]), (pads[2], pads[3]), (0, 0)))
    ho = (xp.shape[1] - (kh - 1) * dh - 1) // sh + 1
    wo = (xp.shape[2] - (kw - 1) * dw - 1) // sw + 1
    taps = [xp[:, i * dh:i * dh + (ho - 1) * sh + 1:sh, j * dw:j * dw + (wo - 1) * sw + 1:sw]
            for i in range(kh) for j in range(kw)]
    return np.concatenate(taps, axis=3)


@covers("im2col", "col2im")
@pytest.mark.parametrize("seed", range(6))
def test_im2col_and_col2im_match_references(seed):
    rng = np.random.default_rng(seed)
    n, h, w, c = int(rng.integers(0, 3)), int(rng.integers(1, 7)), int(rng.integers(1, 7)), int(rng.integers(1, 4))
    kernel = [int(rng.integers(1, 4)), int(rng.integers(1, 4))]
    strides, dilations = [int(rng.integers(1, 3)) for _ in range(2)], [int(rng.integers(1, 3)) for _ in range(2)]
    pads = [int(rng.integers(0, 3)) for _ in range(4)]
    if any(h + pads[0] + pads[1] < (kernel[0] - 1) * dilations[0] + 1 or
           w + pads[2] + pads[3] < (kernel[1] - 1) * dilations[1] + 1 for _ in [0]):
        pads = [2 * kernel[0] * dilations[0]] * 2 + [2 * kernel[1] * dilations[1]] * 2
    geom = dict(kernel=kernel, strides=strides, dilations=dilations, pads=pads)
    x = rng.normal(size=(n, h, w, c))
    want = im2col_reference(x, kernel, strides, dilations, pads)
    got = run_graph(lambda g, t: g._op1("im2col", [t], **geom), [x], rng=rng)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # col2im is the adjoint: <im2col(x), y> == <x, col2im(y)>.
    y = rng.normal(size=want.shape)
    back = run_graph(lambda g, t: g._op1("col2im", [t], size=[h, w], **geom), [y])
    np.testing.assert_allclose(np.sum(want * y), np.sum(x * back), rtol=1e-10, atol=1e-10)
    if n:
        check_gradients(lambda g, t: g._op1("im2col", [t], **geom), [x], rng=rng, dynamic_dims=False)
        check_gradients(lambda g, t: g._op1("col2im", [t], size=[h, w], **geom), [y], rng=rng, dynamic_dims=False)


def test_bad_patch_attributes_raise():
    g = ts.Graph()
    x = g.placeholder((1, 4, 4, 2))
    geom = dict(kernel=[3, 3], strides=[1, 1], dilations=[1, 1], pads=[0, 0, 0, 0])
    with pytest.raises(ts.ShapeError, match=r"im2col.*kernel's extent 5 is larger than the padded input \(4\)"):
        g._op1("im2col", [x], **dict(geom, dilations=[2, 1]))
    with pytest.raises(ts.ShapeError, match=r"im2col.*strides must be 2 values >= 1"):
        g._op1("im2col", [x], **dict(geom, strides=[0, 1]))
    with pytest.raises(ts.ShapeError, match=r"im2col.*pads must be 4 values >= 0"):
        g._op1("im2col", [x], **dict(geom, pads=[0, -1, 0, 0]))
    with pytest.raises(ts.ShapeError, match=r"col2im.*not those of a \(5, 5\) image"):
        g._op1("col2im", [g._op1("im2col", [x], **geom)], size=[5, 5], **geom)
    with pytest.raises(ts.DTypeError, match=r"im2col.*floating"):
        g._op1("im2col", [g.placeholder((1, 4, 4, 2), ts.int32)], **geom)
