"""How the compiled parts are linked: one libstdc++ for the whole process."""
import pathlib
import shutil
import subprocess

import pytest

import tensorstitch

PKG = pathlib.Path(tensorstitch.__file__).parent
# Symbols that only a copy of libstdc++ defines; an object that defines them
# carries its own standard library.
STDLIB_ONLY = ("_ZNSt6locale7classicEv", "_ZNSo9_M_insertIlEERSoT_")


@pytest.mark.parametrize("lib", [PKG / "lib" / "libtensorstitch.so", next(PKG.glob("_core*.so"))],
                         ids=["libtensorstitch", "_core"])
def test_no_private_copy_of_libstdcxx(lib):
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm (binutils) is not installed")
    defined = subprocess.run([nm, "-D", "--defined-only", str(lib)], check=True, capture_output=True,
                             text=True).stdout.split()
    assert not set(STDLIB_ONLY) & set(defined), f"{lib.name} exports its own libstdc++"
