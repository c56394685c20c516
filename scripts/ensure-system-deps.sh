#!/usr/bin/env bash
# Headless Chromium and its driver (Debian packages) render Superset dashboards for screenshots
# and scheduled reports. Installed when missing and we may (root with apt); otherwise the tests
# that need them say so (and fail in CI).
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "==> installing Debian's chromium and chromium-driver"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
else
  echo "note: chromium/chromedriver missing and not installable here (need root + apt-get);" \
       "screenshot and report tests will not run" >&2
fi
