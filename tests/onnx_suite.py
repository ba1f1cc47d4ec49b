"""ONNX's backend node tests, generated in memory by the onnx package
(onnx.backend.test.case.node), run through a backend one case at a time:
shared by tests/test_onnx_node_suite.py (CI, the CPU) and
bench/onnx_node_suite.py (the per-op table with onnxruntime beside us)."""
import pathlib
import warnings

import numpy as np

EXPECTED_FAILURES = pathlib.Path(__file__).with_name("onnx_expected_failures.txt")


def cases():
    """{test name: TestCase}, every node test the installed onnx package has."""
    from onnx.backend.test.loader import load_model_tests

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the generators divide by zero on purpose
        return {c.name: c for c in load_model_tests(kind="node")}


def op_of(case):
    """The op a case tests: its model's last node's type (expanded cases hold helpers first)."""
    return case.model.graph.node[-1].op_type if case.model.graph.node else "?"


def run_case(case, backend, device="CPU"):
    """Raises when the backend fails the case (an error, or outputs off the reference)."""
    from onnx.backend.test.runner import Runner, _normalize_tensor

    rep = backend.prepare(case.model, device)
    for inputs, outputs in case.data_sets:
        got = rep.run([_normalize_tensor(a) for a in inputs])
        want = [_normalize_tensor(a) for a in outputs]
        Runner.assert_similar_outputs(want, [np.asarray(g) for g in got], case.rtol, case.atol)


def expected_failures():
    return {line.split("#")[0].strip() for line in EXPECTED_FAILURES.read_text().splitlines()} - {""}
