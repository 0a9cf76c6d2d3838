"""The engine interface in text, as EngineAPI/Engine.swift states it: what the HTTP server calls.

Prompts, training sequences and continuations arrive as strings and are tokenised here with the
model's tokenizer; trained adapters stay in this process behind integer handles until released.
Each method validates its whole input before any work and raises `EngineRequestError(field,
message)` naming the offending field, so the server can answer a protocol error instead of
dying; a training job that cannot train fails alone (its error string, as LocalEngine's
EngineFailure).
"""
from __future__ import annotations

import threading

from . import generate as G
from . import lockstep
from .constrained import ConstraintUnavailable, Constraints, SchemaError
from .lora import save_peft
from .model import LoadedModel
from .spec import SpecError, TrainingSpec, check_fits, examples


class EngineRequestError(ValueError):
    """A request the engine refuses. kind "bad_request": a value out of range; "model": the model
    cannot do it (a prompt beyond the context, settings it cannot take, a non-finite value)."""

    def __init__(self, field: str, message: str, kind: str = "bad_request"):
        self.field, self.kind = field, kind
        super().__init__(f"{field}: {message}")


class UnknownAdapter(KeyError):
    def __init__(self, handle):
        self.handle = handle
        super().__init__(handle)

    def __str__(self):
        return f"adapter {self.handle} is not held by this engine (released, or made by another engine)"


class TorchEngine:
    def __init__(self, lm: LoadedModel, handles=None):
        """`handles`: an iterator of adapter handles shared by the engines of one worker, so a
        handle names its model too."""
        import itertools
        self.lm = lm
        self.adapters: dict = {}
        self.handles = handles if handles is not None else itertools.count()
        self.trainer = lockstep.LockstepTrainer(lm.model, lm.holder, lm.device, bf16=lm.bf16)
        self._constraints = None
        # One model, one stream of work: requests are served one at a time.
        self.lock = threading.Lock()

    def identity(self) -> dict:
        return self.lm.identity()

    def count_tokens(self, texts: list) -> list:
        return [len(self.lm.encode(t)) for t in texts]

    def chat_prompt(self, system, user: str) -> str:
        return self.lm.chat_prompt(system, user)

    def check_fits(self, spec: TrainingSpec, key: str = "training") -> None:
        try:
            check_fits(spec, self.lm.holder.target_shapes(), self.lm.context_length, key)
        except SpecError as e:
            raise EngineRequestError(e.key, f"expected {e.expected}, found {e.found}", kind="model")

    # MARK: training

    def examples(self, sequences: list, spec: TrainingSpec) -> list:
        return examples(sequences, spec, self.lm.encode, self.lm.eos_id, self.lm.eos_text, self.lm.context_length)

    def train(self, jobs: list, adapters_per_step: int = 16, progress=None) -> list:
        """jobs: [(sequences [str], TrainingSpec, seed)]. One entry per job: {"adapter": handle,
        "summary": {sequences, steps, tokens, losses}, "steps": [StepLog]} or {"error": message}."""
        token_jobs = [lockstep.TokenJob(self.examples(seqs, spec), spec, seed, self.lm.eos_id)
                      for seqs, spec, seed in jobs]
        done = [0]

        def on_step(i, entry, total):
            if progress is not None and entry.step == total - 1:
                done[0] += 1
                progress(done[0], len(jobs))

        results = self.trainer.train(token_jobs, slots=adapters_per_step, progress=on_step)
        out = []
        for tj, r in zip(token_jobs, results):
            if r.error is not None:
                out.append({"error": r.error})
                continue
            h = next(self.handles)
            self.adapters[h] = r.adapter
            out.append({"adapter": h, "summary": {"sequences": len(tj.examples), "steps": len(r.steps),
                                                  "tokens": r.tokens, "losses": r.losses},
                        "steps": r.steps})
        return out

    def _adapter_list(self, handles: list, key: str) -> tuple:
        """The call's adapters in first-use order and each request's index into them."""
        order, index = [], []
        slot = {}
        for i, h in enumerate(handles):
            if h is None:
                index.append(None)
                continue
            if h not in self.adapters:
                raise UnknownAdapter(h)
            if h not in slot:
                slot[h] = len(order)
                order.append(self.adapters[h])
            index.append(slot[h])
        return order, index

    # MARK: generation and scoring

    def constraints(self) -> Constraints:
        if self._constraints is None:
            self._constraints = Constraints(self.lm.tokenizer, self.lm.vocab_size)
        return self._constraints

    def generate(self, requests: list, batch_size: int = 16, progress=None) -> list:
        """requests: dicts with prompt, maxTokens and optionally sampling {temperature, topP,
        topK, minP, presencePenalty}, samples, seed, stop, jsonSchema, adapter. Returns
        Generation dicts (request, sample, text, tokens, promptTokens, finish)."""
        adapters, index = self._adapter_list([r.get("adapter") for r in requests], "requests")
        reqs = []
        for i, (r, a) in enumerate(zip(requests, index)):
            key = f"requests[{i}]"
            constraint = None
            if r.get("jsonSchema") is not None:
                try:
                    constraint = self.constraints().factory(r["jsonSchema"])
                except ConstraintUnavailable as e:
                    raise EngineRequestError(f"{key}.jsonSchema", str(e))
                except SchemaError as e:
                    raise EngineRequestError(f"{key}.jsonSchema", f"expected a schema llguidance compiles: {e}")
            s = r.get("sampling") or {}
            unknown = set(s) - {"temperature", "topP", "topK", "minP", "presencePenalty"}
            if unknown:
                raise EngineRequestError(f"{key}.sampling.{sorted(unknown)[0]}", "an unknown key")
            try:
                sampling = G.Sampling(**s)
            except TypeError as e:
                raise EngineRequestError(f"{key}.sampling", str(e))
            reqs.append(G.GenRequest(prompt=self.lm.encode(r["prompt"]), max_tokens=int(r["maxTokens"]),
                                     sampling=sampling, samples=int(r.get("samples", 1)),
                                     seed=int(r.get("seed", 0)), stop=list(r.get("stop", [])), adapter=a,
                                     constraint=constraint))
        try:
            gens = G.generate(self.lm, reqs, adapters, batch_size=batch_size, progress=progress)
        except G.GenerateError as e:
            raise EngineRequestError(e.field, e.message, kind=e.kind)
        return [{"request": g.request, "sample": g.sample, "text": g.text, "tokens": len(g.tokens),
                 "promptTokens": g.prompt_tokens, "finish": g.finish} for g in gens]

    def score(self, items: list) -> list:
        """items: dicts with prompt, continuation, adapter. Per-token log-probabilities of each
        continuation tokenised alone ([] when it has no tokens)."""
        adapters, index = self._adapter_list([it.get("adapter") for it in items], "items")
        triples = [(self.lm.encode(it["prompt"]), self.lm.encode(it["continuation"]), a) for it, a in zip(items, index)]
        try:
            return G.score(self.lm, triples, adapters)
        except G.GenerateError as e:
            raise EngineRequestError(e.field, e.message, kind=e.kind)

    # MARK: adapters

    def save_adapter(self, handle: int, directory: str) -> None:
        if handle not in self.adapters:
            raise UnknownAdapter(handle)
        save_peft(self.adapters[handle], self.lm.holder, directory, base_model=self.lm.name)

    def release(self, handles: list) -> None:
        for h in handles:
            self.adapters.pop(h, None)
