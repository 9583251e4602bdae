#!/usr/bin/env bash
# Makes `docker compose` run berth's compose: links bin/docker-compose into
# the system-wide cli-plugins directory, unless a docker-compose plugin is
# already installed anywhere the docker CLI looks.
#
# Why /usr/local/lib/docker/cli-plugins: it is where locally installed,
# all-users plugins go, and the docker CLI searches it after the user's own
# ~/.docker/cli-plugins, so a plugin a user installed keeps winning; a link
# in ~/.docker would instead shadow a packaged plugin in /usr/lib or
# /usr/libexec. And never on PATH: bin/docker-compose there would shadow
# Debian's docker-compose 1.29.
#
# Usage: scripts/install-compose-plugin.sh [target-dir]
# CLI_PLUGIN_DIRS (space-separated) overrides the directories checked (tests).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shim="$repo/bin/docker-compose"
target=${1:-/usr/local/lib/docker/cli-plugins}
dirs=${CLI_PLUGIN_DIRS:-"${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins /usr/local/lib/docker/cli-plugins /usr/local/libexec/docker/cli-plugins /usr/lib/docker/cli-plugins /usr/libexec/docker/cli-plugins"}

for d in $dirs "$target"; do
  f="$d/docker-compose"
  [ -e "$f" ] || [ -L "$f" ] || continue
  if [ "$(readlink -f "$f")" = "$(readlink -f "$shim")" ]; then
    echo "==> docker compose already runs berth compose ($f)"
    exit 0
  fi
  echo "==> docker compose: leaving the installed plugin $f in place; use 'berth compose'"
  exit 0
done
mkdir -p "$target"
ln -s "$shim" "$target/docker-compose"
echo "==> docker compose now runs berth compose ($target/docker-compose)"
