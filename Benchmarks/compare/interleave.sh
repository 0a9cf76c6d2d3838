#!/usr/bin/env bash
# interleave.sh: seb-bench and the comparison programs in alternation, ROUNDS times, so that each
# program sees the same state of a shared machine (single runs here vary up to 2x with the host's
# load). Medians over the rounds go into Reports/performance.md.
#
#   Benchmarks/compare/interleave.sh OUT_DIR [ROUNDS]     (needs /tmp/cmpenv, see README.md)
set -eu
out=${1:?usage: interleave.sh OUT_DIR [ROUNDS]}
rounds=${2:-3}
py=${PYTHON:-/tmp/cmpenv/bin/python}
model=Data/models/SmolLM2-135M-Instruct.Q4_1.gguf
mkdir -p "$out"
for round in $(seq 1 "$rounds"); do
  .build/release/seb-bench train --lengths 256 --repeats 3 --json > "$out/i-seb-train-$round.json"
  "$py" Benchmarks/compare/torch_bench.py --model $model --threads 2 --suites train --train-lengths 256 --repeats 3 --json > "$out/i-torch-train-$round.json"
  .build/release/seb-bench prefill decode --repeats 3 --json > "$out/i-seb-infer-$round.json"
  "$py" Benchmarks/compare/llamacpp_bench.py --model $model --threads 2 --repeats 3 --json > "$out/i-llama-$round.json"
  echo "round $round done, loadavg $(cat /proc/loadavg)" >&2
done
