"""Trains a digit classifier on MNIST, on the device, as MPSGraph's
introduction built it: placeholders with a batch of -1, variables, a
convolution, bias add, ReLU, reshape, softmax cross-entropy, gradients, SGD
with the assignments as target ops, and two training runs in flight at once.
``--deep`` trains the deeper conv5x5x32, pool, conv5x5x64, pool, fc1024,
fc10 net instead. Prints the test accuracy and saves the accuracy curve.

    python -m tensorstitch.examples.mnist [--iterations 300] [--deep] [--device cpu|cuda]
"""
from __future__ import annotations

import argparse
import threading
import time

import numpy as np

import tensorstitch as ts
from tensorstitch.examples._common import line_plot, progress, show


def small_net(g, x):
    """conv 5x5x32 + bias + ReLU, 2x2 max pool, dense 10: variables by hand."""
    rng = np.random.default_rng(1)
    w1 = g.variable(rng.normal(0, 0.1, (32, 1, 5, 5)).astype(np.float32), name="conv_weight")
    b1 = g.variable(np.zeros((32, 1, 1), np.float32), name="conv_bias")
    w2 = g.variable(rng.normal(0, 0.01, (14 * 14 * 32, 10)).astype(np.float32), name="dense_weight")
    b2 = g.variable(np.zeros(10, np.float32), name="dense_bias")
    h = g.relu(g.conv2d(x, w1, ts.Conv2dDescriptor(padding="SAME")) + b1)
    h = g.max_pool2d(h, ts.Pool2dDescriptor(2))
    return g.matmul(g.reshape(h, [-1, 14 * 14 * 32]), w2) + b2


def deep_net(g, x):
    """conv5x5x32, pool, conv5x5x64, pool, fc1024, fc10 (ts.nn layers)."""
    c1, c2 = ts.nn.Conv2d(g, 1, 32, 5, seed=1), ts.nn.Conv2d(g, 32, 64, 5, seed=2)
    f1, f2 = ts.nn.Dense(g, 7 * 7 * 64, 1024, seed=3), ts.nn.Dense(g, 1024, 10, seed=4)
    pool = ts.Pool2dDescriptor(2)
    h = g.max_pool2d(g.relu(c1(x)), pool)
    h = g.max_pool2d(g.relu(c2(h)), pool)
    return f2(g.relu(f1(g.reshape(h, [-1, 7 * 7 * 64]))))


def build(deep, learning_rate, momentum):
    """The graph: (images, labels, logits, loss, the update assignments)."""
    g = ts.Graph()
    x = g.placeholder((-1, 1, 28, 28), name="images")
    y = g.placeholder((-1, 10), name="labels")
    logits = (deep_net if deep else small_net)(g, x)
    loss = g.softmax_cross_entropy(logits, y, reduction="mean")
    if momentum:
        return g, x, y, logits, loss, ts.optim.SGD(learning_rate, momentum).minimize(g, loss)
    # Plain SGD spelled out: a gradient per variable, an assignment per update.
    variables = g.variables()
    grads = g.gradients(loss, variables)
    updates = [g.assign(v, g.sgd(learning_rate, v, grads[v])) for v in variables]
    return g, x, y, logits, loss, updates


def accuracy(predict, images, labels, chunk=1000):
    """The fraction of images whose largest logit is their label."""
    right = 0
    for i in range(0, len(images), chunk):
        (logits,) = predict.run([images[i:i + chunk].reshape(-1, 1, 28, 28)])
        right += int(np.sum(np.argmax(np.asarray(logits), axis=1) == labels[i:i + chunk]))
    return right / max(len(images), 1)


def save_curve(path, steps, accuracies, title):
    line_plot(path, {"": (steps, [100 * a for a in accuracies])}, "training iteration", "test accuracy (%)", title,
              marker="o")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=None, help="default: 0.2 (small net), 0.01 (--deep)")
    parser.add_argument("--momentum", type=float, default=None, help="SGD momentum; default: 0 (small net), 0.9 (--deep)")
    parser.add_argument("--deep", action="store_true", help="train the deeper two-convolution net")
    parser.add_argument("--eval-every", type=int, default=50, help="iterations between test-accuracy points")
    parser.add_argument("--plot", default="mnist_accuracy.png", help="where to save the accuracy curve ('' to skip)")
    parser.add_argument("--data", default=None, help="MNIST file or folder (default: ts.datasets.mnist())")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: the GPU when present)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.iterations < 1 or args.batch < 1 or args.eval_every < 1:
        parser.error("--iterations, --batch and --eval-every must be positive")
    device = ts.Device(args.device) if args.device else ts.default_device()
    data = ts.datasets.mnist(args.data)
    lr = args.learning_rate if args.learning_rate is not None else (0.01 if args.deep else 0.2)
    momentum = args.momentum if args.momentum is not None else (0.9 if args.deep else 0.0)

    g, x, y, logits, loss, updates = build(args.deep, lr, momentum)
    train = g.compile({x: ts.TensorType((args.batch, 1, 28, 28), ts.float32),
                       y: ts.TensorType((args.batch, 10), ts.float32)}, [loss], updates, device=device)
    predict = g.compile({x: ts.TensorType((-1, 1, 28, 28), ts.float32)}, [logits], device=device)

    rng = np.random.default_rng(0)
    images, labels = data.train_images, data.train_labels
    onehot = np.eye(10, dtype=np.float32)
    # Two runs in flight, as MPSGraph's sample does with a semaphore of 2:
    # the next batch is prepared and submitted while the previous one runs.
    in_flight = threading.Semaphore(2)
    losses, steps, curve = [], [], []
    bar = progress(range(1, args.iterations + 1), args.quiet)
    started = time.perf_counter()
    pending = []
    for it in bar:
        pick = rng.integers(0, len(images), args.batch)
        feeds = [images[pick].reshape(-1, 1, 28, 28), onehot[labels[pick]]]
        in_flight.acquire()
        future = train.run_async(feeds)
        future.add_done_callback(lambda _: in_flight.release())
        pending.append(future)
        if len(pending) > 2:
            losses.append(float(np.asarray(pending.pop(0).result()[0])))
        if losses:
            show(bar, loss=f"{losses[-1]:.3f}")
        if it % args.eval_every == 0 or it == args.iterations:
            for f in pending:
                losses.append(float(np.asarray(f.result()[0])))
            pending = []
            steps.append(it)
            curve.append(accuracy(predict, data.test_images, data.test_labels))
    seconds = time.perf_counter() - started
    net = "deep net" if args.deep else "small net"
    print(f"device: {device}; {net}; {args.iterations} iterations of batch {args.batch} in {seconds:.1f} s "
          f"({seconds / args.iterations * 1e3:.2f} ms per iteration, test evaluations included)")
    print(f"final loss {losses[-1]:.4f}; test accuracy {100 * curve[-1]:.2f}%")
    if args.plot:
        save_curve(args.plot, steps, curve, f"MNIST, {net}, batch {args.batch}, on {device}")
        print(f"accuracy curve: {args.plot}")
    return curve[-1]


if __name__ == "__main__":
    main()
