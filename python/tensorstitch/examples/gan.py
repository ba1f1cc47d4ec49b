"""A GAN of two networks trained in one run call per iteration, as in
MPSGraph's introduction: a generator (dense, then transposed convolutions
with batch norm, then an image) and a discriminator (convolutions, dropout,
dense, then realness), each loss differentiated with respect to its own
network's variables only, both updates executed by the same run. Saves a
grid of generated digits every ``--grid-every`` iterations and the loss
curves, then measures quality: an MNIST classifier (trained here) labels
1000 generated digits.

    python -m tensorstitch.examples.gan [--iterations 3000] [--device cpu|cuda]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import tensorstitch as ts
from tensorstitch.examples import mnist as classifier
from tensorstitch.examples._common import line_plot, progress, pyplot

NOISE = 100
SAMPLES = 1000  # digits drawn per sampling run


class Generator:
    def __init__(self, g):
        self.dense = ts.nn.Dense(g, NOISE, 7 * 7 * 64, name="generator/dense", seed=10)
        self.bn0 = ts.nn.BatchNorm(g, 64, axes=[0, 2, 3], name="generator/bn0")
        self.up1 = ts.nn.ConvTranspose2d(g, 64, 32, 5, stride=2, name="generator/up1", seed=11)
        self.bn1 = ts.nn.BatchNorm(g, 32, axes=[0, 2, 3], name="generator/bn1")
        self.up2 = ts.nn.ConvTranspose2d(g, 32, 1, 5, stride=2, name="generator/up2", seed=12)
        self.layers = [self.dense, self.bn0, self.up1, self.bn1, self.up2]

    def __call__(self, g, z, training=True):
        h = g.reshape(self.dense(z), [-1, 64, 7, 7])
        h = g.relu(self.bn0(h, training))
        h = g.relu(self.bn1(self.up1(h), training))
        return g.tanh(self.up2(h))  # (batch, 1, 28, 28) in [-1, 1]

    @property
    def variables(self):
        return [v for layer in self.layers for v in layer.variables if v.name not in layer.graph._not_trainable]

    @property
    def updates(self):
        return self.bn0.updates + self.bn1.updates


class Discriminator:
    def __init__(self, g):
        self.conv1 = ts.nn.Conv2d(g, 1, 32, 5, stride=2, name="discriminator/conv1", seed=20)
        self.conv2 = ts.nn.Conv2d(g, 32, 64, 5, stride=2, name="discriminator/conv2", seed=21)
        self.drop = ts.nn.Dropout(g, 0.3, seed=22)
        self.dense = ts.nn.Dense(g, 7 * 7 * 64, 1, name="discriminator/dense", seed=23)
        self.layers = [self.conv1, self.conv2, self.dense]

    def __call__(self, g, image):
        h = self.drop(g.leaky_relu(self.conv1(image), 0.2))
        h = self.drop(g.leaky_relu(self.conv2(h), 0.2))
        return self.dense(g.reshape(h, [-1, 7 * 7 * 64]))  # one realness logit per image

    @property
    def variables(self):
        return [v for layer in self.layers for v in layer.variables]


def build(batch, learning_rate):
    g = ts.Graph()
    real = g.placeholder((batch, 1, 28, 28), name="real")  # scaled to [-1, 1]
    z = g.random_normal((batch, NOISE), seed=1)  # new noise every run
    gen, disc = Generator(g), Discriminator(g)
    fake = gen(g, z)
    real_logit, fake_logit = disc(g, real), disc(g, fake)
    ones, zeros = g.constant(np.ones((batch, 1), np.float32)), g.constant(np.zeros((batch, 1), np.float32))
    # The losses of the introduction: the discriminator calls real images real
    # and generated ones fake; the generator wants its images called real.
    d_loss = (g.sigmoid_cross_entropy(real_logit, ones, reduction="mean") +
              g.sigmoid_cross_entropy(fake_logit, zeros, reduction="mean"))
    g_loss = g.sigmoid_cross_entropy(fake_logit, ones, reduction="mean")
    d_step = ts.optim.Adam(learning_rate, beta1=0.5).minimize(g, d_loss, disc.variables)
    g_step = ts.optim.Adam(learning_rate, beta1=0.5).minimize(g, g_loss, gen.variables)
    # Sampling: the same generator with its running statistics (a fixed
    # batch: the transposed convolutions need their input shapes).
    z_in = g.placeholder((SAMPLES, NOISE), name="z")
    samples = gen(g, z_in, training=False)
    return g, real, d_loss, g_loss, d_step + g_step + gen.updates, z_in, samples


def save_grid(path, images, title):
    plt = pyplot()
    rows = int(np.ceil(len(images) / 8))
    fig, axes = plt.subplots(rows, 8, figsize=(8, rows))
    for ax, image in zip(np.ravel(axes), images):
        ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        ax.axis("off")
    fig.suptitle(title)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def save_losses(path, d_losses, g_losses):
    steps = range(1, len(d_losses) + 1)
    line_plot(path, {"discriminator": (steps, d_losses), "generator": (steps, g_losses)}, "iteration", "loss")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    parser.add_argument("--grid-every", type=int, default=500)
    parser.add_argument("--out", default="gan", help="prefix of the PNG files ('' for none)")
    parser.add_argument("--classifier-iterations", type=int, default=600)
    parser.add_argument("--data", default=None, help="MNIST file or folder (default: ts.datasets.mnist())")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: the GPU when present)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if min(args.iterations, args.batch, args.grid_every, args.classifier_iterations) < 1:
        parser.error("counts must be positive")
    device = ts.Device(args.device) if args.device else ts.default_device()
    data = ts.datasets.mnist(args.data)
    images = data.train_images.reshape(-1, 1, 28, 28) * 2 - 1

    g, real, d_loss, g_loss, updates, z_in, samples = build(args.batch, args.learning_rate)
    step = g.compile({real: ts.TensorType((args.batch, 1, 28, 28), ts.float32)}, [d_loss, g_loss], updates,
                     device=device)
    draw = g.compile({z_in: ts.TensorType((SAMPLES, NOISE), ts.float32)}, [samples], device=device)
    rng = np.random.default_rng(0)
    fixed = rng.standard_normal((SAMPLES, NOISE)).astype(np.float32)
    d_losses, g_losses = [], []
    started = time.perf_counter()
    for it in progress(range(1, args.iterations + 1), args.quiet):
        batch = images[rng.integers(0, len(images), args.batch)]
        d, gl = step.run([batch])  # both losses, both updates: one run
        d_losses.append(float(np.asarray(d)))
        g_losses.append(float(np.asarray(gl)))
        if args.out and (it % args.grid_every == 0 or it == args.iterations):
            grid = (np.asarray(draw.run([fixed])[0])[:32, 0] + 1) / 2
            save_grid(f"{args.out}_{it:05d}.png", grid, f"iteration {it}")
    seconds = time.perf_counter() - started
    print(f"device: {device}; {args.iterations} iterations of batch {args.batch} in {seconds:.1f} s "
          f"({seconds / args.iterations * 1e3:.2f} ms per iteration); last losses: discriminator "
          f"{d_losses[-1]:.3f}, generator {g_losses[-1]:.3f}")
    if args.out:
        save_losses(f"{args.out}_losses.png", d_losses, g_losses)

    # Quality: a classifier trained on real digits labels 1000 generated ones.
    generated = (np.asarray(draw.run([rng.standard_normal((SAMPLES, NOISE)).astype(np.float32)])[0]) + 1) / 2
    probs, accuracy = classify(generated, data, args.classifier_iterations, device)
    confidence = float(np.mean(np.max(probs, axis=1)))
    histogram = np.bincount(np.argmax(probs, axis=1), minlength=10)
    print(f"classifier (test accuracy {100 * accuracy:.1f}%) on 1000 generated digits: mean confidence "
          f"{confidence:.3f}, digits 0-9: {histogram.tolist()}")
    return confidence, histogram


def classify(images, data, iterations, device):
    """Softmax probabilities for `images` from the mnist example's small net,
    trained here on real digits; and its test accuracy."""
    g, x, y, logits, loss, updates = classifier.build(False, 0.2, 0.0)
    train = g.compile({x: ts.TensorType((64, 1, 28, 28), ts.float32), y: ts.TensorType((64, 10), ts.float32)},
                      [loss], updates, device=device)
    rng = np.random.default_rng(1)
    onehot = np.eye(10, dtype=np.float32)
    for _ in range(iterations):
        pick = rng.integers(0, len(data.train_images), 64)
        train.run([data.train_images[pick].reshape(-1, 1, 28, 28), onehot[data.train_labels[pick]]])
    predict = g.compile({x: ts.TensorType((-1, 1, 28, 28), ts.float32)}, [logits], device=device)
    probs = g.compile({x: ts.TensorType((-1, 1, 28, 28), ts.float32)}, [g.softmax(logits)], device=device)
    accuracy = classifier.accuracy(predict, data.test_images, data.test_labels)
    return np.asarray(probs.run([images.astype(np.float32)])[0]), accuracy


if __name__ == "__main__":
    main()
