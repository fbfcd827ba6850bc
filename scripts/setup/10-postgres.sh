#!/usr/bin/env bash
# PostgreSQL server binaries: the tests start throwaway clusters from them (initdb, pg_ctl).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 && ! command -v pg_ctl >/dev/null; then
  apt_install postgresql
fi
