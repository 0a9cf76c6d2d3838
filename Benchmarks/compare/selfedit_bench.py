#!/usr/bin/env python3
# selfedit_bench.py: one self-edit evaluation of SEAL's inner loop with HF transformers + PEFT, the
# way a SEAL user runs it on a CPU, on the exact inputs `seb-bench selfedit --dump-inputs FILE`
# writes (passage 0 of val200): generate 512 tokens from the implications prompt (T 1.0, top-p
# 0.95, EOS ignored via min_new_tokens), train a fresh LoRA (q,v r32 alpha 64, dropout 0) on the
# SEAL sequences for 10 epochs (batch 1, AdamW lr 1e-3, linear decay to 0, clip 1.0, shuffled per
# epoch, labels = input ids, no padding), then answer every question with exactly 64 greedy tokens
# (left-padded batch) and score the gold answer once per question. The model is the same Q4_1 GGUF,
# dequantized to float32 by transformers. Median of --repeats evaluations per stage.
#
#   .build/release/seb-bench selfedit --repeats 1 --dump-inputs /tmp/selfedit-inputs.json
#   python3 Benchmarks/compare/selfedit_bench.py --inputs /tmp/selfedit-inputs.json --threads 2 --json
#
# --packed: the inputs of `seb-bench packed --dump-inputs FILE` (N released self-edits): train each
# item's adapter and answer its questions, one adapter at a time (what PEFT users run), and report
# evaluations per hour for the whole set, the figure `seb-bench packed` reports for K = 1..16.
import argparse
import json
import os
import random
import statistics
import time
import warnings


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="Data/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--packed", action="store_true", help="inputs from seb-bench packed --dump-inputs")
    ap.add_argument("--limit", type=int, default=0, help="with --packed: only the first N items")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    import transformers
    import peft
    from transformers import AutoModelForCausalLM, AutoTokenizer
    torch.set_num_threads(args.threads)
    inp = json.load(open(args.inputs))
    d, name = os.path.split(os.path.abspath(args.model))
    tok = AutoTokenizer.from_pretrained(d, gguf_file=name)
    base = AutoModelForCausalLM.from_pretrained(d, gguf_file=name, dtype=torch.float32)
    base.eval()
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token

    def enc(t):
        return tok(t, add_special_tokens=False, return_tensors="pt").input_ids

    def train_adapter(sequences, seed):
        """A fresh q,v adapter trained with SEAL's inner loop; returns (model, trained tokens)."""
        cfg = peft.LoraConfig(r=inp["rank"], lora_alpha=inp["alpha"], lora_dropout=0.0, target_modules=["q_proj", "v_proj"],
                              task_type="CAUSAL_LM")
        model = peft.get_peft_model(base, cfg)
        model.train()
        seqs = [enc(s) for s in sequences if s.strip()]
        steps = len(seqs) * inp["epochs"]
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=inp["learningRate"], betas=(0.9, 0.999),
                                eps=1e-8, weight_decay=0.0)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1 - s / steps))
        rng = random.Random(seed)
        n = 0
        for _ in range(inp["epochs"]):
            order = list(range(len(seqs)))
            rng.shuffle(order)
            for i in order:
                ids = seqs[i]
                loss = model(input_ids=ids, labels=ids).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
                opt.step()
                sched.step()
                opt.zero_grad(set_to_none=True)
                n += ids.shape[1]
        return model, n

    def answer(model, questions, golds):
        """Exactly answerTokens greedy tokens per question (left-padded batches of 8), gold scored once."""
        model.eval()
        with torch.inference_mode():
            for b in range(0, len(questions), 8):
                batch = tok(questions[b:b + 8], add_special_tokens=False, return_tensors="pt", padding=True)
                model.generate(**batch, do_sample=False, min_new_tokens=inp["answerTokens"], max_new_tokens=inp["answerTokens"],
                               pad_token_id=tok.pad_token_id)
            for q, g in zip(questions, golds):
                model(input_ids=torch.cat([enc(q), enc(g)], dim=1))

    if args.packed:
        items = inp["items"][:args.limit] if args.limit else inp["items"]
        totals = []
        for rep in range(args.repeats):
            torch.manual_seed(rep)
            t0 = time.perf_counter()
            tokens = 0
            train_s = 0.0
            for i, item in enumerate(items):
                t1 = time.perf_counter()
                model, n = train_adapter(item["sequences"], rep * 1000 + i)
                train_s += time.perf_counter() - t1
                tokens += n
                answer(model, item["questions"], item["golds"])
                model.unload()
            totals.append((time.perf_counter() - t0, train_s, tokens))
        total = statistics.median(t[0] for t in totals)
        train = statistics.median(t[1] for t in totals)
        rows = [
            {"suite": "packed", "name": f"HF+PEFT: evaluations per hour ({len(items)} self-edits)", "value": 3600 * len(items) / total, "unit": "1/h", "note": ""},
            {"suite": "packed", "name": "HF+PEFT: train seconds", "value": train, "unit": "s", "note": f"{totals[0][2]} tokens"},
            {"suite": "packed", "name": "HF+PEFT: answer seconds", "value": total - train, "unit": "s", "note": ""},
        ]
        out = {"program": "transformers+peft", "threads": args.threads, "repeats": args.repeats, "torch": torch.__version__,
               "transformers": transformers.__version__, "peft": peft.__version__, "rows": rows}
        print(json.dumps(out, indent=2) if args.json else "\n".join(f"{r['name']:60} {r['value']:10.2f} {r['unit']} {r['note']}" for r in rows))
        return

    stages = {"generate": [], "train": [], "answer": [], "total": []}
    trained_tokens = 0
    for rep in range(args.repeats):
        torch.manual_seed(rep)
        # Stage 1: generate.
        t0 = time.perf_counter()
        with torch.inference_mode():
            base.generate(enc(inp["generatePrompt"]), do_sample=True, temperature=1.0, top_p=0.95, top_k=0,
                          min_new_tokens=inp["generateTokens"], max_new_tokens=inp["generateTokens"], pad_token_id=tok.pad_token_id)
        t_gen = time.perf_counter() - t0
        # Stage 2: a fresh adapter, trained.
        t0 = time.perf_counter()
        model, trained_tokens = train_adapter(inp["sequences"], rep)
        t_train = time.perf_counter() - t0
        # Stage 3: answers (64 greedy tokens each, batched, left-padded) and gold scoring.
        t0 = time.perf_counter()
        answer(model, inp["questions"], inp["golds"])
        t_ans = time.perf_counter() - t0
        model.unload()  # drop the adapter: the base is reused by the next evaluation
        for k, v in (("generate", t_gen), ("train", t_train), ("answer", t_ans), ("total", t_gen + t_train + t_ans)):
            stages[k].append(v)

    med = {k: statistics.median(v) for k, v in stages.items()}
    rows = [
        {"suite": "selfedit", "name": f"generate {inp['generateTokens']} tokens (T 1.0, top-p 0.95)", "value": med["generate"], "unit": "s", "note": ""},
        {"suite": "selfedit", "name": f"train: {len(inp['sequences'])} sequences x {inp['epochs']} epochs (q,v r32)", "value": med["train"], "unit": "s",
         "note": f"{trained_tokens} tokens"},
        {"suite": "selfedit", "name": f"answer {len(inp['questions'])} questions x {inp['answerTokens']} tokens + gold log-lik", "value": med["answer"], "unit": "s", "note": ""},
        {"suite": "selfedit", "name": "one evaluation (sum of stages)", "value": med["total"], "unit": "s", "note": ""},
        {"suite": "selfedit", "name": "evaluations per hour", "value": 3600 / med["total"], "unit": "1/h", "note": ""},
    ]
    out = {"program": "transformers+peft", "threads": args.threads, "repeats": args.repeats, "torch": torch.__version__,
           "transformers": transformers.__version__, "peft": peft.__version__, "rows": rows}
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for r in rows:
            print(f"{r['suite']:10} {r['name']:60} {r['value']:10.2f} {r['unit']} {r['note']}")


if __name__ == "__main__":
    main()
