#!/usr/bin/env python3
"""The training jobs of a run's block as token sequences, for `bench_lockstep.py --jobs`: every
record of the run directory with training on passages [--first, --first + --count), in the
harness's order (methods in config order, then passages), its `sequences` tokenised as the worker
does (spec.examples with the run's training settings).

    python tools/block_jobs.py --run ../../Reports/runs/val200-baselines-gpu --first 0 --count 40 \\
        --model ../../Data/models/SmolLM2-135M-Instruct.Q4_1.gguf --out /tmp/val200-block0.json
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--model", required=True, help="the GGUF (or HF directory) whose tokenizer to use")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    from transformers import AutoTokenizer
    from seb_torch_worker.spec import TrainingSpec, examples

    with open(os.path.join(args.run, "config.json")) as f:
        config = json.load(f)
    settings = {k: v for k, v in config["training"].items() if k in TrainingSpec.__dataclass_fields__}
    spec = TrainingSpec(**settings)
    if os.path.isdir(args.model):
        tok = AutoTokenizer.from_pretrained(args.model)
    else:
        tok = AutoTokenizer.from_pretrained(os.path.dirname(os.path.abspath(args.model)),
                                            gguf_file=os.path.basename(args.model))
    encode = lambda s: tok(s, add_special_tokens=False)["input_ids"]
    recs = []
    with open(os.path.join(args.run, "records.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            if r.get("training") and args.first <= r["passage"] < args.first + args.count:
                recs.append(r)
    order = {m: i for i, m in enumerate(config["methods"])}
    recs.sort(key=lambda r: (order[r["method"]], r["passage"], r["selfEdit"], r["run"]))
    jobs = [{"key": f'{r["method"]}/p{r["passage"]}', "tokens": examples(r["sequences"], spec, encode, None, None, 1 << 30)}
            for r in recs]
    with open(args.out, "w") as f:
        json.dump({"run": os.path.basename(os.path.normpath(args.run)), "first": args.first, "count": args.count,
                   "spec": settings, "jobs": jobs}, f)
    n = sum(len(s) for j in jobs for s in j["tokens"])
    print(f"{len(jobs)} jobs, {sum(len(j['tokens']) for j in jobs)} sequences, {n} tokens -> {args.out}")


if __name__ == "__main__":
    main()
