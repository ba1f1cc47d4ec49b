"""The custom GeLU of MPSGraph's introduction, built from primitive ops with
a batch size known only at run time: checks it against SciPy, prints the
plan (the five ops stitched into one kernel) and a profile, and measures
the stitched executable against the same graph compiled op by op.

    python -m tensorstitch.examples.gelu [--rows N] [--columns N] [--device cpu|cuda]
"""
import argparse
import time

import numpy as np

import tensorstitch as ts


def gelu(g, x):
    """0.5 * x * (1 + erf(x / sqrt(2))) with graph ops."""
    half = g.constant(0.5, ts.float32)
    one = g.constant(1.0, ts.float32)
    r = g.square_root(half)  # sqrt(1/2)
    return g.multiply(g.multiply(half, x), g.add(one, g.erf(g.multiply(x, r))))


def reference(x):
    try:
        from scipy.special import erf
    except ImportError:  # SciPy is optional: fall back to math.erf
        import math
        erf = np.vectorize(math.erf)
    x = x.astype(np.float64)
    return 0.5 * x * (1 + erf(x / np.sqrt(2)))


def best_time(exe, feeds, repeat):
    exe.run(feeds)  # compiled and warm
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        exe.run(feeds)
        best = min(best, time.perf_counter() - started)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4096, help="the run-time batch size")
    parser.add_argument("--columns", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=10, help="timed runs per executable (the best counts)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: the GPU when present)")
    args = parser.parse_args(argv)
    if min(args.rows, args.columns, args.repeat) < 1:
        parser.error("--rows, --columns and --repeat must be positive")
    device = ts.Device(args.device) if args.device else ts.default_device()

    g = ts.Graph()
    x = g.placeholder((-1, args.columns), ts.float32, name="x")
    y = gelu(g, x)
    types = {x: ts.TensorType((-1, args.columns), ts.float32)}
    stitched = g.compile(types, [y], device=device)
    op_by_op = g.compile(types, [y], device=device, fusion=False)

    xv = np.random.default_rng(0).standard_normal((args.rows, args.columns)).astype(np.float32)
    (out,) = stitched.run([xv])
    error = float(np.max(np.abs(np.asarray(out) - reference(xv))))
    xv = ts.asarray(xv, device=device)  # timed runs read the input where they run
    print(f"device: {device}; GeLU of a ({args.rows}, {args.columns}) float32 input, batch size -1 when built")
    print(stitched.explain(), end="")
    print(stitched.profile([xv]))
    fused_s, unfused_s = best_time(stitched, [xv], args.repeat), best_time(op_by_op, [xv], args.repeat)
    kernels = sum(1 for kind, _ in op_by_op._exe.steps() if kind == "kernel")
    print(f"stitched: {fused_s * 1e3:.3f} ms; op by op ({kernels} kernels): {unfused_s * 1e3:.3f} ms; "
          f"speedup {unfused_s / fused_s:.2f}x")
    print(f"max abs error vs SciPy (float64): {error:.3g}")
    return unfused_s / fused_s


if __name__ == "__main__":
    main()
