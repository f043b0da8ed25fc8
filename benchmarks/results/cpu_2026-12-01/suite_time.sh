#!/usr/bin/env bash
# The test suite's wall time at two commits, one after the other on the same machine (issue 32:
# its new tests may add at most 30 s). Each commit is cloned beside ../shared, as CI lays it out.
#   bash benchmarks/results/cpu_2026-12-01/suite_time.sh OLD_COMMIT NEW_COMMIT [WORK_DIR]
set -uo pipefail
repo=$(cd "$(dirname "$0")/../../.." && pwd)
work=${3:-$(mktemp -d)}
mkdir -p "$work"
ln -sfn "$repo/../shared" "$work/shared"
export CI=true
for commit in "$1" "$2"; do
    rm -rf "$work/$commit"
    git clone -q "$repo" "$work/$commit" && git -C "$work/$commit" checkout -q "$commit"
    start=$(date +%s.%N)
    (cd "$work/$commit" && python -m pytest -q tests -p no:cacheprovider --durations=0 > "$work/$commit.log" 2>&1)
    echo "$commit rc=$? wall=$(echo "$(date +%s.%N) - $start" | bc) s; $(tail -1 "$work/$commit.log")"
done
