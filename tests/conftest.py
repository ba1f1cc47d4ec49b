"""The op suites run twice: stitched into fused regions and op by op
(TENSORSTITCH_FUSION=0), so both paths must agree with the references."""
import pytest

BOTH_WAYS = {"test_elementwise", "test_movement", "test_indexing", "test_reduce_sort", "test_gradients",
             "test_fast_math", "test_fusion", "test_nn"}


def pytest_generate_tests(metafunc):
    if metafunc.module.__name__ in BOTH_WAYS:
        metafunc.fixturenames.append("fusion")
        metafunc.parametrize("fusion", ["fused", "unfused"], indirect=True)


@pytest.fixture
def fusion(request, monkeypatch):
    monkeypatch.setenv("TENSORSTITCH_FUSION", "1" if request.param == "fused" else "0")
    return request.param
