#!/usr/bin/env bash
# Issue 34's pilot of the in-row MADE (--row-hidden 256) on the long preset: --arch
# lstm-vae-long's flags (as gpu_long.sh writes them out; a preset takes no part options) with
# --row-hidden 256, seed 0, one thread, paired epoch by epoch with
# cpu_long.sh's long_s0 (the same preset, seed and schedule; the in-row map linear). Started
# 2026-12-06 05:03 UTC on this CPU beside long_s0 (alone_s0 paused for it). Run it again with
# the same OUT_DIR to continue from the last epoch's checkpoint.
#   bash benchmarks/results/cpu_2026-12-06/made/made_pilot.sh DATA_ROOT OUT_DIR
set -u
data=${1:-data} out=${2:-$HOME/runs/made}
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
dir=$out/made_s0 resume=""
mkdir -p "$out"
[ -f "$dir/checkpoint.pt" ] && resume=--resume
python main.py --encoder lstm-vector --decoder lstm-masked --lstm-hidden 256 --latent 20 --free-bits 0.75 \
    --binarize dynamic --lr-schedule burda --epochs 364 --prior maf --row-hidden 256 --seed 0 --data-root "$data" --out-dir "$dir" --device cpu \
    --no-progress $resume >> "$out/train_made_s0.log" 2>&1
