#!/usr/bin/env bash
# Issue 34, technique (d): the in-row MADE's cost on this CPU beside the preset's decoder, side
# by side in one invocation, as benchmarks/results/cpu_2026-12-01/technique_cost.sh measures
# the other techniques: one training epoch of --arch lstm-vae's parts on the first 6,000
# training images, one thread, scaled to the 60,000 images. Each is run twice, alternating,
# since the machine's other work shifts a single run.
#   bash benchmarks/results/cpu_2026-12-06/made/technique_cost_made.sh DATA_ROOT [WORK_DIR]
set -euo pipefail
DEFINE_ONLY=1 source "$(dirname "$0")/../../cpu_2026-12-01/technique_cost.sh" "$@"  # data, work, run()
for round in 1 2; do
    run "preset$round" "the preset (linear in-row map)" --free-bits 1.0
    run "made128_$round" "in-row MADE, 128 units" --free-bits 1.0 --row-hidden 128
    run "made256_$round" "in-row MADE, 256 units" --free-bits 1.0 --row-hidden 256
done
