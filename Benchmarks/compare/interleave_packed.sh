#!/usr/bin/env bash
# interleave_packed.sh: issue 10's throughput benchmark. The same 16 released self-edits of val200
# (SEAL's inner loop: q,v r32, 10 epochs; then the passage's questions answered and scored) run by
# seb-bench packed for K = 1, 4, 8, 16 adapters per step (each K beside this machine's cblas_sgemm
# measured in the same process) and by HF transformers + PEFT one adapter at a time, alternating
# ROUNDS times so every program sees the same state of the machine. One round takes about an hour
# on 2 cores; run it on a quiet machine (Benchmarks/compare/run_when_quiet.sh) and nothing else.
#
#   Benchmarks/compare/interleave_packed.sh OUT_DIR [ROUNDS]     (needs /tmp/cmpenv, see README.md)
#
# A round is about an hour where cblas_sgemm reaches ~190 GFLOP/s (2 vCPUs of a Sapphire Rapids). On 2
# vCPUs of an AMD EPYC with AVX2 only (sgemm 77-115 GFLOP/s in `seb-bench machine`) K = 1 alone ran over
# 40 minutes, so a round there is 2.5-3 h: check `seb-bench machine` before starting one.
# KS="1 8" (default "1 4 8 16") and ITEMS=8 (default 16) shorten a round; the summary states the self-edit count.
set -eu
out=${1:?usage: interleave_packed.sh OUT_DIR [ROUNDS]}
rounds=${2:-1}
ks=${KS:-1 4 8 16}
items=${ITEMS:-16}
py=${PYTHON:-/tmp/cmpenv/bin/python}
mkdir -p "$out"
.build/release/seb-bench packed --adapters 1 --items "$items" --threads 2 --dump-inputs "$out/inputs.json" --json > "$out/seb-k1-1.json"
for round in $(seq 1 "$rounds"); do
  for k in $ks; do
    [ "$round-$k" = "1-1" ] && continue  # measured while writing the inputs
    .build/release/seb-bench packed --adapters "$k" --items "$items" --threads 2 --json > "$out/seb-k$k-$round.json"
    echo "round $round K=$k done, loadavg $(cat /proc/loadavg)" >&2
  done
  "$py" Benchmarks/compare/selfedit_bench.py --packed --inputs "$out/inputs.json" --threads 2 --json > "$out/hf-$round.json"
  echo "round $round HF+PEFT done, loadavg $(cat /proc/loadavg)" >&2
done
python3 Benchmarks/compare/summarize_packed.py "$out" | tee "$out/summary.md"
