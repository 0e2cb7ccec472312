#!/usr/bin/env bash
# Install what the test suite needs on a fresh machine: the package with its [test] extras, and Debian's
# Chromium for the browser checks of the rendered maps (skipped when apt is not available).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -e ".[dev]"
if ! command -v chromium >/dev/null 2>&1 && ! [ -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  else
    echo "note: chromium not installed and no apt-get; browser tests will be skipped" >&2
  fi
fi
