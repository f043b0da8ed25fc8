#!/usr/bin/env bash
# Issue 34, item 3: the cost of each technique on this CPU, side by side in one invocation:
# one training epoch of the LSTM VAE's parts (--arch lstm-vae's) on the first 6,000 training
# images, one thread, with each technique alone. Prints each run's training seconds per epoch,
# scaled to the full 60,000 images.
#   bash benchmarks/results/cpu_2026-12-01/technique_cost.sh DATA_ROOT [WORK_DIR]
set -euo pipefail
data=$1
work=${2:-$(mktemp -d)}
mkdir -p "$work"
export OMP_NUM_THREADS=1
parts="--encoder lstm-vector --decoder lstm-masked --lstm-hidden 256 --latent 20 --binarize dynamic"
run() {  # NAME LABEL FLAGS...
    name=$1; label=$2; shift 2
    python main.py $parts "$@" --limit 6000 --epochs 1 --data-root "$data" --out-dir "$work/$name" --device cpu \
        --no-progress --overwrite > "$work/$name.log"
    python - "$work/$name" "$label" <<'PY'
import sys
from vae.files import load_results
r = load_results(sys.argv[1] + "/model.pk")
s = r["epoch_seconds"][0]
print(f"{sys.argv[2]:<28} {s:7.1f} s on 6,000 images, {s * 10:7.0f} s per 60,000-image epoch")
PY
}
[ -n "${DEFINE_ONLY:-}" ] && return 0  # sourced for run() alone (cpu_2026-12-06/made/technique_cost_made.sh)
run elbo "elbo, free bits 1 (the preset)" --free-bits 1.0
run iwae5 "iwae, k = 5" --objective iwae --iwae-k 5
run iwae10 "iwae, k = 10" --objective iwae --iwae-k 10
run dec512 "decoder of 512 units" --free-bits 1.0 --decoder-hidden 512
run maf "flow prior (maf, 2 x 128)" --free-bits 1.0 --prior maf
