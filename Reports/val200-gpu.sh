#!/usr/bin/env bash
# Regenerates Reports/val200-gpu/ (README.md + charts): the val200-baselines config run through the
# PyTorch worker on one H100 (Reports/runs/val200-baselines-gpu, float32), beside the committed CPU
# run (the merged shards of Reports/runs/val200-baselines), with the reading in
# Reports/val200-gpu-reading.md. The report pairs the two runs on their shared passages and counts
# the answers and self-edits that are the same text in both. The GPU run was made in one call
# (session 17, worker version 2, 787 s) on a machine with the model at /tmp/w, by
#   python -m seb_torch_worker --model /tmp/w/SmolLM2-135M-Instruct.Q4_1.gguf --port 8765 &   # in Sources/TorchWorker
#   seb run Data/configs/val200-baselines.json --engine http://127.0.0.1:8765 \
#     --out Reports/runs/val200-baselines-gpu --generation-batch 100 --adapters-per-step 64 --answer-batch 128
set -euo pipefail
cd "$(dirname "$0")/.."
SEB=${SEB:-.build/release/seb}
rm -rf runs/val200-baselines-merged
$SEB merge Reports/runs/val200-baselines --out runs/val200-baselines-merged
$SEB report runs/val200-baselines-merged Reports/runs/val200-baselines-gpu --out Reports/val200-gpu \
  --notes Reports/val200-gpu-reading.md
