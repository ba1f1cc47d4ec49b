"""How the compiled parts are built and layered: one libstdc++ for the whole
process, and passes that read op declarations rather than op names."""
import pathlib
import re
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


def test_passes_name_no_op():
    """Passes read what ops declare (fusion role, identities, state roles),
    never op names: an op added with the right declaration needs no pass edits."""
    root = pathlib.Path(__file__).parent.parent / "csrc" / "passes"
    names = set(tensorstitch._core.op_names())
    found = []
    for path in sorted(root.glob("*.cpp")) + sorted(root.glob("*.h")):
        for k, line in enumerate(path.read_text().splitlines(), 1):
            quoted = set(re.findall(r'"([a-z_0-9]+)"', line))
            found += [f"{path.name}:{k}: {name}" for name in sorted(quoted & names)]
    assert not found, "op names in passes:\n" + "\n".join(found)


def test_layers_below_the_backends_include_none():
    """ops/, ir/ and passes/ know no backend: kernels live in each backend's
    table, and the portable scalar math includes nothing at all."""
    root = pathlib.Path(__file__).parent.parent / "csrc"
    found = []
    for layer in ("ops", "ir", "passes"):
        for path in sorted((root / layer).iterdir()):
            found += [f"{layer}/{path.name}:{k}" for k, line in enumerate(path.read_text().splitlines(), 1)
                      if "backends/" in line]
    assert not found, "backend references below the backends:\n" + "\n".join(found)
    portable = (root / "ops" / "scalar_math.h").read_text()
    assert "#include" not in portable and "std::" not in portable
