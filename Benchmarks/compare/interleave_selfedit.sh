#!/usr/bin/env bash
# interleave_selfedit.sh: one self-edit evaluation by stage, seb-bench and HF transformers + PEFT in
# alternation, ROUNDS times (this machine's speed drifts; see interleave.sh).
#   Benchmarks/compare/interleave_selfedit.sh OUT_DIR [ROUNDS]     (needs /tmp/cmpenv, see README.md)
set -eu
out=${1:?usage: interleave_selfedit.sh OUT_DIR [ROUNDS]}
rounds=${2:-3}
py=${PYTHON:-/tmp/cmpenv/bin/python}
mkdir -p "$out"
.build/release/seb-bench selfedit --repeats 1 --dump-inputs "$out/inputs.json" --json > /dev/null
for round in $(seq 1 "$rounds"); do
  .build/release/seb-bench selfedit --repeats 1 --threads 2 --json > "$out/seb-$round.json"
  "$py" Benchmarks/compare/selfedit_bench.py --inputs "$out/inputs.json" --threads 2 --repeats 1 --json > "$out/hf-$round.json"
  echo "round $round done, loadavg $(cat /proc/loadavg)" >&2
done
