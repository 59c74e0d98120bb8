#!/usr/bin/env bash
# Build a stand-in for python:3.11-slim from Debian's packages and import it into the engine,
# for machines that reach Debian's mirror but no container registry.
#
#   docker/build-base.sh            # builds movie_r-base:bookworm unless it exists
#   docker/build-base.sh --force    # builds it again
#
# then build the images on it:  MOVIE_R_BASE=movie_r-base:bookworm docker-compose build
#
# Debian bookworm's python3 is 3.11, as in python:3.11-slim; nginx-light is there for the
# compose file's proxy service, so that image builds without a package mirror too.
# Needs root (debootstrap) and debootstrap itself (apt-get install debootstrap).
set -euo pipefail

IMAGE=${MOVIE_R_BASE_IMAGE:-movie_r-base:bookworm}
SUITE=${DEBIAN_SUITE:-bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PACKAGES=python3,python3-venv,python-is-python3,ca-certificates,passwd,nginx-light

if [ "${1:-}" != "--force" ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "$IMAGE exists (docker/build-base.sh --force builds it again)"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "docker/build-base.sh: debootstrap needs root; run it with sudo" >&2
  exit 1
fi
command -v debootstrap >/dev/null || { echo "docker/build-base.sh: install debootstrap first (apt-get install debootstrap)" >&2; exit 1; }

root=$(mktemp -d /tmp/movie_r-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
started=$(date +%s)
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$root" "$MIRROR" >"$root.log" 2>&1 || {
  tail -20 "$root.log" >&2
  echo "docker/build-base.sh: debootstrap failed (full log: $root.log)" >&2
  exit 1
}
rm -f "$root.log"

# what an image never needs: package lists and caches, documentation, manuals, translations
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/*.log \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/*
# nginx's packaged site would listen on port 80 as root; the proxy image brings its own config
rm -f "$root"/etc/nginx/sites-enabled/default

tar -C "$root" --numeric-owner -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python3"]' \
  - "$IMAGE" >/dev/null
echo "$IMAGE built in $(( $(date +%s) - started )) s: $(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1 / 1e6}')"
