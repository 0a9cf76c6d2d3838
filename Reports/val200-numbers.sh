#!/usr/bin/env bash
# Prints the numbers of Reports/val200-reading.md from the committed val200 files in
# Reports/runs/val200-baselines/ with jq (no build, no model):
#   bash Reports/val200-numbers.sh coverage          records by kind, passages, questions
#   bash Reports/val200-numbers.sh shards            each shard's manifest: commit, hashes, invocations
#   bash Reports/val200-numbers.sh hours             compute hours per stage (sum of the shards' timings)
#   bash Reports/val200-numbers.sh baseline          the un-adapted model's mean score per grader
#   bash Reports/val200-numbers.sh steps             per method: mean training sequences, and optimizer
#                                                    steps per adapter (sequences x epochs / batch)
#   bash Reports/val200-numbers.sh gains             per method and grader: mean per-passage gain over
#                                                    the un-adapted model, passages up / down / equal
#   bash Reports/val200-numbers.sh vs-passage        the same for each method minus `passage`
#   bash Reports/val200-numbers.sh stability         `contains` and gold log-lik gains on the passages
#                                                    the interim reports had: 120, 160, 168 and 200
#   bash Reports/val200-numbers.sh intervals         `seb report`'s gains with 95% intervals, its paired
#                                                    comparisons (difference, interval, wins, sign test p)
#                                                    and mean answer characters, read from the committed
#                                                    Reports/val200/README.md
# A passage's score is the mean over its questions (macro), as in `seb report`; gains are
# per-passage differences averaged over passages. Intervals and sign-test p values are `seb report`'s
# bootstrap and sign test: they are in the tables of Reports/val200/README.md, which CI regenerates
# from the same records (bash Reports/val200.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/runs/val200-baselines"
shards=(records.shard-1-of-5.jsonl records.shard-2-of-5.jsonl records.shard-3-of-5.jsonl records.shard-4-of-5.jsonl records.shard-5-of-5.jsonl)

# score($g): a record's mean grade over its answers (true 1, false 0).
# gains($by): per method, per-passage (adapter - reference) for each grader, where $by is "baseline"
# (the un-adapted model) or a method name; prints method, grader, passages, mean, up, down, equal.
prelude='
def score($g): .answers | map(.grades[$g] | if type == "boolean" then (if . then 1 else 0 end) else . end) | add / length;
def graders: ["containsAll", "f1All", "goldLogLikelihood"];
def gains($by; $methods):
  . as $recs
  | ($recs | map(select(if $by == "baseline" then .kind == "baseline" else .kind == "adapter" and .method == $by end))
           | map({key: (.passage | tostring), value: .}) | from_entries) as $ref
  | $methods[] | select(. != $by) as $m
  | ($recs | map(select(.kind == "adapter" and .method == $m))) as $rs
  | graders[] as $g
  | ($rs | map(score($g) - ($ref[.passage | tostring] | score($g)))) as $d
  | [$m, $g, ($d | length), ($d | add / length | . * 10000 | round / 10000),
     ($d | map(select(. > 0)) | length), ($d | map(select(. < 0)) | length), ($d | map(select(. == 0)) | length)]
  | @tsv;
'
methods=$(jq -c .methods config.json)

case "${1:-}" in
coverage)
  echo "records by kind:"; jq -r .kind "${shards[@]}" | sort | uniq -c
  echo "passages: $(jq -r .passage "${shards[@]}" | sort -u | wc -l)"
  echo "questions (answers of the un-adapted baseline): $(jq -r 'select(.kind == "baseline") | .answers | length' "${shards[@]}" | awk '{s += $1} END {print s}')"
  ;;
shards)
  printf 'shard\tcommit\tconfig sha256\tmodel sha256\tsplit sha256\tinvocations (started, threads, adapters per step)\n'
  jq -r '[.shard, .gitCommit[0:7], .configSHA256[0:12], .modelSHA256[0:12], .splitManifestSHA256[0:12],
          (.invocations | map("\(.started) \(.threads) \(.adaptersPerStep)") | join("; "))] | @tsv' manifest.shard-*-of-5.json
  jq -s -r '"distinct values over the 5 shards: commits \(map(.gitCommit) | unique | length), configs \(map(.configSHA256) | unique | length), prompt sets \(map(.promptSHA256) | unique | length), models \(map(.modelSHA256) | unique | length), splits \(map(.splitManifestSHA256) | unique | length), data file sets \(map(.dataFiles) | unique | length)"' manifest.shard-*-of-5.json
  ;;
hours)
  jq -s 'map(.seconds | to_entries[]) | group_by(.key) | map({(.[0].key): (map(.value) | add / 3600)}) | add
         | . + {total: (to_entries | map(.value) | add)}' timings.shard-*-of-5.jsonl
  ;;
baseline)
  printf 'grader\tpassages\tmean\n'
  jq -s -r "$prelude"'map(select(.kind == "baseline")) as $b
      | ["containsAll", "f1All", "emAll", "goldLogLikelihood"][] as $g
      | [$g, ($b | length), ($b | map(score($g)) | add / length | . * 10000 | round / 10000)] | @tsv' "${shards[@]}"
  ;;
steps)
  printf 'method\tadapters\tmean sequences\tsteps per adapter\n'
  jq -s -r --argjson methods "$methods" --argjson t "$(jq -c .training config.json)" '
      $methods[] as $m | map(select(.kind == "adapter" and .method == $m)) | (map(.sequences | length) | add / length) as $s
      | [$m, length, ($s * 100 | round / 100), ($s * $t.epochs / $t.batchSize | round)] | @tsv' "${shards[@]}"
  ;;
gains)
  printf 'method\tgrader\tpassages\tmean gain\tup\tdown\tequal\n'
  jq -s -r --argjson methods "$methods" "$prelude"' gains("baseline"; $methods)' "${shards[@]}"
  ;;
vs-passage)
  printf 'method\tgrader\tpassages\tmean (method - passage)\tup\tdown\tequal\n'
  jq -s -r --argjson methods "$methods" "$prelude"' gains("passage"; $methods)' "${shards[@]}"
  ;;
stability)
  # The interim reports: shards 1-3 (120 passages), 1-4 (160), 1-4 and shard 5's first block of 8
  # (168: passages 32-39), all five (200). Shard i holds blocks of 8 passages, interleaved.
  printf 'subset\tmethod\tgrader\tpassages\tmean gain\tup\tdown\tequal\n'
  for n in 120 160 168 200; do
    case $n in
      120) files=("${shards[@]:0:3}") ; filter='.' ;;
      160) files=("${shards[@]:0:4}") ; filter='.' ;;
      168) files=("${shards[@]}") ; filter='select(input_filename != "records.shard-5-of-5.jsonl" or (.passage >= 32 and .passage <= 39))' ;;
      200) files=("${shards[@]}") ; filter='.' ;;
    esac
    jq -c "$filter" "${files[@]}" | jq -s -r --argjson methods "$methods" "$prelude"' gains("baseline"; $methods)' \
      | grep -v -e '^base	' -e '	f1All	' | sed "s/^/$n\t/"
  done
  ;;
intervals)
  awk -F' [|] ' '/^### /{s=substr($0, 5); p=0; t=0} /^### Paired/{p=1; s=""} /^### Training/{t=1; s=""}
      s && /^\| [a-z]/ && $1 != "| method" {print s "\t" substr($1, 3) "\tgain " $4}
      p && /^\| [a-z]/ && $1 != "| a" {print "paired\t" substr($1, 3) " - " $2 "\t" $3 " " $4 ", wins/losses/ties " $5 ", p " $6}
      t && /^\| [a-z(]/ && $1 != "| method" {print "answers\t" substr($1, 3) "\tmean sequences " $4 ", mean answer characters " $7}' \
    "$here/val200/README.md" | sed 's/ |$//'
  ;;
*)
  sed -n '2,22p' "$here/val200-numbers.sh" | sed 's/^# \{0,1\}//'
  exit 64
  ;;
esac
