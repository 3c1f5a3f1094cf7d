#!/usr/bin/env bash
# Time `clawposture apply` against `openclaw config validate` on the same realistic 300-line
# config. Goal: apply at least 50x faster. Usage: bash benches/apply-vs-validate.sh [RUNS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS="${1:-10}"
cargo build --release --quiet
BIN=target/release/clawposture
OC="${CLAWPOSTURE_OPENCLAW:-$(bash .ci/support/openclaw-setup.sh | tail -n1)}"
NODE_DIR="$(dirname "$(readlink -f "$(dirname "$OC")/node")")"
FIX=tests/fixtures/configs/realistic-300.json5
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
mkdir -p "$T/home/.openclaw" "$T/state" "$T/oc"
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for i in $(seq "$RUNS"); do
  install -m 600 "$FIX" "$T/home/.openclaw/openclaw.json"
  rm -f "$T/home/.openclaw/"*.bak
  s=$(date +%s%N)
  env -i PATH=/usr/bin:/bin HOME="$T/home" "$BIN" apply --yes --threat group --engine docker-rootless --no-detect >/dev/null
  ms "$s"
done | median > "$T/apply"

cp "$FIX" "$T/oc/openclaw.json"
for i in $(seq "$RUNS"); do
  s=$(date +%s%N)
  env -i PATH="$NODE_DIR:/usr/bin:/bin" HOME="$T/oc" OPENCLAW_STATE_DIR="$T/state" OPENCLAW_CONFIG_PATH="$T/oc/openclaw.json" \
    OPENCLAW_CONFIG_READONLY=1 OPENCLAW_OFFLINE=1 OPENCLAW_NO_AUTO_UPDATE=1 OPENCLAW_DISABLE_BONJOUR=1 NO_COLOR=1 \
    "$OC" config validate --json >/dev/null || true
  ms "$s"
done | median > "$T/validate"

a=$(cat "$T/apply"); v=$(cat "$T/validate")
echo "clawposture apply (group, 300-line JSON5, release): median ${a} ms over $RUNS runs"
echo "openclaw config validate (same file):               median ${v} ms over $RUNS runs"
awk -v a="$a" -v v="$v" 'BEGIN { if (a < 1) a = 1; printf "ratio: %.0fx (goal: >= 50x)\n", v / a }'
