#!/usr/bin/env bash
# Sets Berth up on a fresh Debian 12 machine and runs a first container:
# system packages, npm deps, build, `berth`/`berthd` on PATH, the daemon
# started in the background on unix:///run/berth.sock.
# Run as root from the repository: ./scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

if [ "$(id -u)" != 0 ]; then
  echo "setup.sh must run as root (it installs packages and starts the daemon): sudo ./scripts/setup.sh" >&2
  exit 1
fi

bash scripts/install-system-deps.sh

echo "==> npm dependencies and build"
# `npm ci` refuses this lock: node-unix-socket names optional per-platform
# packages that were never published; `npm install` honours the lock and skips them.
npm install --no-audit --no-fund --loglevel=error
npm run build --silent

ln -sf "$repo/bin/berth" /usr/local/bin/berth
ln -sf "$repo/bin/berthd" /usr/local/bin/berthd
bash scripts/install-compose-plugin.sh
# The seed's `fig up -d`: compose under its first name, unless a real fig is installed.
if ! command -v fig >/dev/null 2>&1 || [ "$(readlink -f "$(command -v fig)")" = "$repo/bin/fig" ]; then
  ln -sf "$repo/bin/fig" /usr/local/bin/fig
fi

sock=/run/berth.sock
if berth -H "unix://$sock" version >/dev/null 2>&1; then
  echo "==> berthd already running on $sock"
else
  echo "==> starting berthd (log: /var/log/berthd.log)"
  setsid berthd -H "unix://$sock" >>/var/log/berthd.log 2>&1 < /dev/null &
  for _ in $(seq 1 100); do
    [ -S "$sock" ] && berth version >/dev/null 2>&1 && break
    sleep 0.1
  done
fi

echo "==> built-in registry image (berth run -d -p 5000:5000 registry)"
node scripts/registry-image.mjs -H "unix://$sock"

echo "==> berth run --rm busybox echo hello"
berth run --rm busybox echo "hello from a berth container"
