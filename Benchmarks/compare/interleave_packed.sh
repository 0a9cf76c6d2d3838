#!/usr/bin/env bash
# interleave_packed.sh: issue 10's throughput benchmark. The same 16 released self-edits of val200
# (SEAL's inner loop: q,v r32, 10 epochs; then the passage's questions answered and scored) run by
# seb-bench packed for K = 1, 4, 8, 16 adapters per step (each K beside this machine's cblas_sgemm
# measured in the same process) and by HF transformers + PEFT one adapter at a time, alternating
# ROUNDS times so every program sees the same state of the machine. Run it on a quiet machine
# (Benchmarks/compare/run_when_quiet.sh) and nothing else.
#
#   Benchmarks/compare/interleave_packed.sh OUT_DIR [ROUNDS]     (needs /tmp/cmpenv, see README.md)
#
# Round times on 2 vCPUs of an AMD EPYC with AVX2 only (sgemm ~110 GFLOP/s in `seb-bench machine`),
# session 11: K = 1 18 min, HF + PEFT 37 min, K = 8 14 min, K = 16 13 min (1.4 h measured); with K = 4 about
# 1.6 h a round. Sapphire Rapids sessions (sgemm ~190 GFLOP/s) are faster.
# KS="1 8 16" (default "1 4 8 16") and ITEMS=8 (default 16) shorten a round; the summary states the self-edit count.
set -eu
out=${1:?usage: interleave_packed.sh OUT_DIR [ROUNDS]}
rounds=${2:-1}
ks=${KS:-1 4 8 16}
items=${ITEMS:-16}
py=${PYTHON:-/tmp/cmpenv/bin/python}
mkdir -p "$out"
# Each program runs once per round (--repeats 1): the rounds are the repeats, so every program sees the
# same state of the machine. (seb-bench's default of 5 repeats per K made one K = 1 run take 5 runs' time.)
# HF + PEFT runs first in a round so a round cut short still has its comparison.
.build/release/seb-bench packed --adapters 1 --items "$items" --threads 2 --repeats 1 --dump-inputs "$out/inputs.json" --json > "$out/seb-k1-1.json"
echo "round 1 K=1 done, loadavg $(cat /proc/loadavg)" >&2
for round in $(seq 1 "$rounds"); do
  "$py" Benchmarks/compare/selfedit_bench.py --packed --inputs "$out/inputs.json" --threads 2 --repeats 1 --json > "$out/hf-$round.json"
  echo "round $round HF+PEFT done, loadavg $(cat /proc/loadavg)" >&2
  for k in $ks; do
    [ "$round-$k" = "1-1" ] && continue  # measured while writing the inputs
    .build/release/seb-bench packed --adapters "$k" --items "$items" --threads 2 --repeats 1 --json > "$out/seb-k$k-$round.json"
    echo "round $round K=$k done, loadavg $(cat /proc/loadavg)" >&2
  done
done
python3 Benchmarks/compare/summarize_packed.py "$out" | tee "$out/summary.md"
