"""The networks of the NN benchmarks, written once per framework: the
deep-MNIST classifier (conv5x5x32, pool, conv5x5x64, pool, fc1024, fc10,
softmax cross-entropy, SGD; fp32, NCHW) as one training step, and a 3x3
convolution's forward and backward at ResNet shapes. Each builder returns a
function that runs one step and waits for it."""
import numpy as np

import tensorstitch as ts

LR = 0.01
# (batch, channels in, size, channels out): ResNet-style 3x3 stages.
CONV_SHAPES = [(32, 64, 56, 64), (32, 128, 28, 128), (32, 256, 14, 256)]


def mnist_batch(batch, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, 1, 28, 28)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch)]
    return x, y


def mnist_tensorstitch(batch, device, tf32=False):
    g = ts.Graph()
    x = g.placeholder((batch, 1, 28, 28))
    y = g.placeholder((batch, 10))
    c1, c2 = ts.nn.Conv2d(g, 1, 32, 5, seed=1), ts.nn.Conv2d(g, 32, 64, 5, seed=2)
    f1, f2 = ts.nn.Dense(g, 7 * 7 * 64, 1024, seed=3), ts.nn.Dense(g, 1024, 10, seed=4)
    pool = ts.Pool2dDescriptor(2)
    h = g.max_pool2d(g.relu(c1(x)), pool)
    h = g.max_pool2d(g.relu(c2(h)), pool)
    h = g.relu(f1(g.reshape(h, [batch, -1])))
    loss = g.softmax_cross_entropy(f2(h), y, reduction="mean")
    step = ts.optim.SGD(LR).minimize(g, loss)
    exe = g.compile({x: ts.TensorType((batch, 1, 28, 28), ts.float32), y: ts.TensorType((batch, 10), ts.float32)},
                    [loss], step, device=device, tf32=tf32)
    xv, yv = mnist_batch(batch)
    if device != "cpu":  # inputs already on the device, as for the peers
        xv, yv = g.compile({x: ts.TensorType(xv.shape, ts.float32), y: ts.TensorType(yv.shape, ts.float32)},
                           [g.identity(x), g.identity(y)], device=device).run([xv, yv])
    return lambda: exe.run([xv, yv])


def _torch_mnist(torch, batch, device):
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(7 * 7 * 64, 1024), nn.ReLU(), nn.Linear(1024, 10)).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    xv, yv = (torch.from_numpy(a).to(device) for a in mnist_batch(batch))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(xv), yv)
        loss.backward()
        opt.step()
        return loss

    return step


def mnist_torch(batch, device, compiled=False):
    import torch

    step = _torch_mnist(torch, batch, device)
    if compiled:
        step = torch.compile(step)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def run():
        loss = step()
        sync()
        return loss

    return run


def mnist_jax(batch, device):
    import jax
    import jax.numpy as jnp

    keys = jax.random.split(jax.random.PRNGKey(0), 4)
    shapes = [(32, 1, 5, 5), (64, 32, 5, 5), (7 * 7 * 64, 1024), (1024, 10)]
    params = [jax.random.normal(k, s) * 0.05 for k, s in zip(keys, shapes)]
    params += [jnp.zeros(32), jnp.zeros(64), jnp.zeros(1024), jnp.zeros(10)]

    def conv(x, w, b):
        y = jax.lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return jax.nn.relu(y + b[None, :, None, None])

    def pool(x):
        return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")

    def loss_fn(p, x, y):
        w1, w2, w3, w4, b1, b2, b3, b4 = p
        h = pool(conv(pool(conv(x, w1, b1)), w2, b2)).reshape(x.shape[0], -1)
        logits = jax.nn.relu(h @ w3 + b3) @ w4 + b4
        return -jnp.mean(jnp.sum(y * jax.nn.log_softmax(logits), axis=-1))

    @jax.jit
    def train(p, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(p, x, y)
        return [a - LR * g for a, g in zip(p, grads)], loss

    dev = jax.devices("gpu" if device == "cuda" else "cpu")[0]
    xv, yv = (jax.device_put(a, dev) for a in mnist_batch(batch))
    state = {"p": [jax.device_put(a, dev) for a in params]}

    def run():
        state["p"], loss = train(state["p"], xv, yv)
        return loss.block_until_ready()

    return run


def conv_tensorstitch(shape, device, tf32=False):
    n, c, s, o = shape
    g = ts.Graph()
    x, w, gy = g.placeholder((n, c, s, s)), g.placeholder((o, c, 3, 3)), g.placeholder((n, o, s, s))
    y = g.conv2d(x, w, ts.Conv2dDescriptor(padding="SAME"))
    grads = g.gradients(g.reduce_sum(y * gy), [x, w])
    feeds = {x: ts.TensorType(x.shape, ts.float32), w: ts.TensorType(w.shape, ts.float32),
             gy: ts.TensorType(gy.shape, ts.float32)}
    exe = g.compile(feeds, [y, grads[x], grads[w]], device=device, tf32=tf32)
    rng = np.random.default_rng(1)
    values = [rng.normal(size=p.shape).astype(np.float32) for p in (x, w, gy)]
    if device != "cpu":
        values = g.compile(feeds, [g.identity(p) for p in (x, w, gy)], device=device).run(values)
    return lambda: exe.run(values)


def conv_torch(shape, device):
    import torch

    n, c, s, o = shape
    x = torch.randn(n, c, s, s, device=device, requires_grad=True)
    w = torch.randn(o, c, 3, 3, device=device, requires_grad=True)
    gy = torch.randn(n, o, s, s, device=device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def run():
        x.grad = w.grad = None
        torch.nn.functional.conv2d(x, w, padding=1).backward(gy)
        sync()

    return run
