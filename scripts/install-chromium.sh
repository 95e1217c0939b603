#!/bin/sh
# Headless Chromium for the browser test (test/browser.test.ts): Debian's `chromium` package,
# driven by playwright-core with executablePath /usr/bin/chromium (no browser download).
# Does nothing when it is already installed. Needs root (CI images run as root).
set -eu
if [ -x /usr/bin/chromium ]; then
  echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends chromium
/usr/bin/chromium --version
