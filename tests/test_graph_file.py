"""Graph files (ts.save_graph / ts.load_graph): whole graphs with their
variables, control-flow bodies, feeds and targets, round-tripped; other
format versions refused by name; truncated and corrupted files raise
GraphError and never crash (a fuzzer runs in a subprocess)."""
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tensorstitch as ts
from tensorstitch import _core


def same_results(a, b):
    for p, q in zip(a, b):
        p, q = np.asarray(p), np.asarray(q)
        assert p.dtype == q.dtype and p.shape == q.shape
        np.testing.assert_array_equal(p, q)


def control_flow_graph():
    """Variables, constants of several dtypes, a for loop holding a branch,
    a while loop, an assignment and a control dependency."""
    g = ts.Graph()
    x = g.placeholder((-1, 3), name="x")
    n = g.placeholder((), ts.int32, name="n")
    w = g.variable(np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2), name="w")
    half = g.variable(ts.asarray(np.array([1.5, -2.0], np.float32), dtype=ts.bfloat16), name="half")
    flags = g.constant(np.array([True, False]))
    y = g.gelu(x @ w) * g.cast(half, ts.float32) + g.cast(flags, ts.float32)

    def step(i, acc):
        branch = g.if_then_else(i % 2 == 0, lambda: [acc * 2.0], lambda: [acc - g.reduce_sum(y)])
        return [branch[0] + g.cast(i, ts.float32)]

    (looped,) = g.for_loop(5, step, [g.reduce_mean(y)])
    (counted,) = g.while_loop(lambda k, s: k < n, lambda k, s: [k + 1, s + looped], [g.constant(np.int32(0)), looped])[1:]
    update = g.assign(w, w * 0.5)
    with g.control_dependencies([update]):
        after = g.identity(counted)
    return g, (x, n), (y, looped, counted, after), [update]


def test_round_trip_runs_the_same_and_keeps_variables(tmp_path):
    g, (x, n), targets, ops = control_flow_graph()
    path = tmp_path / "cf.tsg"
    ts.save_graph(g, path, targets, feeds={x: ts.TensorType((-1, 3), ts.float32), n: ts.TensorType((), ts.int32)},
                  target_ops=ops)
    f = ts.load_graph(path)
    assert [t.name for t in f.feeds] == ["x", "n"]
    assert [t.name for t in f.targets] == [t.name for t in targets]
    assert [o.type for o in f.target_ops] == ["assign"]
    assert sorted(v.name for v in f.graph.variables()) == ["half", "w"]
    for v in f.graph.variables():
        np.testing.assert_array_equal(np.asarray(f.graph.variable_value(v)),
                                      np.asarray(g.variable_value(next(u for u in g.variables() if u.name == v.name))))
    xv = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    for _ in range(2):  # the assignment runs in both: the second run sees the halved weights
        a = g.run({x: xv, n: np.int32(3)}, list(targets), ops, device="cpu")
        b = f.graph.run({f.feeds[0]: xv, f.feeds[1]: np.int32(3)}, f.targets, f.target_ops, device="cpu")
        same_results(a, b)


def test_loaded_graph_trains_like_the_original(tmp_path):
    from tensorstitch.examples import mnist

    g, x, y, logits, loss, updates = mnist.build(False, 0.1, 0.0)
    path = tmp_path / "mnist.tsg"
    ts.save_graph(g, path, [loss], feeds=[x, y], target_ops=updates)
    f = ts.load_graph(path)
    rng = np.random.default_rng(2)
    images = rng.uniform(0, 1, (8, 1, 28, 28)).astype(np.float32)
    labels = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 8)]
    for _ in range(3):
        a = g.run({x: images, y: labels}, [loss], updates, device="cpu")
        b = f.graph.run(dict(zip(f.feeds, (images, labels))), f.targets, f.target_ops, device="cpu")
        same_results(a, b)
    assert len(f.graph.gradients(f.targets[0], f.graph.variables())) == len(g.variables())


def test_save_graph_refuses_what_is_not_a_placeholder_or_of_another_graph(tmp_path):
    g = ts.Graph()
    x = g.placeholder((2,), name="x")
    y = x + 1.0
    with pytest.raises(ts.GraphError, match="feeds must be placeholders; got the output of add"):
        ts.save_graph(g, tmp_path / "f.tsg", [y], feeds=[y])
    other = ts.Graph().placeholder((2,))
    with pytest.raises(ts.GraphError, match="save_graph: a target is not a tensor or operation of this graph"):
        ts.save_graph(g, tmp_path / "f.tsg", [other], feeds=[x])
    with pytest.raises(ts.GraphError, match="cannot open"):
        ts.load_graph(tmp_path / "missing.tsg")


def gelu_bytes():
    g = ts.Graph()
    x = g.placeholder((-1, 4), name="x")
    v = g.variable(np.arange(4, dtype=np.float32), name="v")
    y = 0.5 * x * (1.0 + g.erf(x * 0.5 ** 0.5)) + v
    return _core.graph_file_bytes(g._g, [x._t], [y._t], [])


@pytest.mark.parametrize("version", [0, 2, 7])
def test_other_format_versions_are_refused_naming_both(version):
    data = bytearray(gelu_bytes())
    struct.pack_into("<I", data, 8, version)
    with pytest.raises(ts.GraphError, match=f"format version {version}; this build of tensorstitch reads versions "
                                            f"1 to {_core.GRAPH_FILE_VERSION}"):
        _core.graph_from_bytes(bytes(data), "old.tsg")


def test_not_a_graph_file():
    with pytest.raises(ts.GraphError, match="not a tensorstitch graph file"):
        _core.graph_from_bytes(b"PK\x03\x04 a zip file", "x.zip")


def test_every_truncation_raises_graph_error():
    data = gelu_bytes()
    assert _core.graph_from_bytes(data, "whole") is not None
    for cut in range(len(data)):
        with pytest.raises(ts.GraphError):
            _core.graph_from_bytes(data[:cut], f"cut at {cut}")


FUZZ = textwrap.dedent("""
    import random, sys
    import numpy as np
    import tensorstitch as ts
    from tensorstitch import _core
    from tensorstitch.serialization import _graph_file
    g = ts.Graph()
    x = g.placeholder((-1, 4), name="x")
    v = g.variable(np.arange(4, dtype=np.float32), name="v")
    (s,) = g.for_loop(3, lambda i, a: [a * 2.0 + g.reduce_sum(v)], [g.reduce_sum(x)])
    y = g.gelu(x) + v
    data = _core.graph_file_bytes(g._g, [x._t], [y._t, s._t], [])
    rng = random.Random(int(sys.argv[1]))
    loaded = refused = 0
    for trial in range(int(sys.argv[2])):
        b = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(b))
            b[at] = rng.choice([0, 1, 0x7f, 0x80, 0xff, rng.randrange(256)])
        try:
            f = _core.graph_from_bytes(bytes(b), "fuzzed")
            loaded += 1
        except ts.Error:
            refused += 1
            continue
        # What loads must run or refuse cleanly too; a loop whose count a flip
        # made huge (its history outputs show the count) would only run long.
        gf = _graph_file(f)
        counts = [o.shape[0] for op in gf.graph.operations() if op.type == "for_loop" for o in op.outputs
                  if o.shape and len(o.shape) > 0]
        if any(c > 100 for c in counts):
            continue
        try:
            gf.graph.run({t: np.ones((2, 4), np.float32) for t in gf.feeds}, gf.targets, device="cpu")
        except ts.Error:
            pass
    print("loaded", loaded, "refused", refused)
""")


def test_fuzzed_files_raise_errors_and_never_crash(tmp_path):
    script = tmp_path / "fuzz.py"
    script.write_text(FUZZ)
    result = subprocess.run([sys.executable, str(script), "7", "1500"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    loaded, refused = (int(w) for w in result.stdout.split()[1::2])
    assert refused > 500 and loaded + refused == 1500
