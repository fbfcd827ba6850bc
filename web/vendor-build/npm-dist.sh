#!/usr/bin/env bash
# Refreshes the front-end files Burnin ships unchanged from npm packages' own dist folders:
# Swagger UI (for /api/docs) and axe-core (for the accessibility browser test). Needs npm;
# only maintainers run this. `npm pack` checks each tarball against the registry's sha512.
# Usage: bash web/vendor-build/npm-dist.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENDOR="$HERE/../static/vendor"
SWAGGER=swagger-ui-dist@5.35.0
AXE=axe-core@4.14.1
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

unpack() {  # unpack PACKAGE@VERSION DEST FILE...
  local spec="$1" dest="$2"; shift 2
  local tgz; tgz="$(npm pack "$spec" --silent)"
  rm -rf pkg && mkdir pkg && tar xzf "$tgz" -C pkg
  rm -rf "$dest" && mkdir -p "$dest"
  for f in "$@"; do cp "pkg/package/$f" "$dest/"; done
  local integrity; integrity="$(npm view "$spec" dist.integrity)"
  printf '%s from the npm registry (package/%s), %s licence\nintegrity %s\nfetched by web/vendor-build/npm-dist.sh\n' \
    "$spec" "$(echo "$@" | sed 's/ /, package\//g')" \
    "$(node -p "require('./pkg/package/package.json').license")" "$integrity" > "$dest/SOURCE"
}

unpack "$SWAGGER" "$VENDOR/swagger-ui" swagger-ui-bundle.js swagger-ui.css \
  swagger-ui-bundle.js.LICENSE.txt LICENSE NOTICE
unpack "$AXE" "$VENDOR/axe-core" axe.min.js LICENSE LICENSE-3RD-PARTY.txt
ls -l "$VENDOR/swagger-ui" "$VENDOR/axe-core"
