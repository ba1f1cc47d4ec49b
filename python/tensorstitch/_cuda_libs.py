"""Finding the CUDA libraries that the core loads at run time.

The core never links against CUDA: it ``dlopen``s NVRTC (and, with the CUDA
backend, the driver and cuBLASLt) by path. The paths come from the
``nvidia-*`` pip packages when installed (``pip install "tensorstitch[cuda]"``),
then from the system's default search.
"""

import atexit
import glob
import importlib.util
import os

from . import _core


def library_candidates(stem):
    """Paths of ``lib<stem>.so*``: inside installed ``nvidia`` pip packages,
    then in the CUDA toolkit (``$CUDA_HOME``, ``/usr/local/cuda``), newest first."""
    found = []
    spec = importlib.util.find_spec("nvidia")
    for base in (spec.submodule_search_locations or []) if spec else []:
        found += sorted(glob.glob(os.path.join(base, "*", "lib", f"lib{stem}.so.*")), reverse=True)
    for home in (os.environ.get("CUDA_HOME"), "/usr/local/cuda"):
        if home:
            found += sorted(glob.glob(os.path.join(home, "lib64", f"lib{stem}.so.*")), reverse=True)
    return found


def nvrtc_compile(source, arch="sm_90"):
    """Compile CUDA C ``source`` (with the prelude prepended) to a CUBIN for ``arch``.

    Needs NVRTC, not a GPU. Raises ``ts.DeviceError`` when NVRTC cannot be
    loaded and ``ts.CompileError`` with NVRTC's log when the source fails.
    """
    return _core._nvrtc_compile(_core._cuda_prelude() + "\n" + source, arch, library_candidates("nvrtc"))


# The core loads NVRTC from here when the CUDA backend compiles a kernel,
# and cuBLASLt when it plans a matmul.
for _stem in ("nvrtc", "cublasLt"):
    _core._set_library_candidates(_stem, library_candidates(_stem))
# Where a GPU is present, NVRTC starts up in the background meanwhile
# (TENSORSTITCH_WARM_CUDA=0 turns that off).
if os.environ.get("TENSORSTITCH_WARM_CUDA", "1") != "0":
    _core._warm_up_cuda()
    atexit.register(_core._finish_cuda_warm_up)  # never exit while it runs
