"""The GPU measurements of the NN ops, peers in the same run: a deep-MNIST
training step (batch 64 and 512) and 3x3 convolutions forward and backward
at ResNet shapes, in fp32 and with TF32 products. Run on a machine with an NVIDIA GPU:
``python bench/gpu_nn.py`` (``--no-compile`` skips torch.compile, which
takes about a minute). Times are medians of synchronized steps."""
import os
import sys

os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import nn_models as m  # noqa: E402
from timing import timed  # noqa: E402


def peer(rows, label, make, repeat=30):
    try:
        fn = make()
    except ImportError:
        return None
    t = timed(fn, lambda: None, repeat) * 1e3
    rows.append((label, t, "ms"))
    return t


def main():
    rows = []
    for batch in (64, 512):
        ours = peer(rows, f"deep-MNIST step, batch {batch}, tensorstitch", lambda: m.mnist_tensorstitch(batch, "cuda"))
        peer(rows, f"deep-MNIST step, batch {batch}, tensorstitch (TF32)", lambda: m.mnist_tensorstitch(batch, "cuda", True))
        for label, make in (("torch eager", lambda: m.mnist_torch(batch, "cuda")),
                            ("torch.compile", lambda: m.mnist_torch(batch, "cuda", compiled=True)),
                            ("JAX jit", lambda: m.mnist_jax(batch, "cuda"))):
            if label == "torch.compile" and "--no-compile" in sys.argv:
                continue
            theirs = peer(rows, f"deep-MNIST step, batch {batch}, {label}", make)
            if theirs:
                rows.append((f"  {label} / tensorstitch", theirs / ours, "x"))
    for shape in m.CONV_SHAPES:
        name = "conv3x3 fwd+bwd N={} C={} {}x{} -> {}".format(shape[0], shape[1], shape[2], shape[2], shape[3])
        ours = peer(rows, f"{name}, tensorstitch", lambda: m.conv_tensorstitch(shape, "cuda"), 20)
        ours32 = peer(rows, f"{name}, tensorstitch (TF32)", lambda: m.conv_tensorstitch(shape, "cuda", True), 20)
        theirs = peer(rows, f"{name}, torch (cuDNN, TF32 allowed: its default)", lambda: m.conv_torch(shape, "cuda"), 20)
        if theirs:
            rows.append(("  tensorstitch / torch", ours / theirs, "x"))
            rows.append(("  tensorstitch (TF32) / torch", ours32 / theirs, "x"))
    width = max(len(r[0]) for r in rows)
    for name, value, unit in rows:
        print(f"{name:<{width}}  {value:8.3f} {unit}", flush=True)


if __name__ == "__main__":
    main()
