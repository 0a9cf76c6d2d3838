#!/usr/bin/env bash
# Regenerates Reports/search-small/ (README.md + collapse and validation charts) from the committed
# search-small runs of Reports/runs/ (search-noarchive, search-archive, search-qd, rewrite, implications), with the
# reading in Reports/search-small-reading.md. Each run was made by
#   seb search Data/configs/search-small.json --variant V --out Reports/runs/search-small-<V without search->
# (threads and adapters per step as recorded in each manifest); run again to resume an unfinished one. MiniLM (seb model install)
# gives the embedding similarity column.
set -euo pipefail
cd "$(dirname "$0")/.."
SEB=${SEB:-.build/release/seb}
runs=()
for v in noarchive archive qd rewrite implications; do
  # Runs with at least one finished iteration (an unfinished one is resumed by the command above).
  [ -f Reports/runs/search-small-$v/iter-00/val-results.json ] && runs+=(Reports/runs/search-small-$v)
done
$SEB report "${runs[@]}" --out Reports/search-small --notes Reports/search-small-reading.md
