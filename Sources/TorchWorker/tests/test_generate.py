"""Batched generation and scoring with a different adapter per row = each row alone, and = the
model with that adapter merged into its weights (W + scale * B A), on the tiny random Llama.

Tolerance: generated tokens and finish reasons identical; scores within 1e-5 absolute
(float32 logits, summation order only)."""
import random

import pytest
import torch

from conftest import DEVICE, fresh_tiny
from seb_torch_worker import generate as G
from seb_torch_worker.lora import Adapter, install
from seb_torch_worker.spec import HF_MODULE

SCORE_ATOL = 1e-5


class TinyLM:
    """The parts of model.LoadedModel the generator uses, over a tokenizer-free tiny model:
    token i decodes to "<i>"; ids 2 (EOS) and 0 stop."""

    def __init__(self, model, holder):
        self.model, self.holder = model, holder
        self.device = torch.device(DEVICE)
        self.bf16 = False
        self.stop_ids = {0, 2}
        self.context_length = model.config.max_position_embeddings

    def decode(self, ids):
        return "".join(f"<{i}>" for i in ids)


def random_adapter(holder, rank, targets, seed, alpha=None):
    g = torch.Generator().manual_seed(seed)
    w = {}
    for l in range(holder.layers):
        for t in targets:
            N, K = holder.shape((l, t))
            w[(l, t)] = ((torch.randn(rank, K, generator=g) * 0.3).to(DEVICE),
                         (torch.randn(N, rank, generator=g) * 0.3).to(DEVICE))
    return Adapter(rank, float(alpha or 2 * rank), 0.0, targets, w)


def merged_model(state, adapter):
    m = fresh_tiny(state)
    if adapter is None:
        return m
    with torch.no_grad():
        for (l, t), (a, b) in adapter.weights.items():
            layer = m.model.layers[l]
            mod = getattr(layer.self_attn if t in ("q", "k", "v", "o") else layer.mlp, HF_MODULE[t])
            mod.weight += adapter.scale * (b @ a)
    return m


@pytest.fixture
def setup(tiny_state):
    m = fresh_tiny(tiny_state)
    holder = install(m)
    adapters = [random_adapter(holder, 4, ["q", "v"], 1), random_adapter(holder, 8, ["q", "k", "v", "o", "gate", "up", "down"], 2),
                random_adapter(holder, 2, ["down"], 3, alpha=16)]
    return TinyLM(m, holder), adapters


def requests():
    rnd = random.Random(5)
    reqs = []
    plan = [0, 1, None, 2, 0, None, 1, 2]
    for i, a in enumerate(plan):
        prompt = [rnd.randrange(3, 64) for _ in range(rnd.randint(1, 9))]
        s = G.Sampling() if i % 3 else G.Sampling(temperature=0.9, topP=0.9, topK=20, presencePenalty=0.5)
        reqs.append(G.GenRequest(prompt=prompt, max_tokens=10 + i, sampling=s, samples=2 if i == 4 else 1, seed=i * 11,
                                 adapter=a, stop=["<17>"] if i == 6 else []))
    return reqs


def test_generate_batch_equals_alone(setup):
    lm, adapters = setup
    reqs = requests()
    batched = G.generate(lm, reqs, adapters, batch_size=8)
    assert [(g.request, g.sample) for g in batched] == [(i, s) for i, r in enumerate(reqs) for s in range(r.samples)]
    for g in batched:
        r = reqs[g.request]
        one = G.GenRequest(prompt=r.prompt, max_tokens=r.max_tokens, sampling=r.sampling, samples=r.samples, seed=r.seed,
                           stop=r.stop, adapter=None if r.adapter is None else 0)
        alone = G.generate(lm, [one], [] if r.adapter is None else [adapters[r.adapter]], batch_size=1)[g.sample]
        assert (g.tokens, g.finish, g.text) == (alone.tokens, alone.finish, alone.text)
    assert {g.finish for g in batched} >= {"length"}


def test_generate_equals_merged_weights(setup, tiny_state):
    """Greedy rows against the plain HF model with the adapter merged (no wrapper involved)."""
    lm, adapters = setup
    reqs = [r for r in requests() if r.sampling.temperature == 0]
    got = G.generate(lm, reqs, adapters, batch_size=4)
    for g in got:
        r = reqs[g.request]
        ref = merged_model(tiny_state, None if r.adapter is None else adapters[r.adapter])
        ids = list(r.prompt)
        toks = []
        with torch.no_grad():
            for _ in range(len(g.tokens)):
                t = int(ref(torch.tensor([ids], device=DEVICE)).logits[0, -1].argmax())
                toks.append(t)
                ids.append(t)
                if t in lm.stop_ids:
                    break
        assert toks == g.tokens


def test_finish_reasons_and_stop_strings(setup):
    lm, adapters = setup
    r = G.GenRequest(prompt=[5, 6, 7], max_tokens=12)
    base = G.generate(lm, [r], [])[0]
    assert base.finish in ("length", "stop_token")
    # A stop string that the greedy output contains ends the sequence at the token that completes
    # it; the text keeps it (PROTOCOL.md: text drops a final end token, nothing else).
    piece = f"<{base.tokens[2]}>"
    cut = G.generate(lm, [G.GenRequest(prompt=[5, 6, 7], max_tokens=12, stop=[piece])], [])[0]
    k = base.tokens.index(base.tokens[2]) + 1
    assert cut.finish == "stop_string" and cut.tokens == base.tokens[:k] and cut.text.endswith(piece)
    zero = G.generate(lm, [G.GenRequest(prompt=[5], max_tokens=0)], [])[0]
    assert (zero.tokens, zero.text, zero.finish) == ([], "", "length")
    # The stop token ends a sequence and is dropped from the text.
    forced = adapters[0]
    with pytest.raises(G.GenerateError) as e:
        G.generate(lm, [G.GenRequest(prompt=[5], max_tokens=200)], [])
    assert "requests[0].maxTokens" in str(e.value)
    with pytest.raises(G.GenerateError) as e:
        G.generate(lm, [G.GenRequest(prompt=[5], max_tokens=3, sampling=G.Sampling(topP=0))], [])
    assert "requests[0].sampling.topP" in str(e.value)
    del forced


def test_stop_token_finish():
    """A stop id ends the row with finish stop_token, kept in tokens, dropped from the text."""
    class FakeLM:
        stop_ids = {2}
        decode = staticmethod(lambda ids: "".join(f"<{i}>" for i in ids))
    row = G._Row(0, 0, G.GenRequest(prompt=[1], max_tokens=5))
    G._accept(FakeLM, row, 7)
    G._accept(FakeLM, row, 2)
    assert (row.done.finish, row.done.tokens, row.done.text) == ("stop_token", [7, 2], "<7>")


def test_sampler_is_swift_sampler():
    """Against a direct transcription of Sampler.swift's loop on a fixed logit row."""
    torch.manual_seed(0)
    logits = torch.randn(50) * 3
    logits[7] = logits[3] = logits.max() + 0.5  # a tie: the lower id first

    def swift(o, seed, steps):
        from seb_torch_worker import rng as R
        g, seen, out = R.SplitMix64(seed), set(), []
        for _ in range(steps):
            l = logits.tolist()
            for t in seen:
                l[t] -= o.presencePenalty
            import numpy as np
            l = [float(np.float32(x)) for x in l]
            if o.temperature == 0:
                tok = max(range(50), key=lambda i: (l[i], -i))
            else:
                idx = sorted(range(50), key=lambda i: (-l[i], i))
                if 0 < o.topK < 50:
                    idx = idx[: o.topK]
                mx = l[idx[0]]
                p = [float(np.exp(np.float32((np.float32(l[i]) - np.float32(mx)) / np.float32(o.temperature)))) for i in idx]
                z = sum(p)
                p = [x / z for x in p]
                keep = len(p)
                if o.minP > 0:
                    cut = o.minP * p[0]
                    n = 0
                    while n < len(p) and p[n] >= cut:
                        n += 1
                    keep = max(1, n)
                if o.topP < 1:
                    acc, n = 0.0, 0
                    while n < keep:
                        acc += p[n]
                        n += 1
                        if acc >= o.topP:
                            break
                    keep = max(1, n)
                z = sum(p[:keep])
                u = g.next_double() * z
                acc, tok = 0.0, idx[keep - 1]
                for i in range(keep):
                    acc += p[i]
                    if u < acc:
                        tok = idx[i]
                        break
            seen.add(tok)
            out.append(tok)
        return out

    for o in [G.Sampling(), G.Sampling(temperature=0.7, topP=0.9), G.Sampling(temperature=1.3, topK=10, minP=0.05),
              G.Sampling(temperature=1.0, presencePenalty=1.5)]:
        s = G.Sampler(o, 42)
        got = []
        for _ in range(30):
            t = s.sample(logits)
            s.observe(t)
            got.append(t)
        assert got == swift(o, 42, 30), o
    assert G.Sampler(G.Sampling(), 0).sample(logits) == 3


def test_score_batch_equals_alone_and_merged(setup, tiny_state):
    lm, adapters = setup
    rnd = random.Random(9)
    items = []
    for i, a in enumerate([0, None, 1, 2, 1, None, 0]):
        items.append(([rnd.randrange(3, 64) for _ in range(rnd.randint(1, 12))],
                      [rnd.randrange(3, 64) for _ in range(rnd.randint(0 if i == 5 else 1, 6))], a))
    batched = G.score(lm, items, adapters, per_forward=4)
    for (p, c, a), got in zip(items, batched):
        alone = G.score(lm, [(p, c, None if a is None else 0)], [] if a is None else [adapters[a]])[0]
        assert len(got) == len(c)
        for x, y in zip(got, alone):
            assert abs(x - y) <= SCORE_ATOL
        if not c:
            continue
        ref = merged_model(tiny_state, None if a is None else adapters[a])
        with torch.no_grad():
            lp = torch.log_softmax(ref(torch.tensor([p + c], device=DEVICE)).logits[0].double(), -1)
        want = [lp[len(p) + k - 1, t].item() for k, t in enumerate(c)]
        for x, y in zip(got, want):
            assert abs(x - y) <= SCORE_ATOL
