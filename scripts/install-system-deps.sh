#!/usr/bin/env bash
# The Debian packages Berth needs at run time. Kept in one place so that
# setup.sh and CI install the same set.
set -euo pipefail
packages=(
  runc crun conmon          # OCI runtimes and the per-container monitor
  iproute2 nftables         # networking: ip -batch, nft -f
  busybox-static            # the built-in busybox image
  tini                      # --init (bind-mounted as /sbin/docker-init)
  tar xz-utils util-linux   # layer tars, mount/umount
  pigz                      # pull: unpigz unpacks gzip layers (gzip is the fallback; unpigz measured less CPU)
  attr openssl              # commit: getfattr/setfattr for overlay xattrs, openssl dgst (SHA instructions) for layer digests
)
missing=()
for p in "${packages[@]}"; do
  [[ $p == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
