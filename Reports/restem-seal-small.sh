#!/usr/bin/env bash
# Regenerates Reports/restem-seal-small/ (README.md + charts) from the committed run
# Reports/runs/restem-seal-small, with the reading in Reports/restem-seal-small-reading.md.
# The run was made (and is resumed) with SmolLM2 itself as the judge:
#   seb serve --port 8199 --threads 1 &
#   seb search Data/configs/restem-seal-small.json --out Reports/runs/restem-seal-small
set -euo pipefail
cd "$(dirname "$0")/.."
SEB=${SEB:-.build/release/seb}
$SEB report Reports/runs/restem-seal-small --out Reports/restem-seal-small --notes Reports/restem-seal-small-reading.md
