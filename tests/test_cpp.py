"""The C++ API: build tests/cpp against the installed package's CMake config and run it."""
import os
import pathlib
import shutil
import subprocess

import pytest

import tensorstitch

HERE = pathlib.Path(__file__).parent


def _cmake():
    exe = shutil.which("cmake")
    if exe is None:
        pytest.skip("cmake is not installed (pip install cmake)")
    return exe


def test_cpp_gelu_through_installed_package(tmp_path):
    cmake = _cmake()
    config = pathlib.Path(tensorstitch.__file__).parent / "lib" / "cmake" / "tensorstitch"
    assert (config / "tensorstitchConfig.cmake").exists()
    build = tmp_path / "build"
    env = dict(os.environ)
    subprocess.run([cmake, "-S", str(HERE / "cpp"), "-B", str(build), f"-Dtensorstitch_DIR={config}",
                    "-DCMAKE_BUILD_TYPE=Release"], check=True, capture_output=True, env=env)
    subprocess.run([cmake, "--build", str(build)], check=True, capture_output=True, env=env)
    result = subprocess.run([str(build / "gelu")], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ShapeError as expected" in result.stdout
    assert "composites ok" in result.stdout
