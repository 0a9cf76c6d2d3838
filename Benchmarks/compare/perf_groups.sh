#!/usr/bin/env bash
# perf_groups.sh PERF_DATA: the "where the time goes" row of Reports/performance.md from a perf
# recording of a running `seb-bench packed`, as self-time shares of the symbol groups it names.
# Session 11 recorded 10 s during training of each K:
#   perf record -F 499 -p "$(pgrep -f 'seb-bench packed --adapters 8')" -o k8.perf -- sleep 10
# "waiting" is the split-sgemm wrapper (Tensor.sgemm), the pool's run loops and kernel spin-unlock,
# where the calling thread waits at the join.
set -eu
perf report -i "${1:?usage: perf_groups.sh PERF_DATA}" --no-children --sort symbol 2>/dev/null | grep -v '^#' | awk '
  /sgemm_kernel/ {k += $1} /copy_ZEN|copy_HASWELL|copy_SKYLAKEX/ {c += $1}
  /Tensor5sgemm|ThreadPoolC3run|workerLoop|raw_spin/ {j += $1} /crossEntropy|expf/ {x += $1} /AdamW/ {a += $1}
  END {printf "sgemm_kernel %.0f%%, re-packing %.0f%%, waiting %.0f%%, cross-entropy %.0f%%, AdamW %.0f%%\n", k, c, j, x, a}'
