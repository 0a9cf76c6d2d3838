#!/usr/bin/env bash
# Regenerates Reports/val200/ (README.md + charts) from the committed shard records of
# Reports/runs/val200-baselines: merge the shards (runs/val200-baselines-merged, not committed),
# then `seb report` with the reading in Reports/val200-reading.md. Works on any subset of the five
# shards (the report then says how many evaluations of the 1,400 exist).
#   bash Reports/val200.sh          (after: swift build -c release)
set -euo pipefail
cd "$(dirname "$0")/.."
SEB=${SEB:-.build/release/seb}
rm -rf runs/val200-baselines-merged
$SEB merge Reports/runs/val200-baselines --out runs/val200-baselines-merged
$SEB report runs/val200-baselines-merged --out Reports/val200 --notes Reports/val200-reading.md
