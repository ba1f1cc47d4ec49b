"""The package ships types (py.typed, stubs of the compiled module) that
mypy accepts for the examples and a typical user program."""
import os
import pathlib
import subprocess
import sys

import pytest

import tensorstitch as ts

ROOT = pathlib.Path(__file__).parent.parent


@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""), reason="sanitizer builds skip the stubs")
def test_package_is_typed():
    pkg = pathlib.Path(ts.__file__).parent
    assert (pkg / "py.typed").exists()
    assert (pkg / "_core.pyi").exists(), "the build did not generate stubs for the compiled module"
    assert "class Graph" in (pkg / "_core.pyi").read_text()


def test_mypy_accepts_examples_and_a_user_program(tmp_path):
    pytest.importorskip("mypy")
    # Copies: checked as user code that imports the installed package.
    sources = sorted((pathlib.Path(ts.__file__).parent / "examples").glob("[a-z]*.py"))
    files = []
    for src in sources + [ROOT / "tests" / "typing_sample.py"]:
        (tmp_path / src.name).write_text(src.read_text())
        files.append(src.name)
    result = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary", "--ignore-missing-imports",
                             "--cache-dir", str(tmp_path / "cache"), *files],
                            capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_rejects_a_wrong_program(tmp_path):
    pytest.importorskip("mypy")
    bad = tmp_path / "bad.py"
    bad.write_text("import tensorstitch as ts\ng = ts.Graph()\nx = g.placeholder((3,))\ny: int = g.exp(x)\n")
    result = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary", "--cache-dir", str(tmp_path / "c"),
                             str(bad)], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert result.returncode != 0 and "Incompatible types" in result.stdout, result.stdout
