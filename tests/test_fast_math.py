"""Our vectorizable float32 exp, log, erf, tanh, sigmoid and gelu against the
float64 reference: within a few ulp over their whole range, special values right."""
import numpy as np
import pytest
import scipy.special as sp

from helpers import run_graph

REFS = {"exp": (np.exp, (-104, 89)), "log": (np.log, (1e-38, 3e38)), "erf": (sp.erf, (-6, 6)),
        "tanh": (np.tanh, (-12, 12)), "sigmoid": (sp.expit, (-90, 90)),
        "gelu": (lambda x: 0.5 * x * (1 + sp.erf(x / np.sqrt(2))), (-9, 9))}


def ulp_error(got, want):
    want32 = want.astype(np.float32)
    spacing = np.spacing(np.abs(want32)).astype(np.float64)
    return np.abs(got.astype(np.float64) - want) / spacing


@pytest.mark.parametrize("name", list(REFS))
def test_float32_accuracy_in_ulp(name):
    ref, (lo, hi) = REFS[name]
    rng = np.random.default_rng(0)
    if name == "log":
        x = np.exp(rng.uniform(np.log(lo), np.log(hi), 200_000)).astype(np.float32)
    else:
        x = np.concatenate([rng.uniform(lo, hi, 200_000), rng.normal(0, 1, 100_000),
                            rng.uniform(-1e-3, 1e-3, 10_000)]).astype(np.float32)
    got = run_graph(lambda g, a: getattr(g, name)(a), [x])
    with np.errstate(all="ignore"):
        want = ref(x.astype(np.float64))
    with np.errstate(all="ignore"):
        finite = np.isfinite(want.astype(np.float32)) & (np.abs(want) > 1e-37)
    err = ulp_error(got[finite], want[finite])
    if name == "gelu":
        # 0.5 x (1 + erf(x / sqrt 2)) cancels for x << 0 in any float32
        # evaluation: allow erf's own error near -1 (6 ulp of 2^-24) times 0.5 |x|.
        allowance = 0.5 * np.abs(x[finite]) * 8 * 2.0 ** -24
        err = np.maximum(0, err - allowance / np.spacing(np.abs(want[finite]).astype(np.float32)))
    limit = {"erf": 6, "tanh": 4, "gelu": 8}.get(name, 3)
    assert err.max() <= limit, f"{name}: max error {err.max():.1f} ulp at x={x[finite][np.argmax(err)]!r}"


@pytest.mark.parametrize("name", list(REFS))
def test_float32_special_values(name):
    ref, _ = REFS[name]
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45, 3e38, -3e38], np.float32)
    got = run_graph(lambda g, a: getattr(g, name)(a), [x])
    with np.errstate(all="ignore"):
        want = ref(x.astype(np.float64)).astype(np.float32)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-44, equal_nan=True)
