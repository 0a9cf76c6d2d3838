"""Loading a model for the worker: a GGUF file (transformers' GGUF loader, which dequantizes every
tensor to float32 and undoes llama.cpp's Q/K row permutation) or a Hugging Face model directory.

The model computes in float32; `bf16=True` is the recorded switch for bfloat16 autocast (SEAL's
Trainer ran with bf16=True): weights stay float32, matmuls run in bfloat16 inside autocast.

Token conventions follow the Swift engine (LLM/LanguageModel.swift, Tokenizer):
  - encode never adds BOS or other special tokens, and parses special-token texts
    ("<|im_end|>" becomes its id), as `Tokenizer.encode` does (HF's default adds them for some
    models: one-line difference, add_special_tokens=False);
  - the end-of-generation ids are EOS plus the control tokens whose text is a known end-of-turn
    marker (llama.cpp's special_eog_ids; SmolLM2: {2, 0});
  - decode skips nothing: a completion's final stop token is dropped by the caller.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

import torch

from . import lora

# The engine version a run manifest records (resume refuses another). 2: the lockstep trainer
# starts the longest jobs first and splits a step's rows into length groups, greedy rows pick in
# one argmax per step, scoring runs 64 rows per forward sorted by length: float rounding differs
# from 1, so a run started on 1 does not resume on 2.
VERSION = "2"
EOG_MARKERS = {"<|endoftext|>", "<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<|end|>", "<end_of_turn>"}
_HF_FILES = (".safetensors", ".bin", ".json", ".model", ".txt", ".tiktoken", ".jinja")


def sha256_file(path: str, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def model_files(path: str) -> list:
    """The files that make the model: the GGUF itself, or a directory's weights, configs and
    tokenizer files (sorted by name)."""
    if os.path.isfile(path):
        return [path]
    out = []
    for name in sorted(os.listdir(path)):
        p = os.path.join(path, name)
        if os.path.isfile(p) and name.endswith(_HF_FILES):
            out.append(p)
    return out


def model_sha256(path: str) -> tuple:
    """(sha256, {file name: sha256}, bytes): a GGUF's own hash; for a directory, the hash of the
    sorted "name sha256" lines, so the same files always give the same identity."""
    files = model_files(path)
    per = {os.path.basename(f): sha256_file(f) for f in files}
    size = sum(os.path.getsize(f) for f in files)
    if os.path.isfile(path):
        return per[os.path.basename(path)], per, size
    joined = "".join(f"{n} {h}\n" for n, h in sorted(per.items()))
    return hashlib.sha256(joined.encode()).hexdigest(), per, size


@dataclass
class LoadedModel:
    path: str
    model: torch.nn.Module
    tokenizer: object
    holder: lora.LoRAHolder
    device: torch.device
    bf16: bool
    sha256: str
    file_hashes: dict
    bytes: int
    eos_id: int | None
    stop_ids: set = field(default_factory=set)
    load_seconds: float = 0.0

    @property
    def name(self) -> str:
        return os.path.basename(os.path.normpath(self.path))

    @property
    def context_length(self) -> int:
        return int(getattr(self.model.config, "max_position_embeddings", 2048))

    @property
    def vocab_size(self) -> int:
        return int(self.model.config.vocab_size)

    @property
    def dtype(self) -> str:
        return "bfloat16-autocast" if self.bf16 else "float32"

    @property
    def eos_text(self) -> str | None:
        return None if self.eos_id is None else self.tokenizer.convert_ids_to_tokens(self.eos_id)

    def identity(self) -> dict:
        """EngineIdentity's fields (what a run manifest records), plus each file's hash and the
        library versions (a Swift client ignores keys it does not know)."""
        dev = str(self.device)
        if self.device.type == "cuda":
            dev += f" ({torch.cuda.get_device_name(self.device)})"
        else:
            dev += f" ({torch.get_num_threads()} threads)"
        return {
            "engine": "torch", "version": VERSION, "model": self.name, "modelPath": os.path.abspath(self.path),
            "modelBytes": self.bytes, "dtype": self.dtype, "device": dev, "contextLength": self.context_length,
            "modelSHA256": self.sha256, "files": self.file_hashes,
            "torch": torch.__version__, "transformers": _version("transformers"),
        }

    def encode(self, text: str) -> list:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def decode(self, ids: list) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)

    def chat_prompt(self, system: str | None, user: str) -> str:
        msgs = ([{"role": "system", "content": system}] if system is not None else []) + [{"role": "user", "content": user}]
        return self.tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)


def _version(pkg: str) -> str:
    try:
        from importlib.metadata import version
        return version(pkg)
    except Exception:
        return "unknown"


def stop_ids(tokenizer, eos_id) -> set:
    ids = set() if eos_id is None else {int(eos_id)}
    for tok, i in tokenizer.get_vocab().items():
        if tok in EOG_MARKERS and i in set(tokenizer.all_special_ids) | _added_ids(tokenizer):
            ids.add(int(i))
    return ids


def _added_ids(tokenizer) -> set:
    try:
        return {int(i) for i in tokenizer.added_tokens_decoder}
    except Exception:
        return set()


def load(path: str, device: str | None = None, bf16: bool = False, threads: int | None = None) -> LoadedModel:
    """A GGUF file or a Hugging Face model directory, float32 on `device` (default: cuda if
    available, else cpu), projections wrapped for per-row adapters."""
    import time

    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:  # the GGUF loader's own tqdm bar ignores disable_progress_bar
        import functools
        import transformers.modeling_gguf_pytorch_utils as gguf_utils
        gguf_utils.tqdm = functools.partial(gguf_utils.tqdm, disable=True)
    except (ImportError, AttributeError):
        pass
    if threads:
        torch.set_num_threads(threads)
    if not os.path.exists(path):
        raise FileNotFoundError(f"model {path} not found (a .gguf file or a Hugging Face model directory)")
    t0 = time.perf_counter()
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if os.path.isfile(path):
        d, name = os.path.split(os.path.abspath(path))
        tok = AutoTokenizer.from_pretrained(d, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(d, gguf_file=name, dtype=torch.float32)
    else:
        tok = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    model.to(dev).eval()
    holder = lora.install(model)
    sha, per, size = model_sha256(path)
    eos = tok.eos_token_id
    if eos is None:
        eos = getattr(model.config, "eos_token_id", None)
        eos = eos[0] if isinstance(eos, list) else eos
    return LoadedModel(path=path, model=model, tokenizer=tok, holder=holder, device=dev, bf16=bf16, sha256=sha,
                       file_hashes=per, bytes=size, eos_id=eos, stop_ids=stop_ids(tok, eos),
                       load_seconds=time.perf_counter() - t0)
