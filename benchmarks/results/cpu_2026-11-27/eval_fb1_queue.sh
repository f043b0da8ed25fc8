#!/usr/bin/env bash
# Run after eval_fb1_split.py (from a checkout of main at the time, ~/runs/code-run15); then eval_fb1_merge.py.
# Session 16's CPU queue. Seed 0's k = 5,000 over all 10,000 test images is split in two lanes
# (each image batch has its own seeded generator, so the split gives the same numbers as one run):
# lane A: seed 0 batches 600-7299 (copy in fb100_s0_a, later batches marked done with a 0 sentinel);
# lane B: seeds 1 and 2 on the first 2,000, then seed 0 batches 7300-9999 (copy in fb100_s0_b).
# Rerunning continues each from its .partial.pt.
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
cd ~/runs/code-run15
D=/work/shared/data
R=~/runs/lstmvae
ev() { python evaluate.py --checkpoint "$1" --data-root $D --k 5000 --device cpu --no-progress "${@:2}"; }
lane_a() {
  echo "$(date) A: seed 0 batches to 7300"; ev $R/fb100_s0_a/checkpoint.pt >> $R/eval_s0_a.log 2>&1
  echo "$(date) lane A done"
}
lane_b() {
  for s in 1 2; do
    if [ ! -f $R/fb100_s$s/evaluation_k5000.json ]; then
      echo "$(date) B: seed $s first 2000"; ev $R/fb100_s$s/checkpoint.pt --limit 2000 >> $R/eval_s${s}_k5000.log 2>&1
    fi
  done
  echo "$(date) B: seed 0 batches from 7300"; ev $R/fb100_s0_b/checkpoint.pt >> $R/eval_s0_b.log 2>&1
  echo "$(date) lane B done"
}
lane_a >> ~/runs/q16/lane_a.log 2>&1 &
lane_b >> ~/runs/q16/lane_b.log 2>&1 &
wait
