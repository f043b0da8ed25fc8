#!/usr/bin/env bash
# Issue 33's check that the refactor changed no number: at two commits, a 2-epoch CPU run of
# Model 1 and one of --arch lstm-vae (both --limit 2000), then same_run.py on each pair
# (weights, optimizer, RNG state, every model.pk array and number, Figure 1, bit for bit).
#   bash benchmarks/results/cpu_2026-12-01/same_behaviour.sh OLD_COMMIT NEW_COMMIT DATA_ROOT [WORK_DIR]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../../.." && pwd)
data=$(cd "$3" && pwd)
work=${4:-$(mktemp -d)}
mkdir -p "$work"
export OMP_NUM_THREADS=1
for commit in "$1" "$2"; do
    rm -rf "$work/$commit"
    git clone -q "$repo" "$work/$commit" && git -C "$work/$commit" checkout -q "$commit"
    (cd "$work/$commit"
     python main.py --data-root "$data" --out-dir "$work/$commit-m1" --limit 2000 --epochs 2 --device cpu \
         --no-progress --overwrite > "$work/$commit-m1.log"
     python main.py --arch lstm-vae --data-root "$data" --out-dir "$work/$commit-lv" --limit 2000 --epochs 2 \
         --device cpu --no-progress --overwrite > "$work/$commit-lv.log")
done
for run in m1 lv; do
    echo -n "$run: "
    PYTHONPATH="$repo" python "$repo/benchmarks/results/cpu_2026-12-01/same_run.py" "$work/$1-$run" "$work/$2-$run"
done
