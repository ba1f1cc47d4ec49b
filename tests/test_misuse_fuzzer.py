"""Runs the misuse fuzzer (tests/fuzz_misuse.py) in subprocesses: a crash,
a hang or an exception other than ts.Error/TypeError/IndexError fails."""
import os
import pathlib
import subprocess
import sys

import pytest

FUZZER = pathlib.Path(__file__).parent / "fuzz_misuse.py"


@pytest.mark.parametrize("seed", range(4))
def test_hostile_calls_never_crash(seed):
    env = dict(os.environ, TENSORSTITCH_NUM_THREADS="2")
    result = subprocess.run([sys.executable, str(FUZZER), "--calls", "5000", "--seed", str(seed)],
                            capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, (f"fuzzer seed {seed} exited with {result.returncode}\n"
                                    f"{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
    assert "5000 calls" in result.stdout
