#!/usr/bin/env bash
# Issue 34's seeds 1 and 2 of the long preset on this CPU: gpu_long.sh's long_s1, then
# long_s2, with DEV=cpu in OUT_DIR/seeds, each trained to epoch 364 and then evaluated at
# k = 5,000 on the first 2,000 test images (logs in OUT_DIR/seeds/logs):
#   bash benchmarks/results/cpu_2026-12-06/made/seeds.sh DATA_ROOT OUT_DIR
# One seed at a time on both cores (THREADS=2): about as fast in all as the two side by side on
# one thread each (timed over 60 steps), and each seed lands in half the time (benchmarks/README.md). Resumable: run it
# again (same OUT_DIR) after any interruption; a trained seed goes on to its evaluation, and an
# evaluated one is skipped (gpu_long.sh's `evaluated` file, since 2026-12-07 11:45 UTC).
# (Until 2026-12-07 00:03 UTC the two ran side by side on one thread each.)
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
data=$(realpath -m "${1:-data}") out=$(realpath -m "${2:-$HOME/runs/made}")  # before the cd below
cd "$root"
mkdir -p "$out"
for s in long_s1 long_s2; do
    DEV=cpu THREADS=2 EVAL_EXTRA="--rows 1000 ${EVAL_EXTRA:-}" bash benchmarks/gpu_long.sh "$data" "$out/seeds" 1000000 $s \
        > /dev/null 2>&1
    echo "$(date -u +%FT%TZ) seed $s rc=$? (logs in $out/seeds/logs)" >> "$out/finish.log"
done
