"""ts.onnx.load on models built here: dynamic dims, trainable initializers
that ts.optim can train, Einsum lowered to products, and clear errors for
unsupported ops and old opsets."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import tensorstitch as ts  # noqa: E402


def model(nodes, inputs, outputs, initializers=(), opset=17):
    graph = helper.make_graph(nodes, "m", inputs, outputs, list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def tensor(name, shape, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, shape)


def test_dense_relu_with_a_dynamic_batch_trains_with_trainable_initializers():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(3, 2)).astype(np.float32)
    b = np.zeros(2, np.float32)
    m = model([helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("Add", ["h", "b"], ["z"]),
               helper.make_node("Relu", ["z"], ["y"])],
              [tensor("x", ["batch", 3])], [tensor("y", ["batch", 2])],
              [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    g, (x,), (y,) = ts.onnx.load(m, trainable=True)
    assert x.shape == (-1, 3)
    assert sorted(v.name for v in g.variables()) == ["b", "w"]
    xv = rng.normal(size=(5, 3)).astype(np.float32)
    (out,) = g.run({x: xv}, [y], device="cpu")
    np.testing.assert_allclose(np.asarray(out), np.maximum(xv @ w + b, 0), rtol=1e-6)
    loss = g.reduce_sum(y * y)
    step = ts.optim.SGD(0.01).minimize(g, loss)
    before = g.run({x: xv}, [loss], device="cpu")[0]
    for _ in range(5):
        g.run({x: xv}, [loss], step, device="cpu")
    assert float(np.asarray(g.run({x: xv}, [loss], device="cpu")[0])) < float(np.asarray(before))


@pytest.mark.parametrize("equation,shapes", [
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("bij,bkj->bik", [(2, 3, 4), (2, 5, 4)]),
    ("ijk->kj", [(2, 3, 4)]),
    ("ij->", [(3, 4)]),
    ("ij,ij->i", [(3, 4), (3, 4)]),
    ("ik,jk", [(2, 3), (4, 3)]),
])
def test_einsum_matches_numpy(equation, shapes):
    rng = np.random.default_rng(1)
    arrays = [rng.normal(size=s).astype(np.float32) for s in shapes]
    names = [f"a{k}" for k in range(len(shapes))]
    want = np.einsum(equation, *arrays)
    m = model([helper.make_node("Einsum", names, ["y"], equation=equation)],
              [tensor(n, list(s)) for n, s in zip(names, shapes)], [tensor("y", list(want.shape))])
    g, inputs, (y,) = ts.onnx.load(m)
    (got,) = g.run(dict(zip(inputs, arrays)), [y], device="cpu")
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-5)


def test_unsupported_op_names_the_op_node_opset_and_the_supported_list():
    m = model([helper.make_node("NonMaxSuppression", ["x", "s"], ["y"], name="nms")],
              [tensor("x", [1, 4, 4]), tensor("s", [1, 1, 4])], [tensor("y", [1, 3], TensorProto.INT64)])
    with pytest.raises(ts.GraphError, match=r"NonMaxSuppression \(node 'nms', opset 17\) is not supported; "
                                            r"supported ops: Abs, "):
        ts.onnx.load(m)


def test_old_opsets_are_refused_by_version():
    m = model([helper.make_node("Relu", ["x"], ["y"])], [tensor("x", [2])], [tensor("y", [2])], opset=11)
    with pytest.raises(ts.GraphError, match="imports opset 11; supported are 13 to"):
        ts.onnx.load(m)


def test_a_shape_input_that_is_not_constant_is_named():
    m = model([helper.make_node("Reshape", ["x", "shape"], ["y"])],
              [tensor("x", [2, 3]), tensor("shape", [2], TensorProto.INT64)], [tensor("y", [3, 2])])
    with pytest.raises(ts.GraphError, match="its shape \\(input 'shape'\\) must be a constant"):
        ts.onnx.load(m)
    g, (x, _), (y,) = ts.onnx.load(m, static_inputs={"shape": np.array([3, 2])})
    assert y.shape == (3, 2)
