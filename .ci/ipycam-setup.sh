#!/usr/bin/env bash
# The virtual ONVIF camera (PyPI `ipycam`) lives in its own venv, apart from WatchWall's:
# it pulls opencv-python (not headless) and its own numpy. The camera tests use this venv
# and never install anything themselves in CI. Needs Debian `ffmpeg` (the camera's RTSP
# encoder). Idempotent: does nothing when the pinned version is already installed.
set -euo pipefail

IPYCAM_SPEC="ipycam==1.3.0"
venv="${WATCHWALL_IPYCAM_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/watchwall-test/ipycam-venv}"
python="${PYTHON:-python3}"

if "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('ipycam') != '${IPYCAM_SPEC#*==}')" 2>/dev/null; then
  exit 0
fi
echo "ipycam-setup: creating $venv with $IPYCAM_SPEC"
mkdir -p "$(dirname "$venv")"
"$python" -m venv --clear "$venv"
pip_log=$(mktemp)
if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check "$IPYCAM_SPEC" >"$pip_log" 2>&1; then
  grep -v "^WARNING: Location" "$pip_log" >&2; rm -f "$pip_log"; exit 1
fi
rm -f "$pip_log"
"$venv/bin/python" -c "import ipycam" >/dev/null
