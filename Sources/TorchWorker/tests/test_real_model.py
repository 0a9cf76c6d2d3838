"""The installed SmolLM2-135M-Instruct Q4_1 GGUF (skipped when absent) against
../shared/reference (HF transformers float32 and llama.cpp outputs on the same file): token ids
equal, top-40 logits within 1e-3 absolute, the first 16 greedy tokens equal, gold mean NLL within
1e-3. The reference README states these tolerances."""
import json
import os

import pytest

from conftest import REPO
from seb_torch_worker import generate as G

REF = os.path.join(REPO, "..", "shared", "reference")


def ref(name):
    p = os.path.join(REF, name)
    if not os.path.exists(p):
        pytest.skip(f"no reference file {p}")
    with open(p) as f:
        return json.load(f)["cases"]


def test_identity(real_model):
    ident = real_model.identity()
    assert ident["engine"] == "torch" and ident["dtype"] == "float32"
    assert ident["contextLength"] == 8192 and len(ident["modelSHA256"]) == 64
    assert real_model.eos_id == 2 and real_model.stop_ids == {0, 2}


def test_tokenizer(real_model):
    for c in ref("tokenizer.json"):
        assert real_model.encode(c["text"]) == c["ids"], c["text"]


def test_logits_and_greedy(real_model):
    import torch
    for c in ref("logits.json"):
        with torch.no_grad():
            lg = real_model.model(torch.tensor([c["ids"]])).logits[0]
        for p, pos in enumerate(c["positions"]):
            got = lg[p, pos["top_ids"]]
            assert (got - torch.tensor(pos["top_logits"])).abs().max().item() < 1e-3
    cases = ref("greedy.json")
    gens = G.generate(real_model, [G.GenRequest(prompt=c["prompt_ids"], max_tokens=48) for c in cases], [], batch_size=8)
    for c, g in zip(cases, gens):
        assert g.tokens[:16] == c["greedy_ids"][:16]


def test_gold_nll(real_model):
    cases = ref("gold_nll.json")
    items = [(real_model.encode(c["prompt"]), c["answer_ids"], None) for c in cases]
    for c, lp in zip(cases, G.score(real_model, items, [])):
        assert abs(-sum(lp) / len(lp) - c["mean_nll"]) < 1e-3
