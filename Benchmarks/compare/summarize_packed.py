#!/usr/bin/env python3
"""summarize_packed.py OUT_DIR: the Markdown table of an interleave_packed.sh run.

Reads OUT_DIR/seb-k{K}-{round}.json (seb-bench packed --json) and OUT_DIR/hf-{round}.json
(selfedit_bench.py --packed --json) and prints, per round, each program's self-edit evaluations
per hour, its ratio to our K = 1 and to HF + PEFT *of the same round* (the only ratios that mean
something on a machine whose speed drifts), and the training products as a share of the sgemm
measured right after each K. Then the median over rounds of each ratio, and whether the issue's
bars hold (best K >= 3x HF + PEFT, >= 2x K = 1, products >= 60% of sgemm). Standard library only.
"""
import json
import os
import re
import statistics
import sys


def rows(path):
    with open(path) as f:
        doc = json.load(f)
    return doc, {r["name"]: r for r in doc["rows"]}


def row(named, prefix):
    for name, r in named.items():
        if name.startswith(prefix):
            return name, r["value"]
    raise KeyError(f"no row starting with {prefix!r}")


def value(named, prefix):
    return row(named, prefix)[1]


def items(name):
    """The self-edit count in a row named '... (N self-edits)'."""
    m = re.search(r"\((\d+) self-edits\)$", name)
    if not m:
        raise KeyError(f"row {name!r} does not end in '(N self-edits)'")
    return int(m[1])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: summarize_packed.py OUT_DIR")
    out = sys.argv[1]
    seb, hf = {}, {}
    for f in sorted(os.listdir(out)):
        m = re.fullmatch(r"seb-k(\d+)-(\d+)\.json", f)
        if m:
            doc, named = rows(os.path.join(out, f))
            k, rnd = int(m[1]), int(m[2])
            eph_name, eph = row(named, f"K = {k}: evaluations per hour")
            seb[(rnd, k)] = {
                "eph": eph,
                "gflops": value(named, f"K = {k}: training products"),
                "sgemm": value(named, f"K = {k}: sgemm in the same rounds"),
                "threads": doc["threads"],
                "items": items(eph_name),
            }
        m = re.fullmatch(r"hf-(\d+)\.json", f)
        if m:
            doc, named = rows(os.path.join(out, f))
            eph_name, eph = row(named, "HF+PEFT: evaluations per hour")
            hf[int(m[1])] = {"eph": eph, "threads": doc["threads"], "items": items(eph_name)}
    rounds = sorted({r for r, _ in seb} & set(hf))
    if not rounds:
        sys.exit(f"{out}: no round with both seb-k*-R.json and hf-R.json")
    ks = sorted({k for _, k in seb})
    threads = sorted({v["threads"] for v in seb.values()} | {v["threads"] for v in hf.values()})
    counts = sorted({v["items"] for v in seb.values()} | {v["items"] for v in hf.values()})
    if len(counts) != 1:
        sys.exit(f"{out}: runs over different numbers of self-edits {counts}; give each its own OUT_DIR")
    print(f"Rounds: {len(rounds)}; self-edits per run: {counts[0]}; threads: {', '.join(map(str, threads))}.\n")
    print("| round | program | evaluations / hour | vs our K = 1 | vs HF + PEFT | training products | % of same-round sgemm |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    ratios = {k: {"k1": [], "hf": [], "pct": []} for k in ks}
    for rnd in rounds:
        base = seb.get((rnd, 1))
        for k in ks:
            s = seb.get((rnd, k))
            if s is None:
                continue
            vs1 = s["eph"] / base["eph"] if base else float("nan")
            vshf = s["eph"] / hf[rnd]["eph"]
            pct = 100 * s["gflops"] / s["sgemm"]
            ratios[k]["k1"].append(vs1)
            ratios[k]["hf"].append(vshf)
            ratios[k]["pct"].append(pct)
            print(f"| {rnd} | seb K = {k} | {s['eph']:.1f} | {vs1:.2f}x | {vshf:.2f}x | {s['gflops']:.1f} GFLOP/s | {pct:.0f}% |")
        print(f"| {rnd} | HF + PEFT | {hf[rnd]['eph']:.1f} | | 1.00x | | |")
    print("\nMedian over rounds:\n")
    print("| K | vs our K = 1 | vs HF + PEFT | products % of sgemm |")
    print("|---:|---:|---:|---:|")
    med = {}
    for k in ks:
        if not ratios[k]["hf"]:
            continue
        med[k] = {n: statistics.median(v) for n, v in ratios[k].items()}
        print(f"| {k} | {med[k]['k1']:.2f}x | {med[k]['hf']:.2f}x | {med[k]['pct']:.0f}% |")
    best = max(med, key=lambda k: med[k]["hf"])
    bars = [
        (f"best K ({best}) >= 3x HF + PEFT", med[best]["hf"] >= 3),
        (f"best K ({best}) >= 2x our K = 1", med[best]["k1"] >= 2),
        (f"training products at K = {best} >= 60% of sgemm", med[best]["pct"] >= 60),
    ]
    print()
    for text, ok in bars:
        print(f"- {text}: {'met' if ok else 'not met'}")


if __name__ == "__main__":
    main()
