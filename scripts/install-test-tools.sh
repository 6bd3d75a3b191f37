#!/usr/bin/env bash
# System tools the test suite drives, installed from Debian's packages when missing:
# nginx (tests/deploy runs deploy/nginx/nginx.conf) and Chromium (tests/contract renders
# GET /docs headless). Needs root or sudo; does nothing when both are present.
set -euo pipefail
if { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } \
        && command -v chromium >/dev/null 2>&1; then
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    nginx chromium >/dev/null
