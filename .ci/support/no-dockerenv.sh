#!/bin/sh
# Run a command (as root) in a private mount namespace whose root has no /.dockerenv, so
# OpenClaw on a CI machine that is itself a container behaves as on a host (it would
# otherwise try to resolve its bind sources through `docker inspect` of itself). The new
# root is a tmpfs of bind mounts of every top-level entry but /.dockerenv, entered with
# pivot_root (a chroot would forbid the namespaces `verify --e2e` creates). /root is not
# bound (0700): only OpenClaw's install cache under it is, so its user can reach it.
#   sh .ci/support/no-dockerenv.sh CMD [ARG...]
set -e
[ "$(id -u)" = 0 ] || { echo "no-dockerenv.sh: needs root" >&2; exit 2; }
exec unshare -m sh -c '
set -e
mount --make-rprivate /
# One fixed mount point, shared by every run (each mounts its own tmpfs on it in its own
# namespace): nothing accumulates in /tmp.
R=/tmp/.clawposture-no-dockerenv-root
mkdir -p "$R"
mount -t tmpfs -o mode=755 tmpfs "$R"
for e in /* /.[!.]*; do
  [ -e "$e" ] || [ -L "$e" ] || continue
  case "$e" in /.dockerenv|/run/.containerenv) continue;; esac
  n=${e#/}
  if [ -L "$e" ]; then cp -a "$e" "$R/$n"
  elif [ -d "$e" ]; then mkdir "$R/$n"; [ "$e" = /root ] || mount --rbind "$e" "$R/$n"
  else touch "$R/$n"; mount --bind "$e" "$R/$n"; fi
done
chmod 755 "$R/root"
if [ -d /root/.cache/clawposture ]; then
  mkdir -p "$R/root/.cache/clawposture"
  mount --rbind /root/.cache/clawposture "$R/root/.cache/clawposture"
fi
cd "$R"; mkdir .old; pivot_root . .old; umount -l /.old; rmdir /.old
cd /
exec "$@"
' sh "$@"
