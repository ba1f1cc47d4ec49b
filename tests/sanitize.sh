#!/usr/bin/env bash
# Builds the core and the module with AddressSanitizer and UndefinedBehavior-
# Sanitizer into a separate folder and runs the test suite against that build.
# Usage: tests/sanitize.sh [pytest arguments]. Needs gcc's libasan/libubsan.
set -euo pipefail
cd "$(dirname "$0")/.."
SITE=${TS_SANITIZE_SITE:-/tmp/tensorstitch-sanitize}
rm -rf "$SITE"
python3 -m pip install -q --no-build-isolation --no-deps --target "$SITE" \
  -C cmake.define.TENSORSTITCH_SANITIZE="address,undefined" -C cmake.define.TENSORSTITCH_NATIVE=OFF \
  -C build-dir=build/sanitize .
# Python itself is not instrumented: the runtimes are preloaded. Leak
# reports are off because the interpreter keeps objects alive at exit.
export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
# Reports are read from the log: pytest would capture the stderr of a test
# that dies, so capturing is off (-s).
export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=0
export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
status=0
python3 -m pytest tests -p no:cacheprovider -o addopts="" -q -s "$@" 2>&1 | tee "$SITE/log" || status=$?
reports=$(grep -cE "runtime error|ERROR: AddressSanitizer" "$SITE/log" || true)
echo "sanitizer reports: $reports"
[ "$reports" = 0 ] && exit $status
grep -E -A12 "runtime error|ERROR: AddressSanitizer" "$SITE/log" | head -80
exit 1
