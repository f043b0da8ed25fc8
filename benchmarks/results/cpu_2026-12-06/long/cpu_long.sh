#!/usr/bin/env bash
# Issue 34's long runs on this project's 2-core CPU (no GPU lent): benchmarks/gpu_long.sh's jobs
# long_s0 (--arch lstm-vae-long, written out as flags) and alone_s0 (its decoder alone), one
# thread each side by side, about 80 s per epoch, so 364 epochs are about 8 hours: several
# sessions. Each epoch is checkpointed; run this again (same OUT_DIR) to continue with --resume.
# A job whose training is done is evaluated at k = 5,000 (all 10,000 test images for long_s0,
# the first 2,000 for alone_s0), in chunks of the CPU's default 1,000 decoder inputs.
#   bash benchmarks/results/cpu_2026-12-06/long/cpu_long.sh DATA_ROOT OUT_DIR
# Started 2026-12-06 01:43 UTC from commit d634e99's tree (the same flags), OUT_DIR ~/runs/cpu_long.
# Those runs are of the first candidate preset (the linear in-row map, a flow prior, free bits
# 0.75), stopped at epochs 185 and 127 when the MADE replaced it; gpu_long.sh now writes out
# the MADE's flags, so these runs continue only from the tree of commit 2231455 (git archive
# 2231455 | tar -x -C DIR), and this script on a new OUT_DIR trains today's preset.
set -u
DEV=cpu EVAL_EXTRA="--rows 1000" bash "$(dirname "$0")/../../../gpu_long.sh" "${1:-data}" "${2:-$HOME/runs/cpu_long}" \
    200000 long_s0 alone_s0
