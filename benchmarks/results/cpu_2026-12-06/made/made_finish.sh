#!/usr/bin/env bash
# Issue 34's remaining CPU work for the long preset (--arch lstm-vae-long), in the order that
# keeps both cores busy, resumable: run it again (same OUT_DIR) after any interruption and
# each step continues where it stopped or is skipped when done.
#   bash benchmarks/results/cpu_2026-12-06/made/made_finish.sh DATA_ROOT OUT_DIR
# Two chains side by side, one thread per process:
#   1. seed 0 (made_pilot.sh's made_noflow_fb1_s0, gpu_long.sh's long_s0 flags) to epoch 364,
#      then the issue's measure: k = 5,000 on all 10,000 test images (evaluation_k5000.json in
#      its run folder; the per-image bounds kept in a .partial.pt as they come);
#   2. its decoder alone (made_alone_s0) to epoch 364, then its likelihood on all 10,000 (k = 1:
#      its KL is 0.02 nats, so its bound is its likelihood to that; evaluation_k1.json), then
#      seeds 1 and 2 (gpu_long.sh's long_s1 and long_s2 with DEV=cpu in OUT_DIR/seeds, each
#      evaluated at k = 5,000 on the first 2,000 test images when trained).
# While chain 1 evaluates, chain 2's seeds train side by side at a lower priority (nice 10), so
# the evaluation keeps one core and the two seeds share the other.
# A small rehearsal (each step's cut and resume too):
#   TRAIN_EXTRA="--limit 300 --epochs 2" EVAL_EXTRA="--k 5 --limit 20" bash .../made_finish.sh data /tmp/mf
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

seeds() {  # gpu_long.sh's long_s1 and long_s2 on this CPU, trained and then evaluated
    # niced: seed 0's 10,000-image evaluation, the issue's measure, keeps a core to itself
    DEV=cpu EVAL_EXTRA="--rows 1000 ${EVAL_EXTRA:-}" nice -n 10 bash benchmarks/gpu_long.sh "$data" "$out/seeds" 1000000 long_s1 long_s2 \
        > /dev/null 2>&1
    log "seeds rc=$? (logs in $out/seeds/logs)"
}

log "start from $(git rev-parse --short HEAD 2>/dev/null || echo 'an archive')"
{ train made_noflow_fb1_s0 && evaluate made_noflow_fb1_s0 5000; } &
{ train made_alone_s0 && evaluate made_alone_s0 1 && seeds; } &
wait
log "done"
