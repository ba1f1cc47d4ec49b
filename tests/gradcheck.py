"""Finite-difference gradient checking in float64."""
import numpy as np

import tensorstitch as ts

# The op types of every graph differentiated by check_gradients in this test
# session: test_zz_gradient_coverage.py fails for a differentiable op that
# no check went through.
CHECKED_OPS = set()


def check_gradients(build, inputs, wrt=None, rng=None, eps=1e-6, rtol=1e-5, atol=1e-6, dynamic_dims=True):
    """Checks d sum(w * build(...)) / d inputs[i] against central differences.

    ``build(g, *tensors)`` returns a tensor or a list (only float outputs are
    weighted in). Float inputs are float64 placeholders, with -1 dims when
    ``dynamic_dims``; other inputs (indices) are fed as given.
    """
    rng = rng or np.random.default_rng(0)
    inputs = [np.asarray(a) for a in inputs]
    wrt = [i for i, a in enumerate(inputs) if a.dtype == np.float64] if wrt is None else wrt
    g = ts.Graph()
    phs = []
    for i, a in enumerate(inputs):
        shape = tuple(-1 if dynamic_dims and rng.random() < 0.5 else d for d in a.shape)
        phs.append(g.placeholder(shape, ts.as_dtype(a.dtype), name=f"in{i}"))
    out = build(g, *phs)
    CHECKED_OPS.update(op.type for op in g.operations())
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    outs = [o for o in outs if o.dtype == ts.float64]
    probe = g.run(dict(zip(phs, inputs)), outs)
    weights = [rng.normal(size=p.shape) for p in probe]
    loss = None
    for o, w in zip(outs, weights):
        term = g.reduce_sum(o * g.constant(w))
        loss = term if loss is None else loss + term
    grads = g.gradients(loss, [phs[i] for i in wrt])
    exe = g.compile({p: ts.TensorType(p.shape, p.dtype) for p in phs}, [loss])
    analytic = g.run(dict(zip(phs, inputs)), [grads[phs[i]] for i in wrt])

    def f(values):
        return exe.run(dict(zip(phs, values)))[0].item()

    for k, i in enumerate(wrt):
        x = inputs[i]
        numeric = central_differences(f, inputs, i, eps)
        got = analytic[k].numpy()
        assert got.shape == x.shape, f"gradient of input {i}: shape {got.shape} != {x.shape}"
        np.testing.assert_allclose(got, numeric, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")


def central_differences(f, inputs, i, eps=1e-6):
    """d f(inputs) / d inputs[i], element by element, by central differences."""
    numeric = np.zeros_like(inputs[i])
    for j in range(numeric.size):
        plus = [a.copy() for a in inputs]
        minus = [a.copy() for a in inputs]
        plus[i].flat[j] += eps
        minus[i].flat[j] -= eps
        numeric.flat[j] = (f(plus) - f(minus)) / (2 * eps)
    return numeric
