# Shared by scripts/quickstart and scripts/test. Sourced, not run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

pick_python() {
  for p in python3.13 python3.12 python3.11 python3; do
    if command -v "$p" >/dev/null && "$p" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      echo "$p"; return
    fi
  done
  echo "error: Burnin needs Python 3.11 or newer (apt-get install python3)" >&2
  exit 2
}

# Debian packages the platform and its tests use; installed when running as root.
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    say "missing Debian packages: ${missing[*]} (run as root, or install them, to use every part)"
    return 0
  fi
  say "installing ${missing[*]}"
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
    apt-get update -qq
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The project's virtual environment, reinstalled only when pyproject.toml changes.
setup_venv() {
  local extras="${1:-}"
  local py; py="$(pick_python)"
  if [ ! -x .venv/bin/python ]; then
    "$py" -m venv .venv 2>/dev/null || { apt_install python3-venv; "$py" -m venv .venv; }
  fi
  local stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)-${extras}"
  if [ ! -e "$stamp" ]; then
    say "installing Python packages into .venv"
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e ".${extras:+[$extras]}"
    rm -f .venv/.installed-*; touch "$stamp"
  fi
  export PATH="$ROOT/.venv/bin:$PATH"
}

# Each scripts/setup/NN-*.sh installs and starts one thing (PostgreSQL, Docker, the sandbox
# image, a browser); idempotent and quick when all is there.
run_setup_steps() {
  local step
  for step in scripts/setup/[0-9]*.sh; do
    [ -e "$step" ] || continue
    say "setup: $(basename "$step")"
    bash "$step"
  done
}
