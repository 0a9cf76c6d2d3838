#!/usr/bin/env python3
"""Checks that an adapter saved by `seb train` loads in PEFT and gives the same outputs.

1. `seb train` fits a small LoRA adapter (q, k, v, o: q/k exercise the row un-permutation) on a
   passage and saves it as a PEFT directory.
2. `seb score --adapter` prints the per-token log-probabilities of a continuation (and the ids).
3. HF transformers loads the same GGUF in float32 (un-permuting Q/K itself), PEFT loads the
   adapter directory with `PeftModel.from_pretrained`, and the same ids are scored.
The check passes when the two agree within --tolerance (max abs difference of token log-probs),
and the adapter changes the base model's log-probs by much more than that (so the check can fail).

    python Benchmarks/compare/peft_adapter_check.py --seb .build/release/seb \
        --model Data/models/SmolLM2-135M-Instruct.Q4_1.gguf
"""
import argparse, json, os, subprocess, sys, tempfile

PASSAGE = ("Super Bowl 50\nThe game was played on February 7, 2016, at Levi's Stadium in the San "
           "Francisco Bay Area at Santa Clara, California.\n\nSuper Bowl 50\nThe American Football "
           "Conference champion Denver Broncos defeated the National Football Conference champion "
           "Carolina Panthers 24-10 to earn their third Super Bowl title.\n")
PROMPT = "Super Bowl 50\n"
CONTINUATION = "The Denver Broncos defeated the Carolina Panthers at Levi's Stadium in Santa Clara."


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seb", default=".build/release/seb")
    ap.add_argument("--model", default="Data/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--tolerance", type=float, default=2e-3)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="peft-check-")
    data = os.path.join(work, "passage.txt")
    with open(data, "w") as f:
        f.write(PASSAGE)
    adapter = os.path.join(work, "adapter")
    train = json.loads(run([args.seb, "train", "--model", args.model, "--data", data, "--out", adapter,
                            "--rank", "8", "--alpha", "16", "--targets", "q,k,v,o", "--epochs", "3",
                            "--lr", "2e-3", "--json"]))
    score = lambda extra: json.loads(run([args.seb, "score", "--model", args.model, "--prompt", PROMPT,
                                          "--continuation", CONTINUATION, "--json"] + extra))
    ours = score(["--adapter", adapter])
    base = score([])

    import torch
    from transformers import AutoModelForCausalLM
    from peft import PeftModel
    torch.set_num_threads(2)
    d, name = os.path.split(os.path.abspath(args.model))
    hf = AutoModelForCausalLM.from_pretrained(d, gguf_file=name, dtype=torch.float32)
    model = PeftModel.from_pretrained(hf, adapter).eval()
    ids = ours["promptIds"] + ours["continuationIds"]
    with torch.inference_mode():
        logits = model(torch.tensor([ids])).logits[0].double()
    logp = torch.log_softmax(logits, dim=-1)
    p = len(ours["promptIds"])
    theirs = [logp[p + i - 1, t].item() for i, t in enumerate(ours["continuationIds"])]
    diff = max(abs(a - b) for a, b in zip(ours["tokenLogProbs"], theirs))
    effect = max(abs(a - b) for a, b in zip(ours["tokenLogProbs"], base["tokenLogProbs"]))
    ok = diff <= args.tolerance and effect > 10 * args.tolerance
    print(json.dumps({"adapter": adapter, "train": {k: train.get(k) for k in ("steps", "tokens", "seconds")},
                      "tokens": len(theirs), "max_abs_diff_seb_vs_peft": diff,
                      "max_abs_change_from_adapter": effect, "tolerance": args.tolerance,
                      "passed": ok}, indent=1))
    print(f"{1 if ok else 0} passed, {0 if ok else 1} failed")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
