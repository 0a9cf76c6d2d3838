#!/usr/bin/env bash
# Prints the numbers of Reports/search-small-reading.md from the committed search-small runs in
# Reports/runs/search-small-{noarchive,archive,qd,rewrite,implications}/ with jq (no build, no model):
#   bash Reports/search-small-numbers.sh runs         config, model and threads of each run
#   bash Reports/search-small-numbers.sh validation   per run and iteration: the un-adapted proposer's
#                                                     validation score, the gain and its 95% interval,
#                                                     for gold_loglik, contains_all and f1_all
#   bash Reports/search-small-numbers.sh templates    every seed, train and validation template: instruction,
#                                                     clamped keys, trained lr / dropout / alpha / epochs,
#                                                     mean data tokens, gold log-lik, raw gain (template mean
#                                                     minus the stage's un-adapted mean) and normalized gain
#   bash Reports/search-small-numbers.sh qd           search-qd's grid after each iteration: coverage,
#                                                     QD-score, elites (cell, accuracy, data tokens)
#   bash Reports/search-small-numbers.sh sft          SFT rows per run: rows, steps, and which templates the
#                                                     template rows carry
# The reward is gold_loglik, the gold answer's mean token log-likelihood (negative). Normalized gain
# is the reference's write_results figure, the mean over passages of (A - B) / (1 - B), on a
# different scale from the raw gain A - B. The collapse similarities are `seb report`'s (embedding,
# Jaccard, TF-IDF): see the tables of Reports/search-small/README.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/runs"
runs=(search-small-noarchive search-small-archive search-small-qd search-small-rewrite search-small-implications)
r4() { echo '(. * 10000 | round / 10000)'; }

case "${1:-}" in
runs)
  printf 'run\tvariant\titerations\ttemplates\ttrain passages\tvalidation passages\treward\tpolicy\tanswer template\tmodel\tthreads per invocation\n'
  for r in "${runs[@]}"; do
    jq -r --arg r "$r" --slurpfile m "$r/manifest.json" '[$r, .variant, .iterations, .templates, "\(.trainPassages) \(.trainSplit)",
      "\(.validationPassages) \(.validationSplit)", .reward, .validationPolicy, "\(.evaluation.template), topic \(.evaluation.topic)",
      $m[0].model, ($m[0].invocations | map(.threads) | join(" "))] | @tsv' "$r/config.json"
  done
  ;;
validation)
  printf 'run\titer\tgrader\tun-adapted\tgain [95%% interval]\n'
  for r in "${runs[@]}"; do
    for f in "$r"/iter-*/val-results.json; do
      it=$(basename "$(dirname "$f")")
      jq -r --arg r "$r" --arg i "$it" '.overall as $o | ["gold_loglik", "contains_all", "f1_all"][] as $g | $o[$g]
        | [$r, $i, $g, (.baseline | '"$(r4)"'), "\(.gain | '"$(r4)"') [\(.gainInterval.lower | '"$(r4)"'), \(.gainInterval.upper | '"$(r4)"')]"] | @tsv' "$f"
    done
  done
  ;;
templates)
  printf 'run\titer\tstage\tt\tinstruction (first 60 characters)\tclamped\tlr\tdropout\talpha\tepochs\tdata tokens\tgold log-lik\traw gain\tnormalized gain\n'
  for r in "${runs[@]}"; do
    for d in "$r"/iter-*; do
      it=$(basename "$d")
      for st in seed train val; do
        [ -f "$d/$st-results.json" ] || continue
        # Seed templates are not clamped (the seed archive's own settings); their proposals file lists the settings trained.
        jq -r --arg r "$r" --arg i "$it" --arg st "$st" --slurpfile p "$d/$st-proposals.json" '
          .overall.gold_loglik.baseline as $b | .templates[] | . as $t
          | ($p[0].templates | map(select(.index == $t.index)) | .[0]) as $q
          | [$r, $i, $st, .index, (.instruction | gsub("\n"; " ") | .[0:60]), ($q.clamped // [] | join(",")),
             $q.training.learningRate, $q.training.dropout, $q.training.alpha, $q.training.epochs,
             (.meanDataTokens | . * 10 | round / 10), (.accuracy.gold_loglik | '"$(r4)"'),
             ((.accuracy.gold_loglik - $b) | . * 100 | round / 100), (.normalizedGain.gold_loglik | '"$(r4)"')] | @tsv' "$d/$st-results.json"
      done
    done
  done
  ;;
qd)
  for f in search-small-qd/iter-*/archive.json; do
    jq -r --arg f "$f" '"\($f): coverage \(.coverage), QD-score \(.qdScore)",
      (.entries[] | "  cell \(.cell | join(",")): \(.instruction[0:50]) | accuracy \(.accuracy | '"$(r4)"'), data tokens \(.meanDataTokens), normalized gain \(.normalizedGain | '"$(r4)"')")' "$f"
  done
  ;;
sft)
  for r in "${runs[@]}"; do
    jq -r --arg r "$r" '"\($r): \(.rows) rows, \(.steps) steps"' "$r/iter-00/sft-log.json"
    jq -r 'select(.completion | startswith("{\"data_creation_instruction\""))
      | (.completion | capture("\"data_creation_instruction\": \"(?<i>[^\"]{0,60})") | .i) // "?"' "$r/iter-00/sft-rows.jsonl" \
      | sort | uniq -c | sed 's/^/  template rows: /'
    jq -r 'select(.completion | startswith("{\"data_creation_instruction\"")) | .prompt | length' "$r/iter-00/sft-rows.jsonl" \
      | sort -u | sed 's/^/  template rows, prompt characters: /'
  done
  cmp -s search-small-archive/iter-00/sft-rows.jsonl search-small-qd/iter-00/sft-rows.jsonl \
    && echo "search-small-archive and search-small-qd: identical SFT rows"
  ;;
*)
  sed -n '2,22p' "$here/search-small-numbers.sh" | sed 's/^# \{0,1\}//'
  exit 64
  ;;
esac
