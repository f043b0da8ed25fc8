#!/usr/bin/env bash
# One training epoch each of the LSTM VAE and the repaired LSTM VAE (binarized), back to back on
# one thread of this CPU (another single-threaded evaluation ran on the other core throughout).
set -u
export OMP_NUM_THREADS=1
for arch in lstm-vae lstm-repaired; do
  out=$(mktemp -d)
  echo "== python main.py --arch $arch --binarize dynamic --epochs 1 --data-root ../shared/data --device cpu --no-progress"
  python main.py --arch $arch --binarize dynamic --epochs 1 --data-root ../shared/data --device cpu --no-progress --out-dir "$out" \
    | grep -E "^Epoch|in main"
  rm -rf "$out"
done
