"""LSTM-512 character generation at batch 1, per token, the textgen example's
step (embedding, LSTM cell, un-embedding, times the inverse temperature,
Gumbel-max sampling) with random weights, in tensorstitch and its peers.

- ``ts_loop``: the whole sequence in one run (a for_loop on the device);
- ``ts_step``: one run per token, the state fed back as device arrays;
- ``torch_step``: PyTorch eager, one call chain per token;
- ``jax_scan`` / ``jax_step``: a jitted lax.scan over the sequence, and a
  jitted step called once per token.

Each factory returns a function that generates ``LENGTH`` tokens; divide its
time by ``LENGTH``. ``python bench/generation.py [cpu|cuda] [--profile]`` prints
a table (and the one-step executable's kernels);
bench/test_cpu.py and bench/gpu_suite.py time the same functions.
"""
import os
import sys

import numpy as np

os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import timed  # noqa: E402

VOCAB, HIDDEN, EMBED, LENGTH = 65, 512, 64, 200


def weights(seed=0):
    rng = np.random.default_rng(seed)
    f = lambda *s: (rng.normal(size=s) * 0.05).astype(np.float32)  # noqa: E731
    return {"embedding/weight": f(VOCAB, EMBED), "lstm/w_input": f(EMBED, 4 * HIDDEN),
            "lstm/w_recurrent": f(HIDDEN, 4 * HIDDEN), "lstm/bias": f(4 * HIDDEN),
            "unembedding/weight": f(HIDDEN, VOCAB), "unembedding/bias": f(VOCAB)}


def gumbel(seed=1):
    u = np.random.default_rng(seed).uniform(1e-12, 1.0, (LENGTH, 1, VOCAB))
    return (-np.log(-np.log(u))).astype(np.float32)


def _load(ts, g, values):
    import tempfile

    from safetensors.numpy import save_file

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "w.safetensors")
        save_file(values, path)
        ts.load_variables(g, path)


def ts_loop(device):
    import tensorstitch as ts
    from tensorstitch.examples.textgen import generation_graphs

    g, _, loop, _, _ = generation_graphs(VOCAB, HIDDEN, EMBED, LENGTH)
    _load(ts, g, weights())
    h0, c0, first, inv_t, noise, text = loop
    exe = g.compile({first: ts.TensorType((1,), ts.int32), h0: ts.TensorType((1, HIDDEN), ts.float32),
                     c0: ts.TensorType((1, HIDDEN), ts.float32), inv_t: ts.TensorType((), ts.float32),
                     noise: ts.TensorType((LENGTH, 1, VOCAB), ts.float32)}, [text], device=device)
    feeds = [ts.asarray(a, device=device) for a in (np.array([3], np.int32), np.zeros((1, HIDDEN), np.float32),
                                                    np.zeros((1, HIDDEN), np.float32), np.float32(2.0), gumbel())]
    return lambda: exe.run(feeds)[0]


def _step_executable(device):
    """The one-step executable and its first feeds (index, h, c, 1/T), on the device."""
    import tensorstitch as ts
    from tensorstitch.examples.textgen import generation_graphs

    g, _, loop, one, _ = generation_graphs(VOCAB, HIDDEN, EMBED, LENGTH)
    _load(ts, g, weights())
    h0, c0, _, inv_t, _, _ = loop
    index, step_noise, h1, c1, nxt = one
    exe = g.compile({index: ts.TensorType((1,), ts.int32), h0: ts.TensorType((1, HIDDEN), ts.float32),
                     c0: ts.TensorType((1, HIDDEN), ts.float32), inv_t: ts.TensorType((), ts.float32),
                     step_noise: ts.TensorType((1, VOCAB), ts.float32)}, [nxt, h1, c1], device=device)
    start = [ts.asarray(a, device=device) for a in (np.array([3], np.int32), np.zeros((1, HIDDEN), np.float32),
                                                    np.zeros((1, HIDDEN), np.float32), np.float32(2.0))]
    return exe, start


def ts_step(device):
    import tensorstitch as ts

    exe, start = _step_executable(device)
    noise = [ts.asarray(n, device=device) for n in gumbel()]

    def generate():
        cur, h, c, inverse = start
        for i in range(LENGTH):
            cur, h, c = exe.run([cur, h, c, inverse, noise[i]])
        return cur

    return generate


def torch_step(device):
    import torch

    w = {k: torch.from_numpy(v).to(device) for k, v in weights().items()}
    noise = torch.from_numpy(gumbel()).to(device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    @torch.no_grad()
    def generate():
        cur = torch.tensor([3], device=device)
        h = torch.zeros(1, HIDDEN, device=device)
        c = torch.zeros(1, HIDDEN, device=device)
        for i in range(LENGTH):
            gates = w["embedding/weight"][cur] @ w["lstm/w_input"] + h @ w["lstm/w_recurrent"] + w["lstm/bias"]
            i_, f_, g_, o_ = gates.chunk(4, 1)
            c = torch.sigmoid(f_) * c + torch.sigmoid(i_) * torch.tanh(g_)
            h = torch.sigmoid(o_) * torch.tanh(c)
            logits = h @ w["unembedding/weight"] + w["unembedding/bias"]
            cur = torch.argmax(logits * 2.0 + noise[i], -1)
        sync()
        return cur

    return generate


def _jax_cell(jnp, w, cur, h, c, noise):
    import jax

    gates = w["embedding/weight"][cur] @ w["lstm/w_input"] + h @ w["lstm/w_recurrent"] + w["lstm/bias"]
    i_, f_, g_, o_ = jnp.split(gates, 4, 1)
    c = jax.nn.sigmoid(f_) * c + jax.nn.sigmoid(i_) * jnp.tanh(g_)
    h = jax.nn.sigmoid(o_) * jnp.tanh(c)
    logits = h @ w["unembedding/weight"] + w["unembedding/bias"]
    return jnp.argmax(logits * 2.0 + noise, -1), h, c


def _jax_setup(device):
    import jax

    dev = jax.devices("gpu" if device == "cuda" else "cpu")[0]
    w = {k: jax.device_put(v, dev) for k, v in weights().items()}
    return jax, w, jax.device_put(gumbel(), dev), dev


def jax_scan(device):
    jax, w, noise, dev = _jax_setup(device)
    jnp = jax.numpy

    @jax.jit
    def generate(w, noise):
        def body(carry, n):
            cur, h, c = _jax_cell(jnp, w, *carry, n)
            return (cur, h, c), cur

        zeros = jnp.zeros((1, HIDDEN), jnp.float32)
        return jax.lax.scan(body, (jnp.array([3]), zeros, zeros), noise)[1]

    return lambda: generate(w, noise).block_until_ready()


def jax_step(device):
    jax, w, noise, dev = _jax_setup(device)
    jnp = jax.numpy
    step = jax.jit(lambda w, cur, h, c, n: _jax_cell(jnp, w, cur, h, c, n))
    start = [jax.device_put(a, dev) for a in (np.array([3]), np.zeros((1, HIDDEN), np.float32),
                                               np.zeros((1, HIDDEN), np.float32))]
    rows = list(noise)

    def generate():
        cur, h, c = start
        for i in range(LENGTH):
            cur, h, c = step(w, cur, h, c, rows[i])
        return cur.block_until_ready()

    return generate


CASES = {"tensorstitch, on-device loop": ts_loop, "tensorstitch, one run per token": ts_step,
         "torch eager, one call per token": torch_step, "JAX jit, lax.scan": jax_scan,
         "JAX jit, one call per token": jax_step}


def per_token_us(make, device, repeat=15):
    """Median microseconds per token of ``repeat`` whole generations (after two warm-ups)."""
    return timed(make(device), repeat=repeat, warmup=2) / LENGTH * 1e6


def rows(device):
    out = []
    for label, make in CASES.items():
        try:
            out.append((f"LSTM-{HIDDEN} generation, batch 1, {device}, {label}", per_token_us(make, device), "us/token"))
        except ImportError:
            pass
    return out


def profile(device):
    """Where one token's time goes: the one-step executable, kernel by kernel."""
    import tensorstitch as ts

    exe, start = _step_executable(device)
    feeds = start + [ts.asarray(gumbel()[0], device=device)]
    exe.run(feeds)
    return exe.profile(feeds)


if __name__ == "__main__":
    where = next((a for a in sys.argv[1:] if not a.startswith("--")), "cpu")
    if "--profile" in sys.argv:
        print(profile(where))
    for name, value, unit in rows(where):
        print(f"{name:<70} {value:9.1f} {unit}", flush=True)
