"""Every registered op is covered by a reference test: adding an op without a
test fails here. Runs last (named so) after the other modules registered
what they cover."""
import importlib
import pathlib

import tensorstitch as ts
from helpers import COVERED

for path in sorted(pathlib.Path(__file__).parent.glob("test_*.py")):
    if path.stem != "test_coverage":
        importlib.import_module(path.stem)


def test_every_registered_op_has_a_reference_test():
    # Parametrized tests register their op when they run; the tables name them too.
    import test_elementwise as te
    import test_reduce_sort as tr
    covered = COVERED | set(te.UNARY) | set(te.BINARY) | set(tr.REDUCE)
    assert set(te.UNARY) | set(te.BINARY) <= set(te.REFERENCE)
    missing = sorted(set(ts._core.op_names()) - covered)
    assert not missing, f"ops without a reference test: {missing}"
