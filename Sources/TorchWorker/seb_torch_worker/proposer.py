"""The proposer's SFT update (the protocol's `proposer_update`; CPUEngine/ProposerUpdate.swift):
prompt + completion rows as plain text, EOS appended, TRL's truncation, loss on the completion
only, LoRA on all seven projections (dropout 0, batch 1, clip 1.0, linear decay), trained by the
lockstep trainer with one slot, then merged and written to `out`:
  - a GGUF model: the source file with the seven projections of every layer replaced by the
    merged weights, as Q8_0 where rows allow, else F32, every other tensor and all metadata
    copied unchanged (as ProposerUpdate.writeGGUF). The merge is done on the file's own
    dequantized weights; the delta goes back into llama.cpp's permuted Q/K row order for the
    llama architecture (transformers un-permuted it on load);
  - a Hugging Face directory: the merged model and its tokenizer, save_pretrained into `out`.
With no row to learn from, the model is copied unchanged.
"""
from __future__ import annotations

import os
import shutil
import tempfile

import numpy as np

from . import lockstep
from .model import model_sha256
from .spec import TARGET_NAMES, TrainingSpec

GGUF_NAME = {"q": "attn_q", "k": "attn_k", "v": "attn_v", "o": "attn_output",
             "gate": "ffn_gate", "up": "ffn_up", "down": "ffn_down"}


def sft_examples(lm, rows: list, max_length: int) -> list:
    """ProposerUpdate.examples: prompt and completion cut so their sum fits max_length (the
    completion first; a prompt alone over budget keeps half), EOS appended, then every row cut to
    the longest length measured before EOS (so the longest row loses its EOS, as TRL does).
    Returns [(tokens, prompt_length)]."""
    pairs = []
    for prompt, completion in rows:
        p, c = lm.encode(prompt), lm.encode(completion)
        if len(p) + len(c) > max_length:
            if len(p) >= max_length:
                p = p[: max_length // 2]
            c = c[: max_length - len(p)]
        pairs.append((p, c))
    longest = max((len(p) + len(c) for p, c in pairs), default=0)
    eos = [] if lm.eos_id is None else [lm.eos_id]
    out = [((p + c + eos)[:longest], len(p)) for p, c in pairs]
    return [(t, n) for t, n in out if len(t) > n]


def _permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """HF row order -> llama.cpp's (convert_hf_to_gguf.py LlamaModel.permute)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _public(path: str) -> None:
    # mkstemp creates 0600; the model file should get the usual umask-derived mode.
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


def _atomic_copy(src: str, out: str) -> None:
    parent = os.path.dirname(os.path.abspath(out)) or "."
    os.makedirs(parent, exist_ok=True)
    if os.path.isdir(src):
        tmp = tempfile.mkdtemp(prefix=".proposer-", dir=parent)
        shutil.rmtree(tmp)
        shutil.copytree(src, tmp)
        if os.path.exists(out):
            shutil.rmtree(out)
        os.rename(tmp, out)
    else:
        fd, tmp = tempfile.mkstemp(prefix=".proposer-", dir=parent)
        os.close(fd)
        shutil.copyfile(src, tmp)
        _public(tmp)
        os.replace(tmp, out)


def write_merged_gguf(src: str, out: str, adapter, config, qtype: str = "q8_0") -> None:
    import gguf

    reader = gguf.GGUFReader(src)
    arch = reader.fields["general.architecture"].contents()
    n_head, n_kv = config.num_attention_heads, getattr(config, "num_key_value_heads", config.num_attention_heads)
    deltas = {}
    for (layer, t), (a, b) in adapter.weights.items():
        d = (adapter.scale * (b.double() @ a.double())).float().cpu().numpy()
        if arch in ("llama", "mistral") and t in ("q", "k"):
            d = _permute(d, n_head if t == "q" else n_kv)
        deltas[f"blk.{layer}.{GGUF_NAME[t]}.weight"] = d
    parent = os.path.dirname(os.path.abspath(out)) or "."
    os.makedirs(parent, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".proposer-", suffix=".gguf", dir=parent)
    os.close(fd)
    try:
        writer = gguf.GGUFWriter(tmp, arch)
        if "general.alignment" in reader.fields:
            writer.data_alignment = int(reader.fields["general.alignment"].contents())
        for field in reader.fields.values():
            if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
                continue
            vtype = field.types[0]
            sub = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
            writer.add_key_value(field.name, field.contents(), vtype, sub_type=sub)
        for t in reader.tensors:
            if t.name in deltas:
                w = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32) + deltas[t.name]
                if qtype == "q8_0" and w.shape[-1] % 32 == 0:
                    q = gguf.quants.quantize(w, gguf.GGMLQuantizationType.Q8_0)
                    writer.add_tensor(t.name, q, raw_shape=q.shape, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
                else:
                    writer.add_tensor(t.name, w)
            else:
                writer.add_tensor(t.name, t.data, raw_shape=t.data.shape, raw_dtype=t.tensor_type)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        _public(tmp)
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def write_merged_hf(lm, adapter, out: str) -> None:
    """The wrapped model's weights with the adapter merged, saved as a Hugging Face directory."""
    holder = lm.holder
    sd = {}
    for k, v in lm.model.state_dict().items():
        sd[k.replace(".base.weight", ".weight").replace(".base.bias", ".bias")] = v.detach().clone().cpu()
    for key, (a, b) in adapter.weights.items():
        name = holder.paths[key] + ".weight"
        sd[name] = sd[name] + adapter.scale * (b.cpu() @ a.cpu())
    parent = os.path.dirname(os.path.abspath(out)) or "."
    tmp = tempfile.mkdtemp(prefix=".proposer-", dir=parent)
    try:
        # save_pretrained walks the module tree for tied weights; the state dict holds the values.
        lm.model.save_pretrained(tmp, state_dict=sd)
        lm.tokenizer.save_pretrained(tmp)
        if os.path.exists(out):
            shutil.rmtree(out)
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def train_sft(engine, ex: list, spec: dict, log):
    """The SFT adapter (a TrainResult) on examples [(tokens, prompt_length)]."""
    lm = engine.lm
    ts = TrainingSpec(rank=spec["rank"], alpha=spec["alpha"], dropout=0.0, targets=list(TARGET_NAMES),
                      learningRate=spec["learningRate"], epochs=spec["epochs"], batchSize=1,
                      gradientAccumulation=spec["gradientAccumulation"], maxGradNorm=1.0,
                      maxLength=min(32768, max(2, max(len(t) for t, _ in ex))))
    job = lockstep.TokenJob([t for t, _ in ex], ts, int(spec["seed"]), lm.eos_id, prompt_lengths=[n for _, n in ex])

    def on_step(i, entry, total):
        log(f"  proposer SFT step {entry.step + 1}/{total} loss {entry.loss:.4f}")

    res = engine.trainer.train([job], slots=1, progress=on_step)[0]
    if res.error is not None:
        raise RuntimeError(f"proposer SFT: {res.error}")
    return res


def proposer_update(engine, rows: list, spec: dict, out: str, log) -> dict:
    """rows: [(prompt, completion)]; spec: rank, alpha, learningRate, epochs, gradientAccumulation,
    maxLength, seed. Returns the SFTLog (rows, maxLength, steps, tokens, losses, checkpoint,
    checkpointSHA256)."""
    lm = engine.lm
    ex = sft_examples(lm, rows, spec["maxLength"])
    name = os.path.basename(os.path.normpath(out))
    if not ex:
        _atomic_copy(lm.path, out)
        return {"rows": len(rows), "maxLength": 0, "steps": 0, "tokens": 0, "losses": [], "checkpoint": name,
                "checkpointSHA256": model_sha256(out)[0]}
    res = train_sft(engine, ex, spec, log)
    if os.path.isfile(lm.path) and lm.path.endswith(".gguf"):
        write_merged_gguf(lm.path, out, res.adapter, lm.model.config)
    else:
        write_merged_hf(lm, res.adapter, out)
    return {"rows": len(rows), "maxLength": max(len(t) for t, _ in ex), "steps": len(res.steps),
            "tokens": res.tokens, "losses": res.losses, "checkpoint": name,
            "checkpointSHA256": model_sha256(out)[0]}


__all__ = ["proposer_update", "sft_examples", "train_sft", "write_merged_gguf", "write_merged_hf"]
