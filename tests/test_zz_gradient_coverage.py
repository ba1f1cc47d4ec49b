"""Every differentiable op went through a gradient check this session: a new
op with a gradient rule and no check fails here. Named to run after the
modules that check gradients (test_gradients.py, test_nn.py); it skips when
the session selected only part of them, or spread them over processes."""
import pytest

import tensorstitch as ts
from gradcheck import CHECKED_OPS

CHECKING_MODULES = ("test_gradients.py", "test_nn.py")


def test_every_differentiable_op_is_gradient_checked(request):
    config = request.config
    ran = {item.path.name for item in request.session.items}
    if config.option.keyword or config.option.markexpr or not all(m in ran for m in CHECKING_MODULES):
        pytest.skip("the gradient checks did not all run in this session")
    if hasattr(config, "workerinput"):  # pytest-xdist: each worker sees only its share of the checks
        pytest.skip("the gradient checks ran spread over several processes")
    declared = {n for n in ts._core.op_names() if ts._core.op_info(n)["differentiable"]}
    missing = sorted(declared - CHECKED_OPS)
    assert not missing, f"differentiable ops no gradient check went through: {missing}"
