"""How well can any decoder ending in the report's Linear(3, 28) reconstruct MNIST? A floor.

    python -m report.rank_floor --data-root ../shared/data        # writes report/rank_floor.json and .png

The report's decoder gives every image the logits L = H W^T + 1 b^T, with H (28 x F) from
the transpose convolutions (F = 3 features per row) and W (28 x F), b (28) shared by all
images. Whatever the encoder, the latent and the training, its reconstructions lie in that
family. Here H is set free for every image and H, W, b are fitted to the test images
directly (PCA of their logits as the start, then Adam on the grey-level BCE): the BCE
found is what the best decoder of that form could reach, up to what the optimiser misses
(printed: the last stretch's gain). F = 3 is the report's decoder; larger F shows how the
floor falls as the shared profiles grow, and F >= 28 has no bound left. The entropy floor
is the BCE of each image against itself, which no model can beat.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]

from model import VAEConfig
from vae.data import prepare_images
from vae.cli import Parser, cli, positive_int
from vae.plotting import save_image_grid
from vae.files import load_mnist, write_text

FEATURES = (3, 6, 12, 28)  # per-row features; 3 = the report's decoder
EPS = 1e-3  # grey levels clipped away from 0 and 1 for the PCA start's logits


def entropy_floor(x: torch.Tensor) -> float:
    """Mean over images of the summed BCE of each image against itself (nats)."""
    return F.binary_cross_entropy(x, x, reduction="sum").item() / len(x)


def pca_start(rows: torch.Tensor, features: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(H, W, b) of the best rank-`features` fit of the rows' logits in squared error."""
    logits = torch.logit(rows.clamp(EPS, 1 - EPS))  # (N*28, 28)
    b = logits.mean(0)
    _, _, v = torch.linalg.svd(logits - b, full_matrices=False)
    w = v[:features].T.contiguous()  # (28, F)
    return (logits - b) @ w, w, b


def fit_floor(x: torch.Tensor, features: int, steps: int, lr: float) -> dict:
    """Fit H (per image), W, b shared; the BCE per image at the end and over the last 10 % of steps."""
    rows = x.reshape(-1, x.shape[-1])  # (N*28, 28): every image row
    h, w, b = (t.clone().requires_grad_() for t in pca_start(rows, features))
    opt = torch.optim.Adam([h, w, b], lr=lr)
    history = []
    for _ in range(steps):
        loss = F.binary_cross_entropy_with_logits(h @ w.T + b, rows, reduction="sum") / len(x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
    with torch.no_grad():
        logits = h @ w.T + b
        final = F.binary_cross_entropy_with_logits(logits, rows, reduction="sum").item() / len(x)
    last = history[-max(1, steps // 10)]
    return {"features": features, "bce_nats": final, "start_nats": history[0],
            "gain_last_tenth": last - final, "logits": logits.reshape(x.shape)}


@cli("rank_floor.py")
def main(argv=None) -> int:
    p = Parser(prog="rank_floor.py", description=__doc__.splitlines()[0])
    p.add_argument("--data-root", type=Path, default=Path("./data"))
    p.add_argument("--images", type=positive_int, default=10_000, help="first N test images; default all 10,000")
    p.add_argument("--steps", type=positive_int, default=3000, help="Adam steps per fit; default 3000")
    p.add_argument("--lr", type=float, default=0.1, help="Adam's step size; default 0.1")
    p.add_argument("--features", type=positive_int, nargs="+", default=list(FEATURES))
    p.add_argument("--out", type=Path, default=ROOT / "report" / "rank_floor.json")
    args = p.parse_args(argv)
    x = prepare_images(load_mnist(args.data_root, train=False)[: args.images], VAEConfig()).squeeze(1)  # (N, 28, 28), data / 255
    result = {"command": "python -m report.rank_floor " + " ".join(argv if argv is not None else sys.argv[1:]),
              "test_images": len(x), "steps": args.steps, "entropy_floor_nats": entropy_floor(x), "fits": []}
    print(f"{len(x)} test images: entropy floor {result['entropy_floor_nats']:.2f} nats per image")
    pictures = [x[:10].numpy()]
    for features in args.features:
        t0 = time.perf_counter()
        fit = fit_floor(x, features, args.steps, args.lr)
        pictures.append(torch.sigmoid(fit.pop("logits")[:10]).numpy())
        fit["seconds"] = time.perf_counter() - t0
        result["fits"].append(fit)
        print(f"F = {features:2d} features per row: BCE {fit['bce_nats']:.2f} nats per image (PCA start "
              f"{fit['start_nats']:.2f}; the last tenth of the steps gained {fit['gain_last_tenth']:.2f}; {fit['seconds']:.0f} s)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_text(args.out, json.dumps(result, indent=2) + "\n")
    save_image_grid(np.concatenate(pictures), args.out.with_suffix(".png"),
                    "first 10 test digits; below, the best fit with F = " + ", ".join(map(str, args.features))
                    + " shared profiles per row", columns=10)
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
