"""ts.onnx on ONNX's own node tests. tests/onnx_expected_failures.txt lists
the cases we fail; a case off the list that fails, or one on it that
passes, fails this test, so the list only shrinks as ops are added."""
import pytest

pytest.importorskip("onnx")

import onnx_suite  # noqa: E402
from tensorstitch.onnx import Backend  # noqa: E402

CASES = onnx_suite.cases()
EXPECTED = onnx_suite.expected_failures()


def test_the_expected_failures_name_real_cases():
    assert EXPECTED <= set(CASES), sorted(EXPECTED - set(CASES))[:20]


@pytest.mark.parametrize("name", sorted(CASES))
def test_onnx_node_case(name):
    try:
        onnx_suite.run_case(CASES[name], Backend)
    except Exception as e:  # noqa: BLE001 - any failure counts; the list says which are expected
        if name in EXPECTED:
            return
        raise AssertionError(f"{name} ({onnx_suite.op_of(CASES[name])}) failed and is not in "
                             f"{onnx_suite.EXPECTED_FAILURES.name}: {type(e).__name__}: {e}") from e
    assert name not in EXPECTED, f"{name} passes now: take it off {onnx_suite.EXPECTED_FAILURES.name}"
