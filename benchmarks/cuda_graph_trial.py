"""Does capturing the whole training step in a CUDA graph pay on a GPU? Eager against graph.

    python -m benchmarks.cuda_graph_trial --data-root DIR [--steps 200]

At batch 100 the GPU step is bound by kernel launches (benchmarks/README.md). training.TrainStep
replays the forward, the backward and Adam's update as one CUDA graph; this times it
against the same TrainStep run eagerly, from the same weights and noise: ms per step, and
the largest loss difference over the timed steps. A third line times the graph with
Adam's fused kernel (one launch for every parameter) in place of main.py's foreach one, a
candidate for the default command's last seconds on a GPU.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

from vae.data import prepare_images
from vae.cli import Parser, cli, pick_device, positive_int
from model import PRESETS
from vae.parts import build_model
from vae.training import TrainStep
from vae.cli import UserError
from vae.files import load_mnist


def timed_steps(step, data, bs, first, steps):
    """Run `steps` training steps from batch `first`; (their losses, seconds)."""
    losses = torch.empty(steps, device=data.device)
    torch.cuda.synchronize()
    t = time.perf_counter()
    for i in range(steps):
        _, parts, _ = step(torch.arange((first + i) * bs, (first + i + 1) * bs, device=data.device))
        losses[i] = parts.total
    torch.cuda.synchronize()
    return losses, time.perf_counter() - t


@cli("cuda_graph_trial.py")
def main(argv=None) -> int:
    p = Parser(prog="cuda_graph_trial.py", description=__doc__.splitlines()[0])
    p.add_argument("--data-root", type=Path, default=Path("./data"))
    p.add_argument("--steps", type=positive_int, default=200, help="timed steps; default 200")
    p.add_argument("--warmup", type=positive_int, default=10,
                   help="untimed steps first (the graph is captured in them); default 10")
    p.add_argument("--model", type=int, choices=sorted(PRESETS), default=1)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    device = pick_device("cuda")
    if device.type != "cuda":
        raise UserError("this trial needs a CUDA device")
    torch.backends.cudnn.benchmark = True
    bs, cfg = 100, PRESETS[args.model]
    data = prepare_images(load_mnist(args.data_root, train=True)[: (args.warmup + args.steps) * bs], PRESETS[1], device)
    torch.manual_seed(args.seed)
    init = build_model(cfg, device).state_dict()
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(device)}, Model {args.model}, batch {bs}")

    results = {}
    # capturable in all three (a graph's capture refuses Adam without it), so the first
    # two differ only in how the step is launched
    variants = {"eager": (False, {"capturable": True}), "graph": (True, {"capturable": True}),
                "graph, fused Adam": (True, {"capturable": True, "fused": True})}
    for name, (graph, adam) in variants.items():
        model = build_model(cfg, device)
        model.load_state_dict(init)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, **adam)
        step = TrainStep(model, opt, data, bs, graph=graph)  # main.py's step
        torch.manual_seed(args.seed + 1)  # the same eps and dropout masks in both
        timed_steps(step, data, bs, 0, args.warmup)  # the graph is captured in these
        losses, seconds = timed_steps(step, data, bs, args.warmup, args.steps)
        results[name] = (losses.cpu(), seconds / args.steps)
        print(f"{name:17} {seconds / args.steps * 1e3:7.2f} ms/step")
    le, te = results["eager"]
    for name in ("graph", "graph, fused Adam"):
        lg, tg = results[name]
        print(f"{name} / eager: {te / tg:.2f}x the speed; largest loss difference over {args.steps} steps "
              f"{(le - lg).abs().max().item():.2e} (first 20: {(le[:20] - lg[:20]).abs().max().item():.2e})")
    print(f"peak GPU memory: {torch.cuda.max_memory_allocated(device) / 2**30:.2f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
