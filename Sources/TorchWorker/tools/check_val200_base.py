#!/usr/bin/env python3
"""Greedy-answers the val200 questions with the base model through this worker and compares,
question by question, with the committed CPU records (`kind: baseline` in
Reports/runs/val200-baselines/records*.jsonl): the stripped answer text must be equal, and the
gold answer's mean token log-likelihood is compared too (reported; float32 on another stack).

The prompt is what the harness builds (SelfEdit/InnerLoop.answerPrompt with the run's config):
Data/prompts/answer-seal.txt with {question} = "Topic: {title}\\n{question}", greedy, at most
`evaluation.maxTokens` (64) tokens, the text stripped as Python's str.strip.

    python tools/check_val200_base.py --limit 3            # the first 3 passages of the split
    python tools/check_val200_base.py --device cuda        # all 200 (974 questions)

Prints one line per differing question, then `N passed, M failed` (questions) and the time.
"""
import argparse
import glob
import hashlib
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))


def load_split(repo, data_root, name):
    with open(os.path.join(repo, "Data", "splits", f"{name}.json")) as f:
        m = json.load(f)
    with open(os.path.join(data_root, m["source"])) as f:
        allp = json.load(f)
    out = []
    for i, h in zip(m["indices"], m["context_sha256"]):
        p = allp[i]
        got = hashlib.sha256(p["context"].encode()).hexdigest()
        if got != h:
            sys.exit(f"{m['source']}: passage {i} has context sha256 {got}, the split expects {h}")
        out.append(p)
    return out


def fill(template, fields):
    """PromptLibrary.fill: Python str.format fields in one pass; other braces left alone."""
    out, i = [], 0
    while True:
        j = template.find("{", i)
        if j < 0:
            out.append(template[i:])
            return "".join(out)
        k = template.find("}", j)
        key = template[j + 1:k] if k >= 0 else None
        if key in fields:
            out.append(template[i:j] + fields[key])
            i = k + 1
        else:
            out.append(template[i:j + 1])
            i = j + 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(REPO, "Data", "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--run", default=os.path.join(REPO, "Reports", "runs", "val200-baselines"))
    ap.add_argument("--data", default=os.environ.get("SEB_DATA_ROOT", os.path.join(REPO, "..", "shared", "data")))
    ap.add_argument("--start", type=int, default=0, help="first passage (position in the split)")
    ap.add_argument("--limit", type=int, default=None, help="passages (default: all)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--device", default=None)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--ll-tol", type=float, default=1e-3, help="gold mean log-likelihood tolerance (reported)")
    ap.add_argument("--json", default=None, help="write every comparison here")
    args = ap.parse_args()

    from seb_torch_worker.engine import TorchEngine
    from seb_torch_worker.model import load

    with open(os.path.join(args.run, "config.json")) as f:
        cfg = json.load(f)
    ev = cfg["evaluation"]
    if ev["template"] != "seal":
        sys.exit("only the seal answer template is implemented here")
    passages = load_split(REPO, args.data, cfg["split"])
    records = {}
    for path in sorted(glob.glob(os.path.join(args.run, "records*.jsonl"))):
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                if r["kind"] == "baseline" and r["run"] == 0:
                    records[r["passage"]] = r
    with open(os.path.join(REPO, "Data", "prompts", "answer-seal.txt")) as f:
        template = f.read()
    end = len(passages) if args.limit is None else min(len(passages), args.start + args.limit)
    chosen = range(args.start, end)

    t0 = time.perf_counter()
    engine = TorchEngine(load(args.model, device=args.device, bf16=args.bf16, threads=args.threads))
    load_s = time.perf_counter() - t0
    reqs, score, owner = [], [], []
    for pi in chosen:
        p = passages[pi]
        for qi, q in enumerate(p["questions"]):
            question = f"Topic: {p['title']}\n{q['question']}" if ev["topic"] else q["question"]
            prompt = fill(template, {"question": question})
            reqs.append({"prompt": prompt, "maxTokens": ev["maxTokens"]})
            score.append({"prompt": prompt, "continuation": q["answer"]})
            owner.append((pi, qi))
    t1 = time.perf_counter()
    gens = engine.generate(reqs, batch_size=args.batch_size)
    t2 = time.perf_counter()
    lls = engine.score(score)
    t3 = time.perf_counter()
    passed = failed = 0
    worst_ll = 0.0
    rows = []
    for (pi, qi), g, ll in zip(owner, gens, lls):
        text = g["text"].strip()
        mean = sum(ll) / len(ll) if ll else 0.0
        rec = records[pi]["answers"][qi]
        assert rec["q"] == qi
        same = text == rec["text"]
        dll = abs(mean - rec["grades"]["goldLogLikelihood"])
        worst_ll = max(worst_ll, dll)
        rows.append({"passage": pi, "q": qi, "equal": same, "ours": text, "cpu": rec["text"], "gold_ll": mean,
                     "cpu_gold_ll": rec["grades"]["goldLogLikelihood"], "finish": g["finish"]})
        if same:
            passed += 1
        else:
            failed += 1
            print(json.dumps({"passage": pi, "q": qi, "ours": text, "cpu": rec["text"]}, ensure_ascii=False))
    n_tok = sum(g["tokens"] for g in gens)
    print(json.dumps({"passages": len(chosen), "questions": len(gens), "generated_tokens": n_tok,
                      "load_s": round(load_s, 2), "generate_s": round(t2 - t1, 2), "score_s": round(t3 - t2, 2),
                      "max_gold_ll_diff": worst_ll, "gold_ll_within_tol": worst_ll <= args.ll_tol,
                      "device": engine.identity()["device"], "dtype": engine.identity()["dtype"]}))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1, ensure_ascii=False)
    print(f"{passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
