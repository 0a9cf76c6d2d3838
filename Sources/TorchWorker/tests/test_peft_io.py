"""Adapters written by the worker load in PEFT (PeftModel.from_pretrained) and give the same
logits as the worker's own per-row forward (within 1e-5 absolute, float32)."""
import json
import os

import torch

from conftest import DEVICE, fresh_tiny
from seb_torch_worker import lockstep
from seb_torch_worker.lora import LoRAContext, inference_stacks, install, save_peft
from seb_torch_worker.spec import TrainingSpec

LOGIT_ATOL = 1e-5


def test_saved_adapter_loads_in_peft(tiny_state, tmp_path):
    from peft import PeftModel

    model = fresh_tiny(tiny_state)
    holder = install(model)
    job = lockstep.TokenJob([[5, 9, 13, 20, 7, 7, 31], [40, 41, 3, 8]],
                            TrainingSpec(rank=4, alpha=8, targets=["q", "k", "v", "o", "gate", "up", "down"],
                                         learningRate=3e-2, epochs=4), seed=11, pad_id=2)
    res = lockstep.LockstepTrainer(model, holder).train([job])[0]
    assert res.error is None
    out = tmp_path / "adapter"
    save_peft(res.adapter, holder, str(out), base_model="tiny")
    assert sorted(os.listdir(out)) == ["adapter_config.json", "adapter_model.safetensors"]
    cfg = json.loads((out / "adapter_config.json").read_text())
    assert cfg["r"] == 4 and cfg["lora_alpha"] == 8 and cfg["target_modules"][0] == "q_proj"
    # Saving again replaces the directory whole.
    save_peft(res.adapter, holder, str(out), base_model="tiny")
    assert sorted(os.listdir(tmp_path)) == ["adapter"]

    ids = torch.tensor([[5, 9, 13, 20, 7, 1, 2, 60, 33]], device=DEVICE)
    peft = PeftModel.from_pretrained(fresh_tiny(tiny_state), str(out)).to(DEVICE).eval()
    with torch.no_grad():
        want = peft(ids).logits[0]
        stacks, scales = inference_stacks(holder, [res.adapter], torch.device(DEVICE))
        rows = torch.tensor([0], device=DEVICE)
        with holder.use(LoRAContext(stacks, rows, scales.index_select(0, rows))):
            got = model(ids).logits[0]
        base = model(ids).logits[0]
    assert (got - want).abs().max().item() <= LOGIT_ATOL
    assert (got - base).abs().max().item() > 100 * LOGIT_ATOL  # the adapter matters
