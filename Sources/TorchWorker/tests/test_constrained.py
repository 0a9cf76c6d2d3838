"""Schema-constrained generation on the installed model (skipped when it or llguidance is absent),
and the refusal when llguidance is missing."""
import json

import pytest

from seb_torch_worker import constrained
from seb_torch_worker.engine import EngineRequestError, TorchEngine

SEQUENCES = ('{"type": "object", "properties": {"training_sequences": {"type": "array", "minItems": 1, "items": '
             '{"type": "string", "minLength": 1}}}, "required": ["training_sequences"], "additionalProperties": false}')
TEMPLATE = ('{"type": "object", "properties": {"data_creation_instruction": {"type": "string", "minLength": 1}, '
            '"hyperparameters": {"type": "object", "properties": {"lora_rank": {"enum": [4, 8, 16, 32, 64]}, '
            '"lora_alpha": {"type": "integer", "minimum": 0, "maximum": 999}, "lora_dropout": {"type": "number", '
            '"minimum": 0}, "learning_rate": {"type": "number", "minimum": 0}, "num_epochs": {"type": "integer", '
            '"minimum": 0, "maximum": 99}, "gradient_accumulation_steps": {"type": "integer", "minimum": 0, '
            '"maximum": 9}}, "required": ["lora_rank", "lora_alpha", "lora_dropout", "learning_rate", "num_epochs", '
            '"gradient_accumulation_steps"], "additionalProperties": false}}, "required": '
            '["data_creation_instruction", "hyperparameters"], "additionalProperties": false}')


@pytest.fixture(scope="module")
def engine(real_model):
    if not constrained.AVAILABLE:
        pytest.skip("llguidance is not installed")
    return TorchEngine(real_model)


def test_outputs_follow_the_schemas(engine):
    user = ("Return a JSON object. Passage: Super Bowl 50 was played on February 7, 2016 at Levi's Stadium "
            "in Santa Clara, California.")
    prompt = engine.chat_prompt(None, user)
    reqs = [{"prompt": prompt, "maxTokens": 96, "jsonSchema": SEQUENCES},
            {"prompt": prompt, "maxTokens": 96, "jsonSchema": SEQUENCES, "seed": 3,
             "sampling": {"temperature": 1.0, "topP": 0.95}},
            {"prompt": engine.chat_prompt(None, "Propose a data creation instruction and LoRA hyperparameters as JSON."),
             "maxTokens": 160, "jsonSchema": TEMPLATE, "seed": 5, "sampling": {"temperature": 0.7}}]
    gens = engine.generate(reqs, batch_size=3)
    complete = 0
    for g in gens:
        assert g["finish"] in ("complete", "length"), g
        if g["finish"] == "complete":
            complete += 1
            obj = json.loads(g["text"])
            if "training_sequences" in obj:
                assert set(obj) == {"training_sequences"} and obj["training_sequences"]
                assert all(isinstance(s, str) and s for s in obj["training_sequences"])
            else:
                hp = obj["hyperparameters"]
                assert hp["lora_rank"] in (4, 8, 16, 32, 64) and 0 <= hp["num_epochs"] <= 99
            # The Swift automata's format: ", " and ": " separators, no other whitespace.
            if "\\" not in g["text"]:
                assert g["text"] == json.dumps(obj, ensure_ascii=False)
        else:
            assert g["text"].startswith("{")
    assert complete >= 1


def test_refusals_name_the_field(engine, monkeypatch):
    with pytest.raises(EngineRequestError) as e:
        engine.generate([{"prompt": "x", "maxTokens": 4}, {"prompt": "x", "maxTokens": 4, "jsonSchema": "{nope"}])
    assert e.value.field == "requests[1].jsonSchema"
    engine._constraints = None
    monkeypatch.setattr(constrained, "AVAILABLE", False)
    with pytest.raises(EngineRequestError) as e:
        engine.generate([{"prompt": "x", "maxTokens": 4, "jsonSchema": SEQUENCES}])
    assert e.value.field == "requests[0].jsonSchema" and "llguidance" in str(e.value)
    # Plain requests still work without it.
    assert engine.generate([{"prompt": "x", "maxTokens": 2}])[0]["finish"] in ("length", "stop_token")
