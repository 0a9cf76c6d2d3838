"""K LoRA adapters trained in lockstep through one frozen base model.

A queue of jobs (token sequences + TrainingSpec + seed) runs through K slots. Each forward takes
one sequence of every active job as one batch row (right-padded to the longest row), each row
with its own adapter; one backward gives every slot the gradient of its own rows only. A job
whose accumulation group is complete steps alone: its own gradient-norm clip, learning rate
(its own linear schedule over its own total steps), AdamW moments and step count. Jobs that
finish leave their slot to the next waiting job, so adapters of different ranks, lengths and
epoch counts join and leave while the others keep training.

The semantics are Training/Trainer.swift's (`LoRATrainer.train(jobs:packing:)`), which are the
HF Trainer defaults SEAL uses:
  - steps per epoch = ceil(ceil(n / batchSize) / gradientAccumulation); the last group of an
    epoch may be short; total = steps per epoch x epochs;
  - loss of a step = sum of token cross-entropies over the whole group / its number of targets
    (HF >= 4.46 num_items_in_batch), so batch 2 = accumulation 2;
  - clip the global gradient norm at maxGradNorm (coef max / (norm + 1e-6), as clip_grad_norm_);
  - AdamW (0.9, 0.999, 1e-8, weight decay 0), torch's update order; lr * (total - k) / total;
  - A ~ U(+-1/sqrt(K)) and B = 0; scale alpha / r; dropout on the adapter input.
The random streams are the Swift engine's own (rng.py): the same seed gives the same initial
A, the same per-epoch order and the same dropout masks as `seb train` / LocalEngine. PEFT and
the HF Trainer draw the same distributions from torch's generator instead.

Memory: all slots share one flat float32 buffer [S, P] laid out at the largest rank of the call
(a leaf view per (layer, target)), with a gradient buffer of the same layout and the AdamW
moments, so clipping and AdamW are a few kernels per step whatever the number of projections.
"""
from __future__ import annotations

import math
import time
import warnings
from collections import deque
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from . import rng as R
from .lora import Adapter, LoRAContext, LoRAHolder
from .spec import Prepared, TrainingSpec, prepare

BETA1, BETA2, EPS = 0.9, 0.999, 1e-8
# The gradient views into the flat gradient buffer have the parameter views' strides; autograd
# still warns that they are not its preferred layout (it accumulates into them all the same).
warnings.filterwarnings("ignore", message="grad and param do not obey the gradient layout contract")


@dataclass
class TokenJob:
    """One adapter to train: token sequences (no BOS added), settings, seed (initialisation,
    shuffle and dropout, as LocalEngine passes one seed to all three)."""
    examples: list
    spec: TrainingSpec
    seed: int
    pad_id: int | None = None  # the pad (= EOS) of SEAL's padded loss
    # Completion-only loss (the proposer's SFT): targets only from each sequence's prompt length on.
    prompt_lengths: list | None = None


@dataclass
class StepLog:
    step: int
    epoch: int
    loss: float
    learningRate: float
    gradNorm: float
    tokens: int
    targets: int
    seconds: float


@dataclass
class TrainResult:
    adapter: Adapter | None = None
    steps: list = field(default_factory=list)
    error: str | None = None

    @property
    def losses(self) -> list:
        return [s.loss for s in self.steps]

    @property
    def tokens(self) -> int:
        return sum(s.tokens for s in self.steps)


# The fixed cost of one more forward and backward, in padded tokens. On one H100 with a model of
# SmolLM2-135M's shape (bench_lockstep.py K sweep, session 16) a lockstep step took 0.117 s with 16
# or 32 rows (about 2,000 tokens) and 0.154 s with 64: about 18 us per token beyond a fixed
# 0.117 s that also holds the optimizer step, which a group does not repeat. 4,096 tokens (0.073 s)
# is the forward and backward's assumed share of it, not measured apart.
GROUP_OVERHEAD_TOKENS = 4096


def length_groups(lengths: list, overhead: int) -> list:
    """Row indices split into groups of similar length, minimising the sum over groups of
    (overhead + rows x longest row), the padded work of one forward each. Groups are runs of the
    rows sorted by length (an optimal split is always such a run: dynamic programming, O(B^2));
    each group keeps its rows in request order. One group when splitting saves nothing."""
    B = len(lengths)
    # Splitting saves at most B x (longest - shortest): no more than a forward costs, one group.
    if B == 0 or B * (max(lengths) - min(lengths)) <= overhead:
        return [list(range(B))] if B else []
    order = sorted(range(B), key=lambda i: (lengths[i], i))
    best = [0] + [None] * B  # best[j]: cost of the j shortest rows
    cut = [0] * (B + 1)
    for j in range(1, B + 1):
        longest = lengths[order[j - 1]]
        for i in range(j):
            c = best[i] + overhead + (j - i) * longest
            if best[j] is None or c < best[j]:
                best[j], cut[j] = c, i
    groups = []
    j = B
    while j > 0:
        groups.append(sorted(order[cut[j]:j]))
        j = cut[j]
    return groups[::-1]


class JobFailure(Exception):
    pass


class _Active:
    """A job inside the loop: where it is in its epochs and what its slot holds."""

    def __init__(self, index: int, job: TokenJob, seqs: list, slot: int):
        self.index, self.job, self.seqs, self.slot = index, job, seqs, slot
        s = job.spec
        self.rng = R.SplitMix64(job.seed)
        self.drop_counter = 0  # draws taken from the dropout stream
        self.drop_seed = (job.seed ^ R.DROPOUT_SEED_XOR) & R.MASK64
        batches = -(-len(seqs) // s.batchSize)
        self.steps_per_epoch = -(-batches // s.gradientAccumulation)
        self.total = self.steps_per_epoch * s.epochs
        self.epoch = self.step_in_epoch = self.step = 0
        self.order: list = []
        self.group: list = []
        self.position = 0
        self.group_targets = 0
        self.loss_sum = 0.0
        self.tokens = 0
        self.start = time.perf_counter()
        self.log: list = []

    def begin_group(self) -> bool:
        """Starts the next optimizer step's group (a fresh shuffle at each epoch); False when done."""
        s = self.job.spec
        if self.step_in_epoch == self.steps_per_epoch:
            self.epoch += 1
            self.step_in_epoch = 0
        if self.epoch >= s.epochs:
            return False
        if self.step_in_epoch == 0:
            self.order = list(range(len(self.seqs)))
            R.swift_shuffle(self.order, self.rng)
        per = s.batchSize * s.gradientAccumulation
        lo = self.step_in_epoch * per
        self.group = self.order[lo:lo + per]
        self.group_targets = sum(self.seqs[i].n_targets for i in self.group)
        self.position = 0
        self.loss_sum = 0.0
        self.tokens = 0
        self.start = time.perf_counter()
        return True

    def current(self) -> Prepared:
        return self.seqs[self.group[self.position]]


class LockstepTrainer:
    """Trains TokenJobs K at a time on a model whose projections `lora.install` wrapped."""

    def __init__(self, model, holder: LoRAHolder, device=None, bf16: bool = False):
        self.model = model
        self.holder = holder
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        self.bf16 = bf16
        self.decoder = model.get_decoder()
        self.head = model.get_output_embeddings()
        self.context_length = getattr(model.config, "max_position_embeddings", 1 << 30)
        self.vocab = model.config.vocab_size
        # Logit elements one forward may hold at once (2^28 float32 = 1 GiB, plus its gradient).
        self.head_elements = 1 << 28
        # What one more forward and backward costs, in padded tokens (length_groups).
        self.group_overhead = GROUP_OVERHEAD_TOKENS
        # Start the longest waiting job first (False: request order, as engine version 1).
        self.longest_first = True
        # Work counters (tools/bench_lockstep.py reports them): lockstep steps, forwards, real and
        # padded tokens through the base.
        self.stats = {"steps": 0, "forwards": 0, "tokens": 0, "padded_tokens": 0}

    # MARK: validation (before any work, per job)

    def _prepare(self, job: TokenJob) -> list:
        s = job.spec
        s.validate()
        if not job.examples:
            raise JobFailure("training sequence 0: the self-edit yields no training sequence of 2 or more tokens")
        shapes = self.holder.target_shapes()
        for t in s.targets:
            if t not in shapes:
                raise JobFailure(f"hyperparameter training.targets: expected projections of this model, found {t}")
        narrow = min(min(shapes[t]) for t in s.targets)
        if s.rank > narrow:
            raise JobFailure(f"hyperparameter training.rank: expected <= {narrow} (the narrowest adapted projection), found {s.rank}")
        if s.lossMask == "seal-padded":
            if job.pad_id is None:
                raise JobFailure("hyperparameter training.lossMask: expected a model with an EOS token, found seal-padded")
            if s.padLength > self.context_length:
                raise JobFailure(f"hyperparameter training.padLength: expected <= the model's context {self.context_length}, found {s.padLength}")
        out = []
        for i, toks in enumerate(job.examples):
            bad = [t for t in toks if not 0 <= t < self.vocab]
            if bad:
                raise JobFailure(f"training sequence {i}: token id {bad[0]} outside the vocabulary [0, {self.vocab})")
            if job.prompt_lengths is not None:
                p = prepare(toks, "completion", job.pad_id, s.padLength, prompt_length=job.prompt_lengths[i])
            else:
                p = prepare(toks, s.lossMask, job.pad_id, s.padLength)
            if len(p.tokens) > self.context_length:
                raise JobFailure(f"training sequence {i}: {len(p.tokens)} tokens; the context holds {self.context_length}")
            if p.n_targets == 0:
                plen = 0 if job.prompt_lengths is None else job.prompt_lengths[i]
                raise JobFailure(f"training sequence {i}: no token to train on ({len(toks)} tokens, prompt {plen})")
            out.append(p)
        return out

    # MARK: the loop

    def train(self, jobs: list, slots: int = 8, progress=None) -> list:
        """One TrainResult per job, in job order; a job that cannot train fails alone.
        `progress(job_index, StepLog, total_steps)` after every optimizer step."""
        results = [TrainResult() for _ in jobs]
        prepared = []
        for i, job in enumerate(jobs):
            try:
                prepared.append((i, self._prepare(job)))
            except (JobFailure, ValueError) as e:
                results[i].error = str(e)
        if not prepared:
            return results
        S = max(1, min(slots, len(prepared)))
        r_max = max(jobs[i].spec.rank for i, _ in prepared)
        targets = sorted({t for i, _ in prepared for t in jobs[i].spec.targets})
        bank = _SlotBank(self.holder, targets, S, r_max, self.device)
        self.last_bank = bank  # for tests and diagnostics
        # Longest first (rows = sequences x epochs; ties keep request order): the last jobs to
        # start then finish close together instead of leaving a long tail of nearly empty steps.
        # Which jobs share a step changes float rounding only, never a job's own arithmetic.
        if self.longest_first:
            prepared.sort(key=lambda e: -len(e[1]) * jobs[e[0]].spec.epochs)
        pending = deque(prepared)
        free = list(range(S))
        active: list[_Active] = []
        while active or pending:
            while free and pending:
                i, seqs = pending.popleft()
                a = _Active(i, jobs[i], seqs, free.pop(0))
                bank.reset(a.slot, jobs[i].spec, jobs[i].seed)
                if a.begin_group():
                    bank.zero_grad(a.slot)
                    active.append(a)
                else:
                    results[i].adapter = bank.extract(a.slot, jobs[i].spec)
                    free.append(a.slot)
            rows = [(a, a.current()) for a in active]
            sums = self._forward_backward(bank, rows)
            stepping = []
            for (a, p), ls in zip(rows, sums):
                a.loss_sum += ls
                a.tokens += len(p.tokens)
                a.position += 1
                if a.position == len(a.group):
                    stepping.append(a)
            if not stepping:
                continue
            done = self._optimizer_step(bank, stepping, results, progress)
            for a in done:
                active.remove(a)
                free.append(a.slot)
        return results

    def _forward_backward(self, bank: "_SlotBank", rows: list) -> list:
        """One batch row per (job, sequence); returns each row's sum of token losses (float64).
        Rows run in groups of similar length (`length_groups`), one forward and backward each:
        every row's gradient goes to its own slot, so grouping changes float rounding only."""
        sums = [0.0] * len(rows)
        self.stats["steps"] += 1
        for group in length_groups([len(p.tokens) for _, p in rows], self.group_overhead):
            for i, v in zip(group, self._forward_backward_rows(bank, [rows[i] for i in group])):
                sums[i] = v
        return sums

    def _forward_backward_rows(self, bank: "_SlotBank", rows: list) -> list:
        dev = self.device
        B = len(rows)
        T = max(len(p.tokens) for _, p in rows)
        self.stats["forwards"] += 1
        self.stats["tokens"] += sum(len(p.tokens) for _, p in rows)
        self.stats["padded_tokens"] += B * T
        ids = torch.zeros(B, T, dtype=torch.long)
        labels = torch.full((B, T), -100, dtype=torch.long)
        mask = torch.zeros(B, T, dtype=torch.long)
        for b, (_, p) in enumerate(rows):
            n = len(p.tokens)
            ids[b, :n] = torch.tensor(p.tokens)
            labels[b, :n] = torch.tensor(p.targets)
            mask[b, : (p.valid_keys if p.valid_keys is not None else n)] = 1
        ids, labels = ids.to(dev), labels.to(dev)
        attn = None if bool(mask.all()) else mask.to(dev)
        slots = torch.tensor([a.slot for a, _ in rows], dtype=torch.long, device=dev)
        weights = torch.tensor([1.0 / a.group_targets for a, _ in rows], dtype=torch.float32, device=dev)
        drop = _RowDropout(rows, bank, dev)
        stacks = bank.views()
        ctx = LoRAContext(stacks, slots, bank.scale.index_select(0, slots), drop if drop.active else None)
        with self.holder.use(ctx), torch.autocast(dev.type, dtype=torch.bfloat16, enabled=self.bf16):
            hidden = self.decoder(input_ids=ids, attention_mask=attn, use_cache=False).last_hidden_state
            sel = labels != -100
            row_of = torch.arange(B, device=dev).unsqueeze(1).expand(B, T)[sel]
            # The head runs on target rows only (the Swift engine does the same).
            h, tg = hidden[sel], labels[sel]
            sums = torch.zeros(B, device=dev, dtype=torch.float32)
            step = max(1, self.head_elements // self.vocab)
            if h.shape[0] <= step:
                ce = F.cross_entropy(self.head(h).float(), tg, reduction="none")
                sums = sums.index_add(0, row_of, ce)
            else:
                # Many targets (SEAL's padded loss, long sequences): the logits of a chunk are
                # recomputed in backward instead of kept, so memory stays at one chunk of logits.
                for i in range(0, h.shape[0], step):
                    ce = checkpoint(self._ce, h[i:i + step], tg[i:i + step], use_reentrant=False)
                    sums = sums.index_add(0, row_of[i:i + step], ce)
        (sums * weights).sum().backward()
        return sums.double().tolist()

    def _ce(self, h, targets):
        return F.cross_entropy(self.head(h).float(), targets, reduction="none")

    def _optimizer_step(self, bank: "_SlotBank", stepping: list, results: list, progress) -> list:
        """Clip, AdamW, log for every job whose group just completed; returns the jobs that are done."""
        done = []
        idx = torch.tensor([a.slot for a in stepping], dtype=torch.long, device=self.device)
        grads = bank.grad.index_select(0, idx)
        norms = grads.double().pow(2).sum(1).sqrt().tolist()
        ok, lrs, coefs = [], [], []
        for a, norm in zip(stepping, norms):
            s = a.job.spec
            loss = a.loss_sum / a.group_targets
            if not math.isfinite(loss):
                results[a.index].error = (f"training stopped at optimizer step {a.step}: the loss is {loss} "
                                          "(not finite); lower the learning rate or check the data")
            elif not math.isfinite(norm):
                results[a.index].error = (f"training stopped at optimizer step {a.step}: the loss is {loss} with "
                                          f"gradient norm {norm} (not finite); lower the learning rate or check the data")
            if results[a.index].error is not None:
                results[a.index].steps = a.log
                done.append(a)
                continue
            coef = 1.0 if s.maxGradNorm is None else min(1.0, s.maxGradNorm / (norm + 1e-6))
            lr = s.learningRate * max(0.0, (a.total - a.step) / max(1, a.total))
            ok.append((a, norm, loss, lr))
            lrs.append(lr)
            coefs.append(coef)
        if ok:
            keep = torch.tensor([a.slot for a, *_ in ok], dtype=torch.long, device=self.device)
            g = bank.grad.index_select(0, keep)
            c = torch.tensor(coefs, dtype=torch.float32, device=self.device).unsqueeze(1)
            g = g * c if any(x < 1.0 for x in coefs) else g
            bank.adamw(keep, g, lrs)
        for a, norm, loss, lr in ok:
            entry = StepLog(a.step, a.epoch, loss, lr, norm, a.tokens, a.group_targets,
                            time.perf_counter() - a.start)
            a.log.append(entry)
            a.step += 1
            a.step_in_epoch += 1
            if progress is not None:
                progress(a.index, entry, a.total)
            if a.begin_group():
                bank.zero_grad(a.slot)
                continue
            results[a.index].steps = a.log
            results[a.index].adapter = bank.extract(a.slot, a.job.spec)
            done.append(a)
        return done


class _SlotBank:
    """S adapters at rank r_max in one flat float32 buffer [S, P] with its gradient [S, P], AdamW
    moments and step counts per slot. Each (layer, target) has a leaf A [S, r_max, K] and
    B [S, N, r_max] that are views of the buffer, with .grad views of the gradient buffer, so
    autograd accumulates each projection's gradient in place and clipping and AdamW run on the
    flat rows. (Views of one leaf [S, P] instead made every backward allocate an [S, P] zero
    tensor per projection.)"""

    def __init__(self, holder: LoRAHolder, targets: list, S: int, r_max: int, device):
        self.holder, self.S, self.r_max, self.device = holder, S, r_max, device
        self.keys = sorted((k for k in holder.modules if k[1] in targets),
                           key=lambda k: (k[0], ["q", "k", "v", "o", "gate", "up", "down"].index(k[1])))
        self.layout = {}
        off = 0
        for key in self.keys:
            N, K = holder.shape(key)
            self.layout[key] = (off, N, K)
            off += r_max * K + N * r_max
        self.P = off
        self.flat = torch.zeros(S, self.P, device=device)
        self.grad = torch.zeros(S, self.P, device=device)
        self.m = torch.zeros(S, self.P, device=device)
        self.v = torch.zeros(S, self.P, device=device)
        self.params = {}
        for key, (o, N, K) in self.layout.items():
            a = self.flat[:, o:o + r_max * K].view(S, r_max, K).requires_grad_(True)
            b = self.flat[:, o + r_max * K:o + r_max * K + N * r_max].view(S, N, r_max).requires_grad_(True)
            a.grad = self.grad[:, o:o + r_max * K].view(S, r_max, K)
            b.grad = self.grad[:, o + r_max * K:o + r_max * K + N * r_max].view(S, N, r_max)
            self.params[key] = (a, b)
        self.steps = [0] * S
        self.scale = torch.zeros(S, dtype=torch.float32, device=device)

    def views(self) -> dict:
        return self.params

    def check_grads_in_place(self) -> bool:
        """Autograd accumulated into the gradient buffer's views (not into new tensors)."""
        return all(a.grad.data_ptr() == self.grad[:, o:].data_ptr()
                   for (a, _), (o, _, _) in zip(self.params.values(), self.layout.values()))

    def _slot_views(self, slot: int, key) -> tuple:
        off, N, K = self.layout[key]
        r = self.r_max
        row = self.flat[slot]
        return row[off:off + r * K].view(r, K), row[off + r * K:off + r * K + N * r].view(N, r)

    def reset(self, slot: int, spec: TrainingSpec, seed: int) -> None:
        """A fresh adapter in `slot`: A from the Swift engine's Kaiming stream, B = 0, moments 0."""
        with torch.no_grad():
            self.flat[slot].zero_()
            self.m[slot].zero_()
            self.v[slot].zero_()
            self.grad[slot].zero_()
        self.steps[slot] = 0
        self.scale[slot] = spec.scale
        keys = [(l, t) for l in range(self.holder.layers) for t in spec.sorted_targets]
        inits = R.kaiming_uniform(seed, [(spec.rank, self.holder.shape(k)[1]) for k in keys])
        for key, a0 in zip(keys, inits):
            a, _ = self._slot_views(slot, key)
            a[: spec.rank].copy_(torch.from_numpy(a0))

    def zero_grad(self, slot: int) -> None:
        self.grad[slot].zero_()

    def extract(self, slot: int, spec: TrainingSpec) -> Adapter:
        w = {}
        for l in range(self.holder.layers):
            for t in spec.sorted_targets:
                a, b = self._slot_views(slot, (l, t))
                w[(l, t)] = (a[: spec.rank].clone(), b[:, : spec.rank].clone())
        return Adapter(spec.rank, spec.alpha, spec.dropout, spec.sorted_targets, w)

    def adamw(self, idx: torch.Tensor, g: torch.Tensor, lrs: list) -> None:
        """torch.optim.AdamW's single-tensor update (weight decay 0) for the rows `idx`, each with
        its own learning rate and step count."""
        slots = idx.tolist()
        for s in slots:
            self.steps[s] += 1
        bc1 = [1 - BETA1 ** self.steps[s] for s in slots]
        bc2 = [1 - BETA2 ** self.steps[s] for s in slots]
        step_size = torch.tensor([lr / b for lr, b in zip(lrs, bc1)], dtype=torch.float32, device=self.device).unsqueeze(1)
        bc2_sqrt = torch.tensor([b ** 0.5 for b in bc2], dtype=torch.float32, device=self.device).unsqueeze(1)
        with torch.no_grad():
            p = self.flat.index_select(0, idx)
            m = self.m.index_select(0, idx)
            v = self.v.index_select(0, idx)
            m.lerp_(g, 1 - BETA1)
            v.mul_(BETA2).addcmul_(g, g, value=1 - BETA2)
            denom = (v.sqrt() / bc2_sqrt).add_(EPS)
            p.sub_(step_size * m / denom)
            self.flat.index_copy_(0, idx, p)
            self.m.index_copy_(0, idx, m)
            self.v.index_copy_(0, idx, v)


class _RowDropout:
    """Each row's dropout mask from its own job's stream (Swift's SplitMix64 at seed ^ const),
    drawn as a counter: row b, projection (l, t) takes the next len_b x K draws of its job's
    stream in (layer, q,k,v,o,gate,up,down) order, as the Swift engine's forward draws them, so a
    mask never depends on the other rows of the batch."""

    def __init__(self, rows: list, bank: _SlotBank, device):
        self.device = device
        self.active = any(a.job.spec.dropout > 0 for a, _ in rows)
        self.rows = rows
        self.offsets = {}  # (row, key) -> first draw
        if not self.active:
            return
        for b, (a, p) in enumerate(rows):
            if a.job.spec.dropout <= 0:
                continue
            n = len(p.tokens)
            for l in range(bank.holder.layers):
                for t in a.job.spec.sorted_targets:
                    K = bank.holder.shape((l, t))[1]
                    self.offsets[(b, (l, t))] = a.drop_counter
                    a.drop_counter += n * K

    def __call__(self, key, x):
        B, T, K = x.shape
        mask = torch.ones(B, T, K, dtype=x.dtype, device=x.device)
        for b, (a, p) in enumerate(self.rows):
            off = self.offsets.get((b, key))
            if off is None:
                continue
            pr = a.job.spec.dropout
            n = len(p.tokens)
            u = R.unit24(a.drop_seed, off, n * K, x.device).view(n, K)
            keep = torch.tensor(1.0 / (1.0 - pr), dtype=torch.float32, device=x.device)
            mask[b, :n] = torch.where(u >= R.dropout_threshold(pr), keep, torch.zeros((), device=x.device)).to(x.dtype)
        return x * mask
