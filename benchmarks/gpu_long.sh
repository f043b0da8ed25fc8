#!/usr/bin/env bash
# Issue 34's long runs on a lent GPU, side by side, resumable across device calls:
#   bash benchmarks/gpu_long.sh DATA_ROOT OUT_DIR BUDGET_S JOB...
# JOB is one of
#   long_s0 long_s1 long_s2  the long preset (--arch lstm-vae-long), seeds 0-2: --arch
#                            lstm-vae's parts with an in-row MADE in the decoder (--row-hidden
#                            256), free bits 1.0, on Burda et al.'s schedule, stages 0-5
#                            (3^0 + ... + 3^5 = 364 epochs). Written out as flags, so that the
#                            two jobs below differ from it in one flag each; tests/test_archs.py
#                            checks it is the preset
#   alone_s0                 its decoder alone (--decoder-alone), same schedule: what z earns
#   flow_s0                  the same with a flow prior (--prior maf): technique (b) on the
#                            long schedule
# (Until commit 2231455 the preset had the linear in-row map, a flow prior and free bits 0.75,
# and its third job was noflow_s0; results/cpu_2026-12-06/long/ holds those runs.)
# Each job trains in OUT_DIR/runs/JOB, continuing with --resume where a checkpoint is there
# (carry the OUT_DIR of the call before), and all stop at BUDGET_S seconds (keep it under
# the device's per-call limit; the checkpoint of every finished epoch stays). A job whose
# training has finished is evaluated: k = 5,000 on all 10,000 test images for *_s0, on the
# first 2,000 for the others (the partial evaluation is kept and continued too), 50,000
# decoder inputs a pass as on the H200 of 2026-11-27; a finished evaluation leaves the file
# `evaluated` and is not repeated.
# On the device, with carry ["data", "runs/gpu_long"]:
#   bash benchmarks/gpu_long.sh data runs/gpu_long 540 long_s0; cp -r runs/gpu_long "$OUT"
# and, where the budget ran out, the same call again after copying the returned runs/gpu_long
# back here. Carry holds 64 MiB in all and MNIST's raw files take 53 MB of it: keep only each
# unfinished job's checkpoint.pt (8 MB), config.json, trained and *.partial.pt, one job's worth.
# On a 2-core CPU, one job at a time with THREADS=2 trains about as fast in all as two side by side (timed over 60 steps)
# (benchmarks/README.md) and brings each seed in half the time.
# TRAIN_EXTRA, EVAL_EXTRA and DEV=cpu make a small rehearsal on a CPU, e.g.
#   DEV=cpu TRAIN_EXTRA="--limit 300 --epochs 4" EVAL_EXTRA="--k 20 --limit 40" \
#       bash benchmarks/gpu_long.sh ../shared/data /tmp/gl 12 flow_s0      # cut in training, then
#   (the same with 90)                                                     # resumed and evaluated
set -u
if [ $# -lt 4 ]; then
    echo "usage: bash benchmarks/gpu_long.sh DATA_ROOT OUT_DIR BUDGET_S JOB..." >&2
    exit 2
fi
data=$1 out=$2 budget=$3
shift 3
dev=${DEV:-cuda}
mkdir -p "$out/runs" "$out/logs"
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=${THREADS:-1}  # THREADS=2: one job on both cores of a CPU
end=$(( $(date +%s) + budget ))
LONG="--encoder lstm-vector --decoder lstm-masked --lstm-hidden 256 --latent 20 --row-hidden 256 --free-bits 1.0"
LONG="$LONG --binarize dynamic --lr-schedule burda --epochs 364"
log() { echo "$(date +%T) $*" >> "$out/logs/jobs.log"; }
left() { echo $(( end - $(date +%s) )); }

job() {  # NAME: train (or continue), then evaluate once trained
    local name=$1 flags limit=2000
    case $name in
        long_s*) flags="$LONG --seed ${name#long_s}" ;;
        alone_s0) flags="$LONG --decoder-alone --seed 0" ;;
        flow_s0) flags="$LONG --prior maf --seed 0" ;;
        *) log "unknown job $name"; return 2 ;;
    esac
    case $name in *_s0) limit=10000 ;; esac
    local dir=$out/runs/$name resume=""
    [ -f "$dir/checkpoint.pt" ] && resume=--resume
    if [ ! -f "$dir/trained" ]; then  # model.pk and the checkpoint are written every epoch
        log "train $name: python main.py $flags --out-dir $dir $resume"
        timeout "$(left)" python main.py $flags --data-root "$data" --out-dir "$dir" --device "$dev" --no-progress \
            $resume ${TRAIN_EXTRA:-} >> "$out/logs/train_$name.log" 2>&1
        local rc=$?
        log "train $name rc=$rc"
        [ $rc -eq 0 ] || return $rc
        touch "$dir/trained"
    fi
    if [ -f "$dir/evaluated" ]; then  # a rerun after an interruption skips a finished evaluation
        log "eval $name: done before (delete $dir/evaluated to evaluate again)"
        return 0
    fi
    log "eval $name: k = 5000 on the first $limit test images"
    timeout "$(left)" python evaluate.py --checkpoint "$dir/checkpoint.pt" --data-root "$data" --k 5000 --rows 50000 \
        --limit "$limit" --device "$dev" --no-progress --out-dir "$dir" ${EVAL_EXTRA:-} >> "$out/logs/eval_$name.log" 2>&1
    local rc=$?
    log "eval $name rc=$rc"
    [ $rc -eq 0 ] || return $rc
    touch "$dir/evaluated"
}

{ nvidia-smi -L; python -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"; nproc; } \
    > "$out/logs/env.txt" 2>&1
for name in "$@"; do
    job "$name" &
done
wait
tail -n 2 "$out"/logs/*.log
