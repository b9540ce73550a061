#!/usr/bin/env bash
# bench-evtx.sh times `svcharness events --format json` against libevtx's
# `evtxexport -f xml` on every .evtx file of the corpus, file by file, both
# rendering every record with output discarded. It prints each file's times
# and ratio (evtxexport / svcharness), then the median ratio over all files
# and over the files of 1 MiB or more, where process start-up no longer
# dominates. Each time is the best of RUNS runs.
#
# Usage: scripts/bench-evtx.sh [DATASETS_DIR]
#   RUNS=5 (default)  SVCHARNESS_DATASETS=../shared/datasets (default)
#   SVCHARNESS_BIN=path  time this svcharness binary instead of building one
# Needs: go, evtxexport (apt-get install libevtx-utils).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
datasets=${1:-${SVCHARNESS_DATASETS:-$root/../shared/datasets}}
runs=${RUNS:-5}
command -v evtxexport >/dev/null || { echo "evtxexport not found (libevtx-utils)" >&2; exit 2; }
[ -d "$datasets" ] || { echo "no datasets at $datasets" >&2; exit 2; }

# Prefer the real CLI; fall back to the package's JSON dumper when the
# events command does not build.
bin=${SVCHARNESS_BIN:-/tmp/svcharness}
ours=("$bin" events --format json)
if [ -z "${SVCHARNESS_BIN:-}" ] && ! (cd "$root" && go build -o "$bin" ./cmd/svcharness); then
	(cd "$root" && go build -o /tmp/evtxdump ./telemetry/evtx/internal/evtxdump)
	ours=(/tmp/evtxdump)
	echo "svcharness did not build; timing telemetry/evtx/internal/evtxdump instead" >&2
fi
echo "timing: ${ours[*]} FILE  vs  evtxexport -f xml FILE (best of $runs)" 

# best_ms prints the best wall time in milliseconds of running "$@" $runs times.
best_ms() {
	local best="" t0 t1 ms
	for _ in $(seq "$runs"); do
		t0=$(date +%s%N)
		"$@" >/dev/null 2>&1 || true
		t1=$(date +%s%N)
		ms=$(( (t1 - t0) / 1000 ))
		if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
	done
	awk -v us="$best" 'BEGIN { printf "%.2f", us / 1000 }'
}

printf '%10s %10s %10s %7s  %s\n' bytes "ours ms" "evtx ms" ratio file
results=$(mktemp)
trap 'rm -f "$results"' EXIT
while IFS= read -r -d '' f; do
	size=$(stat -c %s "$f")
	a=$(best_ms "${ours[@]}" "$f")
	b=$(best_ms evtxexport -f xml "$f")
	ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", b / a }')
	printf '%10d %10s %10s %6sx  %s\n' "$size" "$a" "$b" "$ratio" "${f#"$datasets"/}"
	echo "$size $ratio" >>"$results"
done < <(find "$datasets" -name '*.evtx' -print0 | sort -z)

median() { sort -n | awk '{ v[NR] = $1 } END {
	if (NR == 0) { print "n/a"; exit }
	if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "median ratio, all $(wc -l <"$results") files: $(awk '{ print $2 }' "$results" | median)x"
echo "median ratio, files >= 1 MiB: $(awk '$1 >= 1048576 { print $2 }' "$results" | median)x"
