#!/usr/bin/env bash
# Rebuild the report's vendored plotly.js: the "cartesian" partial bundle from the npm registry
# (scatter, bar, box, heatmap, histogram, contour, pie: every chart the report draws), at the
# version the Python plotly package was built against, gzipped (the report inlines it compressed
# and unpacks it in the browser with DecompressionStream). The full bundle plotly.py inlines is
# 4.8 MB; this one is 1.5 MB, 0.5 MB gzipped.
#   bash src/chorusline/export/report_assets/vendor_plotly.sh [.venv/bin/python]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${1:-$here/../../../../.venv/bin/python}"
version="$("$python" -c 'import plotly.offline as o; print(o.get_plotlyjs_version())')"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "plotly.js-cartesian-dist-min@$version" >/dev/null && tar xzf ./*.tgz)
gzip -9 -n -c "$work/package/plotly-cartesian.min.js" > "$here/plotly-cartesian.min.js.gz"
cp "$work/package/LICENSE" "$here/LICENSE.plotly.txt"
echo "$version" > "$here/PLOTLY_VERSION"
ls -l "$here/plotly-cartesian.min.js.gz"
