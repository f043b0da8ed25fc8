#!/usr/bin/env bash
# Free bits 0.75 at the preset's 50 epochs, seeds 1 and 2, side by side on one thread each,
# then k = 5,000 on the first 2,000 test images, as the preset's, flow's and cosine's seeds.
. ~/venv/bin/activate
cd ~/runs/code_fb075
export OMP_NUM_THREADS=1 PYTHONUNBUFFERED=1
D=/work/shared/data
run() {
  s=$1; o=~/runs/fb075_s$s
  python main.py --encoder lstm-vector --decoder lstm-masked --lstm-hidden 256 --latent 20 --free-bits 0.75 \
      --binarize dynamic --epochs 50 --seed $s --data-root $D --device cpu --out-dir $o --no-progress \
      $( [ -f $o/checkpoint.pt ] && echo --resume ) > ~/runs/fb075_s${s}_train.log 2>&1
  echo "training done rc=$? $(date)" >> ~/runs/fb075_s${s}_train.log
  python evaluate.py --checkpoint $o/checkpoint.pt --data-root $D --k 5000 --limit 2000 --device cpu \
      --no-progress --out-dir $o > ~/runs/fb075_s${s}_eval_k5000.log 2>&1
  echo "eval done rc=$? $(date)" >> ~/runs/fb075_s${s}_eval_k5000.log
}
run 1 & run 2 & wait
