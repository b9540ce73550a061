#!/usr/bin/env bash
# Load a run's HTML report in headless Chromium and check that the rendered
# page shows every scenario of the run's JSON report with its name and its
# verdict, side by side.
#
# Usage: scripts/check-html-report.sh REPORT_DIR
# Needs: chromium (Debian: apt-get install -y chromium) and jq. CHROMIUM may
# name another Chromium-based browser binary.
set -euo pipefail

dir=${1:?usage: scripts/check-html-report.sh REPORT_DIR}
html="$dir/report.html"
json="$dir/report.json"
browser=${CHROMIUM:-$(command -v chromium || command -v chromium-browser ||
	command -v google-chrome || true)}
[ -n "$browser" ] || { echo "check-html-report: no chromium (apt-get install -y chromium)" >&2; exit 2; }
command -v jq >/dev/null || { echo "check-html-report: no jq (apt-get install -y jq)" >&2; exit 2; }
[ -f "$html" ] && [ -f "$json" ] || { echo "check-html-report: no report in $dir" >&2; exit 2; }

dom=$(mktemp)
profile=$(mktemp -d)
trap 'rm -rf "$dom" "$profile"' EXIT

# --dump-dom prints the DOM after the page has loaded and rendered.
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
	--user-data-dir="$profile" --dump-dom "file://$(realpath "$html")" >"$dom" 2>/dev/null
[ -s "$dom" ] || { echo "check-html-report: chromium rendered nothing" >&2; exit 1; }

# The text Chromium serialises for a text node: &, < and > escaped.
escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/\xc2\xa0/\&nbsp;/g'; }

count=0
missing=0
while IFS=$'\t' read -r id name verdict; do
	count=$((count + 1))
	upper=$(printf '%s' "$verdict" | tr '[:lower:]' '[:upper:]')
	want="<span class=\"verdict verdict-$verdict\">$upper</span> <span class=\"name\">$(printf '%s' "$name" | escape)</span>"
	# The scenario's section, then its heading on the next line: the name
	# and the verdict shown together for this scenario ID.
	if ! awk -v open="data-scenario=\"$id\" data-verdict=\"$verdict\"" -v want="$want" '
		found { if (index($0, want)) ok = 1; exit }
		index($0, open) && /<section/ { found = 1 }
		END { exit !ok }' "$dom"; then
		echo "check-html-report: $id: the page does not show \"$name\" as $upper" >&2
		missing=$((missing + 1))
	fi
done < <(jq -r '.results[] | [.id, .name, .verdict] | @tsv' "$json")

if [ "$count" -eq 0 ]; then
	echo "check-html-report: the JSON report holds no scenario" >&2
	exit 1
fi
if [ "$missing" -gt 0 ]; then
	echo "check-html-report: $missing of $count scenarios missing from the rendered page" >&2
	exit 1
fi
echo "check-html-report: all $count scenarios rendered with their names and verdicts"
