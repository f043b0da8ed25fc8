"""Does torch.compile speed up our training step here? Three variants, side by side in one process.

    python -m benchmarks.compile_trial --data-root ../shared/data [--steps 20]

plain: main.py's model as it is. tail: each decoder block's ReLU, BatchNorm, max-pool and
dropout compiled (the memory-bound work around the transpose convolution). model: the
whole model compiled. Each starts from the same weights and noise; the warm-up steps
include the compile time, which is printed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch
from torch import nn

from vae.data import prepare_images
from vae.cli import Parser, cli, positive_int
from model import PRESETS, training_loss
from vae.parts import build_model
from vae.files import load_mnist


class _CompiledTail(nn.Module):
    """A decoder block with everything after its transpose convolution compiled."""

    def __init__(self, block: nn.Sequential):
        super().__init__()
        self.conv = block[0]
        self.tail = torch.compile(nn.Sequential(*list(block)[1:]))

    def forward(self, x):
        return self.tail(self.conv(x))


def variant(name: str, cfg, init: dict) -> nn.Module:
    model = build_model(cfg)
    model.load_state_dict(init)
    if name == "tail":
        model.decoder.blocks = nn.Sequential(*(_CompiledTail(block) for block in model.decoder.blocks))
    elif name == "model":
        model = torch.compile(model)
    return model


@cli("compile_trial.py")
def main(argv=None) -> int:
    p = Parser(prog="compile_trial.py", description=__doc__.splitlines()[0])
    p.add_argument("--data-root", type=Path, default=Path("./data"))
    p.add_argument("--steps", type=positive_int, default=20, help="timed steps per variant; default 20")
    p.add_argument("--warmup", type=positive_int, default=3, help="untimed steps first (compiling); default 3")
    p.add_argument("--model", type=int, choices=sorted(PRESETS), default=1)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    bs, cfg = 100, PRESETS[args.model]
    data = prepare_images(load_mnist(args.data_root, train=True)[: (args.warmup + args.steps) * bs], PRESETS[1])
    torch.manual_seed(args.seed)
    init = build_model(cfg).state_dict()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, Model {args.model}, batch {bs}")
    print(f"{'':6} {'compile + warm-up s':>20} {'ms/step':>8} {'last loss':>10}")
    for name in ("plain", "tail", "model"):
        model = variant(name, cfg, init)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        torch.manual_seed(args.seed + 1)  # the same eps and dropout masks in each
        times, loss = [], None
        for i in range(args.warmup + args.steps):
            x = data[i * bs : (i + 1) * bs]
            t = time.perf_counter()
            recon, mu, logvar = model(x)
            parts = training_loss(recon, x, mu, logvar)
            opt.zero_grad(set_to_none=True)
            parts.total.backward()
            opt.step()
            loss = parts.total.item()
            times.append(time.perf_counter() - t)
        warm, timed = sum(times[: args.warmup]), times[args.warmup :]
        print(f"{name:6} {warm:20.1f} {sum(timed) / len(timed) * 1e3:8.1f} {loss:10.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
