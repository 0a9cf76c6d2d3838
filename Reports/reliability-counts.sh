#!/usr/bin/env bash
# Counts, from the test sources, the cases of each row of the table "Bad inputs covered by tests"
# in Reports/reliability.md, and prints the grep behind each count (no build needed).
#   bash Reports/reliability-counts.sh
set -euo pipefail
cd "$(dirname "$0")/.."

row() {  # row LABEL COUNT HOW
  printf '%-40s %4s   %s\n' "$1" "$2" "$3"
}

row "malformed GGUF files (tests)" \
  "$(grep -c '@Test' Tests/GGUFTests/MalformedFileTests.swift)" \
  "grep -c '@Test' Tests/GGUFTests/MalformedFileTests.swift"
row "every command, bad input (cases)" \
  "$(grep -c '^    BadInput(name:' Tests/SebTests/CommandTests.swift)" \
  "grep -c '^    BadInput(name:' Tests/SebTests/CommandTests.swift   (BadInputTests.cases)"
row "run configs (cases)" \
  "$(awk '/bad keys and values are errors/,/\]\)/' Tests/ExperimentTests/ExperimentTests.swift | grep -c '^    ("')" \
  "awk '/bad keys and values are errors/,/\]\)/' Tests/ExperimentTests/ExperimentTests.swift | grep -c '^    (\"'"

# The rows below are sets of named tests; each prints the tests it counts.
list() {  # list LABEL PATTERN FILES...
  local label=$1 pattern=$2; shift 2
  local hits; hits=$(grep -H -n -E "@Test\(\"($pattern)" "$@" || true)
  row "$label (tests)" "$(printf '%s' "$hits" | grep -c . || true)" "grep -H -n -E '@Test\\(\"($pattern)' $*"
  printf '%s\n' "$hits" | sed 's/^/      /'
}
list "model files parse but are wrong" 'a missing key, a missing tensor|a NaN in a weight' \
  Tests/LLMTests/LoaderTests.swift Tests/LLMTests/TransformerTests.swift
list "training" 'bad hyperparameters|a loss that turns NaN|JSONL text and prompt|formats by case|a job with bad sequences|activation memory|loading an adapter for the wrong' \
  Tests/TrainingTests/TrainerTests.swift Tests/TrainingTests/PackedTrainingTests.swift Tests/TrainingTests/ModelTests.swift
list "harness" 'another config, another shard|a self-edit with no training sequence|a rank wider than the model' \
  Tests/SelfEditTests/HarnessTests.swift
list "interrupted writes" 'killing a run at several moments|SIGINT or SIGKILL during seb train|a run killed mid-write|a torn last line|a staged directory appears whole' \
  Tests/SebTests/CommandTests.swift Tests/SelfEditTests/HarnessTests.swift Tests/WorkspaceTests/RecordLogTests.swift
printf '      kill -9 moments of seb run (%s): %s\n' "grep -o 'for delay in \[[^]]*\]' Tests/SebTests/CommandTests.swift" \
  "$(grep -o 'for delay in \[[^]]*\]' Tests/SebTests/CommandTests.swift | sed 's/for delay in //' | tr -d '[]' | tr ',' '\n' | grep -c .)"
printf '      records cut points of a killed run (%s): %s\n' "grep -o 'for n in \[[^]]*\]' Tests/SelfEditTests/HarnessTests.swift" \
  "$(grep -o 'for n in \[[^]]*\]' Tests/SelfEditTests/HarnessTests.swift | sed 's/for n in //' | tr -d '[]' | tr ',' '\n' | grep -c .)"
