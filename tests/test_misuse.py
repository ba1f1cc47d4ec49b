"""Random misuse: every public op is called with random shapes, dtypes and
attributes, most of them wrong, and run. Each call must either work or raise
(ts.Error, or TypeError/IndexError for wrong Python argument types); the
process must never crash."""
import numpy as np
import pytest

import tensorstitch as ts

DTYPES = [ts.bool, ts.int8, ts.uint8, ts.int32, ts.int64, ts.float16, ts.bfloat16, ts.float32, ts.float64]

# Every one- and two-input op of the registry with a Graph method of its own
# name (the rest take attributes and are called below).
_INFO = {n: ts._core.op_info(n) for n in ts._core.op_names()}
UNARY = sorted(n for n, i in _INFO.items() if (i["elementwise"] and i["num_inputs"] == 1 and n != "cast")
               or n in ("softmax", "log_softmax"))
BINARY = sorted(n for n, i in _INFO.items() if i["elementwise"] and i["num_inputs"] == 2) + ["matmul"]


def random_call(g, rng, x, y, z):
    ints = lambda n: [int(v) for v in rng.integers(-4, 5, n)]  # noqa: E731
    choice = rng.integers(0, 26)
    if choice == 0:
        return getattr(g, str(rng.choice(UNARY)))(x)
    if choice == 1:
        return getattr(g, str(rng.choice(BINARY)))(x, y)
    calls = [
        lambda: g.select(x, y, z), lambda: g.clamp(x, y, z), lambda: g.cast(x, DTYPES[rng.integers(9)]),
        lambda: g.reshape(x, ints(rng.integers(0, 4))), lambda: g.transpose(x, ints(rng.integers(0, 4))),
        lambda: g.slice(x, ints(2), ints(2), ints(2)), lambda: g.concat([x, y], int(rng.integers(-3, 3))),
        lambda: g.split(x, int(rng.integers(-1, 4)), int(rng.integers(-3, 3))),
        lambda: g.expand_dims(x, ints(2)), lambda: g.squeeze(x, ints(1)), lambda: g.broadcast_to(x, ints(3)),
        lambda: g.pad(x, [(int(a), int(b)) for a, b in rng.integers(-1, 3, (2, 2))],
                      str(rng.choice(["constant", "reflect", "symmetric", "edge", "wrap"]))),
        lambda: g.tile(x, ints(2)), lambda: g.flip(x, ints(1)), lambda: g.gather(x, y, int(rng.integers(-3, 3))),
        lambda: g.gather_nd(x, y), lambda: g.scatter_add(x, y, z, int(rng.integers(-3, 3))),
        lambda: g.one_hot(x, int(rng.integers(-2, 5)), int(rng.integers(-3, 3))),
        lambda: g.top_k(x, int(rng.integers(-2, 5)), int(rng.integers(-3, 3)))[0],
        lambda: g.sort(x, int(rng.integers(-3, 3))), lambda: g.cumsum(x, int(rng.integers(-3, 3))),
        lambda: g.reduce_sum(x, ints(2)), lambda: g.argmax(x, int(rng.integers(-3, 3))),
        lambda: g.mean_variance(x, ints(1))[1],
    ]
    return calls[int(choice) - 2]()


@pytest.mark.parametrize("seed", range(300))
def test_random_misuse_never_crashes(seed):
    rng = np.random.default_rng(seed)
    g = ts.Graph()
    phs, feeds = [], {}
    for _ in range(3):
        dt = DTYPES[rng.integers(9)]
        shape = tuple(int(d) for d in rng.integers(0, 4, rng.integers(0, 4)))
        ph = g.placeholder(tuple(-1 if rng.random() < 0.3 else d for d in shape), dt)
        value = rng.integers(-3, 4, shape) if rng.random() < 0.5 else rng.normal(size=shape) * 3
        phs.append(ph)
        feeds[ph] = ts.asarray(np.asarray(value, np.float32), dtype=dt)
    try:
        out = random_call(g, rng, *phs)
        g.run(feeds, [out])
        if ts._dtypes.is_floating(out.dtype) and rng.random() < 0.5:
            grads = g.gradients(out, [p for p in phs if ts._dtypes.is_floating(p.dtype)])
            g.run(feeds, list(grads.values()))
    except (ts.Error, TypeError, IndexError):
        pass
