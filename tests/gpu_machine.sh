#!/usr/bin/env bash
# Builds tensorstitch on the GPU machine and checks it: the toolchain there
# (nvcc, CMake, ninja, pybind11, scikit-build-core, NumPy, PyTorch, JAX) is
# used as it is, and the Python packages it lacks come as wheels in .whl/
# (see docs/troubleshooting.md). Runs the whole test suite (on CUDA, the
# default device where a GPU is present; TS_SUITE_DEVICES="cuda cpu" runs it
# on each), then the GPU benchmark (TS_GPU_BENCH=0 skips it). Logs go to
# $OUT (default /tmp/ts-gpu-out). Every CUDA change is checked with this
# script. Extra arguments go to pytest (default: -x, and -n 16 where
# pytest-xdist is installed).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${OUT:-/tmp/ts-gpu-out}
mkdir -p "$OUT"
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/ts-site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/ts-site${PYTHONPATH:+:$PYTHONPATH}
fi
echo "== toolchain"
{ python3 --version; g++ --version | head -1; cmake --version | head -1; nvidia-smi -L 2>/dev/null;
  nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null; } | tee "$OUT/toolchain.txt"
echo "== build"
python3 -m pip install -v --no-build-isolation --no-deps --no-index . >"$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
echo "== smoke run"
(cd /tmp && python3 -c '
import numpy as np, tensorstitch as ts
g = ts.Graph(); x = g.placeholder((3,))
(y,) = g.run({x: np.ones(3, np.float32)}, [x * 2])
assert np.asarray(y).tolist() == [2.0, 2.0, 2.0], y
print("smoke run ok on", y.device)') || exit 1
args=("$@")
if [ ${#args[@]} -eq 0 ]; then
  args=(-x -q)
  python3 -c "import xdist" 2>/dev/null && args+=(-n 16)
fi
status=0
for device in ${TS_SUITE_DEVICES:-default}; do
  echo "== tests on $device"
  log="$OUT/tests-$device.log"
  if [ "$device" = default ]; then
    python3 -X faulthandler -m pytest tests -p no:cacheprovider -o addopts="" "${args[@]}" >"$log" 2>&1
  else
    TENSORSTITCH_DEVICE=$device python3 -X faulthandler -m pytest tests -p no:cacheprovider -o addopts="" "${args[@]}" >"$log" 2>&1
  fi
  rc=$?
  grep -E "passed|failed|^FAILED|^E " "$log" | tail -15
  [ $rc -eq 0 ] || status=$rc
done
if [ "${TS_GPU_BENCH:-1}" != 0 ] && nvidia-smi -L >/dev/null 2>&1; then
  echo "== GPU benchmark"
  (cd /tmp && python3 "$ROOT/bench/gpu_suite.py") 2>&1 | tee "$OUT/gpu_suite.txt"
fi
exit $status
