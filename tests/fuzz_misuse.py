"""Misuse fuzzer: calls every public builder of ``ts.Graph`` (and the run,
compile and array entry points) with hostile arguments: huge and negative
numbers, NaN and infinities, wrong types, empty and ragged sequences, tensors
of another graph, wrong dtypes. Each call must either work or raise
``ts.Error``, ``TypeError`` or ``IndexError``; anything else, a crash or a
hang, is a bug.

Run directly for a long campaign (it prints what it tried and exits non-zero
on the first unexpected exception):

    python tests/fuzz_misuse.py --calls 100000 --seed 1

``tests/test_misuse_fuzzer.py`` runs a bounded campaign in a subprocess, so a
crash fails that test instead of killing the test run.
"""
import argparse
import inspect
import math
import sys
import traceback

import numpy as np

import tensorstitch as ts

ALLOWED = (ts.Error, TypeError, IndexError)
DTYPES = [ts.bool, ts.int8, ts.uint8, ts.int32, ts.int64, ts.float16, ts.bfloat16, ts.float32, ts.float64]
# Builders whose arguments are Python callables or that only read state.
SKIP = {"control_dependencies", "gradients", "run", "run_async", "compile", "variables", "operations",
        "variable_value", "set_variable_value"}


def hostile_scalars():
    return [0, 1, -1, 2, 3, -2, 2**31, 2**40, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**70, 1.5, -0.0, math.nan,
            math.inf, -math.inf, True, None, "x", "constant", b"\x00", (), [], (1, 2), [2**64], [1.5],
            [[1, 2], [3]], {}, object(), np.int64(5), np.float32("nan"), np.array([1, 2]), np.ones((2, 2)),
            slice(1, 2), Ellipsis, ts.float32, "float32", ts.Device("cpu")]


class Fuzzer:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.g = ts.Graph()
        self.other = ts.Graph()
        self.tensors = []
        for _ in range(4):
            self.tensors.append(self.new_placeholder(self.g))
        self.tensors.append(self.new_placeholder(self.other))  # another graph's tensor
        self.scalars = hostile_scalars()
        self.last = ""
        self.builders = sorted(name for name, fn in inspect.getmembers(ts.Graph, inspect.isfunction)
                               if not name.startswith("_") and name not in SKIP)

    def new_placeholder(self, g):
        rank = int(self.rng.integers(0, 4))
        shape = tuple(int(d) if self.rng.random() < 0.8 else -1 for d in self.rng.integers(0, 4, rank))
        return g.placeholder(shape if self.rng.random() < 0.9 else None, DTYPES[int(self.rng.integers(9))])

    def argument(self):
        r = self.rng.random()
        if r < 0.45:
            return self.tensors[int(self.rng.integers(len(self.tensors)))]
        if r < 0.55:
            return [self.tensors[int(self.rng.integers(len(self.tensors)))] for _ in range(int(self.rng.integers(0, 3)))]
        if r < 0.65:
            return [int(v) for v in self.rng.integers(-5, 6, int(self.rng.integers(0, 4)))]
        return self.scalars[int(self.rng.integers(len(self.scalars)))]

    def feeds(self):
        feeds = {}
        for ph in self.tensors[:4]:
            if ph.op.type != "placeholder":
                continue
            shape = [int(self.rng.integers(0, 4)) if d in (-1, None) else d for d in (ph.shape or (2,))]
            value = self.rng.normal(size=shape) * 3
            if self.rng.random() < 0.1:
                value = value.astype(">f4")
            try:
                feeds[ph] = ts.asarray(value, dtype=ph.dtype)
            except ALLOWED:
                feeds[ph] = value
        return feeds

    def call(self):
        """One hostile call; returns a description of it."""
        name = self.builders[int(self.rng.integers(len(self.builders)))]
        method = getattr(self.g, name)
        params = [p for p in inspect.signature(method).parameters.values() if p.name != "name"]
        args = [self.argument() for p in params if p.default is inspect.Parameter.empty]
        kwargs = {p.name: self.argument() for p in params
                  if p.default is not inspect.Parameter.empty and self.rng.random() < 0.3}
        what = self.last = f"g.{name}(*{args!r}, **{kwargs!r})"
        out = method(*args, **kwargs)
        outs = out if isinstance(out, (list, tuple)) else [out]
        outs = [o for o in outs if isinstance(o, ts.Tensor)]
        if outs:
            self.tensors.append(outs[0])
            if len(self.tensors) > 12:
                self.tensors.pop(4 + int(self.rng.integers(len(self.tensors) - 5)))
            if self.rng.random() < 0.5:
                self.g.run(self.feeds(), outs)
            if self.rng.random() < 0.2 and ts._dtypes.is_floating(outs[0].dtype):
                phs = [t for t in self.tensors[:4] if ts._dtypes.is_floating(t.dtype)]
                grads = self.g.gradients(outs[0], phs)
                self.g.run(self.feeds(), list(grads.values()))
        return what


def campaign(calls, seed, verbose=False):
    fuzzer = Fuzzer(seed)
    worked = raised = 0
    for k in range(calls):
        if k % 200 == 199:  # a fresh graph now and then keeps graphs small
            fuzzer = Fuzzer(seed * 1_000_003 + k)
        what = "?"
        try:
            what = fuzzer.call()
            worked += 1
        except ALLOWED:
            raised += 1
        except Exception:
            print(f"unexpected exception from call {k} (seed {seed}): {fuzzer.last}", file=sys.stderr)
            traceback.print_exc()
            return False
        if verbose and k % 1000 == 0:
            print(f"{k} calls: {worked} worked, {raised} raised; last: {what[:200]}", flush=True)
    print(f"{calls} calls: {worked} worked, {raised} raised an allowed error", flush=True)
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    sys.exit(0 if campaign(args.calls, args.seed, args.verbose) else 1)


if __name__ == "__main__":
    main()
