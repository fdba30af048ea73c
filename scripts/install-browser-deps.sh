#!/usr/bin/env bash
# Installs what the real-browser test of the HTML viewer needs on a fresh Debian machine:
# Debian's chromium (run as root) and the pinned npm packages of tests/browser.
# Safe to run again: apt and `npm ci` skip what is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
    export DEBIAN_FRONTEND=noninteractive
    # CI runs as root; elsewhere apt needs sudo.
    as_root=""
    if [ "$(id -u)" != 0 ]; then as_root="sudo"; fi
    $as_root apt-get update -q
    $as_root apt-get install -y -q --no-install-recommends chromium
fi
/usr/bin/chromium --version

# playwright-core ships no browser and downloads none: it drives /usr/bin/chromium.
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
