#!/usr/bin/env bash
# Real container engines for clawposture's detection tests, each on a private socket.
#
#   bash .ci/support/engines.sh start   # as root; prints the engines.env path on stdout
#   bash .ci/support/engines.sh env     # `eval "$(bash .ci/support/engines.sh env)"`
#   bash .ci/support/engines.sh stop    # kills exactly what `start` started, removes $DIR
#
# Four daemons: rootful dockerd, rootless dockerd (dockerd-rootless.sh as $TEST_USER), rootful
# Podman and rootless Podman (`podman system service`). Everything lives under $DIR so nothing
# collides with a system daemon (/var/run/docker.sock, /run/podman stay untouched). Packages come
# from the distribution's own apt client; images are imported from busybox-static, never pulled,
# and no daemon gets a network it could use to reach another machine (--bridge=none for rootful
# docker; nothing is ever run that would use the rootless slirp network).
#
# `start` is idempotent: daemons whose pidfile is alive and whose socket answers are reused.
# Progress goes to stderr; the only stdout line of `start` is the engines.env path.
set -euo pipefail
# Every path below is absolute. The rootless daemons run as the test user, who may not be able
# to enter the clone's directory (a clone under /root, or any 0700 directory): work from /.
cd /

DIR="${CLAWPOSTURE_ENGINES_DIR:-/tmp/clawposture-engines}"
TEST_USER="${CLAWPOSTURE_TEST_USER:-clawtest}"
IMAGE="clawposture-probe:latest"
READY_TIMEOUT="${CLAWPOSTURE_ENGINES_TIMEOUT:-90}" # seconds; rootless dockerd takes ~10 s on 2 cores
CONTRIB=/usr/share/docker.io/contrib
ENV_FILE="$DIR/engines.env"
ENGINES=(docker-rootful docker-rootless podman-rootful podman-rootless)

log() { printf '[engines] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

sock_of() {
  case "$1" in
    docker-rootful) echo "$DIR/docker-rootful/docker.sock" ;;
    docker-rootless) echo "$DIR/docker-rootless/run/docker.sock" ;;
    podman-rootful) echo "$DIR/podman-rootful/podman.sock" ;;
    podman-rootless) echo "$DIR/podman-rootless/run/podman/podman.sock" ;;
  esac
}

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
pid_of() { [ -f "$DIR/pids/$1.pid" ] && cat "$DIR/pids/$1.pid" || true; }

# Both engines answer the Docker API's /_ping in about a millisecond (Podman's /version takes
# ~0.6 s). Without curl, the docker CLI does the same job against either engine.
answers() {
  if command -v curl >/dev/null 2>&1; then
    curl -sf --max-time 5 --unix-socket "$1" http://engine/_ping >/dev/null 2>&1
  else
    DOCKER_HOST="unix://$1" timeout 5 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
  fi
}

need_root() {
  if [ "$(id -u)" != 0 ]; then
    log "'$1' needs root (it installs packages, creates the test user, starts rootful daemons)."
    log "skipped: run it as root, or run the detection tests without engines (they say so)."
    exit 2
  fi
}

install_packages() {
  local pkgs=(docker.io podman uidmap rootlesskit slirp4netns busybox-static catatonit) missing=() p
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && { log "packages present"; return 0; }
  log "installing: ${missing[*]}"
  # Stop the package scripts from starting a system dockerd on /var/run/docker.sock: the tests
  # need that path to stay empty, and this script only stops what it started.
  local policy=/usr/sbin/policy-rc.d own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
  fi
  local rc=0
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"; } >&2 || rc=$?
  [ "$own_policy" = 1 ] && rm -f "$policy"
  [ "$rc" = 0 ] || die "apt-get failed ($rc)"
}

ensure_user() {
  if ! id "$TEST_USER" >/dev/null 2>&1; then
    log "creating user $TEST_USER"
    useradd -m -s /bin/sh "$TEST_USER"
  fi
  local f
  for f in /etc/subuid /etc/subgid; do
    touch "$f"
    grep -q "^$TEST_USER:" "$f" && continue
    # Start after every existing range so no two users share IDs.
    local start
    start=$(awk -F: 'BEGIN{m=100000} {e=$2+$3; if (e>m) m=e} END{print m}' "$f")
    echo "$TEST_USER:$start:65536" >>"$f"
    log "$f: $TEST_USER:$start:65536"
  done
}

ensure_tun() {
  # slirp4netns (rootless networking) opens /dev/net/tun as the test user; here it is root-only.
  mkdir -p "$DIR"
  if [ ! -e /dev/net/tun ]; then
    mkdir -p /dev/net && mknod /dev/net/tun c 10 200
    echo created >"$DIR/tun.mode"
  elif [ ! -f "$DIR/tun.mode" ]; then
    stat -c %a /dev/net/tun >"$DIR/tun.mode"
  fi
  chmod 666 /dev/net/tun
}

# Paths outside $DIR that the daemons create whatever their root/run dirs: Podman's SHM locks,
# netavark's lock and run dirs and blob-info cache; dockerd 20.10's trust key and plugin dir.
# Those absent before `start` are removed by `stop`.
leak_paths() {
  echo /dev/shm/libpod_lock
  echo "/dev/shm/libpod_rootless_lock_$(id -u "$TEST_USER")"
  echo /etc/containers/networks
  echo /run/containers
  echo /var/lib/containers
  echo /etc/docker/key.json
  echo /run/docker
}

record_leaks() {
  [ -f "$DIR/absent-before" ] && return 0
  local p
  for p in $(leak_paths); do [ -e "$p" ] || echo "$p"; done >"$DIR/absent-before"
}

probe_tar() {
  local tar="$DIR/probe-rootfs.tar"
  [ -s "$tar" ] && { echo "$tar"; return; }
  local root="$DIR/probe-rootfs" c
  rm -rf "$root" && mkdir -p "$root/bin"
  cp /bin/busybox "$root/bin/"
  for c in sh ip cat ls id true sleep; do ln -sf busybox "$root/bin/$c"; done
  tar -C "$root" -cf "$tar" . && rm -rf "$root"
  chmod 644 "$tar"
  echo "$tar"
}

as_user() { # home, runtime dir -> sets AS_USER to the command prefix that runs as $TEST_USER
  # A clean environment: the rootless daemons must not inherit root's DOCKER_HOST, XDG dirs etc.
  AS_USER=(setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --init-groups
    env -i HOME="$1" XDG_RUNTIME_DIR="$2" USER="$TEST_USER" LOGNAME="$TEST_USER"
    PATH="$CONTRIB:/usr/sbin:/usr/bin:/sbin:/bin")
}

# Rootful daemons get a clean environment too: the caller's DOCKER_HOST, CONTAINER_HOST or a
# PATH full of shims must not leak into them.
ROOT_ENV=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8)

launch() { # name, command... ; runs it in its own session, logs under $DIR/<name>/daemon.log
  local name="$1"; shift
  setsid "$@" </dev/null >>"$DIR/$name/daemon.log" 2>&1 &
  echo $! >"$DIR/pids/$name.pid"
}

start_one() {
  local name="$1" sock pid
  sock=$(sock_of "$name")
  pid=$(pid_of "$name")
  if alive "$pid" && answers "$sock"; then log "$name: running (pid $pid), reused"; return 0; fi
  if alive "$pid"; then log "$name: pid $pid alive but not answering; restarting"; stop_one "$name"; fi
  rm -f "$DIR/pids/$name.pid"
  local uid gid d="$DIR/$name"
  uid=$(id -u "$TEST_USER"); gid=$(id -g "$TEST_USER")
  case "$name" in
    docker-rootful)
      mkdir -p "$d" && chmod 755 "$d" && rm -f "$sock"
      launch "$name" "${ROOT_ENV[@]}" dockerd --host "unix://$sock" --data-root "$d/data" --exec-root "$d/exec" \
        --pidfile "$d/dockerd.pid" --iptables=false --ip6tables=false --bridge=none \
        --storage-driver=vfs
      ;;
    docker-rootless)
      mkdir -p "$d/run" "$d/home" && chown -R "$uid:$gid" "$d" && chmod 700 "$d/run" && chmod 755 "$d"
      : >"$d/daemon.log" && chown "$uid:$gid" "$d/daemon.log"
      rm -f "$sock"
      as_user "$d/home" "$d/run"
      launch "$name" "${AS_USER[@]}" dockerd-rootless.sh --storage-driver=vfs --iptables=false
      ;;
    podman-rootful)
      mkdir -p "$d" && chmod 755 "$d" && rm -f "$sock"
      launch "$name" "${ROOT_ENV[@]}" podman --root "$d/storage" --runroot "$d/runroot" --tmpdir "$d/tmp" \
        --storage-driver=vfs --cgroup-manager=cgroupfs --events-backend=file \
        system service --time=0 "unix://$sock"
      ;;
    podman-rootless)
      mkdir -p "$d/run/podman" "$d/home" && chown -R "$uid:$gid" "$d" && chmod 700 "$d/run" && chmod 755 "$d"
      : >"$d/daemon.log" && chown "$uid:$gid" "$d/daemon.log"
      rm -f "$sock"
      as_user "$d/home" "$d/run"
      launch "$name" "${AS_USER[@]}" podman --storage-driver=vfs --cgroup-manager=cgroupfs \
        --events-backend=file system service --time=0 "unix://$sock"
      ;;
  esac
  log "$name: started (pid $(pid_of "$name")), waiting for $sock"
}

wait_ready() {
  local name="$1" sock pid i tries=$((READY_TIMEOUT * 5))
  sock=$(sock_of "$name"); pid=$(pid_of "$name")
  for ((i = 0; i < tries; i++)); do
    if [ -S "$sock" ] && answers "$sock"; then log "$name: ready"; return 0; fi
    alive "$pid" || { tail -n 30 "$DIR/$name/daemon.log" >&2; die "$name exited before it was ready"; }
    sleep 0.2 # polling interval of a bounded loop, not a synchronisation guess
  done
  tail -n 30 "$DIR/$name/daemon.log" >&2
  die "$name not ready after ${READY_TIMEOUT}s"
}

import_image() {
  local name="$1" sock tar
  sock=$(sock_of "$name")
  tar=$(probe_tar)
  if DOCKER_HOST="unix://$sock" docker image inspect "$IMAGE" >/dev/null 2>&1; then return 0; fi
  log "$name: importing $IMAGE from busybox-static"
  case "$name" in
    docker-*) DOCKER_HOST="unix://$sock" docker import "$tar" "$IMAGE" >/dev/null ;;
    podman-*) podman --remote --url "unix://$sock" import "$tar" "$IMAGE" >/dev/null ;;
  esac
}

write_env() {
  local tmp="$ENV_FILE.tmp"
  {
    echo "CLAWPOSTURE_DOCKER_ROOTFUL=unix://$(sock_of docker-rootful)"
    echo "CLAWPOSTURE_DOCKER_ROOTLESS=unix://$(sock_of docker-rootless)"
    echo "CLAWPOSTURE_PODMAN_ROOTFUL=unix://$(sock_of podman-rootful)"
    echo "CLAWPOSTURE_PODMAN_ROOTLESS=unix://$(sock_of podman-rootless)"
    echo "CLAWPOSTURE_TEST_USER=$TEST_USER"
    echo "CLAWPOSTURE_TEST_UID=$(id -u "$TEST_USER")"
    echo "CLAWPOSTURE_PROBE_IMAGE=$IMAGE"
  } >"$tmp"
  chmod 644 "$tmp" && mv "$tmp" "$ENV_FILE"
}

cmd_start() {
  need_root start
  install_packages
  ensure_user
  mkdir -p "$DIR/pids" && chmod 755 "$DIR"
  ensure_tun
  record_leaks
  local n
  for n in "${ENGINES[@]}"; do start_one "$n"; done
  for n in "${ENGINES[@]}"; do wait_ready "$n"; done
  for n in "${ENGINES[@]}"; do import_image "$n"; done
  write_env
  log "all four engines ready; env: $ENV_FILE"
  echo "$ENV_FILE"
}

# All descendants of a pid (children first found via /proc), so a daemon's helpers
# (containerd, rootlesskit's child, slirp4netns) are ended with it and only with it.
descendants() {
  local p kids
  kids=$(awk -v pp="$1" '$4 == pp {print $1}' /proc/[0-9]*/stat 2>/dev/null || true)
  for p in $kids; do echo "$p"; descendants "$p"; done
}

wait_gone() { # pids... ; bounded wait for exit
  local i p left
  for ((i = 0; i < 100; i++)); do
    left=0
    for p in "$@"; do alive "$p" && left=1; done
    [ "$left" = 0 ] && return 0
    sleep 0.1
  done
  return 1
}

stop_one() {
  local name="$1" pid tree
  pid=$(pid_of "$name")
  alive "$pid" || { rm -f "$DIR/pids/$name.pid"; return 0; }
  tree="$pid $(descendants "$pid" | tr '\n' ' ')"
  log "$name: stopping pids $tree"
  # dockerd stops its own containerd (and rootlesskit its child); rootless Podman's outer
  # process does not pass TERM on to the service it re-executed inside its user namespace.
  local targets="$pid"
  [ "$name" = podman-rootless ] && targets="$tree"
  # shellcheck disable=SC2086
  kill -TERM $targets 2>/dev/null || true
  # shellcheck disable=SC2086
  if ! wait_gone $tree; then
    log "$name: still running after 10 s, sending KILL"
    # shellcheck disable=SC2086
    kill -KILL $tree 2>/dev/null || true
    # shellcheck disable=SC2086
    wait_gone $tree || log "$name: some of $tree did not exit"
  fi
  rm -f "$DIR/pids/$name.pid"
}

cmd_stop() {
  [ -d "$DIR" ] || { log "nothing to stop ($DIR absent)"; return 0; }
  local n
  for n in "${ENGINES[@]}"; do stop_one "$n"; done
  # Rootless Podman keeps a pause process (holding its user namespace) that double-forks away
  # from the service; it records its own pid.
  local pause="$DIR/podman-rootless/run/libpod/tmp/pause.pid" pp
  if [ -f "$pause" ]; then
    pp=$(cat "$pause")
    if alive "$pp"; then log "podman-rootless: stopping pause process $pp"; kill -TERM "$pp" 2>/dev/null || true; wait_gone "$pp" || kill -KILL "$pp" 2>/dev/null || true; fi
  fi
  # Anything still running as the dedicated test user was started by us; name it loudly.
  if id "$TEST_USER" >/dev/null 2>&1; then
    local left
    left=$(ps -u "$TEST_USER" -o pid= 2>/dev/null | tr -s ' \n' ' ' || true)
    if [ -n "${left// /}" ]; then
      log "leftover processes of $TEST_USER: $left; ending them"
      # shellcheck disable=SC2086
      kill -KILL $left 2>/dev/null || true
    fi
  fi
  if [ -f "$DIR/tun.mode" ] && [ "$(id -u)" = 0 ]; then
    local mode
    mode=$(cat "$DIR/tun.mode")
    if [ "$mode" = created ]; then rm -f /dev/net/tun; else chmod "$mode" /dev/net/tun; fi
  fi
  if [ -f "$DIR/absent-before" ]; then
    local p
    while read -r p; do
      [ -n "$p" ] && [ -e "$p" ] && { log "removing $p (left by the daemons)"; rm -rf "$p"; }
    done <"$DIR/absent-before"
  fi
  # vfs layers of the rootless daemons belong to subordinate uids; root can remove them.
  rm -rf "$DIR"
  log "stopped; removed $DIR"
}

cmd_env() {
  [ -f "$ENV_FILE" ] || die "$ENV_FILE missing: run '$0 start' first"
  echo "export CLAWPOSTURE_ENGINES_ENV=$ENV_FILE"
  sed 's/^/export /' "$ENV_FILE"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  env) cmd_env ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 64 ;;
esac
