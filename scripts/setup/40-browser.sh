#!/usr/bin/env bash
# Chromium from Debian and Playwright for Python: the browser tests (-m browser) drive them.
# Playwright's own browser download is not used (it needs internet access the CI lacks).
# Only the test setup needs them: skipped for scripts/quickstart, whose venv has no dev extras.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
if [ "${CI:-}" != "true" ] && ! ls .venv/.installed-*-dev >/dev/null 2>&1; then
  exit 0
fi
apt_install chromium fonts-dejavu-core
if [ -x .venv/bin/python ] && ! .venv/bin/python -c "import playwright" 2>/dev/null; then
  say "installing Playwright for Python into .venv"
  .venv/bin/python -m pip install -q "playwright>=1.45"
fi
if ! command -v chromium >/dev/null; then
  say "Chromium missing: browser tests will be skipped (CI fails them); apt-get install chromium"
fi
