"""The C++ API: build tests/cpp against the installed package's CMake config
and run its programs: the GeLU built by hand, and graph files that Python
saved, loaded and run without Python."""
import pathlib
import shutil
import subprocess

import numpy as np
import pytest

import tensorstitch as ts

HERE = pathlib.Path(__file__).parent


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    """The folder of the built tests/cpp programs."""
    cmake = shutil.which("cmake")
    if cmake is None:
        pytest.skip("cmake is not installed (pip install cmake)")
    config = pathlib.Path(ts.__file__).parent / "lib" / "cmake" / "tensorstitch"
    assert (config / "tensorstitchConfig.cmake").exists()
    build = tmp_path_factory.mktemp("cpp") / "build"
    subprocess.run([cmake, "-S", str(HERE / "cpp"), "-B", str(build), f"-Dtensorstitch_DIR={config}",
                    "-DCMAKE_BUILD_TYPE=Release"], check=True, capture_output=True)
    subprocess.run([cmake, "--build", str(build)], check=True, capture_output=True)
    return build


def run(program, *args):
    return subprocess.run([str(program), *map(str, args)], capture_output=True, text=True)


def test_cpp_gelu_through_installed_package(programs):
    result = run(programs / "gelu")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ShapeError as expected" in result.stdout
    assert "composites ok" in result.stdout


def raw(path, array):
    np.ascontiguousarray(array, np.float32).tofile(path)
    return f"{path}:{'x'.join(map(str, array.shape))}"


def test_cpp_runs_the_gelu_graph_file_python_saved(programs, tmp_path):
    g = ts.Graph()
    x = g.placeholder((-1, 5), name="x")
    y = 0.5 * x * (1.0 + g.erf(x * 0.5 ** 0.5))
    ts.save_graph(g, tmp_path / "gelu.tsg", [y], feeds=[x])
    xv = np.random.default_rng(0).normal(size=(7, 5)).astype(np.float32)
    (want,) = g.run({x: xv}, [y], device="cpu")
    np.asarray(want, np.float32).tofile(tmp_path / "want")
    result = run(programs / "run_graph_file", tmp_path / "gelu.tsg", tmp_path / "want", 0, raw(tmp_path / "x", xv))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "GraphError as expected" in result.stdout


def test_cpp_runs_the_trained_mnist_classifier_python_saved(programs, tmp_path):
    from tensorstitch.examples import mnist

    g, x, y, logits, loss, updates = mnist.build(False, 0.1, 0.0)
    rng = np.random.default_rng(1)
    images = rng.uniform(0, 1, (16, 1, 28, 28)).astype(np.float32)
    labels = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 16)]
    for _ in range(3):  # the saved variables are the trained ones
        g.run({x: images, y: labels}, [loss], updates, device="cpu")
    probs = g.softmax(logits)
    ts.save_graph(g, tmp_path / "mnist.tsg", [probs], feeds=[x])
    (want,) = g.run({x: images}, [probs], device="cpu")
    np.asarray(want).tofile(tmp_path / "want")
    result = run(programs / "run_graph_file", tmp_path / "mnist.tsg", tmp_path / "want", 1e-6,
                 raw(tmp_path / "x", images))
    assert result.returncode == 0, result.stdout + result.stderr
