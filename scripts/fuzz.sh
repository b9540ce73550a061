#!/usr/bin/env bash
# Runs every Fuzz target in the module for a short time each.
# Usage: scripts/fuzz.sh [FUZZTIME]   (default 15s)
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-15s}"

found=0
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	targets=$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u || true)
	for target in $targets; do
		found=$((found + 1))
		echo "fuzz $pkg $target ($fuzztime)"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"
	done
done
echo "fuzzed $found targets"
