"""Many LoRA adapters inside one frozen Hugging Face model, a different one per batch row.

Every adapted projection (q,k,v,o,gate,up,down of every decoder layer) is replaced by a
`MultiLoRALinear` that adds, to row b of the batch,

    scale[b] * (dropout_b(x_b) @ A[slot_b]^T) @ B[slot_b]^T          (PEFT's lora_B(lora_A(drop(x))) * scaling)

where A [S, r, K] and B [S, N, r] are stacks of S adapters and slot_b picks row b's adapter.
What a forward uses is set with `LoRAHolder.use(context)`; outside it the model is the base model.
Adapters of smaller rank sit zero-padded in the stack: a zero row of A meets a zero column of B,
so the padding adds exactly 0 and receives exactly 0 gradient (tested). A slot that does not
target a projection holds zeros there, with the same effect.

`Adapter` is a trained adapter held by the worker (float32 A/B per (layer, target), HF row order:
transformers un-permutes llama.cpp's Q/K rows on load, so no permutation is needed on export,
unlike the Swift engine's QKPermutation). `save_peft` writes the PEFT directory.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field

import torch
from torch import nn

from .spec import HF_MODULE, TARGET_NAMES

_LAYER_RE = re.compile(r"(?:^|\.)layers\.(\d+)\.(?:self_attn|mlp)\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)$")
_SHORT = {v: k for k, v in HF_MODULE.items()}


class LoRAContext:
    """What the wrapped projections read during one forward.

    stacks: {(layer, target): (A [S, r, K], B [S, N, r])}; rows: LongTensor [B] of slots;
    row_scale: float32 [B] (0 for a row without adapter); dropout: None or a callable
    (key, x) -> x with each row's own mask."""

    def __init__(self, stacks: dict, rows: torch.Tensor, row_scale: torch.Tensor, dropout=None):
        self.stacks, self.rows, self.row_scale, self.dropout = stacks, rows, row_scale, dropout


class LoRAHolder:
    """The model's adapted projections and the context they read (not an nn.Module, so it owns
    no parameters and the model's state dict is unchanged)."""

    def __init__(self):
        self.ctx: LoRAContext | None = None
        self.modules: dict = {}  # (layer, target) -> MultiLoRALinear
        self.paths: dict = {}    # (layer, target) -> module path in the model (for PEFT names)

    def use(self, ctx: LoRAContext | None):
        holder = self

        class _Use:
            def __enter__(self):
                self.prev, holder.ctx = holder.ctx, ctx

            def __exit__(self, *exc):
                holder.ctx = self.prev
        return _Use()

    def shape(self, key) -> tuple:
        """(out N, in K) of an adapted projection."""
        m = self.modules[key].base
        return m.out_features, m.in_features

    def target_shapes(self) -> dict:
        """{target: (out, in)} for the targets this model has (layer 0's)."""
        return {t: self.shape((0, t)) for t in TARGET_NAMES if (0, t) in self.modules}

    @property
    def layers(self) -> int:
        return 1 + max(l for l, _ in self.modules)


class MultiLoRALinear(nn.Module):
    def __init__(self, base: nn.Linear, key: tuple, holder: LoRAHolder):
        super().__init__()
        self.base = base
        self.key = key
        self._holder = [holder]  # a list so nn.Module does not register it

    def forward(self, x):
        y = self.base(x)
        ctx = self._holder[0].ctx
        if ctx is None:
            return y
        ab = ctx.stacks.get(self.key)
        if ab is None:
            return y
        a, b = ab
        xa = x if ctx.dropout is None else ctx.dropout(self.key, x)
        ar = a.index_select(0, ctx.rows)  # [B, r, K]
        br = b.index_select(0, ctx.rows)  # [B, N, r]
        if xa.dtype != ar.dtype and not torch.is_autocast_enabled(xa.device.type):
            xa = xa.to(ar.dtype)
        h = torch.bmm(xa, ar.transpose(1, 2))
        d = torch.bmm(h, br.transpose(1, 2))
        return y + d * ctx.row_scale.view(-1, 1, 1).to(d.dtype)


def install(model: nn.Module) -> LoRAHolder:
    """Wraps every q,k,v,o,gate,up,down projection of every decoder layer (once per model)."""
    if hasattr(model, "_seb_lora"):
        return model._seb_lora
    holder = LoRAHolder()
    found = []
    for name, mod in model.named_modules():
        m = _LAYER_RE.search(name)
        if m and isinstance(mod, nn.Linear):
            found.append((name, int(m.group(1)), _SHORT[m.group(2)], mod))
    if not found:
        raise ValueError("no decoder layer projections named layers.N.{self_attn,mlp}.*_proj in this model")
    for name, layer, target, mod in found:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        wrapped = MultiLoRALinear(mod, (layer, target), holder)
        setattr(parent, child, wrapped)
        holder.modules[(layer, target)] = wrapped
        holder.paths[(layer, target)] = name
    for p in model.parameters():
        p.requires_grad_(False)
    model._seb_lora = holder
    return holder


@dataclass
class Adapter:
    """A trained adapter: float32 A [r, K] and B [N, r] per (layer, target), HF row order."""
    rank: int
    alpha: float
    dropout: float
    targets: list
    weights: dict = field(default_factory=dict)

    @property
    def scale(self) -> float:
        return self.alpha / self.rank


def inference_stacks(holder: LoRAHolder, adapters: list, device) -> tuple:
    """Stacks for a forward over held adapters: slot i = adapters[i], slot len(adapters) = zeros
    (rows without adapter). Returns (stacks, scales [n+1] float32)."""
    n = len(adapters)
    r_max = max((a.rank for a in adapters), default=1)
    keys = sorted({k for a in adapters for k in a.weights})
    stacks = {}
    for key in keys:
        N, K = holder.shape(key)
        A = torch.zeros(n + 1, r_max, K, device=device)
        B = torch.zeros(n + 1, N, r_max, device=device)
        for i, ad in enumerate(adapters):
            w = ad.weights.get(key)
            if w is not None:
                A[i, : ad.rank] = w[0]
                B[i, :, : ad.rank] = w[1]
        stacks[key] = (A, B)
    scales = torch.tensor([a.scale for a in adapters] + [0.0], dtype=torch.float32, device=device)
    return stacks, scales


def peft_name(path: str, ab: str) -> str:
    return f"base_model.model.{path}.lora_{ab}.weight"


def save_peft(adapter: Adapter, holder: LoRAHolder, directory: str, base_model: str = "") -> None:
    """adapter_config.json + adapter_model.safetensors, as Training/AdapterIO.swift writes them;
    written into a scratch directory beside `directory` and renamed into place, so a failure
    leaves the old directory or nothing. An existing non-empty directory is replaced whole."""
    from safetensors.torch import save_file

    directory = os.path.abspath(directory)
    parent = os.path.dirname(directory)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".adapter-", dir=parent)
    try:
        tensors = {}
        for key, (a, b) in adapter.weights.items():
            path = holder.paths[key]
            tensors[peft_name(path, "A")] = a.detach().float().cpu().contiguous()
            tensors[peft_name(path, "B")] = b.detach().float().cpu().contiguous()
        save_file(tensors, os.path.join(tmp, "adapter_model.safetensors"), metadata={"format": "pt"})
        cfg = {
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": adapter.rank, "lora_alpha": adapter.alpha,
            "lora_dropout": adapter.dropout, "bias": "none", "fan_in_fan_out": False, "use_rslora": False,
            "inference_mode": True, "init_lora_weights": True,
            "target_modules": [HF_MODULE[t] for t in TARGET_NAMES if t in adapter.targets],
            "base_model_name_or_path": base_model,
        }
        with open(os.path.join(tmp, "adapter_config.json"), "w") as f:
            json.dump(cfg, f, indent=2, sort_keys=True)
        if os.path.exists(directory):
            old = directory + ".old-" + os.path.basename(tmp)
            os.rename(directory, old)
            os.rename(tmp, directory)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
