#!/usr/bin/env bash
# Issue 34's release of the long preset, once its seed 0 and its decoder alone have been trained
# and evaluated (their evaluation_k5000.json beside their checkpoints). Run from the checkout's root:
#   bash benchmarks/results/cpu_2026-12-06/long/release.sh DATA_ROOT RUNS_DIR CLASSIFIER
# RUNS_DIR holds the two run folders; CLASSIFIER a classifier.pt from classifier.py.
# Writes pretrained/lstm_vae_long.pt and its manifest entry (k = 5,000 on the first 1,000 test
# images, as pretrained/lstm_vae.pt's), the check (k = 500 on the first 1,000), the class
# test, report/samples_lstm_vae_long.png and digits_lstm_vae_long.png, and the two rows of
# report/benchmark.json; logs and JSONs into this script's folder (release_*).
# K and LIMIT shrink the evaluations for a rehearsal on a small or unfinished run, e.g.
#   K=20 LIMIT=100 bash benchmarks/results/cpu_2026-12-06/long/release.sh ...
# LONG and ALONE name the two run folders inside RUNS_DIR (gpu_long.sh's long_s0 and alone_s0
# by default; made_pilot.sh trained the same flags on this CPU under other names):
#   LONG=made_noflow_fb1_s0 ALONE=made_alone_s0 bash .../release.sh DATA_ROOT ~/runs/made CLASSIFIER
# The benchmark rows need both runs' evaluation_k*.json; until the long run's is there the script
# stops before them, and ROWS_ONLY=1 adds them later without redoing the rest.
set -eu
data=$1 runs=$2 classifier=$3
here=$(dirname "$0")
k=${K:-5000} check_k=${K:-500} limit=${LIMIT:-1000}
long=$runs/${LONG:-long_s0} alone=$runs/${ALONE:-alone_s0} name=lstm_vae_long
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} PYTHONUNBUFFERED=1
# the manifest names the preset and, beside it, the equivalent flags the run was trained with
flags=$(python -c 'import json, sys; print(json.load(open(sys.argv[1]))["train"]["command"].replace(" --resume", ""))' \
    "$long/config.json")
command="python main.py --arch lstm-vae-long --seed 0 --device cpu (trained on this project's CPU, one thread, \
as its equivalent flags: $flags)"
ev=$here/release_eval
mkdir -p "$ev"

rows() {  # the two rows of report/benchmark.json, added to the committed ones
    python -m report.benchmark --from-json report/benchmark.json \
        "LSTM VAE, long preset (lstm-vae-long)=$long" \
        "its decoder alone, long schedule=$alone" \
        --note-file report/benchmark/reading.md
    cp "$long/evaluation_k"*.json "$ev/long_s0_evaluation.json"
    cp "$alone/evaluation_k"*.json "$ev/alone_s0_evaluation.json"
}
if [ -n "${ROWS_ONLY:-}" ]; then rows; exit; fi

# the weights, then their own k = 5,000 on the first 1,000 test images into the manifest
python -m pretrained.export "$long" "$name" --data-root "$data" --command "$command"
python evaluate.py --checkpoint "pretrained/$name.pt" --data-root "$data" --k "$k" --limit "$limit" --device cpu \
    --no-progress --out-dir "$ev" | tee "$ev/manifest_k$k.log"
python -m pretrained.export "$long" "$name" --data-root "$data" --command "$command" \
    --evaluation "$ev/evaluation_${name}_k$k.json"
# the check: k = 500 on the first 1,000 lands within 1 nat of the manifest
mkdir -p "$ev/check"
python evaluate.py --checkpoint "pretrained/$name.pt" --data-root "$data" --k "$check_k" --limit "$limit" --device cpu \
    --no-progress --out-dir "$ev/check" | tee "$ev/check_k$check_k.log"
# z keeps the class: reconstructions from the posterior mean and per-class digits, judged by the classifier
mkdir -p "$ev/class"
python evaluate.py --checkpoint "pretrained/$name.pt" --data-root "$data" --k 1 --limit 1000 --device cpu \
    --classifier "$classifier" --no-progress --out-dir "$ev/class" | tee "$ev/class.log"
# prior samples and per-class digits for report/
samples=$(mktemp -d)
python generator.py --checkpoint "pretrained/$name.pt" --out-dir "$samples" --data-root "$data" \
    --classifier "$classifier" | tee "$ev/generator.log"
cp "$samples/prior_samples.png" report/samples_$name.png
cp "$samples/digits_per_class.png" report/digits_$name.png
rm -r "$samples"
if ls "$long"/evaluation_k*.json "$alone"/evaluation_k*.json > /dev/null 2>&1; then
    rows
else
    echo "the benchmark rows wait for both runs' evaluation_k*.json: add them then with ROWS_ONLY=1"
fi
