#!/usr/bin/env bash
# Installs the system libraries vmae links (Debian 12, as root). Idempotent: does nothing
# when everything is already there.
set -euo pipefail
pkgs=(pkg-config libopenblas-dev libdnnl-dev libhdf5-dev libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libpng-dev
      libopenmpi-dev openmpi-bin iproute2)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
