"""Whether two main.py run folders hold the same run, bit for bit: the checkpoint's weights
and optimizer state, every array and number of model.pk (timings and config aside), Figure 1.

    PYTHONPATH=. python benchmarks/results/cpu_2026-12-01/same_run.py BEFORE_DIR AFTER_DIR
"""

import hashlib
import sys
from pathlib import Path

import numpy as np
import torch

from vae.files import load_checkpoint, load_results

TIMINGS = ("epoch_seconds", "eval_seconds")


def tensors(obj, prefix=""):
    if isinstance(obj, torch.Tensor):
        yield prefix, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from tensors(v, f"{prefix}/{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from tensors(v, f"{prefix}/{i}")


def differences(a: Path, b: Path) -> list[str]:
    out = []
    ca, cb = load_checkpoint(a / "checkpoint.pt"), load_checkpoint(b / "checkpoint.pt")
    ta, tb = dict(tensors({k: ca[k] for k in ("model", "optimizer", "rng")})), \
        dict(tensors({k: cb[k] for k in ("model", "optimizer", "rng")}))
    if ta.keys() != tb.keys():
        out.append("checkpoint tensors differ in names")
    out += [f"checkpoint {k}" for k in ta if k in tb and not torch.equal(ta[k], tb[k])]
    ra, rb = load_results(a / "model.pk"), load_results(b / "model.pk")
    for key in sorted(set(ra) | set(rb)):
        if key in TIMINGS or key == "config":
            continue
        va, vb = ra.get(key), rb.get(key)
        same = np.array_equal(np.asarray(va, dtype=object if key.startswith("step_") else None),
                              np.asarray(vb, dtype=object if key.startswith("step_") else None))
        if not same:
            out.append(f"model.pk {key}")
    fa, fb = (hashlib.sha256((d / "figure1_mnist.png").read_bytes()).hexdigest() for d in (a, b))
    if fa != fb:
        out.append("figure1_mnist.png")
    return out


if __name__ == "__main__":
    diff = differences(Path(sys.argv[1]), Path(sys.argv[2]))
    print("identical: weights, optimizer, RNG state, model.pk arrays and numbers, Figure 1" if not diff
          else "DIFFERENT: " + ", ".join(diff))
    sys.exit(1 if diff else 0)
