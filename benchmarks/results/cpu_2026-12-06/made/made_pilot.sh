#!/usr/bin/env bash
# Issue 34's pilots of the in-row MADE (--row-hidden 256) on the long schedule, paired with
# cpu_long.sh's runs (the same flags, seed and schedule as gpu_long.sh writes them out; a
# preset takes no part options), one thread each:
#   made_s0         --arch lstm-vae-long's flags + --row-hidden 256 (paired with long_s0);
#                   2026-12-06 05:03 UTC, stopped after epoch 40 to free its core
#   made_noflow_s0  the same without --prior maf (paired with noflow_s0 and made_s0);
#                   2026-12-06 07:00 UTC
#   made_noflow_fb1_s0  the same with free bits 1.0, the preset's floor (the class kept at
#                   50 epochs for 93-95 % of reconstructions; 0.75 without the flow kept
#                   85.9 % at epoch 40 of the long schedule); 2026-12-06 07:33 UTC
#   made_fb1_s0     made_s0 at free bits 1.0: whether the flow, which alone lifts the VAE
#                   past its decoder alone at epoch 40, keeps the class at the higher floor;
#                   2026-12-06 09:19 UTC, in made_noflow_s0's place (stopped after epoch 40);
#                   paused after epoch 13 at the session's end (10:20), so that the two runs
#                   below reach epoch 121 on a core each
#   made_alone_s0   the MADE decoder alone (--decoder-alone; the floor and the prior do not
#                   apply to it), what z has to beat whichever floor wins; 2026-12-06 07:34 UTC
#   made50_s0       made_noflow_fb1_s0 at --arch lstm-vae's budget, 50 epochs at the constant
#                   rate: the MADE alone against lstm-vae (technique (d)) and, against the long
#                   preset, what the long schedule (technique (a)) adds; 2026-12-06 13:52 UTC,
#                   beside the two long runs
# made_noflow_fb1_s0 and made_alone_s0 continued from 10:21 UTC, one thread each, the cores
# otherwise idle (87-96 s per epoch; under made_finish.sh from 16:16, both at epoch 364 by
# 20:21 UTC); made_noflow_fb1_s0 has the three asks at epoch 121
# (report/lstm_decoder.md, "Epoch 121") and became --arch lstm-vae-long: its flags are
# gpu_long.sh's long_s0, made_alone_s0's its alone_s0 and made_fb1_s0's its flow_s0. (made_alone_s0
# was started with the 0.75 floor, alone_s0 has 1.0: in the decoder alone's loss the floor is a
# constant, 20 dimensions x the floor, since no dimension's KL reaches it (0.02 nats in all), so
# neither the decoder nor the encoder gets a gradient from it and the two train alike.)
# Run it again with the same OUT_DIR and JOB to continue from the last epoch's checkpoint
# (TRAIN_EXTRA="--limit 300 --epochs 2" makes a small rehearsal).
#   bash benchmarks/results/cpu_2026-12-06/made/made_pilot.sh DATA_ROOT OUT_DIR [JOB]
set -u
data=${1:-data} out=${2:-$HOME/runs/made} job=${3:-made_s0}
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
floor=0.75
case $job in *fb1*|made50_s0) floor=1.0 ;; esac
flags="--encoder lstm-vector --decoder lstm-masked --lstm-hidden 256 --latent 20 --free-bits $floor --binarize dynamic"
flags="$flags --lr-schedule burda --epochs 364 --row-hidden 256 --seed 0"
case $job in made50_s0) flags="${flags/--lr-schedule burda --epochs 364/--epochs 50}" ;; esac
case $job in
    made_s0|made_fb1_s0) flags="$flags --prior maf" ;;
    made_noflow_s0|made_noflow_fb1_s0|made50_s0) ;;
    made_alone_s0) flags="$flags --decoder-alone" ;;
    *) echo "unknown job $job: made_s0, made_fb1_s0, made_noflow_s0, made_noflow_fb1_s0, made_alone_s0 or made50_s0" >&2; exit 2 ;;
esac
dir=$out/$job resume=""
mkdir -p "$out"
[ -f "$dir/checkpoint.pt" ] && resume=--resume
python main.py $flags --data-root "$data" --out-dir "$dir" --device cpu --no-progress $resume ${TRAIN_EXTRA:-} \
    >> "$out/train_$job.log" 2>&1
