"""The README's example (the custom GeLU) runs unchanged, and so do the main
job (the MNIST trainer, here on a small synthetic digit set: CI has no
MNIST) and the GeLU example."""
import os
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


def test_main_job_runs(tmp_path):
    from test_examples import synthetic_digits

    synthetic_digits(tmp_path / "digits.npz")
    command = (ROOT / "README.md").read_text().split("```bash\n")[1].split("\n")[0]
    module = command.split("python -m ")[-1].split()[0]
    assert module == "tensorstitch.examples.mnist"
    env = dict(os.environ, TENSORSTITCH_CACHE_DIR=str(tmp_path / "cache"))  # not the user's cache
    result = subprocess.run([sys.executable, "-m", module, "--data", str(tmp_path / "digits.npz"), "--iterations",
                             "30", "--plot", str(tmp_path / "curve.png"), "--quiet"], capture_output=True, text=True,
                            timeout=300, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout and (tmp_path / "curve.png").exists()


def test_gelu_example_runs():
    result = subprocess.run([sys.executable, "-m", "tensorstitch.examples.gelu"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    err = float(result.stdout.strip().splitlines()[-1].split(":")[-1])
    assert err < 1e-6
