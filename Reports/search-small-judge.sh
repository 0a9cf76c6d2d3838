#!/usr/bin/env bash
# Regenerates Reports/search-small-judge/ (README.md + charts) from the committed run
# Reports/runs/search-small-judge: the search-small size of search-noarchive with the judge as the
# reward (the search repo's grading prompt), SmolLM2 itself judging through seb serve, with the
# reading in Reports/search-small-judge-reading.md. The run was made (and is resumed) with
#   seb serve --port 8198 --threads 1 &
#   seb search Data/configs/search-small-judge.json --out Reports/runs/search-small-judge
# Beside it, for the same search on the gold log-likelihood reward: Reports/runs/search-small-noarchive.
set -euo pipefail
cd "$(dirname "$0")/.."
SEB=${SEB:-.build/release/seb}
$SEB report Reports/runs/search-small-judge Reports/runs/search-small-noarchive --out Reports/search-small-judge \
  --notes Reports/search-small-judge-reading.md
