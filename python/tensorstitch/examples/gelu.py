"""The seed's custom GeLU, built from primitive ops and compiled into one
executable; prints the input, the output and the max error against SciPy.

    python -m tensorstitch.examples.gelu [--rows N]
"""
import argparse

import numpy as np

import tensorstitch as ts


def gelu(g, x):
    """0.5 * x * (1 + erf(x / sqrt(2))) with graph ops."""
    half = g.constant(0.5, ts.float32)
    one = g.constant(1.0, ts.float32)
    r = g.square_root(half)  # sqrt(1/2)
    return g.multiply(g.multiply(half, x), g.add(one, g.erf(g.multiply(x, r))))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2)
    parser.add_argument("--device", default=None, help="cpu or cuda (default: ts.default_device())")
    args = parser.parse_args(argv)

    g = ts.Graph()
    x = g.placeholder((-1, 3), ts.float32, name="x")
    y = gelu(g, x)
    xv = np.random.default_rng(0).standard_normal((args.rows, 3)).astype(np.float32)
    (out,) = g.run(feeds={x: xv}, targets=[y], device=args.device)
    out = np.asarray(out)

    try:
        from scipy.special import erf
    except ImportError:  # SciPy is optional: fall back to math.erf
        import math
        erf = np.vectorize(math.erf)
    ref = 0.5 * xv.astype(np.float64) * (1 + erf(xv.astype(np.float64) / np.sqrt(2)))
    device = args.device or ts.default_device()
    print(f"device: {device}")
    print("input:\n", xv)
    print("output:\n", out)
    print(f"max abs error vs SciPy (float64): {np.max(np.abs(out - ref)):.3g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
