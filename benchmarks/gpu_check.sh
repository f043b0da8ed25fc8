#!/usr/bin/env bash
# The GPU figures the default command still lacks, in one call on a lent GPU:
#   bash benchmarks/gpu_check.sh DATA_ROOT OUT_DIR
# 1. the default 50-epoch command twice: the first on a fresh machine pays its cold
#    caches (6.0-6.3 s for epoch 1 on 2026-11-22, 1.8-2.1 s warm); main.py's last line
#    splits its time into phases, `time` adds Python's start-up and imports;
# 2. the CUDA-graph trial: eager, graph, and graph with fused Adam;
# 3. tests/test_cuda.py (CI has no GPU, so it runs only here);
# 4. two --deterministic runs (bit-identical on one GPU?), the notebook's other commands
#    (generator.py, the pretrained model evaluated) and the whole suite on the GPU.
# Each command's output goes to its own file in OUT_DIR; a failure does not stop the rest.
set -u
if [ $# -ne 2 ]; then
    echo "usage: bash benchmarks/gpu_check.sh DATA_ROOT OUT_DIR" >&2
    exit 2
fi
data=$1 out=$2 runs=$(mktemp -d)
mkdir -p "$out"
{ nvidia-smi -L; python -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda)"; } > "$out/env.txt" 2>&1
for i in 1 2; do
    { time python main.py --data-root "$data" --device cuda --no-progress --out-dir "$runs/m1_$i"; } \
        > "$out/main_default_$i.txt" 2>&1
done
python -m benchmarks.cuda_graph_trial --data-root "$data" > "$out/graph_trial.txt" 2>&1
MNIST_ROOT=$data python -m pytest -q tests/test_cuda.py > "$out/test_cuda.txt" 2>&1
for i in 1 2; do
    python main.py --data-root "$data" --device cuda --no-progress --deterministic --epochs 5 \
        --out-dir "$runs/det_$i" > "$out/deterministic_$i.txt" 2>&1
done
python -c "import sys, torch; a, b = (torch.load(f'{sys.argv[1]}/det_{i}/checkpoint.pt', weights_only=True)['model'] for i in (1, 2)); \
print('deterministic runs bit-identical:', all(torch.equal(a[k], b[k]) for k in a))" "$runs" > "$out/deterministic.txt" 2>&1
{ python generator.py --out-dir "$runs/m1_1" && \
  python evaluate.py --checkpoint pretrained/lstm_repaired.pt --data-root "$data" --limit 1000 --device cuda; } \
    > "$out/notebook_commands.txt" 2>&1
MNIST_ROOT=$data python -m pytest -q tests --full > "$out/suite.txt" 2>&1
rm -rf "$runs"
tail -n 4 "$out"/*.txt
