#!/usr/bin/env python3
"""Throughput of the lockstep trainer and the per-row-adapter answering on a model of
SmolLM2-135M's shape (random weights: no model file needed, so it runs where the GGUF is not),
with SEAL's inner-loop settings: q,v r32 alpha 64, lr 1e-3, 10 epochs, batch 1, clip 1.0, 12
sequences of 40-90 tokens per self-edit; then 5 questions x 64 greedy tokens and 5 gold scores
per adapter. Reports, for each K, seconds per block of `--adapters` self-edits and evaluations
per hour (train + answer + score), beside a one-adapter-at-a-time PEFT loop on the same device.

    python tools/bench_lockstep.py --device cuda --ks 1,8,16,32 --adapters 32

With `--jobs FILE` (tools/block_jobs.py writes it: the token sequences of a run's adapters, e.g.
one val200 block) it times training those jobs instead, K = the largest of --ks, once per
schedule of `--schedules`: `v1` (request order, every step one padded batch: engine version 1)
and `v2` (longest first, length groups), with the trainer's counts of steps, forwards, real and
padded tokens.
"""
import argparse
import json
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))


def smollm2_config(small: bool):
    from transformers import LlamaConfig
    if small:  # a quick check of the script itself on a CPU
        return LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                           num_key_value_heads=2, vocab_size=512, max_position_embeddings=2048, tie_word_embeddings=True)
    return LlamaConfig(hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
                       num_key_value_heads=3, vocab_size=49152, max_position_embeddings=8192, rope_theta=100000.0,
                       rms_norm_eps=1e-5, tie_word_embeddings=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--ks", default="1,8,16")
    ap.add_argument("--adapters", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--peft", action="store_true", help="also time one-adapter-at-a-time PEFT (plain loop)")
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--jobs", help="a block_jobs.py file: time training these jobs instead")
    ap.add_argument("--schedules", default="v1,v2")
    args = ap.parse_args()

    import torch
    from transformers import LlamaForCausalLM
    from seb_torch_worker import generate as G
    from seb_torch_worker import lockstep
    from seb_torch_worker.lora import install
    from seb_torch_worker.spec import TrainingSpec

    dev = torch.device(args.device)
    torch.manual_seed(0)
    cfg = smollm2_config(args.small)
    model = LlamaForCausalLM(cfg).to(dev).eval()
    holder = install(model)
    rnd = random.Random(0)
    V = cfg.vocab_size
    blocks = [[[rnd.randrange(3, V) for _ in range(rnd.randint(40, 90))] for _ in range(12)] for _ in range(args.adapters)]
    spec = TrainingSpec(rank=32, alpha=64, targets=["q", "v"], learningRate=1e-3, epochs=args.epochs)
    questions = [[rnd.randrange(3, V) for _ in range(rnd.randint(25, 40))] for _ in range(5)]
    golds = [[rnd.randrange(3, V) for _ in range(rnd.randint(2, 6))] for _ in range(5)]

    class LM:
        pass
    lm = LM()
    lm.model, lm.holder, lm.device, lm.bf16 = model, holder, dev, args.bf16
    lm.stop_ids, lm.context_length = {0, 2}, cfg.max_position_embeddings
    lm.decode = lambda ids: ""

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    rows = []
    trainer = lockstep.LockstepTrainer(model, holder, dev, bf16=args.bf16)
    if args.jobs:
        with open(args.jobs) as f:
            spec_jobs = json.load(f)
        k = max(int(x) for x in args.ks.split(","))
        for schedule in args.schedules.split(","):
            trainer.longest_first = schedule != "v1"
            trainer.group_overhead = 1 << 60 if schedule == "v1" else lockstep.GROUP_OVERHEAD_TOKENS
            trainer.stats = {key: 0 for key in trainer.stats}
            jobs = [lockstep.TokenJob([[t % V for t in seq] for seq in j["tokens"]],
                                      TrainingSpec(**spec_jobs["spec"]), seed=i, pad_id=2)
                    for i, j in enumerate(spec_jobs["jobs"])]
            sync()
            t0 = time.perf_counter()
            res = trainer.train(jobs, slots=k)
            sync()
            t1 = time.perf_counter()
            print(json.dumps({"jobs": args.jobs.split("/")[-1], "schedule": schedule, "K": k, "adapters": len(jobs),
                              "optimizer_steps": sum(len(r.steps) for r in res), "train_s": round(t1 - t0, 2),
                              **trainer.stats, "dtype": "bf16-autocast" if args.bf16 else "float32"}), flush=True)
        return
    for k in [int(x) for x in args.ks.split(",")]:
        if dev.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        jobs = [lockstep.TokenJob(b, spec, seed=i, pad_id=2) for i, b in enumerate(blocks)]
        sync()
        t0 = time.perf_counter()
        res = trainer.train(jobs, slots=k)
        sync()
        t1 = time.perf_counter()
        adapters = [r.adapter for r in res]
        reqs = [G.GenRequest(prompt=q, max_tokens=64, adapter=i) for i in range(len(adapters)) for q in questions]
        # Random weights rarely stop early: every answer runs its 64 tokens.
        G.generate(lm, reqs, adapters, batch_size=min(len(reqs), 16 * k))
        sync()
        t2 = time.perf_counter()
        G.score(lm, [(q, g, i) for i in range(len(adapters)) for q, g in zip(questions, golds)], adapters, per_forward=64)
        sync()
        t3 = time.perf_counter()
        steps = sum(len(r.steps) for r in res)
        row = {"K": k, "adapters": len(adapters), "optimizer_steps": steps, "train_s": round(t1 - t0, 2),
               "answer_s": round(t2 - t1, 2), "score_s": round(t3 - t2, 2),
               "evaluations_per_hour": round(3600 * len(adapters) / (t3 - t0)),
               "peak_gpu_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if dev.type == "cuda" else None,
               "dtype": "bf16-autocast" if args.bf16 else "float32"}
        print(json.dumps(row), flush=True)
        rows.append(row)
    if args.peft:
        from peft import LoraConfig, get_peft_model
        base = LlamaForCausalLM(cfg).to(dev).eval()
        n = min(4, args.adapters)
        sync()
        t0 = time.perf_counter()
        for b in blocks[:n]:
            pm = get_peft_model(base, LoraConfig(r=32, lora_alpha=64, target_modules=["q_proj", "v_proj"],
                                                 lora_dropout=0.0, task_type="CAUSAL_LM"))
            params = [p for p in pm.parameters() if p.requires_grad]
            opt = torch.optim.AdamW(params, lr=1e-3)
            total = len(b) * args.epochs
            sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, (total - s) / total))
            for _ in range(args.epochs):
                for s in b:
                    ids = torch.tensor([s], device=dev)
                    with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=args.bf16):
                        loss = pm(input_ids=ids, labels=ids).loss
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(params, 1.0)
                    opt.step()
                    sched.step()
                    opt.zero_grad()
            base = pm.unload()
        sync()
        t1 = time.perf_counter()
        print(json.dumps({"peft_one_at_a_time_train_s_per_adapter": round((t1 - t0) / n, 2),
                          "peft_train_only_adapters_per_hour": round(3600 * n / (t1 - t0))}), flush=True)


if __name__ == "__main__":
    main()
