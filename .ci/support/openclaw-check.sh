#!/usr/bin/env bash
# Judge a config with the real OpenClaw CLI, hermetically: a throwaway home and state dir, the
# caller's environment kept out, no network (an empty network namespace when permitted).
#
# usage: openclaw-check.sh [--audit] CONFIG [STATE_DIR]
#   Prints one JSON object: {"validate": {...}, "validate_rc": N, "audit": {...}|null, "audit_rc": N|null}
#   STATE_DIR: its .env (the Gateway token) is copied into the throwaway state dir.
# env: CLAWPOSTURE_OPENCLAW  the openclaw wrapper (default: .ci/support/openclaw-setup.sh installs it)
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
AUDIT=0
[ "${1:-}" = "--audit" ] && { AUDIT=1; shift; }
[ $# -ge 1 ] || { echo "usage: openclaw-check.sh [--audit] CONFIG [STATE_DIR]" >&2; exit 2; }
CONFIG="$1"; STATE_SRC="${2:-}"
OC="${CLAWPOSTURE_OPENCLAW:-}"
[ -n "$OC" ] || OC="$(bash "$HERE/openclaw-setup.sh" | tail -n1)" || { echo "openclaw setup failed" >&2; exit 2; }
NODE_DIR="$(dirname "$(readlink -f "$(dirname "$OC")/node")")"
T="$(mktemp -d "${TMPDIR:-/tmp}/clawposture-oc.XXXXXX")"
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/home" "$T/work" "$T/tmp"
TEMPLATE="$(dirname "$(dirname "$OC")")/state-template/state"
# The template holds the channel plugins that are not in core (150 MB): copy it only when the
# config names one of them, or the audit would try to install it from the network.
if [ -d "$TEMPLATE" ] && grep -Eq 'whatsapp|discord' "$CONFIG"; then cp -a "$TEMPLATE" "$T/state"; else mkdir -p "$T/state"; fi
chmod 700 "$T/state"
[ -n "$STATE_SRC" ] && [ -f "$STATE_SRC/.env" ] && install -m 600 "$STATE_SRC/.env" "$T/state/.env"
install -m 600 "$CONFIG" "$T/openclaw.json"
ENVV=(env -i PATH="$NODE_DIR:/usr/local/bin:/usr/bin:/bin" HOME="$T/home" OPENCLAW_HOME="$T/home"
  OPENCLAW_STATE_DIR="$T/state" OPENCLAW_CONFIG_PATH="$T/openclaw.json" OPENCLAW_CONFIG_READONLY=1
  OPENCLAW_OFFLINE=1 OPENCLAW_NO_AUTO_UPDATE=1 OPENCLAW_DISABLE_BONJOUR=1 TMPDIR="$T/tmp"
  LANG=C.UTF-8 TERM=dumb NO_COLOR=1 NODE_COMPILE_CACHE="$(dirname "$(dirname "$OC")")/compile-cache"
  DOCKER_HOST="unix://$T/no-docker.sock" CONTAINER_HOST="unix://$T/no-podman.sock")
NETNS=()
unshare -n true 2>/dev/null && NETNS=(unshare -n)
step() { # step NAME ARGS...
  local name="$1"; shift
  (cd "$T/work" && "${NETNS[@]}" timeout 180 "${ENVV[@]}" "$OC" "$@") > "$T/$name.json" 2> "$T/$name.err"
  echo $? > "$T/$name.rc"
}
step validate config validate --json
[ "$AUDIT" = 1 ] && step audit security audit --json
"$NODE_DIR/node" -e '
  const fs = require("fs"), t = process.argv[1];
  const read = (n) => { try { const s = fs.readFileSync(`${t}/${n}.json`, "utf8"); const i = s.indexOf("{"); return i < 0 ? {raw: s} : JSON.parse(s.slice(i)); } catch (e) { return fs.existsSync(`${t}/${n}.rc`) ? {error: String(e), stderr: fs.readFileSync(`${t}/${n}.err`, "utf8").slice(-2000)} : null; } };
  const rc = (n) => fs.existsSync(`${t}/${n}.rc`) ? Number(fs.readFileSync(`${t}/${n}.rc`, "utf8")) : null;
  process.stdout.write(JSON.stringify({validate: read("validate"), validate_rc: rc("validate"), audit: read("audit"), audit_rc: rc("audit")}) + "\n");
' "$T"
