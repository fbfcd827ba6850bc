#!/usr/bin/env bash
# Rebuilds web/static/vendor/codemirror/ from the npm registry. Needs Node.js and npm; only
# maintainers run this. Users get the built file from the repository and need no Node.js.
# Usage: bash web/vendor-build/codemirror/build.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$HERE/../../static/vendor/codemirror"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cp "$HERE/package.json" "$HERE/entry.js" "$HERE/no-html.js" "$WORK/"
[ -f "$HERE/package-lock.json" ] && cp "$HERE/package-lock.json" "$WORK/"
cd "$WORK"
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --silent; else npm install --no-audit --no-fund --silent; fi
[ -f "$HERE/package-lock.json" ] || cp package-lock.json "$HERE/"

mkdir -p "$OUT"
npx esbuild entry.js --bundle --minify --format=iife --target=es2020 --legal-comments=none \
  --alias:@codemirror/lang-html=./no-html.js \
  --metafile=meta.json --outfile="$OUT/codemirror.min.js"

# Every package that ends up in the bundle, with its version and licence text.
node - "$OUT" <<'JS'
const fs = require("fs"), path = require("path");
const out = process.argv[2];
// The packages esbuild actually put into the bundle (from its metafile).
const meta = JSON.parse(fs.readFileSync("meta.json", "utf8"));
const bundled = [...new Set(Object.keys(meta.inputs)
  .map((f) => f.match(/^(node_modules\/(?:@[^/]+\/)?[^/]+)\//))
  .filter(Boolean).map((m) => m[1]))].sort();
let licences = "Licences of the packages bundled into codemirror.min.js\n\n";
const list = [];
for (const p of bundled) {
  const dir = p;
  const meta = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  const file = fs.readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  if (!file) throw new Error(`no licence file in ${dir}`);
  list.push(`${meta.name}@${meta.version} (${meta.license})`);
  licences += `${"=".repeat(72)}\n${meta.name}@${meta.version} — ${meta.license}\n${"=".repeat(72)}\n`;
  licences += fs.readFileSync(path.join(dir, file), "utf8").trim() + "\n\n";
}
fs.writeFileSync(path.join(out, "LICENSES.txt"), licences);
const esb = JSON.parse(fs.readFileSync("node_modules/esbuild/package.json", "utf8")).version;
fs.writeFileSync(path.join(out, "SOURCE"),
  "CodeMirror 6 bundled for Burnin from the npm registry.\n\n" +
  "Built by web/vendor-build/codemirror/build.sh: npm ci with the package-lock.json there,\n" +
  `then esbuild ${esb} (--bundle --minify --format=iife --target=es2020) of entry.js,\n` +
  "which exposes window.BurninEditor. @codemirror/lang-html is replaced by no-html.js\n" +
  "(HTML inside Markdown shows as plain text), keeping the HTML, CSS and JavaScript\n" +
  "parsers out of the bundle.\n\n" +
  "Packages in the bundle (licence texts in LICENSES.txt):\n" +
  list.map((l) => `  ${l}\n`).join(""));
JS
ls -l "$OUT"
