"""The training settings as the Swift harness sends them, and the token-level rules they imply.

`TrainingSpec` mirrors Experiment/RunConfig.swift `struct TrainingSpec` (its JSON keys, defaults
and range checks, `TrainingSpec.parse` + `validate`); `examples` mirrors CPUEngine/LocalEngine
`examples(_:spec:)` (blank sequences dropped, EOS appended unless the stripped text already ends
with it, truncation to maxLength, sequences under 2 tokens dropped); `prepare` mirrors
Training/Trainer.swift `LossMask.prepare` (SEAL's padded loss trains on the pads).

Errors are `SpecError(key, expected, found)`, the key spelled as in the JSON (`training.rank`),
so a protocol error can name the field.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

TARGET_NAMES = ["q", "k", "v", "o", "gate", "up", "down"]
LOSS_MASKS = ["unpadded", "seal-padded"]
# The Hugging Face module name of each short target name (PEFT's target_modules).
HF_MODULE = {
    "q": "q_proj", "k": "k_proj", "v": "v_proj", "o": "o_proj",
    "gate": "gate_proj", "up": "up_proj", "down": "down_proj",
}


class SpecError(ValueError):
    def __init__(self, key: str, expected: str, found):
        self.key, self.expected, self.found = key, expected, found
        super().__init__(f"{key}: expected {expected}, found {found!r}")


def target_name(name: str) -> str:
    """Accepts PEFT (`q_proj`), short (`q`) and GGUF (`attn_q`) spellings, as Projection(loraName:)."""
    gguf = {"attn_q": "q", "attn_k": "k", "attn_v": "v", "attn_output": "o",
            "ffn_gate": "gate", "ffn_up": "up", "ffn_down": "down"}
    if name in TARGET_NAMES:
        return name
    if name in gguf:
        return gguf[name]
    for short, hf in HF_MODULE.items():
        if name == hf:
            return short
    raise SpecError("training.targets", "names among " + ", ".join(TARGET_NAMES), name)


@dataclass
class TrainingSpec:
    rank: int = 32
    alpha: float = 64.0
    dropout: float = 0.0
    targets: list = field(default_factory=lambda: ["q", "v"])
    learningRate: float = 1e-3
    epochs: int = 10
    batchSize: int = 1
    gradientAccumulation: int = 1
    maxGradNorm: float | None = 1.0
    lossMask: str = "unpadded"
    padLength: int = 2048
    appendEOS: bool = False
    maxLength: int = 2048

    @property
    def scale(self) -> float:
        # PEFT's scaling alpha / r (not rsLoRA's alpha / sqrt(r)).
        return self.alpha / self.rank

    @property
    def sorted_targets(self) -> list:
        return [t for t in TARGET_NAMES if t in self.targets]

    @classmethod
    def parse(cls, obj, key: str = "training") -> "TrainingSpec":
        """Keys absent keep their defaults (as TrainingSpec.parse); `maxGradNorm: null` means no
        clipping. Unknown keys and wrong types are refused naming the key."""
        if not isinstance(obj, dict):
            raise SpecError(key, "an object", obj)
        known = {f.name for f in fields(cls)}
        for k in obj:
            if k not in known:
                raise SpecError(f"{key}.{k}", "one of " + ", ".join(sorted(known)), "an unknown key")
        s = cls()

        def num(k, integer):
            v = obj[k]
            ok = isinstance(v, (int, float)) and not isinstance(v, bool)
            if integer:
                ok = ok and float(v).is_integer()
            if not ok:
                raise SpecError(f"{key}.{k}", "an integer" if integer else "a number", v)
            return int(v) if integer else float(v)

        for k in ("rank", "epochs", "batchSize", "gradientAccumulation", "padLength", "maxLength"):
            if k in obj:
                setattr(s, k, num(k, True))
        for k in ("alpha", "dropout", "learningRate"):
            if k in obj:
                setattr(s, k, num(k, False))
        if "maxGradNorm" in obj:
            s.maxGradNorm = None if obj["maxGradNorm"] is None else num("maxGradNorm", False)
        if "targets" in obj:
            t = obj["targets"]
            if not isinstance(t, list) or not all(isinstance(x, str) for x in t):
                raise SpecError(f"{key}.targets", "an array of strings", t)
            s.targets = list(t)
        if "lossMask" in obj:
            if not isinstance(obj["lossMask"], str):
                raise SpecError(f"{key}.lossMask", "a string", obj["lossMask"])
            s.lossMask = obj["lossMask"]
        if "appendEOS" in obj:
            if not isinstance(obj["appendEOS"], bool):
                raise SpecError(f"{key}.appendEOS", "true or false", obj["appendEOS"])
            s.appendEOS = obj["appendEOS"]
        s.validate(key)
        return s

    def validate(self, key: str = "training") -> None:
        """TrainingSpec.validate(path:key:), the same ranges."""
        def bad(k, expected, found):
            return SpecError(f"{key}.{k}", expected, found)
        if not 1 <= self.rank <= 1024:
            raise bad("rank", "1...1024", self.rank)
        if not (math.isfinite(self.alpha) and self.alpha > 0):
            raise bad("alpha", "a finite value > 0", self.alpha)
        if not 0 <= self.dropout < 1:
            raise bad("dropout", "[0, 1)", self.dropout)
        if (not self.targets or not all(t in TARGET_NAMES for t in self.targets)
                or len(set(self.targets)) != len(self.targets)):
            raise bad("targets", "distinct names among " + ", ".join(TARGET_NAMES), self.targets)
        if not (math.isfinite(self.learningRate) and 0 < self.learningRate <= 1):
            raise bad("learningRate", "(0, 1]", self.learningRate)
        if not 1 <= self.epochs <= 1000:
            raise bad("epochs", "1...1000", self.epochs)
        if not 1 <= self.batchSize <= 1024:
            raise bad("batchSize", "1...1024", self.batchSize)
        if not 1 <= self.gradientAccumulation <= 1024:
            raise bad("gradientAccumulation", "1...1024", self.gradientAccumulation)
        if self.maxGradNorm is not None and not (math.isfinite(self.maxGradNorm) and self.maxGradNorm > 0):
            raise bad("maxGradNorm", "a finite value > 0, or null for no clipping", self.maxGradNorm)
        if self.lossMask not in LOSS_MASKS:
            raise bad("lossMask", " or ".join(LOSS_MASKS), self.lossMask)
        if not 2 <= self.padLength <= 32768:
            raise bad("padLength", "2...32768", self.padLength)
        if not 2 <= self.maxLength <= 32768:
            raise bad("maxLength", "2...32768", self.maxLength)

    def to_json(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def check_fits(spec: TrainingSpec, shapes: dict, context_length: int, key: str = "training") -> None:
    """LocalEngine.checkFits: a rank above the narrowest adapted projection, or a padded length
    beyond the context, is refused before any work. `shapes[t] = (out, in)`."""
    widths = [min(shapes[t]) for t in spec.targets if t in shapes]
    if not widths:
        raise SpecError(f"{key}.targets", "projections this model has: " + ", ".join(shapes), spec.targets)
    if spec.rank > min(widths):
        raise SpecError(f"{key}.rank", f"<= {min(widths)} (the narrowest adapted projection)", spec.rank)
    if spec.lossMask == "seal-padded" and spec.padLength > context_length:
        raise SpecError(f"{key}.padLength", f"<= the model's context {context_length}", spec.padLength)


def examples(sequences, spec: TrainingSpec, encode, eos_id, eos_text, context_length) -> list:
    """Token ids a job trains on (LocalEngine.examples): blank sequences dropped, EOS appended if
    asked unless the stripped text already ends with the EOS text, truncated to
    min(maxLength, context) as HF's tokenizer(truncation=True), sequences under 2 tokens dropped."""
    out = []
    limit = min(spec.maxLength, context_length)
    for s in sequences:
        # Python's str.strip and Swift's .whitespacesAndNewlines differ only on exotic controls.
        if not s.strip():
            continue
        ids = list(encode(s))
        if spec.appendEOS and eos_id is not None and not (eos_text and s.strip().endswith(eos_text)):
            ids.append(eos_id)
        ids = ids[:limit]
        if len(ids) >= 2:
            out.append(ids)
    return out


@dataclass
class Prepared:
    """One sequence as the trainer takes it: tokens, next-token targets (-100: no loss, HF's
    ignore index) and how many leading keys attention may see (None: all)."""
    tokens: list
    targets: list
    valid_keys: int | None

    @property
    def n_targets(self) -> int:
        return sum(1 for t in self.targets if t >= 0)


def prepare(tokens: list, loss_mask: str, pad_id: int | None, pad_length: int, prompt_length: int = 0) -> Prepared:
    """LossMask.prepare. "unpadded": every next token. "seal-padded": right-padded with the pad
    token (EOS) to pad_length, and the pads are targets too (SEAL trains on them, unlike HF's
    usual -100 on pads); pad keys stay masked in attention and positions keep counting.
    "completion": only targets at index >= prompt_length (TRL's completion-only loss)."""
    toks = list(tokens)
    valid = None
    if loss_mask == "seal-padded" and len(toks) < pad_length:
        valid = len(toks)
        toks += [pad_id] * (pad_length - len(toks))
    targets = [-100] * len(toks)
    for t in range(len(toks) - 1):
        if loss_mask == "completion" and t + 1 < prompt_length:
            continue
        targets[t] = toks[t + 1]
    return Prepared(toks, targets, valid)
