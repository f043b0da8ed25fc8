#!/usr/bin/env bash
# Issue 24 and 25's GPU work in one lease: trainings (50 epochs, --binarize dynamic) and their
# k = 5,000 evaluations, run side by side. Usage: bash gpu/jobs.sh WORK_DIR  (from the repo root)
set -u
W=$1 D=data DEV=${DEV:-cuda}  # DEV, TRAIN_EXTRA, EVAL_EXTRA, SUITE=0: a small rehearsal on a CPU
mkdir -p $W/runs $W/logs
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
log() { echo "$(date +%T) $*" >> $W/logs/jobs.log; }
{ nvidia-smi -L; python -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name())"; nproc; } > $W/logs/env.txt 2>&1

REPORT="--epochs 50 --batch-size 100 --lr 0.001 --betas 0.9 0.999 --no-shuffle --patience 0 --binarize dynamic"
LSTM="--encoder lstm-vector --decoder lstm-masked --lstm-hidden 256 --latent 20 --binarize dynamic --epochs 50 --free-bits 0.25"
train() {  # name, main.py flags...
  local name=$1; shift
  log "train $name: python main.py --data-root $D --out-dir $W/runs/$name --device $DEV --no-progress $*"
  python main.py --data-root $D --out-dir $W/runs/$name --device $DEV --no-progress "$@" ${TRAIN_EXTRA:-} > $W/logs/train_$name.log 2>&1
  local rc=$?; log "train $name rc=$rc"; return $rc
}
ev() {  # name, checkpoint file name, evaluate.py flags...
  local name=$1 ck=$2; shift 2
  log "eval $name $ck: python evaluate.py --checkpoint $W/runs/$name/$ck --data-root $D --device $DEV --no-progress --k 5000 $*"
  python evaluate.py --checkpoint $W/runs/$name/$ck --data-root $D --device $DEV --no-progress --k 5000 "$@" ${EVAL_EXTRA:-} \
      >> $W/logs/eval_$name.log 2>&1
  log "eval $name $ck rc=$?"
}

# 1. Seconds per epoch with the GPU to itself: the LSTM VAE and the repaired LSTM VAE, 3 epochs each.
train time_lstm $LSTM --epochs 3 --seed 0
train time_repaired --arch lstm-repaired --binarize dynamic --epochs 3 --seed 0

# 2. MPS lets the processes' kernels share the GPU at once (without it they take turns).
mps=no
export CUDA_MPS_PIPE_DIRECTORY=/tmp/mps_pipe CUDA_MPS_LOG_DIRECTORY=/tmp/mps_log
mkdir -p $CUDA_MPS_PIPE_DIRECTORY $CUDA_MPS_LOG_DIRECTORY
if command -v nvidia-cuda-mps-control > /dev/null && nvidia-cuda-mps-control -d >> $W/logs/env.txt 2>&1; then
  if timeout 60 python -c "import torch; torch.ones(1, device='cuda').sum().item()" >> $W/logs/env.txt 2>&1; then
    mps=yes
  else
    echo quit | nvidia-cuda-mps-control; sleep 2
  fi
fi
log "mps=$mps"

# 3. Evaluations of runs trained on the CPU earlier (carried in gpu/in).
cp -r gpu/in/repaired gpu/in/burda_vae $W/runs/
( ev repaired checkpoint.pt --rows 100000
  for i in 0 1 2 3 4; do ev burda_vae checkpoint_stage$i.pt --rows 100000; done ) &

# 4. The trainings, each followed by its evaluation.
seeds12() {
  for s in 1 2; do
    ( train lstm_s$s $LSTM --seed $s && ev lstm_s$s checkpoint.pt --rows 50000 --limit 2000 \
        && ev lstm_s$s checkpoint.pt --rows 50000 ) &
  done
  wait
}
( train lstm_s0 $LSTM --seed 0 || exit
  [ $mps = yes ] || seeds12 &  # without MPS, seeds 1-2 wait for seed 0: it comes first
  ev lstm_s0 checkpoint.pt --rows 50000
  wait ) &
[ $mps = yes ] && seeds12 &
( train alone_s0 $LSTM --decoder-alone --seed 0 && ev alone_s0 checkpoint.pt --rows 50000 ) &
( train conv --arch conv $REPORT && ev conv checkpoint.pt --rows 20000 ) &
( train model1 $REPORT && ev model1 checkpoint.pt --rows 20000 --limit 1000 ) &
( train model2 --model 2 $REPORT && ev model2 checkpoint.pt --rows 20000 --limit 1000 ) &
[ $mps = yes ] && ( train lstm512_s0 $LSTM --decoder-hidden 512 --seed 0 \
    && ev lstm512_s0 checkpoint.pt --rows 50000 --limit 2000 ) &
wait
log "all done"
touch $W/ALLDONE
# 5. The suite and the CUDA tests on a GPU machine (CI has none).
[ "${SUITE:-1}" = 1 ] && MNIST_ROOT=$D timeout 150 python -m pytest -q -n 8 -p no:cacheprovider tests > $W/logs/suite.txt 2>&1
log "suite rc=$?"
touch $W/SUITEDONE
