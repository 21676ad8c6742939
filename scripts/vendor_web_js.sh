#!/usr/bin/env bash
# Rebuild the web app's vendored JavaScript (docs/WEB.md): cytoscape.js for the network view and
# axe-core for the accessibility test. Needs node/npm once, here; nothing runs npm at run time.
# Usage: scripts/vendor_web_js.sh   (writes src/chorusline/web/static/cytoscape.min.js and tests/vendor/axe.min.js)
set -euo pipefail
CYTOSCAPE_VERSION=3.35.0
AXE_VERSION=4.14.1
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"
npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts "cytoscape@${CYTOSCAPE_VERSION}" "axe-core@${AXE_VERSION}" >/dev/null
# cytoscape ships a standalone minified UMD build: no bundler needed
cp node_modules/cytoscape/dist/cytoscape.min.js "$root/src/chorusline/web/static/cytoscape.min.js"
cp node_modules/cytoscape/LICENSE "$root/src/chorusline/web/static/cytoscape.LICENSE"
mkdir -p "$root/tests/vendor"
cp node_modules/axe-core/axe.min.js "$root/tests/vendor/axe.min.js"
cp node_modules/axe-core/LICENSE "$root/tests/vendor/axe.LICENSE"
echo "cytoscape ${CYTOSCAPE_VERSION} -> src/chorusline/web/static/cytoscape.min.js ($(wc -c < "$root/src/chorusline/web/static/cytoscape.min.js") bytes)"
echo "axe-core ${AXE_VERSION} -> tests/vendor/axe.min.js ($(wc -c < "$root/tests/vendor/axe.min.js") bytes)"
