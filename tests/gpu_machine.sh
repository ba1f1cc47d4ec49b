#!/usr/bin/env bash
# Builds tensorstitch on the GPU machine and checks it: the toolchain there
# (nvcc, CMake, ninja, pybind11, scikit-build-core, NumPy, PyTorch, JAX) is
# used as it is, and the Python packages it lacks come as wheels in .whl/
# (see docs/troubleshooting.md). Logs go to $OUT (default /tmp/ts-gpu-out).
# Every CUDA change is checked with this script.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/ts-gpu-out}
mkdir -p "$OUT"
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/ts-site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/ts-site${PYTHONPATH:+:$PYTHONPATH}
fi
echo "== toolchain"
{ python3 --version; g++ --version | head -1; cmake --version | head -1; nvidia-smi -L 2>/dev/null; env | grep -E '^(LDFLAGS|CXXFLAGS|CFLAGS|CPPFLAGS)=' ; } | tee "$OUT/toolchain.txt"
echo "== build"
python3 -m pip install -v --no-build-isolation --no-deps --no-index . >"$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
echo "== smoke run"
(cd /tmp && python3 -c '
import numpy as np, tensorstitch as ts
g = ts.Graph(); x = g.placeholder((3,))
(y,) = g.run({x: np.ones(3, np.float32)}, [x * 2])
assert np.asarray(y).tolist() == [2.0, 2.0, 2.0], y
print("smoke run ok:", np.asarray(y))') || exit 1
echo "== tests"
python3 -X faulthandler -m pytest tests -q -p no:cacheprovider -o addopts="" "${@:--x}" 2>&1 | tee "$OUT/tests.log" | tail -15
exit "${PIPESTATUS[0]}"
