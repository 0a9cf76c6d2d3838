#!/usr/bin/env python3
"""Trains the same adapters with `seb train` (the Swift CPU trainer) and with this worker's
lockstep trainer (all of them in one lockstep call), on the real model, and compares per-step
losses and final weights. Same seed, so the same initial A, shuffle order and dropout masks
(the worker reproduces the Swift random streams); what differs is float32 summation order
(OpenBLAS + hand-written backward vs. torch autograd) and the GGUF weights' route to float32.

    python tools/cross_check_seb.py --seb ../../.build/release/seb \
        --model ../../Data/models/SmolLM2-135M-Instruct.Q4_1.gguf

Passes when every step's loss agrees within --loss-tol (seb prints 4 decimals), all A and all B
within --weight-tol relative L2, and the two adapters' per-token log-probabilities of every
training sequence within --logprob-tol; prints `N passed, M failed`.
"""
import argparse
import copy
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

PASSAGE = ("Super Bowl 50\nThe game was played on February 7, 2016, at Levi's Stadium in the San Francisco Bay Area "
           "at Santa Clara, California.\n\nSuper Bowl 50\nThe American Football Conference champion Denver Broncos "
           "defeated the National Football Conference champion Carolina Panthers 24-10 to earn their third Super Bowl "
           "title.\n\nSuper Bowl 50\nAs this was the 50th Super Bowl, the league emphasized the golden anniversary.\n\n"
           "Levi's Stadium\nThe stadium is the home of the San Francisco 49ers.\n\nSanta Clara\nA city in Silicon Valley.\n")

# (name, seb flags, TrainingSpec JSON)
CASES = [
    ("qv-r8", ["--rank", "8", "--alpha", "16", "--targets", "q,v", "--epochs", "3", "--seed", "7"],
     {"rank": 8, "alpha": 16, "targets": ["q", "v"], "epochs": 3}),
    ("all7-r4-dropout-batch2-ga2", ["--rank", "4", "--alpha", "8", "--targets", "q,k,v,o,gate,up,down", "--epochs", "2",
                                    "--dropout", "0.1", "--batch-size", "2", "--grad-accum", "2", "--lr", "2e-3",
                                    "--seed", "11"],
     {"rank": 4, "alpha": 8, "targets": ["q", "k", "v", "o", "gate", "up", "down"], "epochs": 2, "dropout": 0.1,
      "batchSize": 2, "gradientAccumulation": 2, "learningRate": 2e-3}),
    ("seal-padded-eos", ["--rank", "16", "--alpha", "32", "--targets", "q,k,v,o", "--epochs", "2", "--loss-mask",
                         "seal-padded", "--pad-length", "64", "--append-eos", "--seed", "3"],
     {"rank": 16, "alpha": 32, "targets": ["q", "k", "v", "o"], "epochs": 2, "lossMask": "seal-padded", "padLength": 64,
      "appendEOS": True}),
]


def seb_train(seb, model, data, out, flags):
    p = subprocess.run([seb, "train", "--model", model, "--data", data, "--out", out, "--force", "--threads", "1",
                        "--json"] + flags, capture_output=True, text=True, check=True)
    losses = [float(m.group(1)) for m in re.finditer(r"^step \d+/\d+\s+epoch \d+\s+loss ([0-9.]+)", p.stderr, re.M)]
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    return losses, summary


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seb", default=os.path.join(HERE, "..", "..", "..", ".build", "release", "seb"))
    ap.add_argument("--model", default=os.path.join(HERE, "..", "..", "..", "Data", "models",
                                                    "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--loss-tol", type=float, default=2e-4)
    ap.add_argument("--weight-tol", type=float, default=5e-3, help="relative L2 difference of all A (all B)")
    ap.add_argument("--logprob-tol", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    import torch
    from safetensors.torch import load_file
    from seb_torch_worker.engine import TorchEngine
    from seb_torch_worker.model import load
    from seb_torch_worker.spec import TrainingSpec

    torch.set_num_threads(args.threads)
    work = tempfile.mkdtemp(prefix="seb-cross-")
    data = os.path.join(work, "passage.txt")
    with open(data, "w") as f:
        f.write(PASSAGE)
    # seb train's text format: blocks separated by blank lines, each stripped.
    sequences = [b.strip() for b in PASSAGE.split("\n\n") if b.strip()]
    engine = TorchEngine(load(args.model, device="cpu"))
    jobs = []
    for name, flags, spec in CASES:
        seed = int(flags[flags.index("--seed") + 1])
        jobs.append((sequences, TrainingSpec.parse(spec), seed))
    ours = engine.train(jobs, adapters_per_step=len(jobs))
    passed = failed = 0
    for (name, flags, _), mine in zip(CASES, ours):
        out = os.path.join(work, name)
        losses, summary = seb_train(args.seb, args.model, data, out, flags)
        if "error" in mine:
            print(f"{name}: worker failed: {mine['error']}")
            failed += 1
            continue
        ad = engine.adapters[mine["adapter"]]
        theirs = load_file(os.path.join(out, "adapter_model.safetensors"))
        # Adam turns a gradient of noise-level size into a full step of either sign, so single
        # elements may differ by ~lr; what must agree is the adapter as a whole and its effect.
        diff = {"A": 0.0, "B": 0.0}
        norm = {"A": 0.0, "B": 0.0}
        worst_elem = 0.0
        theirs_ad = copy.deepcopy(ad)
        for key, (a, b) in ad.weights.items():
            path = engine.lm.holder.paths[key]
            ta = theirs[f"base_model.model.{path}.lora_A.weight"]
            tb = theirs[f"base_model.model.{path}.lora_B.weight"]
            theirs_ad.weights[key] = (ta, tb)
            for n, x, y in (("A", a, ta), ("B", b, tb)):
                diff[n] += (x - y).pow(2).sum().item()
                norm[n] += y.pow(2).sum().item()
            worst_elem = max(worst_elem, (a - ta).abs().max().item(), (b - tb).abs().max().item())
        worst_w = max((diff[n] / norm[n]) ** 0.5 for n in diff)
        # The two adapters' per-token log-probabilities of every training sequence.
        engine.adapters["theirs"] = theirs_ad
        items = [{"prompt": s.split("\n")[0] + "\n", "continuation": s.split("\n", 1)[1], "adapter": h}
                 for s in sequences for h in (mine["adapter"], "theirs")]
        lps = engine.score(items)
        dlp = max(abs(x - y) for i in range(0, len(lps), 2) for x, y in zip(lps[i], lps[i + 1]))
        del engine.adapters["theirs"]
        got = mine["summary"]["losses"]
        dl = max(abs(x - y) for x, y in zip(got, losses)) if len(got) == len(losses) else float("inf")
        dfinal = abs(got[-1] - summary["final_loss"])
        ok = dl <= args.loss_tol and dfinal <= args.loss_tol and worst_w <= args.weight_tol and dlp <= args.logprob_tol
        print(json.dumps({"case": name, "steps": [len(got), len(losses)], "max_step_loss_diff": dl,
                          "final_loss": [got[-1], summary["final_loss"]], "weights_rel_l2_diff": worst_w,
                          "max_element_diff": worst_elem, "max_logprob_diff": dlp, "passed": ok}))
        passed += ok
        failed += not ok
    print(f"{passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
