#!/usr/bin/env bash
# nginx from Debian: the scale-out test (tests/ops/test_scale_out.py) and bench/scale_out.py
# put three nodes behind it with deploy/nginx/burnin.conf. Started by them, not here.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
for_tests || exit 0  # one node needs no proxy
apt_install nginx iproute2
if command -v nginx >/dev/null && pidof nginx >/dev/null && [ -e /etc/nginx/sites-enabled/default ]; then
  # The package's own service listens on port 80 with a default site nobody uses here.
  nginx -s quit 2>/dev/null || true
fi
