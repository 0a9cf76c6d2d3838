"""Lockstep training = training each adapter alone with PEFT, on a tiny random Llama.

The reference is the plain loop a PEFT user writes: get_peft_model + LoraConfig, one sequence
per forward with gradients accumulated over the group, loss = summed token cross-entropy / the
group's targets (HF Trainer's num_items_in_batch), clip_grad_norm_, torch.optim.AdamW
(foreach=False), get_linear_schedule_with_warmup(0, total). Two things are taken from the
Swift engine on both sides so that the comparison is exact: the initial A (rng.kaiming_uniform,
copied into PEFT's lora_A) and the per-epoch order (rng.swift_shuffle).

Tolerance (float32, stated once): per-step losses within 2e-5 relative, final A and B within
2e-6 absolute + 2e-4 relative (the packed batch sums the shared base products in another order;
nothing else differs). The measured worst cases are printed with -s.
"""
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import DEVICE, fresh_tiny
from seb_torch_worker import lockstep, rng as R
from seb_torch_worker.lora import install
from seb_torch_worker.spec import HF_MODULE, TrainingSpec, prepare

LOSS_RTOL = 2e-5
W_ATOL, W_RTOL = 2e-6, 2e-4
PAD = 2


def peft_alone(state, job):
    """Trains job.spec on job.examples alone with PEFT; returns (losses, {(l,t): (A, B)})."""
    from peft import LoraConfig, get_peft_model
    from transformers import get_linear_schedule_with_warmup

    s = job.spec
    model = fresh_tiny(state)
    cfg = LoraConfig(r=s.rank, lora_alpha=s.alpha, lora_dropout=0.0,
                     target_modules=[HF_MODULE[t] for t in s.sorted_targets], task_type="CAUSAL_LM")
    pm = get_peft_model(model, cfg)
    layers = pm.base_model.model.model.layers
    mods = {}
    for l in range(len(layers)):
        for t in s.sorted_targets:
            parent = layers[l].self_attn if t in ("q", "k", "v", "o") else layers[l].mlp
            mods[(l, t)] = getattr(parent, HF_MODULE[t])
    keys = [(l, t) for l in range(len(layers)) for t in s.sorted_targets]
    inits = R.kaiming_uniform(job.seed, [(s.rank, mods[k].in_features) for k in keys])
    with torch.no_grad():
        for k, a0 in zip(keys, inits):
            mods[k].lora_A["default"].weight.copy_(torch.from_numpy(a0).to(DEVICE))
            mods[k].lora_B["default"].weight.zero_()
    params = [p for p in pm.parameters() if p.requires_grad]
    seqs = [prepare(e, s.lossMask, PAD, s.padLength) for e in job.examples]
    per_epoch = -(-(-(-len(seqs) // s.batchSize)) // s.gradientAccumulation)
    total = per_epoch * s.epochs
    opt = torch.optim.AdamW(params, lr=s.learningRate, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, foreach=False)
    sched = get_linear_schedule_with_warmup(opt, 0, total)
    g = R.SplitMix64(job.seed)
    losses = []
    for _ in range(s.epochs):
        order = list(range(len(seqs)))
        R.swift_shuffle(order, g)
        per = s.batchSize * s.gradientAccumulation
        for k in range(per_epoch):
            group = [seqs[i] for i in order[k * per:(k + 1) * per]]
            n = sum(p.n_targets for p in group)
            opt.zero_grad()
            acc = 0.0
            for p in group:
                ids = torch.tensor([p.tokens], device=DEVICE)
                attn = None
                if p.valid_keys is not None:
                    attn = torch.tensor([[1] * p.valid_keys + [0] * (len(p.tokens) - p.valid_keys)], device=DEVICE)
                logits = pm(input_ids=ids, attention_mask=attn).logits[0]
                tg = torch.tensor(p.targets, device=DEVICE)
                ce = F.cross_entropy(logits.float(), tg, ignore_index=-100, reduction="sum")
                (ce / n).backward()
                acc += ce.item()
            losses.append(acc / n)
            if s.maxGradNorm is not None:
                torch.nn.utils.clip_grad_norm_(params, s.maxGradNorm)
            opt.step()
            sched.step()
    weights = {k: (mods[k].lora_A["default"].weight.detach().clone(), mods[k].lora_B["default"].weight.detach().clone())
               for k in keys}
    return losses, weights


def make_jobs():
    rnd = random.Random(7)

    def seqs(n, lo, hi):
        return [[rnd.randrange(3, 64) for _ in range(rnd.randint(lo, hi))] for _ in range(n)]

    all7 = ["q", "k", "v", "o", "gate", "up", "down"]
    specs = [
        # SEAL's shape: q,v, batch 1, 10 epochs style (shortened), clip 1.0
        (TrainingSpec(rank=8, alpha=16, targets=["q", "v"], learningRate=1e-2, epochs=3), seqs(4, 5, 14)),
        # all seven projections, lower rank, accumulation 2, larger lr so clipping bites
        (TrainingSpec(rank=4, alpha=8, targets=all7, learningRate=3e-2, epochs=2, gradientAccumulation=2), seqs(5, 3, 20)),
        # SEAL's padded loss: pads are targets and masked keys
        (TrainingSpec(rank=2, alpha=4, targets=["q", "k", "v", "o"], learningRate=5e-3, epochs=2,
                      lossMask="seal-padded", padLength=24), seqs(3, 4, 10)),
        # batch 3 with a short last group, no clipping, one epoch
        (TrainingSpec(rank=6, alpha=3, targets=["gate", "up", "down"], learningRate=2e-2, epochs=1, batchSize=3,
                      maxGradNorm=None), seqs(7, 2, 9)),
        # a long job that outlives the others (joins late when slots are few)
        (TrainingSpec(rank=3, alpha=6, targets=["v", "down"], learningRate=1e-2, epochs=5), seqs(2, 10, 30)),
    ]
    return [lockstep.TokenJob(ex, s, seed=100 + i, pad_id=PAD) for i, (s, ex) in enumerate(specs)]


@pytest.mark.parametrize("slots,overhead", [(3, None), (5, None), (5, 0)])
def test_lockstep_equals_peft_alone(tiny_state, slots, overhead):
    """overhead 0: every step's rows split into a group per distinct length (length_groups)."""
    model = fresh_tiny(tiny_state)
    holder = install(model)
    jobs = make_jobs()
    trainer = lockstep.LockstepTrainer(model, holder)
    if overhead is not None:
        trainer.group_overhead = overhead
    results = trainer.train(jobs, slots=slots)
    assert trainer.last_bank.check_grads_in_place()
    worst_loss = worst_w = 0.0
    for job, res in zip(jobs, results):
        assert res.error is None, res.error
        ref_losses, ref_w = peft_alone(tiny_state, job)
        assert len(res.losses) == len(ref_losses)
        np.testing.assert_allclose(res.losses, ref_losses, rtol=LOSS_RTOL, atol=0)
        worst_loss = max(worst_loss, max(abs(a - b) / abs(b) for a, b in zip(res.losses, ref_losses)))
        assert set(res.adapter.weights) == set(ref_w)
        for k, (a, b) in res.adapter.weights.items():
            ra, rb = ref_w[k]
            torch.testing.assert_close(a, ra, atol=W_ATOL, rtol=W_RTOL)
            torch.testing.assert_close(b, rb, atol=W_ATOL, rtol=W_RTOL)
            worst_w = max(worst_w, (a - ra).abs().max().item(), (b - rb).abs().max().item())
        # B moved: the comparison is not between two untrained adapters.
        assert max(b.abs().max().item() for _, b in res.adapter.weights.values()) > 1e-3
    print(f"\nslots {slots}: worst loss rel diff {worst_loss:.2e}, worst weight abs diff {worst_w:.2e}")


def test_padding_in_stack_stays_zero(tiny_state):
    """Lower-rank and non-targeted parts of a slot receive exactly zero gradient."""
    model = fresh_tiny(tiny_state)
    holder = install(model)
    jobs = make_jobs()[:2]  # ranks 8 (q,v) and 4 (all seven)
    trainer = lockstep.LockstepTrainer(model, holder)
    seen = {}
    orig = lockstep._SlotBank.extract

    def spy(self, slot, spec):
        a, b = self._slot_views(slot, (0, "q"))
        seen[spec.rank] = (a[spec.rank:].abs().max().item() if spec.rank < self.r_max else 0.0,
                           b[:, spec.rank:].abs().max().item() if spec.rank < self.r_max else 0.0)
        if "gate" not in spec.targets:
            ga, gb = self._slot_views(slot, (1, "gate"))
            seen["untargeted"] = (ga.abs().max().item(), gb.abs().max().item())
        return orig(self, slot, spec)

    lockstep._SlotBank.extract = spy
    try:
        trainer.train(jobs, slots=2)
    finally:
        lockstep._SlotBank.extract = orig
    assert seen[4] == (0.0, 0.0)
    assert seen["untargeted"] == (0.0, 0.0)


def _dropout_job():
    rnd = random.Random(3)
    ex = [[rnd.randrange(3, 64) for _ in range(rnd.randint(4, 12))] for _ in range(4)]
    return lockstep.TokenJob(ex, TrainingSpec(rank=4, alpha=8, dropout=0.25, targets=["q", "v", "up"],
                                              learningRate=1e-2, epochs=2, gradientAccumulation=2), seed=99, pad_id=PAD)


def test_dropout_independent_of_packing(tiny_state):
    """With dropout > 0 an adapter's losses and weights do not depend on what it trains beside:
    its masks come from its own stream (the Swift engine's), counted per row."""
    alone_model = fresh_tiny(tiny_state)
    alone = lockstep.LockstepTrainer(alone_model, install(alone_model)).train([_dropout_job()], slots=1)[0]
    others = make_jobs()
    for j in others[:2]:
        j.spec.dropout = 0.1  # neighbours with their own dropout streams
    packed_model = fresh_tiny(tiny_state)
    packed = lockstep.LockstepTrainer(packed_model, install(packed_model)).train(
        [others[0], others[1], _dropout_job(), others[4]], slots=4)[2]
    assert alone.error is None and packed.error is None
    np.testing.assert_allclose(packed.losses, alone.losses, rtol=LOSS_RTOL, atol=0)
    for k, (a, b) in alone.adapter.weights.items():
        torch.testing.assert_close(packed.adapter.weights[k][0], a, atol=W_ATOL, rtol=W_RTOL)
        torch.testing.assert_close(packed.adapter.weights[k][1], b, atol=W_ATOL, rtol=W_RTOL)
    # Dropout really acted: the same job without dropout trains differently.
    nodrop = _dropout_job()
    nodrop.spec.dropout = 0.0
    plain_model = fresh_tiny(tiny_state)
    plain = lockstep.LockstepTrainer(plain_model, install(plain_model)).train([nodrop], slots=1)[0]
    assert abs(plain.losses[-1] - alone.losses[-1]) > 1e-4


def test_dropout_masks_follow_the_swift_stream():
    """The counter-based masks equal the sequential Swift draws (Double(nextUnitFloat()) < p drops)."""
    seed, p = (99 ^ R.DROPOUT_SEED_XOR), 0.25
    g = R.SplitMix64(seed)
    seq = [g.next() >> 40 for _ in range(1000)]
    dev = torch.device(DEVICE)
    got = R.unit24(seed, 0, 600, dev).tolist() + R.unit24(seed, 600, 400, dev).tolist()
    assert got == seq
    drops = [(u * 2.0**-24) < p for u in seq]
    assert drops == [u < R.dropout_threshold(p) for u in got]


def test_bad_jobs_fail_alone(tiny_state):
    model = fresh_tiny(tiny_state)
    holder = install(model)
    good = make_jobs()[0]
    too_wide = lockstep.TokenJob([[5, 6, 7]], TrainingSpec(rank=17, targets=["k"]), seed=1, pad_id=PAD)
    empty = lockstep.TokenJob([], TrainingSpec(rank=2), seed=2, pad_id=PAD)
    bad_token = lockstep.TokenJob([[5, 99]], TrainingSpec(rank=2), seed=3, pad_id=PAD)
    res = lockstep.LockstepTrainer(model, holder).train([too_wide, good, empty, bad_token], slots=2)
    assert "training.rank" in res[0].error and "16" in res[0].error
    assert res[1].error is None and len(res[1].losses) == 12
    assert "no training sequence" in res[2].error
    assert "token id 99" in res[3].error


def test_chunked_head_equals_whole(tiny_state):
    """Many targets: the head and loss in checkpointed chunks give the same training."""
    jobs = make_jobs()[:3]
    whole_model = fresh_tiny(tiny_state)
    whole = lockstep.LockstepTrainer(whole_model, install(whole_model)).train(jobs, slots=3)
    chunk_model = fresh_tiny(tiny_state)
    trainer = lockstep.LockstepTrainer(chunk_model, install(chunk_model))
    trainer.head_elements = 64 * 7  # 7 target rows a chunk (vocab 64)
    chunked = trainer.train(make_jobs()[:3], slots=3)
    for a, b in zip(whole, chunked):
        np.testing.assert_allclose(b.losses, a.losses, rtol=LOSS_RTOL, atol=0)
        for k, (wa, wb) in a.adapter.weights.items():
            torch.testing.assert_close(b.adapter.weights[k][0], wa, atol=W_ATOL, rtol=W_RTOL)
            torch.testing.assert_close(b.adapter.weights[k][1], wb, atol=W_ATOL, rtol=W_RTOL)


def test_length_groups_minimise_padded_work():
    """The dynamic programme against every split of the sorted rows into runs (B <= 8)."""
    import itertools
    rnd = random.Random(3)
    for trial in range(200):
        B = rnd.randint(1, 8)
        lengths = [rnd.choice([rnd.randint(1, 40), rnd.randint(100, 250)]) for _ in range(B)]
        overhead = rnd.choice([0, 30, 500, 5000])
        groups = lockstep.length_groups(lengths, overhead)
        assert sorted(i for g in groups for i in g) == list(range(B))
        assert all(g == sorted(g) for g in groups)
        cost = sum(overhead + len(g) * max(lengths[i] for i in g) for g in groups)
        order = sorted(range(B), key=lambda i: (lengths[i], i))
        best = min(
            sum(overhead + (b - a) * lengths[order[b - 1]] for a, b in zip((0,) + cuts, cuts + (B,)))
            for n in range(B) for cuts in itertools.combinations(range(1, B), n))
        assert cost == best, (lengths, overhead, groups)
    # Uniform rows, or an overhead larger than any saving: one group in request order.
    assert lockstep.length_groups([7, 7, 7], 0) == [[0, 1, 2]]
    assert lockstep.length_groups([200, 30, 31], 10_000) == [[0, 1, 2]]
    # One long row among short ones, cheap forwards: it goes alone.
    assert lockstep.length_groups([30, 200, 31, 29], 50) == [[0, 2, 3], [1]]
