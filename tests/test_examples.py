"""The examples' short versions: the MNIST trainer on a small synthetic
digit set (its curve saved as PNG), the GeLU with its op-by-op twin, and bad
arguments."""
import numpy as np
import pytest

import tensorstitch as ts
from tensorstitch.examples import gelu, mnist


def synthetic_digits(path, n=1200, seed=0):
    """Ten classes a classifier can learn quickly: each lights its own
    3x3 block of the image, over noise."""
    rng = np.random.default_rng(seed)

    def images(count):
        labels = rng.integers(0, 10, count)
        x = rng.random((count, 28, 28), dtype=np.float32) * 0.3
        for i, label in enumerate(labels):
            r, c = 2 + 8 * (label // 4), 2 + 6 * (label % 4)
            x[i, r:r + 3, c:c + 3] = 1.0
        return x, labels

    parts = [images(n), images(200), images(300)]
    np.savez(path, **dict(zip(["train_images", "train_labels", "validation_images", "validation_labels",
                                "test_images", "test_labels"], [a for p in parts for a in p])))


def test_mnist_example_learns_and_plots(tmp_path, monkeypatch):
    monkeypatch.setenv("TENSORSTITCH_CACHE_DIR", str(tmp_path / "cache"))
    synthetic_digits(tmp_path / "digits.npz")
    plot = tmp_path / "curve.png"
    accuracy = mnist.main(["--data", str(tmp_path / "digits.npz"), "--iterations", "40", "--batch", "32",
                           "--eval-every", "20", "--plot", str(plot), "--device", "cpu", "--quiet"])
    assert accuracy > 0.9
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mnist_example_refuses_bad_arguments(tmp_path):
    with pytest.raises(SystemExit):
        mnist.main(["--iterations", "0", "--data", str(tmp_path)])


def test_gelu_example_compares_stitched_and_op_by_op(capsys):
    speedup = gelu.main(["--rows", "64", "--columns", "32", "--repeat", "2", "--device", "cpu"])
    out = capsys.readouterr().out
    assert speedup > 0 and "executable: 1 kernel," in out and "op by op (5 kernels)" in out


def test_fusion_is_a_compile_option():
    g = ts.Graph()
    x = g.placeholder((-1, 8), ts.float32)
    y = gelu.gelu(g, x)
    types = {x: ts.TensorType((-1, 8), ts.float32)}
    fused, unfused = g.compile(types, [y]), g.compile(types, [y], fusion=False)
    v = np.random.default_rng(0).normal(size=(3, 8)).astype(np.float32)
    np.testing.assert_allclose(fused.run([v])[0].numpy(), unfused.run([v])[0].numpy(), rtol=1e-6)
    assert "1 kernel," in fused.explain() and "5 kernels," in unfused.explain()
    with pytest.raises(TypeError, match="'fusion' must be True or False"):
        g.compile(types, [y], fusion="no")


def test_textgen_trains_and_generates_the_same_text_both_ways(tmp_path, capsys):
    from tensorstitch.examples import textgen

    words = "to be or not to be that is the question whether tis nobler in the mind".split()
    (tmp_path / "plays.txt").write_text(" ".join(np.random.default_rng(0).choice(words, 3000)))
    loss, fraction, same = textgen.main(["--text", str(tmp_path / "plays.txt"), "--iterations", "120", "--hidden", "48",
                                         "--embed", "16", "--seq", "24", "--batch", "16", "--length", "60",
                                         "--prime", "to be", "--weights", str(tmp_path / "w.safetensors"),
                                         "--device", "cpu", "--quiet"])
    out = capsys.readouterr().out
    assert same and "same text both ways: True" in out
    assert loss < 1.5 and fraction > 0.5
    assert (tmp_path / "w.safetensors").exists()
    with pytest.raises(SystemExit):
        textgen.main(["--text", str(tmp_path / "plays.txt"), "--temperature", "4"])


def test_gan_trains_both_networks_in_one_run_and_is_measured(tmp_path, monkeypatch):
    from tensorstitch.examples import gan

    monkeypatch.setenv("TENSORSTITCH_CACHE_DIR", str(tmp_path / "cache"))
    synthetic_digits(tmp_path / "digits.npz", n=600)
    g, real, d_loss, g_loss, updates, _, _ = gan.build(8, 2e-4)
    names = {op.name for op in updates}
    assert any("discriminator" in n for n in names) and any("generator" in n for n in names)
    before = {v.name: np.asarray(g.variable_value(v)).copy() for v in g.variables()}
    batch = np.random.default_rng(0).uniform(-1, 1, (8, 1, 28, 28)).astype(np.float32)
    d, gl = g.run({real: batch}, [d_loss, g_loss], updates)  # one run: both losses, both updates
    assert np.isfinite(d.item()) and np.isfinite(gl.item())
    changed = {v.name for v in g.variables() if not np.array_equal(before[v.name], np.asarray(g.variable_value(v)))}
    assert any(n.startswith("generator/") for n in changed) and any(n.startswith("discriminator/") for n in changed)
    confidence, histogram = gan.main(["--iterations", "6", "--batch", "8", "--grid-every", "3", "--classifier-iterations",
                                      "20", "--data", str(tmp_path / "digits.npz"), "--out", str(tmp_path / "gan"),
                                      "--device", "cpu", "--quiet"])
    assert 0 < confidence <= 1 and histogram.sum() == 1000
    assert (tmp_path / "gan_00006.png").exists() and (tmp_path / "gan_losses.png").exists()
