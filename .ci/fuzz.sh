#!/usr/bin/env bash
# Fuzz the edit path (issue #15): arbitrary JSON5 -> plan -> new text -> parse, no panic,
# untouched top-level keys byte-identical, and re-planning the written text changes nothing.
# The target is fuzz/fuzz_targets/edit_path.rs; the seed corpus is every file in
# tests/fixtures/configs, each prefixed with the byte that picks the preset and the engine.
#
# Bounded run (what .ci/run does):   bash .ci/fuzz.sh            (FUZZ_SECONDS=60)
# Long run:                          FUZZ_SECONDS=3600 bash .ci/fuzz.sh
#   or, keeping the corpus between runs, with all cores:
#   cargo +nightly fuzz run edit_path fuzz/corpus/edit_path -- -max_total_time=3600 -jobs=$(nproc)
# A crash is saved under fuzz/artifacts/edit_path/; replay it with
#   cargo +nightly fuzz run edit_path fuzz/artifacts/edit_path/<file>
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
secs="${FUZZ_SECONDS:-60}"
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
corpus=fuzz/corpus/edit_path
mkdir -p "$corpus"
for f in tests/fixtures/configs/*; do
  for b in 0 1 2 3 4 5 6 7 8; do
    { printf "\\x$(printf %02x "$b")"; cat "$f"; } >"$corpus/seed-$b-$(basename "$f")"
  done
done
log=fuzz/last-run.log
# libFuzzer prints a line per new input: keep them in a file, show the summary (or the crash).
if cargo +nightly fuzz run edit_path "$corpus" -- \
  -max_total_time="$secs" -max_len=65536 -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1; then
  grep -E '^(Done|stat::)' "$log" || tail -n 5 "$log"
else
  tail -n 80 "$log"
  echo "fuzz: edit_path failed; the input is under fuzz/artifacts/edit_path/ (full log: $log)" >&2
  exit 1
fi
