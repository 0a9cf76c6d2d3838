#!/usr/bin/env bash
# run_when_quiet.sh: wait until the shared machine is quiet, record the load, then run one command.
# Quiet = 1-minute load average < MAX_LOAD (default 0.7) and no swift-build / swift-frontend / cc1
# process running. Re-checks every 30 s for at most WAIT_MINUTES (default 20); then runs anyway and
# says so. The load seen just before the run is printed to stderr (and kept in the log).
#
#   Benchmarks/compare/run_when_quiet.sh /tmp/cmpenv/bin/python Benchmarks/compare/torch_bench.py \
#     --model Data/models/SmolLM2-135M-Instruct.Q4_1.gguf --threads 2 --json > torch.json
set -u
MAX_LOAD=${MAX_LOAD:-0.7}
WAIT_MINUTES=${WAIT_MINUTES:-20}
deadline=$(( $(date +%s) + WAIT_MINUTES * 60 ))
while :; do
  load=$(cut -d' ' -f1 /proc/loadavg)
  busy=$(pgrep -f 'swift-build|swift-frontend|cc1' | tr '\n' ' ')
  if awk -v l="$load" -v m="$MAX_LOAD" 'BEGIN { exit !(l < m) }' && [ -z "$busy" ]; then
    echo "quiet: $(date -u +%FT%TZ) loadavg $(cat /proc/loadavg)" >&2
    break
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "NOT quiet after ${WAIT_MINUTES} min, running anyway: $(date -u +%FT%TZ) loadavg $(cat /proc/loadavg) busy pids: ${busy:-none}" >&2
    break
  fi
  sleep 30
done
"$@"
status=$?
echo "done: $(date -u +%FT%TZ) loadavg $(cat /proc/loadavg)" >&2
exit $status
