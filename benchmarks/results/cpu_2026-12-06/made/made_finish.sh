#!/usr/bin/env bash
# Issue 34's remaining CPU work for the long preset (--arch lstm-vae-long), in the order that
# keeps both cores busy, resumable: run it again (same OUT_DIR) after any interruption and
# each step continues where it stopped or is skipped when done.
#   bash benchmarks/results/cpu_2026-12-06/made/made_finish.sh DATA_ROOT OUT_DIR
# Two chains side by side, one thread per process:
#   1. seed 0 (made_pilot.sh's made_noflow_fb1_s0, gpu_long.sh's long_s0 flags) to epoch 364,
#      then the first half of the issue's measure, k = 5,000 on all 10,000 test images
#      (eval_lanes.py's lane 0 of 2, saved as it goes);
#   2. its decoder alone (made_alone_s0) to epoch 364, then its likelihood on all 10,000 (k = 1:
#      its KL is 0.02 nats, so its bound is its likelihood to that; evaluation_k1.json), then
#      the measure's second half (lane 1 of 2).
# Then the lanes are joined into seed 0's evaluation_k5000.json (what one evaluate.py run
# writes; the per-image bounds kept in per_image_k5000.pt), the VAE is compared with its
# decoder alone image by image on all 10,000 (paired_k5000.json), and seeds 1 and 2 train
# (seeds.sh beside this script; on a machine that came back bare, run seeds.sh alone: this
# script would train seed 0 again).
# (Until 2026-12-06 19:34 UTC seed 0's measure was one evaluate.py process, about 4-5 hours of
# a core, with the seeds training beside it; the two lanes bring the number in half the time.)
# A small rehearsal (each step's cut and resume too):
#   TRAIN_EXTRA="--limit 300 --epochs 2" EVAL_EXTRA="--k 5 --limit 20" LANE_EXTRA="--limit 20" \
#       bash .../made_finish.sh data /tmp/mf
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
data=$(realpath -m "${1:-data}") out=$(realpath -m "${2:-$HOME/runs/made}")  # before the cd below
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
cd "$root"
log() { echo "$(date -u +%FT%TZ) $*" >> "$out/finish.log"; }
mkdir -p "$out"

train() {  # JOB: made_pilot.sh to epoch 364 (a finished run says so and exits 0)
    bash "$here/made_pilot.sh" "$data" "$out" "$1"
    local rc=$?
    log "train $1 rc=$rc"
    return $rc
}

evaluate() {  # JOB K: evaluate.py on all 10,000 test images into the run folder, unless done
    local dir=$out/$1
    [ -f "$dir/evaluation_k$2.json" ] && { log "eval $1 k=$2 done before"; return 0; }
    python evaluate.py --checkpoint "$dir/checkpoint.pt" --data-root "$data" --k "$2" --rows 1000 --device cpu \
        --no-progress ${EVAL_EXTRA:-} >> "$out/eval_$1_k$2.log" 2>&1
    local rc=$?
    log "eval $1 k=$2 rc=$rc"
    return $rc
}

lane() {  # JOB I: eval_lanes.py's lane I of 2 of JOB's k = 5,000 on all 10,000 test images
    python "$here/eval_lanes.py" lane "$out/$1" "$2" 2 --data-root "$data" ${LANE_EXTRA:-} >> "$out/eval_$1_lane$2.log" 2>&1
    local rc=$?
    log "lane $2 of 2 $1 rc=$rc"
    return $rc
}

join() {  # JOB ALONE: the lanes joined into evaluation_k5000.json, then the paired comparison
    local dir=$out/$1
    if [ ! -f "$dir/evaluation_k5000.json" ]; then
        python "$here/eval_lanes.py" merge "$dir" 2 --data-root "$data" ${LANE_EXTRA:-} >> "$out/eval_$1_k5000.log" 2>&1
        log "merge $1 rc=$?"
    fi
    python "$here/paired.py" "$dir/checkpoint.pt" "$out/$2/checkpoint.pt" --data-root "$data" \
        --vae-per-image "$dir/per_image_k5000.pt" --out "$dir/paired_k5000.json" >> "$out/eval_$1_k5000.log" 2>&1
    log "paired $1 $2 rc=$?"
}

seeds() {  # seeds.sh: long_s1, then long_s2, each trained and then evaluated
    bash "$here/seeds.sh" "$data" "$out"
}

log "start from $(git rev-parse --short HEAD 2>/dev/null || echo 'an archive')"
{ train made_noflow_fb1_s0 && lane made_noflow_fb1_s0 0; } &
{ train made_alone_s0 && evaluate made_alone_s0 1 && lane made_noflow_fb1_s0 1; } &
wait
join made_noflow_fb1_s0 made_alone_s0
seeds
log "done"
