"""if_then_else, while_loop and for_loop against Python loops in float64:
data-dependent trip counts, 100 LSTM steps in one loop against 100 runs,
branches nested in loops, loops in loops, captured tensors, gradients by
finite differences, fusion inside bodies, and bad input."""
import numpy as np
import pytest

import tensorstitch as ts
from gradcheck import check_gradients
from helpers import covers, run_graph


def np_sigmoid(v):
    return 1 / (1 + np.exp(-v))


@covers("while_loop")
def test_while_loop_trip_count_depends_on_the_data():
    # Collatz steps: how many iterations depends on the fed value.
    def steps(n):
        k = 0
        while n != 1:
            n = n // 2 if n % 2 == 0 else 3 * n + 1
            k += 1
        return k

    g = ts.Graph()
    n0 = g.placeholder((), ts.int64)

    def body(n, k):
        even = g.equal(n % 2, 0)
        return [g.select(even, n // 2, 3 * n + 1), k + 1]

    n, k = g.while_loop(lambda n, k: n != 1, body, [n0, g.constant(0)])
    for start in (1, 6, 27, 97):
        got_n, got_k = g.run({n0: np.int64(start)}, [n, k])
        assert got_n.item() == 1 and got_k.item() == steps(start), start


def test_while_loop_on_arrays_of_run_time_size():
    # Halve x until its norm is below 1: the carried value has a -1 dim.
    g = ts.Graph()
    x0 = g.placeholder((-1,), ts.float64)
    x, = g.while_loop(lambda x: g.reduce_sum(x * x) >= 1.0, lambda x: [x * 0.5], [x0])
    for size in (0, 3, 7):
        v = np.random.default_rng(size).normal(size=size) * 10
        want = v.copy()
        while np.sum(want * want) >= 1:
            want = want * 0.5
        np.testing.assert_allclose(g.run({x0: v}, [x])[0].numpy(), want)


def lstm_step(g, x, h, c, wi, wr, b):
    return g.lstm_cell(x, h, c, wi, wr, b)


@covers("for_loop")
def test_a_for_loop_of_100_lstm_steps_equals_100_separate_runs():
    rng = np.random.default_rng(5)
    B, I, H, T = 2, 3, 4, 100
    wi, wr, b = rng.normal(0, 0.4, (I, 4 * H)), rng.normal(0, 0.4, (H, 4 * H)), rng.normal(0, 0.1, 4 * H)
    xs = rng.normal(size=(T, B, I))
    g = ts.Graph()
    x_seq = g.placeholder((T, B, I), ts.float64)
    h0 = g.placeholder((B, H), ts.float64)
    c0 = g.placeholder((B, H), ts.float64)
    W = [g.constant(a) for a in (wi, wr, b)]

    def body(i, h, c):
        x = g.gather(x_seq, i, axis=0)
        return list(lstm_step(g, x, h, c, *W))

    h_T, c_T = g.for_loop(T, body, [h0, c0])
    zeros = np.zeros((B, H))
    got_h, got_c = g.run({x_seq: xs, h0: zeros, c0: zeros}, [h_T, c_T])
    # The same cell, one run per step, state round-tripping through the host.
    x1 = g.placeholder((B, I), ts.float64)
    h1, c1 = lstm_step(g, x1, h0, c0, *W)
    h, c = zeros, zeros
    for t in range(T):
        h, c = (r.numpy() for r in g.run({x1: xs[t], h0: h, c0: c}, [h1, c1]))
    np.testing.assert_allclose(got_h.numpy(), h, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got_c.numpy(), c, rtol=1e-12, atol=1e-12)
    # And the NumPy reference.
    rh, rc = zeros, zeros
    for t in range(T):
        i, f, gg, o = np.split(xs[t] @ wi + rh @ wr + b, 4, axis=-1)
        rc = np_sigmoid(f) * rc + np_sigmoid(i) * np.tanh(gg)
        rh = np_sigmoid(o) * np.tanh(rc)
    np.testing.assert_allclose(got_h.numpy(), rh, rtol=1e-10)


@covers("if_then_else")
def test_if_nested_inside_a_loop():
    # Sum of the odd steps' squares minus the even steps' values.
    g = ts.Graph()
    n = g.placeholder((), ts.int32)

    def body(i, acc):
        fi = g.cast(i, ts.float64)
        odd = g.equal(i % 2, 1)
        return g.if_then_else(odd, lambda: [acc + fi * fi], lambda: [acc - fi])

    total, = g.for_loop(n, body, [g.constant(0.0, ts.float64)])
    for count in (0, 1, 5, 12):
        want = sum(i * i if i % 2 else -i for i in range(count))
        assert g.run({n: np.int32(count)}, [total])[0].item() == want


def test_if_then_else_picks_a_branch_on_the_device():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))

    def build(g, a, b, p):
        return g.if_then_else(p, lambda: [a @ b, g.reduce_sum(a)], lambda: [(a @ b) * 0.0 - 1, g.reduce_max(a)])

    for pred in (True, False):
        prod, red = run_graph(build, [a, b, np.bool_(pred)])
        np.testing.assert_allclose(prod, a @ b if pred else -np.ones((3, 2)))
        np.testing.assert_allclose(red, a.sum() if pred else a.max())


def test_loops_in_loops_and_captured_tensors():
    # out = sum_i sum_j (w * i + j): an inner loop reading the outer's index
    # and a tensor from outside both.
    g = ts.Graph()
    w = g.placeholder((2,), ts.float64)

    def outer(i, acc):
        def inner(j, a):
            return [a + w * g.cast(i, ts.float64) + g.cast(j, ts.float64)]
        return g.for_loop(3, inner, [acc])

    out, = g.for_loop(4, outer, [w * 0.0])
    wv = np.array([0.5, -2.0])
    want = sum(wv * i + j for i in range(4) for j in range(3))
    np.testing.assert_allclose(g.run({w: wv}, [out])[0].numpy(), want)


def test_trip_count_as_a_tensor_and_zero_iterations():
    g = ts.Graph()
    n = g.placeholder((), ts.int64)
    x = g.placeholder((3,), ts.float32)
    y, = g.for_loop(n, lambda i, v: [v * 2.0], [x])
    v = np.array([1, 2, 3], np.float32)
    np.testing.assert_array_equal(g.run({n: np.int64(4), x: v}, [y])[0].numpy(), v * 16)
    got = g.run({n: np.int64(0), x: v}, [y])[0]
    np.testing.assert_array_equal(got.numpy(), v)
    got = g.run({n: np.int64(-3), x: v}, [y])[0]  # like range(-3): no step
    np.testing.assert_array_equal(got.numpy(), v)
    z, = g.for_loop(0, lambda i, v: [v + 1.0], [x])
    np.testing.assert_array_equal(g.run({x: v}, [z])[0].numpy(), v)


def test_a_body_is_compiled_with_fusion():
    g = ts.Graph()
    x = g.placeholder((64,), ts.float32)
    y, = g.for_loop(3, lambda i, v: [g.tanh(v * 0.5 + 1.0) * 2.0], [x])
    exe = g.compile({x: ts.TensorType((64,), ts.float32)}, [y])
    text = exe.explain()
    assert "control: for_loop" in text and "body 0:" in text
    body = text.split("body 0:")[1]
    assert "1 kernel," in body and "fused" in body, text
    v = np.linspace(-1, 1, 64).astype(np.float32)
    want = v.astype(np.float64)
    for _ in range(3):
        want = np.tanh(want * 0.5 + 1.0) * 2.0
    np.testing.assert_allclose(exe.run({x: v})[0].numpy(), want, rtol=1e-5)


def test_random_numbers_differ_per_step_and_repeat_per_run():
    g = ts.Graph()
    draws, = g.for_loop(4, lambda i, acc: [g.concat([acc[1:], g.random_uniform((1,), seed=7)], 0)],
                        [g.constant(np.zeros(4, np.float32))])
    exe = g.compile({}, [draws])
    first = exe.run({})[0].numpy()
    assert len(set(first.tolist())) == 4
    assert not np.array_equal(first, exe.run({})[0].numpy())


@covers("for_loop", "if_then_else")
def test_gradients_through_a_for_loop_match_finite_differences():
    rng = np.random.default_rng(3)
    B, I, H, T = 2, 3, 2, 6
    xs, h0, c0 = rng.normal(size=(T, B, I)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    wi, wr, b = rng.normal(0, 0.5, (I, 4 * H)), rng.normal(0, 0.5, (H, 4 * H)), rng.normal(0, 0.1, 4 * H)

    def build(g, xs, h0, c0, wi, wr, b):
        def body(i, h, c):
            return list(g.lstm_cell(g.gather(xs, i, axis=0), h, c, wi, wr, b))
        return g.for_loop(T, body, [h0, c0])

    check_gradients(build, [xs, h0, c0, wi, wr, b], rng=rng, dynamic_dims=False)
    # A carried integer, a branch in the body and a loop in a loop.
    def mixed(g, x, w):
        def body(i, v, k):
            v = g.if_then_else(g.equal(i % 2, 0), lambda: [g.sin(v) * w], lambda: [v * v + w])[0]
            v, = g.for_loop(2, lambda j, u: [u * 0.9 + g.cast(j, ts.float64) * w], [v])
            return [v, k + 1]
        return g.for_loop(3, body, [x, g.constant(0)])[0]

    check_gradients(mixed, [rng.normal(size=(3,)), rng.normal(size=(3,))], rng=rng)


def test_gradients_through_if_then_else_match_finite_differences():
    rng = np.random.default_rng(4)
    for pred in (True, False):
        def build(g, a, b):
            p = g.constant(pred)
            return g.if_then_else(p, lambda: [g.exp(a) * b, a], lambda: [a * b * b, g.sin(b)])
        check_gradients(build, [rng.normal(size=(2, 3)), rng.normal(size=(2, 3))], rng=rng)


def test_gradients_inside_a_body():
    # d/dv sum(v^2) taken inside the body: gradient descent on x^2 in a loop.
    g = ts.Graph()
    x = g.placeholder((2,), ts.float64)

    def step(i, v):
        grad = g.gradients(g.reduce_sum(v * v), [v])[v]
        return [v - 0.25 * grad]

    y, = g.for_loop(3, step, [x])
    np.testing.assert_allclose(g.run({x: np.array([8.0, -4.0])}, [y])[0].numpy(), [1.0, -0.5])


def test_bad_control_flow_raises_naming_the_op():
    g = ts.Graph()
    x = g.placeholder((3,), ts.float32, name="x")
    with pytest.raises(ts.ShapeError, match=r"for_loop 'grow'.*shape of carried value 0 from float32\(3,\) "
                                            r"to float32\(6,\)"):
        g.for_loop(2, lambda i, v: [g.concat([v, v], 0)], [x], name="grow")
    with pytest.raises(ts.DTypeError, match=r"while_loop 'w'.*dtype of carried value 0 from float32 to float64"):
        g.while_loop(lambda v: g.reduce_sum(v) > 0, lambda v: [g.cast(v, ts.float64)], [x], name="w")
    with pytest.raises(ts.GraphError, match=r"for_loop 'n'.*returns 2 values; expected 1"):
        g.for_loop(2, lambda i, v: [v, v], [x], name="n")
    with pytest.raises(ts.DTypeError, match=r"while_loop.*condition has dtype float32; expected bool"):
        g.while_loop(lambda v: g.reduce_sum(v), lambda v: [v], [x])
    with pytest.raises(ts.ShapeError, match=r"while_loop.*condition has shape \(3,\); expected a scalar"):
        g.while_loop(lambda v: v > 0, lambda v: [v], [x])
    with pytest.raises(ts.DTypeError, match=r"if_then_else 'p'.*predicate has dtype float32; expected bool"):
        g.if_then_else(g.reduce_sum(x), lambda: [x], lambda: [x], name="p")
    with pytest.raises(ts.ShapeError, match=r"if_then_else 'b'.*result 0 is float32\(3,\) in the then branch "
                                            r"and float32\(1,\)"):
        g.if_then_else(g.constant(True), lambda: [x], lambda: [x[:1]], name="b")
    with pytest.raises(ts.GraphError, match=r"if_then_else.*branches return 1 and 2 values"):
        g.if_then_else(g.constant(True), lambda: [x], lambda: [x, x])
    with pytest.raises(ts.ShapeError, match=r"for_loop 'neg'.*trip count is -1; expected >= 0"):
        g.for_loop(-1, lambda i, v: [v], [x], name="neg")
    with pytest.raises(ts.DTypeError, match=r"for_loop.*trip count has dtype float32"):
        g.for_loop(g.constant(2.0), lambda i, v: [v], [x])
    with pytest.raises(TypeError, match=r"for_loop.*expected a function"):
        g.for_loop(2, "body", [x])
    with pytest.raises(TypeError, match=r"for_loop.*initial_values must be a list"):
        g.for_loop(2, lambda i, v: [v], x)
    with pytest.raises(ts.GraphError, match=r"placeholder 'p'.*inside a control-flow body"):
        g.for_loop(2, lambda i, v: [v + g.placeholder((3,), name="p")], [x])
    leaked = []
    g.for_loop(2, lambda i, v: leaked.append(v * 2) or [v], [x])
    with pytest.raises(ts.GraphError, match=r"inside a control-flow body; only the body's results"):
        g.exp(leaked[0])
    # A failed body leaves the graph usable: new ops go to the graph again.
    with pytest.raises(ZeroDivisionError):
        g.for_loop(2, lambda i, v: [v / 0 if False else 1 / 0], [x])
    y = g.exp(x)
    assert y.graph is g and g.run({x: np.zeros(3, np.float32)}, [y])[0].numpy().tolist() == [1, 1, 1]
    # Gradients that cannot be taken.
    n = g.placeholder((), ts.int32)
    w, = g.while_loop(lambda v: g.reduce_sum(v) < 10, lambda v: [v * 2], [x])
    with pytest.raises(ts.GraphError, match=r"while_loop.*no gradient"):
        g.gradients(g.reduce_sum(w), [x])
    d, = g.for_loop(n, lambda i, v: [v * 2], [x])
    with pytest.raises(ts.GraphError, match=r"for_loop.*trip count known when the graph is built"):
        g.gradients(g.reduce_sum(d), [x])
    r, = g.for_loop(2, lambda i, v: [v * g.random_uniform((3,), seed=1)], [x])
    with pytest.raises(ts.GraphError, match=r"for_loop.*draws random numbers"):
        g.gradients(g.reduce_sum(r), [x])


def test_a_loop_error_on_the_device_changes_no_variable():
    g = ts.Graph()
    v = g.variable(np.zeros(3, np.float32), name="v")
    idx = g.placeholder((), ts.int32)
    table = g.constant(np.arange(4, dtype=np.float32))
    y, = g.for_loop(3, lambda i, acc: [acc + g.gather(table, idx)], [v])
    step = g.assign(v, y)
    g.run({idx: np.int32(1)}, [], [step])
    np.testing.assert_array_equal(g.variable_value(v).numpy(), [3, 3, 3])
    with pytest.raises(ts.ShapeError, match="gather"):
        g.run({idx: np.int32(9)}, [], [step])
    np.testing.assert_array_equal(g.variable_value(v).numpy(), [3, 3, 3])
