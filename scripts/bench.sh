#!/usr/bin/env bash
# Run every benchmark under bench/ against the installed release build, in
# a throwaway cluster. Benchmarks report ratios against a baseline measured
# in the same run; they never fail on speed.
#   scripts/bench.sh [name ...]   (bench/<name>.sh; default: all)
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh >/dev/null || exit 1
names=("$@")
[ ${#names[@]} -eq 0 ] && names=($(cd bench && ls *.sh | grep -v '^lib.sh$' | sed 's/\.sh$//'))
status=0
for n in "${names[@]}"; do
    echo "== bench/$n.sh"
    bash "bench/$n.sh" || { echo "bench/$n.sh did not complete"; status=1; }
done
exit $status
