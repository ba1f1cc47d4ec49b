"""ONNX's node tests through ts.onnx and through onnxruntime in the same run:
per op, passes, failures and skips (a skip: onnxruntime cannot load the
case). ``python bench/onnx_node_suite.py [cpu|cuda] [--list-failures]``;
--list-failures prints the names of the cases we fail (the content of
tests/onnx_expected_failures.txt)."""
import collections
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

import onnx_suite  # noqa: E402
from tensorstitch.onnx import Backend  # noqa: E402


def outcome(case, backend, device):
    try:
        onnx_suite.run_case(case, backend, device)
        return "pass"
    except NotImplementedError:
        return "skip"
    except Exception:  # noqa: BLE001
        return "fail"


def main():
    device = next((a for a in sys.argv[1:] if a in ("cpu", "cuda")), "cpu").upper()
    cases = onnx_suite.cases()
    ours = {}
    started = time.perf_counter()
    for name, case in sorted(cases.items()):
        ours[name] = outcome(case, Backend, device)
    seconds = time.perf_counter() - started
    if "--list-failures" in sys.argv:
        print("\n".join(n for n, r in ours.items() if r != "pass"))
        return
    theirs = {}
    try:
        import onnxruntime
        import onnxruntime.backend as ort

        onnxruntime.set_default_logger_severity(3)  # no warning per unused initializer

        for name, case in sorted(cases.items()):
            theirs[name] = outcome(case, ort, "CPU")
    except ImportError:
        pass
    table = collections.defaultdict(lambda: collections.Counter())
    for name, case in cases.items():
        op = onnx_suite.op_of(case)
        table[op]["ours " + ours[name]] += 1
        if theirs:
            table[op]["ort " + theirs[name]] += 1
    print(f"{len(cases)} node cases on {device}: tensorstitch passes {sum(r == 'pass' for r in ours.values())} "
          f"({seconds:.1f} s)" + (f", onnxruntime (CPU) passes {sum(r == 'pass' for r in theirs.values())}" if theirs else ""))
    print(f"{'op':<32} {'ours pass':>9} {'fail':>5}   {'ort pass':>8} {'fail':>5}")
    for op in sorted(table):
        t = table[op]
        print(f"{op:<32} {t['ours pass']:>9} {t['ours fail']:>5}   {t['ort pass']:>8} {t['ort fail'] + t['ort skip']:>5}")


if __name__ == "__main__":
    main()
