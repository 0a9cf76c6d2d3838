"""Shared fixtures: a tiny random Llama built in memory (no download), its state dict for fresh
copies, and the installed model from Data/models when present (tests that need it skip
otherwise)."""
import copy
import os
import sys

import pytest
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
# SEB_TORCH_DEVICE=cuda runs the tiny-model tests on a GPU (the installed-model tests stay on the CPU).
DEVICE = os.environ.get("SEB_TORCH_DEVICE", "cpu")
REAL_MODEL = os.environ.get("SEB_TORCH_MODEL", os.path.join(REPO, "Data", "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))

# One thread by default: with OpenMP, 2 threads on 2 busy cores (a build beside the tests) made
# every matmul wait at barriers, 20x slower.
torch.set_num_threads(int(os.environ.get("SEB_TORCH_THREADS", "1")))


def tiny_config():
    from transformers import LlamaConfig
    return LlamaConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                       num_key_value_heads=2, vocab_size=64, max_position_embeddings=128,
                       tie_word_embeddings=True, rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2,
                       pad_token_id=2)


@pytest.fixture(scope="session")
def tiny_state():
    from transformers import LlamaForCausalLM
    torch.manual_seed(1234)
    m = LlamaForCausalLM(tiny_config())
    # Larger than the default init (std 0.02) so logits are spread and greedy has no near-ties.
    with torch.no_grad():
        for p in m.parameters():
            if p.dim() == 2:
                p.normal_(0, 0.3)
    return copy.deepcopy(m.state_dict())


def fresh_tiny(state):
    from transformers import LlamaForCausalLM
    m = LlamaForCausalLM(tiny_config())
    m.load_state_dict(state)
    return m.to(DEVICE).eval()


@pytest.fixture
def tiny(tiny_state):
    from seb_torch_worker import lora
    m = fresh_tiny(tiny_state)
    return m, lora.install(m)


@pytest.fixture(scope="session")
def real_model():
    if not os.path.exists(REAL_MODEL):
        pytest.skip(f"no model at {REAL_MODEL} (run `seb model install`, or set SEB_TORCH_MODEL)")
    from seb_torch_worker.model import load
    return load(REAL_MODEL, device="cpu")
