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


# ---- the GAN of the gan example, one iteration (both networks' updates) ----
GAN_BATCH = 64


def gan_tensorstitch(device):
    from tensorstitch.examples import gan

    g, real, d_loss, g_loss, updates, _, _ = gan.build(GAN_BATCH, 2e-4)
    exe = g.compile({real: ts.TensorType((GAN_BATCH, 1, 28, 28), ts.float32)}, [d_loss, g_loss], updates,
                    device=device)
    batch = ts.asarray(np.random.default_rng(0).uniform(-1, 1, (GAN_BATCH, 1, 28, 28)).astype(np.float32),
                       device=device)
    return lambda: exe.run([batch])


def gan_torch(device):
    import torch

    nn = torch.nn
    gen = nn.Sequential(nn.Linear(100, 7 * 7 * 64), nn.Unflatten(1, (64, 7, 7)), nn.BatchNorm2d(64), nn.ReLU(),
                        nn.ConvTranspose2d(64, 32, 5, 2, padding=2, output_padding=1), nn.BatchNorm2d(32), nn.ReLU(),
                        nn.ConvTranspose2d(32, 1, 5, 2, padding=2, output_padding=1), nn.Tanh()).to(device)
    disc = nn.Sequential(nn.Conv2d(1, 32, 5, 2, padding=2), nn.LeakyReLU(0.2), nn.Dropout(0.3),
                         nn.Conv2d(32, 64, 5, 2, padding=2), nn.LeakyReLU(0.2), nn.Dropout(0.3), nn.Flatten(),
                         nn.Linear(7 * 7 * 64, 1)).to(device)
    opt_g = torch.optim.Adam(gen.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), 2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    real = torch.rand(GAN_BATCH, 1, 28, 28, device=device) * 2 - 1
    ones, zeros = torch.ones(GAN_BATCH, 1, device=device), torch.zeros(GAN_BATCH, 1, device=device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def step():
        fake = gen(torch.randn(GAN_BATCH, 100, device=device))
        d_loss = bce(disc(real), ones) + bce(disc(fake.detach()), zeros)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        g_loss = bce(disc(fake), ones)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        sync()

    return step


def gan_jax(device):
    import jax
    import jax.numpy as jnp

    dev = jax.devices("gpu" if device == "cuda" else "cpu")[0]
    k = iter(jax.random.split(jax.random.PRNGKey(0), 16))

    def normal(shape, scale=0.05):
        return jax.random.normal(next(k), shape) * scale

    gen = {"w": normal((100, 3136)), "b": jnp.zeros(3136), "t1": normal((64, 32, 5, 5)), "t2": normal((32, 1, 5, 5)),
           "g0": jnp.ones(64), "b0": jnp.zeros(64), "g1": jnp.ones(32), "b1": jnp.zeros(32)}
    disc = {"c1": normal((32, 1, 5, 5)), "c2": normal((64, 32, 5, 5)), "w": normal((3136, 1)), "b": jnp.zeros(1)}

    def bn(x, gamma, beta):
        m, v = x.mean((0, 2, 3), keepdims=True), x.var((0, 2, 3), keepdims=True)
        return (x - m) / jnp.sqrt(v + 1e-5) * gamma[None, :, None, None] + beta[None, :, None, None]

    def up(x, w):  # a stride-2 transposed convolution, SAME-sized output
        return jax.lax.conv_transpose(x, w, (2, 2), "SAME", dimension_numbers=("NCHW", "IOHW", "NCHW"))

    def generate(p, z):
        h = (z @ p["w"] + p["b"]).reshape(-1, 64, 7, 7)
        h = jax.nn.relu(bn(h, p["g0"], p["b0"]))
        h = jax.nn.relu(bn(up(h, p["t1"]), p["g1"], p["b1"]))
        return jnp.tanh(up(h, p["t2"]))

    def discriminate(p, x, key):
        conv = lambda x, w: jax.lax.conv_general_dilated(x, w, (2, 2), "SAME", dimension_numbers=("NCHW", "OIHW", "NCHW"))
        k1, k2 = jax.random.split(key)
        h = jax.nn.leaky_relu(conv(x, p["c1"]), 0.2) * jax.random.bernoulli(k1, 0.7, (x.shape[0], 32, 14, 14)) / 0.7
        h = jax.nn.leaky_relu(conv(h, p["c2"]), 0.2) * jax.random.bernoulli(k2, 0.7, (x.shape[0], 64, 7, 7)) / 0.7
        return h.reshape(x.shape[0], -1) @ p["w"] + p["b"]

    def bce(logits, label):
        return jnp.mean(jnp.maximum(logits, 0) - logits * label + jnp.log1p(jnp.exp(-jnp.abs(logits))))

    def adam(p, grads, state, lr=2e-4, b1=0.5, b2=0.999):
        m, v, t = state
        t = t + 1
        m = jax.tree_util.tree_map(lambda a, g: b1 * a + (1 - b1) * g, m, grads)
        v = jax.tree_util.tree_map(lambda a, g: b2 * a + (1 - b2) * g * g, v, grads)
        p = jax.tree_util.tree_map(lambda w, a, b: w - lr * (a / (1 - b1 ** t)) / (jnp.sqrt(b / (1 - b2 ** t)) + 1e-8),
                                   p, m, v)
        return p, (m, v, t)

    @jax.jit
    def step(gp, dp, gs, ds, real, key):
        kz, k1, k2, k3 = jax.random.split(key, 4)
        z = jax.random.normal(kz, (real.shape[0], 100))

        def d_loss(dp):
            fake = generate(gp, z)
            return bce(discriminate(dp, real, k1), 1.0) + bce(discriminate(dp, fake, k2), 0.0)

        def g_loss(gp):
            return bce(discriminate(dp, generate(gp, z), k3), 1.0)

        dp2, ds = adam(dp, jax.grad(d_loss)(dp), ds)
        gp2, gs = adam(gp, jax.grad(g_loss)(gp), gs)
        return gp2, dp2, gs, ds

    zeros = lambda p: jax.tree_util.tree_map(jnp.zeros_like, p)
    state = {"gp": gen, "dp": disc, "gs": (zeros(gen), zeros(gen), 0), "ds": (zeros(disc), zeros(disc), 0),
             "key": jax.random.PRNGKey(1)}
    real = jax.device_put(np.random.default_rng(0).uniform(-1, 1, (GAN_BATCH, 1, 28, 28)).astype(np.float32), dev)

    def run():
        state["key"], key = jax.random.split(state["key"])
        state["gp"], state["dp"], state["gs"], state["ds"] = step(state["gp"], state["dp"], state["gs"], state["ds"],
                                                                 real, key)
        jax.block_until_ready(state["dp"])

    return run
