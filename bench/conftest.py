"""Benchmarks compare tensorstitch with the peers installed here (NumPy and
SciPy always; PyTorch and JAX when importable), in the same run, on CPU."""
import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import time

import pytest


@pytest.fixture(autouse=True)
def quiet_peers():
    """Peers' thread pools (OpenBLAS, OpenMP, XLA) spin for a while after
    their last job and steal cores from whatever runs next on a 2-core
    machine; let them fall asleep before each benchmark."""
    time.sleep(1.0)
    yield
