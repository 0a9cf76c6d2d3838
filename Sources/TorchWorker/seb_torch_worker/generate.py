"""Batched generation and continuation scoring, a different adapter (or none) per row.

Generation follows LLM/Generator.swift + Sampler.swift:
  - every sample i of a request draws from SplitMix64(sampleSeed(seed, i)), one draw per token
    when temperature > 0, so its text depends on its prompt, options and seed, not on batching;
  - filters in Swift's order: presence penalty -> greedy (argmax, ties to the lowest id) or:
    top-k -> temperature -> softmax (float32 exp, float64 sums) -> min-p -> top-p -> draw;
  - after each token: grammar complete -> "complete"; a stop id -> "stop_token" (the id is kept in
    `tokens`); a stop string in the decoded text -> "stop_string" (text cut before it);
    max tokens reached -> "length". max_tokens 0 gives "length" and no token.
Rows are left-padded in a batch (positions from the attention mask) and decoded together with a
KV cache; finished rows leave the batch. A row's logits differ from decoding it alone only in
float32 summation order.

Scoring follows Transformer.continuationLogProbs: prompt and continuation are tokenised apart,
concatenated, and continuation token i is scored by the log-softmax (float64) of the logits at
position len(prompt) + i - 1.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import torch

from . import rng as R
from .lora import LoRAContext, inference_stacks


class GenerateError(ValueError):
    """A request the engine refuses; `field` names what is wrong (e.g. "requests[3].maxTokens").
    kind "bad_request": a value out of range; "model": what the model cannot do (a prompt beyond
    its context, a non-finite logit)."""

    def __init__(self, field: str, message: str, kind: str = "bad_request"):
        self.field, self.message, self.kind = field, message, kind
        super().__init__(f"{field}: {message}")


@dataclass
class Sampling:
    temperature: float = 0.0
    topP: float = 1.0
    topK: int = 0
    minP: float = 0.0
    presencePenalty: float = 0.0

    def validate(self, key: str) -> None:
        import math
        if not (math.isfinite(self.temperature) and self.temperature >= 0):
            raise GenerateError(f"{key}.temperature", f"expected a finite number >= 0, found {self.temperature}")
        if not 0 < self.topP <= 1:
            raise GenerateError(f"{key}.topP", f"expected a value in (0, 1], found {self.topP}")
        if self.topK < 0:
            raise GenerateError(f"{key}.topK", f"expected >= 0, found {self.topK}")
        if not 0 <= self.minP < 1:
            raise GenerateError(f"{key}.minP", f"expected a value in [0, 1), found {self.minP}")
        if not math.isfinite(self.presencePenalty):
            raise GenerateError(f"{key}.presencePenalty", f"expected a finite number, found {self.presencePenalty}")


@dataclass
class GenRequest:
    prompt: list                      # token ids
    max_tokens: int
    sampling: Sampling = field(default_factory=Sampling)
    samples: int = 1
    seed: int = 0
    stop: list = field(default_factory=list)
    adapter: int | None = None        # index into the call's adapter list; None = base model
    constraint: object = None         # a constrained.Constraint factory (one state per sample)


@dataclass
class GenResult:
    request: int
    sample: int
    tokens: list
    text: str
    finish: str
    prompt_tokens: int


class Sampler:
    """LLM/Sampler.swift on one row of logits (a 1-D float32 tensor on any device)."""

    def __init__(self, options: Sampling, seed: int):
        self.o = options
        self.rng = R.SplitMix64(seed)
        self.seen: list = []

    def observe(self, token: int) -> None:
        self.seen.append(token)

    def sample(self, logits: torch.Tensor) -> int:
        o = self.o
        l = logits.float()
        if o.presencePenalty != 0 and self.seen:
            l = l.clone()
            idx = torch.tensor(sorted(set(self.seen)), device=l.device)
            l[idx] -= o.presencePenalty
        if o.temperature == 0:
            return int(torch.argmax(l))  # the first maximum: ties go to the lowest id, as Swift
        vals, idx = torch.sort(l, descending=True, stable=True)  # ties by id
        if 0 < o.topK < vals.numel():
            vals, idx = vals[: o.topK], idx[: o.topK]
        p = torch.exp((vals - vals[0]) / o.temperature).double()
        p = p / p.sum()
        keep = p.numel()
        if o.minP > 0:
            keep = max(1, int((p >= o.minP * p[0]).sum()))
        if o.topP < 1:
            c = torch.cumsum(p[:keep], 0)
            reach = torch.nonzero(c >= o.topP)
            n = int(reach[0]) + 1 if reach.numel() else keep
            keep = max(1, n)
        kept = p[:keep]
        u = self.rng.next_double() * float(kept.sum())
        c = torch.cumsum(kept, 0)
        hit = torch.nonzero(u < c)
        return int(idx[int(hit[0]) if hit.numel() else keep - 1])


class _Row:
    def __init__(self, request: int, sample: int, req: GenRequest):
        self.request, self.sample, self.req = request, sample, req
        self.sampler = Sampler(req.sampling, R.sample_seed(req.seed, sample))
        self.tokens: list = []
        self.done: GenResult | None = None
        self.state = req.constraint() if req.constraint is not None else None


def generate(lm, requests: list, adapters: list, batch_size: int = 16, progress=None) -> list:
    """Every sample of every request, ordered by (request, sample). `lm` is a model.LoadedModel
    (or anything with model, holder, device, bf16, decode, stop_ids, context_length)."""
    V = lm.model.config.vocab_size
    for i, r in enumerate(requests):
        key = f"requests[{i}]"
        r.sampling.validate(f"{key}.sampling")
        if not r.prompt:
            raise GenerateError(f"{key}.prompt", "expected a prompt of at least one token, found none", "model")
        if r.max_tokens < 0:
            raise GenerateError(f"{key}.maxTokens", f"expected >= 0, found {r.max_tokens}")
        if r.samples < 1:
            raise GenerateError(f"{key}.samples", f"expected >= 1, found {r.samples}")
        if len(r.prompt) + r.max_tokens > lm.context_length:
            raise GenerateError(f"{key}.maxTokens", f"prompt {len(r.prompt)} + max tokens {r.max_tokens} exceed the "
                                f"context {lm.context_length}", "model")
        if r.adapter is not None and not 0 <= r.adapter < len(adapters):
            raise GenerateError(f"{key}.adapter", f"expected an adapter of this call, found {r.adapter}")
    rows = [_Row(i, s, r) for i, r in enumerate(requests) for s in range(r.samples)]
    total = len(rows)
    out = []
    for r in rows:
        if r.req.max_tokens == 0:
            r.done = GenResult(r.request, r.sample, [], "", "length", len(r.req.prompt))
            out.append(r.done)
    live = [r for r in rows if r.done is None]
    # Longest prompts first: rows of similar length share a batch (less padding).
    live.sort(key=lambda r: -len(r.req.prompt))
    stacks, scales = inference_stacks(lm.holder, adapters, lm.device) if adapters else ({}, None)
    for start in range(0, len(live), max(1, batch_size)):
        batch = live[start:start + batch_size]
        _decode_batch(lm, batch, stacks, scales, len(adapters), V)
        out.extend(r.done for r in batch)
        if progress is not None:
            progress(len(out), total)
    out.sort(key=lambda g: (g.request, g.sample))
    return out


def _accept(lm, row: _Row, tok: int) -> None:
    """Generator.accept: the finish checks in Swift's order."""
    row.tokens.append(tok)
    row.sampler.observe(tok)
    req = row.req
    if row.state is not None and row.state.advance(tok):
        row.done = GenResult(row.request, row.sample, row.tokens, lm.decode(row.tokens), "complete", len(req.prompt))
        return
    if tok in lm.stop_ids:
        row.done = GenResult(row.request, row.sample, row.tokens, lm.decode(row.tokens[:-1]), "stop_token", len(req.prompt))
        return
    if req.stop:
        text = lm.decode(row.tokens)
        if any(s and s in text for s in req.stop):
            # The whole text, stop string included: PROTOCOL.md's "text drops a final end token,
            # nothing else", what LocalEngine and `seb worker` return.
            row.done = GenResult(row.request, row.sample, row.tokens, text, "stop_string", len(req.prompt))
            return
    if len(row.tokens) >= req.max_tokens:
        row.done = GenResult(row.request, row.sample, row.tokens, lm.decode(row.tokens), "length", len(req.prompt))


def _pick(row: _Row, logits: torch.Tensor) -> int:
    if not bool(torch.isfinite(logits).all()):
        raise GenerateError(f"requests[{row.request}]", f"non-finite logits at generated token {len(row.tokens)}", "model")
    if row.state is not None:
        logits = row.state.mask(logits, row.req.max_tokens - len(row.tokens))
    return row.sampler.sample(logits)


def _pick_rows(rows: list, logits: torch.Tensor) -> list:
    """_pick for every row of a batch ([n, V] logits): the finiteness check and the plain greedy
    rows' argmax (first maximum, as the 1-D argmax of Sampler.sample) each in one kernel and one
    device sync instead of one per row; sampled and constrained rows go through _pick."""
    finite = torch.isfinite(logits).all(dim=1).tolist()
    for row, ok in zip(rows, finite):
        if not ok:
            raise GenerateError(f"requests[{row.request}]", f"non-finite logits at generated token {len(row.tokens)}", "model")
    plain = [j for j, r in enumerate(rows)
             if r.state is None and r.req.sampling.temperature == 0 and r.req.sampling.presencePenalty == 0]
    out = [None] * len(rows)
    if plain:
        sub = logits if len(plain) == len(rows) else logits.index_select(0, torch.tensor(plain, device=logits.device))
        for j, tok in zip(plain, torch.argmax(sub.float(), dim=-1).tolist()):
            out[j] = tok
    return [tok if tok is not None else _pick(rows[j], logits[j]) for j, tok in enumerate(out)]


def _cache_kw(model) -> str:
    # transformers 5.25 renamed past_key_values to cache (the old name warns until 5.40).
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


@torch.no_grad()
def _decode_batch(lm, batch: list, stacks: dict, scales, n_adapters: int, V: int) -> None:
    from transformers import DynamicCache

    dev = lm.device
    B = len(batch)
    P = max(len(r.req.prompt) for r in batch)
    ids = torch.zeros(B, P, dtype=torch.long)
    mask = torch.zeros(B, P, dtype=torch.long)
    for b, r in enumerate(batch):
        n = len(r.req.prompt)
        ids[b, P - n:] = torch.tensor(r.req.prompt)
        mask[b, P - n:] = 1
    ids, mask = ids.to(dev), mask.to(dev)
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    ctx = None
    if stacks and any(r.req.adapter is not None for r in batch):
        slots = torch.tensor([n_adapters if r.req.adapter is None else r.req.adapter for r in batch], device=dev)
        ctx = LoRAContext(stacks, slots, scales.index_select(0, slots))
    cache = DynamicCache()
    kw = {_cache_kw(lm.model): cache, "use_cache": True}
    with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=lm.bf16):
        with lm.holder.use(ctx):
            logits = lm.model(input_ids=ids, attention_mask=mask, position_ids=pos, logits_to_keep=1,
                              **kw).logits[:, -1].float()
        last = pos[:, -1]
        live = list(range(B))  # batch rows still decoding, in cache order
        while True:
            for b, tok in zip(live, _pick_rows([batch[b] for b in live], logits)):
                _accept(lm, batch[b], tok)
            keep = [j for j, b in enumerate(live) if batch[b].done is None]
            if not keep:
                return
            if len(keep) < len(live):
                # Finished rows leave the batch (their cache rows too), so they cost nothing more.
                idx = torch.tensor(keep, device=dev)
                _select_rows(cache, idx)
                mask, last = mask.index_select(0, idx), last.index_select(0, idx)
                if ctx is not None:
                    ctx = LoRAContext(stacks, ctx.rows.index_select(0, idx), ctx.row_scale.index_select(0, idx))
                live = [live[j] for j in keep]
            n = len(live)
            mask = torch.cat([mask, torch.ones(n, 1, dtype=mask.dtype, device=dev)], 1)
            last = last + 1
            nxt = torch.tensor([batch[b].tokens[-1] for b in live], device=dev).view(n, 1)
            with lm.holder.use(ctx):
                logits = lm.model(input_ids=nxt, attention_mask=mask, position_ids=last.view(n, 1),
                                  **kw).logits[:, -1].float()


def _select_rows(cache, idx: torch.Tensor) -> None:
    if hasattr(cache, "batch_select_indices"):
        cache.batch_select_indices(idx)
    else:
        cache.reorder_cache(idx)


@torch.no_grad()
def score(lm, items: list, adapters: list, per_forward: int = 64) -> list:
    """items: (prompt ids, continuation ids, adapter index or None). Per-token log-probabilities
    of each continuation ([] for an empty continuation)."""
    for i, (p, c, a) in enumerate(items):
        if c and not p:
            raise GenerateError(f"items[{i}].prompt", "expected a prompt of at least one token, found none", "model")
        if len(p) + len(c) > lm.context_length:
            raise GenerateError(f"items[{i}]", f"{len(p) + len(c)} tokens exceed the context {lm.context_length}", "model")
        if a is not None and not 0 <= a < len(adapters):
            raise GenerateError(f"items[{i}].adapter", f"expected an adapter of this call, found {a}")
    out = [[] for _ in items]
    # Longest first, so each forward pads to a similar length (batching changes rounding only).
    todo = sorted((i for i, (_, c, _) in enumerate(items) if c), key=lambda i: -(len(items[i][0]) + len(items[i][1])))
    stacks, scales = inference_stacks(lm.holder, adapters, lm.device) if adapters else ({}, None)
    dev = lm.device
    decoder, head = lm.model.get_decoder(), lm.model.get_output_embeddings()
    n_ad = len(adapters)
    for start in range(0, len(todo), per_forward):
        part = todo[start:start + per_forward]
        seqs = [items[i][0] + items[i][1] for i in part]
        T = max(len(s) for s in seqs)
        ids = torch.zeros(len(part), T, dtype=torch.long)
        mask = torch.zeros(len(part), T, dtype=torch.long)
        rows, cols, targets = [], [], []
        for b, (i, s) in enumerate(zip(part, seqs)):
            ids[b, : len(s)] = torch.tensor(s)
            mask[b, : len(s)] = 1
            p, c = items[i][0], items[i][1]
            for k, t in enumerate(c):
                rows.append(b)
                cols.append(len(p) + k - 1)
                targets.append(t)
        ctx = None
        if stacks and any(items[i][2] is not None for i in part):
            slots = torch.tensor([n_ad if items[i][2] is None else items[i][2] for i in part], device=dev)
            ctx = LoRAContext(stacks, slots, scales.index_select(0, slots))
        attn = None if bool(mask.all()) else mask.to(dev)
        with lm.holder.use(ctx), torch.autocast(dev.type, dtype=torch.bfloat16, enabled=lm.bf16):
            h = decoder(input_ids=ids.to(dev), attention_mask=attn, use_cache=False).last_hidden_state
            logits = head(h[torch.tensor(rows, device=dev), torch.tensor(cols, device=dev)])
        lp = torch.log_softmax(logits.double(), -1).gather(1, torch.tensor(targets, device=dev).view(-1, 1)).view(-1)
        if not bool(torch.isfinite(lp).all()):
            raise GenerateError("items", "a non-finite log-probability", "model")
        vals = lp.tolist()
        k = 0
        for i in part:
            n = len(items[i][1])
            out[i] = vals[k:k + n]
            k += n
    return out
