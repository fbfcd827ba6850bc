#!/usr/bin/env bash
# Docker engine, bubblewrap and the sandbox image. Idempotent; fast when all is present.
# Runs as root. Expects the project venv's bin on PATH (for `burnin`).
set -euo pipefail

log() { echo "[20-docker] $*" >&2; }

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Tests also run the sandbox under gVisor: install runsc and register it with the engine
# (merged into an existing daemon.json; flags as docs/sandbox.md explains).
if [ "${BURNIN_SETUP_FOR:-test}" = "test" ]; then
  if ! command -v runsc >/dev/null 2>&1; then
    log "installing runsc (gVisor)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runsc >/dev/null \
      || log "runsc not installable: gVisor tests will be skipped"
  fi
  if command -v runsc >/dev/null 2>&1; then
    mkdir -p /etc/docker
    changed=$(python3 - <<'PY'
import json, pathlib
p = pathlib.Path("/etc/docker/daemon.json")
conf = json.loads(p.read_text()) if p.exists() and p.read_text().strip() else {}
want = {"path": "/usr/bin/runsc", "runtimeArgs": ["--network=none", "--host-uds=all"]}
if conf.get("runtimes", {}).get("runsc") != want:
    conf.setdefault("runtimes", {})["runsc"] = want
    p.write_text(json.dumps(conf, indent=2) + "\n")
    print("yes")
PY
)
    if [ "$changed" = yes ] && pidof dockerd >/dev/null; then
      log "registered runsc; reloading dockerd"
      kill -HUP "$(pidof dockerd)"
      sleep 1
    fi
  fi
fi

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd (log: /var/log/dockerd.log)"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { log "dockerd did not come up"; tail -20 /var/log/dockerd.log >&2; exit 1; }
fi

# The image tag is a hash of its inputs; `build` reuses an existing tag at once and
# exports the root filesystem for the bwrap backend if it is not there yet.
start=$(date +%s)
burnin sandbox build
log "sandbox image ready in $(( $(date +%s) - start ))s"
