#!/usr/bin/env bash
# Issue 34, technique (d): the in-row MADE's cost on this CPU beside the preset's decoder, side
# by side in one invocation, as benchmarks/results/cpu_2026-12-01/technique_cost.sh measures
# the other techniques: one training epoch of --arch lstm-vae's parts on the first 6,000
# training images, one thread, scaled to the 60,000 images. Each is run twice, alternating,
# since the machine's other work shifts a single run.
#   bash benchmarks/results/cpu_2026-12-06/made/technique_cost_made.sh DATA_ROOT [WORK_DIR]
set -euo pipefail
data=$1
work=${2:-$(mktemp -d)}
mkdir -p "$work"
export OMP_NUM_THREADS=1
parts="--encoder lstm-vector --decoder lstm-masked --lstm-hidden 256 --latent 20 --binarize dynamic --free-bits 1.0"
run() {  # NAME LABEL FLAGS...
    name=$1; label=$2; shift 2
    python main.py $parts "$@" --limit 6000 --epochs 1 --data-root "$data" --out-dir "$work/$name" --device cpu \
        --no-progress --overwrite > "$work/$name.log"
    python - "$work/$name" "$label" <<'PY'
import sys
from vae.files import load_results
r = load_results(sys.argv[1] + "/model.pk")
s = r["epoch_seconds"][0]
print(f"{sys.argv[2]:<36} {s:7.1f} s on 6,000 images, {s * 10:7.0f} s per 60,000-image epoch")
PY
}
for round in 1 2; do
    run "preset$round" "the preset (linear in-row map)" 
    run "made128_$round" "in-row MADE, --row-hidden 128" --row-hidden 128
    run "made256_$round" "in-row MADE, --row-hidden 256" --row-hidden 256
done
