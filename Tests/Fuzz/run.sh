#!/usr/bin/env bash
# Tests/Fuzz/run.sh [SECONDS] [TARGET...]: fuzz every parser of untrusted bytes with libFuzzer.
# SEB_FUZZ_SUMMARY_ONLY=1 only rewrites the summary from the logs of an earlier run.
# Builds seb-fuzz twice: normally (to write each target's seed inputs) and with
# -sanitize=fuzzer,address -DSEB_FUZZ in a debug build (bounds and overflow checks stay on) into
# .build-fuzz. Runs each target for SECONDS (default 600), two at a time, with a 4 GB RSS limit
# and a 20 s per-input timeout. Writes runs/fuzz/<target>/{log.txt,corpus/,crash-*} and
# runs/fuzz/summary.tsv (target, seconds, executions, exec/s, coverage, features, corpus, failures
# = crash/timeout/oom/leak inputs, slow units = inputs libFuzzer saw take over 10 s).
# A crash input goes into Tests/Fuzz/Regressions/<target>/ once fixed; the test suite replays
# that folder (Tests/SebTests/FuzzRegressionTests.swift).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(gguf safetensors tokenizer trainingdata config template)
out=${SEB_FUZZ_OUT:-runs/fuzz}
mkdir -p "$out"
if [ "${SEB_FUZZ_SUMMARY_ONLY:-0}" != 1 ]; then
swift build --product seb-fuzz >/dev/null
swift build --product seb-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DSEB_FUZZ --build-path .build-fuzz 2>&1 \
  | grep -v "Cannot export local symbol" || true
fuzz=.build-fuzz/debug/seb-fuzz
[ -x "$fuzz" ] || { echo "run.sh: the fuzz build failed" >&2; exit 1; }

run_one() {
  local t=$1 dir="$out/$1"
  mkdir -p "$dir/corpus" "$dir/seeds"
  .build/debug/seb-fuzz seeds "$t" "$dir/seeds"
  SEB_FUZZ_TARGET=$t ASAN_OPTIONS=detect_leaks=0 "$fuzz" "$dir/corpus" "$dir/seeds" Tests/Fuzz/Regressions/"$t" \
    -max_total_time="$secs" -rss_limit_mb=4096 -timeout=20 -print_final_stats=1 \
    -artifact_prefix="$dir/" >"$dir/log.txt" 2>&1 || true
}

running=0
for t in "${targets[@]}"; do
  mkdir -p Tests/Fuzz/Regressions/"$t"
  run_one "$t" &
  running=$((running + 1))
  if [ $running -ge 2 ]; then wait -n; running=$((running - 1)); fi
done
wait
fi

printf "target\tseconds\texecutions\texec_per_s\tcoverage\tfeatures\tcorpus\tfailures\tslow_units\n" >"$out/summary.tsv"
for t in "${targets[@]}"; do
  log="$out/$t/log.txt"
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | awk '{print $2}')
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -1 | awk '{print $2}')
  last=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov:' | tail -1)
  cov=$(echo "$last" | grep -o 'cov: [0-9]*' | awk '{print $2}')
  ft=$(echo "$last" | grep -o 'ft: [0-9]*' | awk '{print $2}')
  corp=$(echo "$last" | grep -o 'corp: [0-9]*/[0-9a-zA-Z]*' | awk '{print $2}')
  # Artifact names: crash-, timeout-, oom-, leak-, slow-unit- (an earlier layout prefixed all with crash-).
  failures=$(ls "$out/$t" | grep -E '^(crash|timeout|oom|leak)-' | grep -vc 'slow-unit' || true)
  slow=$(ls "$out/$t" | grep -c 'slow-unit' || true)
  printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$t" "$secs" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$failures" "$slow" >>"$out/summary.tsv"
done
column -t -s $'\t' "$out/summary.tsv"
