#!/usr/bin/env bash
# Idempotent setup for a fresh Debian machine: system packages (via sudo when not root), a venv, pip.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(python3 python3-venv python3-dev postgresql mosquitto mosquitto-clients systemd
              fonts-noto-cjk fonts-wqy-microhei espeak-ng sox xvfb libgl1-mesa-dri libegl1 libgles2 libmtdev1 alsa-utils
              chromium chromium-driver)
# `--cluster`: also the engine of the clustered city broker (make test-cluster, CI).
if [ "${1:-}" = "--cluster" ]; then
  APT_PACKAGES+=(rabbitmq-server)
fi
VENV=.venv
STAMP="$VENV/.setup-stamp"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "hallq needs Python 3.11 or newer")'
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"

# Reinstall only when the dependency list changed.
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e ".[server,dev,kiosk,ui,face]"
  touch "$STAMP"
fi
echo "setup: ready ($("$VENV/bin/python" --version), venv $VENV)"
