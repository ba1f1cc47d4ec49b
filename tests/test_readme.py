"""The README's example (API.md's GeLU) runs unchanged, and so does the main job."""
import pathlib
import re
import subprocess
import sys

import numpy as np

ROOT = pathlib.Path(__file__).parent.parent


def test_readme_example_runs():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks
    scope = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), scope)  # noqa: S102 - the README is ours
    out = np.asarray(scope["out"])
    assert out.shape == (2, 3) and np.all(np.isfinite(out))


def test_main_job_runs():
    result = subprocess.run([sys.executable, "-m", "tensorstitch.examples.gelu"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    err = float(result.stdout.strip().splitlines()[-1].split(":")[-1])
    assert err < 1e-6
