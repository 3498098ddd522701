#!/usr/bin/env bash
# Install everything protokollsök needs on a fresh Debian/Ubuntu machine, into ./.venv.
#   scripts/setup.sh          runtime: system packages + the package itself
#   scripts/setup.sh --dev    also the test tools (pytest, hypothesis, ruff, playwright + chromium)
# Idempotent: a second run only checks. Needs root or sudo for the Debian packages; without them it
# says which packages to install and goes on with what it can.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[ "${1:-}" = "--dev" ] && dev=1

runtime_pkgs=(hunspell-sv libhunspell-dev gcc python3-dev zlib1g-dev python3-venv)
dev_pkgs=(chromium ripgrep poppler-utils)
pkgs=("${runtime_pkgs[@]}")
[ "$dev" = 1 ] && pkgs+=("${dev_pkgs[@]}")
# The web page's engine is tested under node as well (the parity test); most machines have it.
[ "$dev" = 1 ] && ! command -v node >/dev/null && pkgs+=(nodejs)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else sudo="none"; fi
  if [ "$sudo" = none ] || ! command -v apt-get >/dev/null; then
    echo "setup: please install these system packages first: ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ "$dev" = 1 ]; then
  .venv/bin/python -m pip install -q -e '.[dev]'
else
  .venv/bin/python -m pip install -q -e .
fi
# An editable install leaves src/ uncompiled; byte-compile it once so that every command starts
# without compiling (it matters where PYTHONDONTWRITEBYTECODE is set: about 40 ms a command).
.venv/bin/python -m compileall -q src >/dev/null
echo "setup: done (.venv ready; test tools: $([ "$dev" = 1 ] && echo yes || echo no))"
