"""Decoding under a JSON Schema through llguidance (the Rust engine behind vLLM's and
transformers' guidance backends): one wheel, no Python dependencies, works on CPU with any fast
Hugging Face tokenizer. It is optional: without it the worker runs and refuses schema requests
with `ConstraintUnavailable`.

Why llguidance (checked on PyPI, December 2026, with transformers 5.25 and SmolLM2's tokenizer):
lm-format-enforcer 0.11.3's transformers integration fails to import on transformers 5
(`transformers.tokenization_utils.PreTrainedTokenizerBase` is gone); xgrammar 0.2.9 needs
apache-tvm-ffi and triton besides; outlines pulls outlines-core, and more. llguidance accepts
every keyword of the search's four schemas (enum, minLength, minItems, minimum/maximum,
additionalProperties, $defs/$ref).

Output format: compact JSON with ", " and ": " separators and no other whitespace, the format
of the Swift engine's automata (Decoding/ByteDFA.jsonObject) and of Python's json.dumps; a
schema's own "x-guidance" options override it. Differences from the Swift engine: llguidance
follows JSON Schema exactly where the Swift automata are stricter (a schema without
"additionalProperties": false admits extra keys; numbers are not digit-bounded), and it does not
guarantee that an output completes within the token budget: a sequence that runs out ends with
finish "length" (the Swift engine only offers tokens whose shortest completion fits).
"""
from __future__ import annotations

import json

import torch

try:
    import llguidance
    import llguidance.hf
    import llguidance.torch as _llt
    AVAILABLE = True
except ImportError:  # the worker runs without it
    llguidance = None
    AVAILABLE = False

FORMAT = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}


class ConstraintUnavailable(RuntimeError):
    pass


class SchemaError(ValueError):
    pass


class Constraints:
    """Compiled schemas for one tokenizer, cached by schema text."""

    def __init__(self, tokenizer, vocab_size: int):
        if not AVAILABLE:
            raise ConstraintUnavailable(
                "JSON-schema decoding needs the Python package llguidance (pip install llguidance, "
                "pinned in requirements.txt); this worker was started without it")
        self.tok = llguidance.hf.from_tokenizer(tokenizer, n_vocab=vocab_size)
        self.vocab_size = vocab_size
        self.grammars: dict = {}

    def factory(self, schema: str):
        """A function giving a fresh State per sample; SchemaError if llguidance refuses the schema."""
        g = self.grammars.get(schema)
        if g is None:
            try:
                obj = json.loads(schema)
            except (TypeError, ValueError) as e:
                raise SchemaError(f"not JSON: {e}")
            if not isinstance(obj, dict):
                raise SchemaError("expected a JSON Schema object")
            g = llguidance.LLMatcher.grammar_from_json_schema(obj, defaults=FORMAT)
            err = llguidance.LLMatcher.validate_grammar(g, self.tok)
            if err and not err.startswith("WARNING"):
                raise SchemaError(err)
            self.grammars[schema] = g
        return lambda: State(self, g)


class State:
    """One sequence's position in the grammar."""

    def __init__(self, owner: Constraints, grammar: str):
        self.owner = owner
        self.m = llguidance.LLMatcher(owner.tok, grammar)
        if self.m.is_error():
            raise SchemaError(self.m.get_error())
        self.bitmask = _llt.allocate_token_bitmask(1, owner.vocab_size)

    def mask(self, logits: torch.Tensor, tokens_left: int) -> torch.Tensor:
        _llt.fill_next_token_bitmask(self.m, self.bitmask)
        # Unpacked here rather than with llguidance.torch's helper, which needs torch.compile.
        bits = self.bitmask[0].unsqueeze(1) >> torch.arange(32, dtype=torch.int32)
        allowed = (bits & 1).view(-1)[: logits.numel()].bool().to(logits.device)
        return logits.float().masked_fill(~allowed, float("-inf"))

    def advance(self, token: int) -> bool:
        """Consumes a token; True when the output is complete (the grammar accepts), the moment
        the Swift engine ends a constrained sequence with finish "complete"."""
        if not self.m.consume_token(token):
            raise SchemaError(f"token {token} rejected: {self.m.get_error()}")
        return self.m.is_accepting()
