"""Plot what main.py wrote: stored reconstructions, loss curves, and samples from the prior.

    python generator.py                      # reads ./model.pk (and ./checkpoint.pt if there)
    python generator.py --out-dir runs/model2 --seed 1

Writes PNG files beside model.pk; --show also opens them in a window.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import torch

from vaeio import CHECKPOINT, MODEL_PK, UserError, cli, load_checkpoint, load_results

RECONSTRUCTIONS = "reconstructions.png"  # the report's Figures 4 and 5
LOSS_CURVE = "figure2_loss.png"
KLD_CURVE = "figure3_kld.png"
PRIOR_SAMPLES = "prior_samples.png"
N_IMAGES = 100
FIGURE_DPI = 100


def _new_figure(show: bool, **kw):
    if show:
        import matplotlib.pyplot as plt

        return plt.figure(**kw)
    from matplotlib.figure import Figure  # no GUI backend, no window

    return Figure(**kw)


def montage(images: np.ndarray, pad: int = 2, columns: int | None = None) -> np.ndarray:
    """(n, h, w) images -> one grid array, square-ish unless `columns` is given."""
    n, h, w = images.shape
    cols = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.ones((rows * (h + pad) + pad, cols * (w + pad) + pad), dtype=np.float32)
    for k, img in enumerate(images):
        r, c = divmod(k, cols)
        grid[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = img
    return grid


def save_image_grid(images: np.ndarray, path: Path, title: str, show: bool = False, columns: int | None = None) -> None:
    """Save (n, 28, 28) images in [0, 1] (or uint8) as one grid."""
    images = np.asarray(images, dtype=np.float32)
    if images.max(initial=0) > 1:
        images = images / 255
    grid = montage(images, columns=columns)
    fig = _new_figure(show, figsize=(6, 6 * grid.shape[0] / grid.shape[1] + 0.4))
    ax = fig.add_subplot()
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title, fontsize=10)
    fig.savefig(path, dpi=FIGURE_DPI, bbox_inches="tight")


def save_curve(series: list[tuple], path: Path, title: str, ylabel: str, show: bool = False) -> None:
    """series: (label, epochs, values[, matplotlib format]) per line."""
    fig = _new_figure(show, figsize=(7, 4))
    ax = fig.add_subplot()
    for label, xs, ys, *style in series:
        if len(ys):
            marker = {} if style else {"marker": "." if len(ys) < 60 else None}
            ax.plot(xs, ys, *style, label=label, **marker)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.savefig(path, dpi=FIGURE_DPI, bbox_inches="tight")


def prior_samples(checkpoint: Path, n: int, seed: int) -> np.ndarray:
    """Decode n draws of z ~ N(0, I) with the model rebuilt from the checkpoint alone."""
    from model import VAE, VAEConfig

    state = load_checkpoint(checkpoint)
    try:
        model = VAE(VAEConfig.from_dict(state["config"]))
        model.load_state_dict(state["model"])
    except (ValueError, TypeError, RuntimeError) as e:
        raise UserError(f"{checkpoint} does not match the model ({str(e).splitlines()[0]})") from None
    model.eval()
    images = model.sample(n, generator=torch.Generator().manual_seed(seed))
    return images.squeeze(1).numpy()  # (n, 28, 28)


def build_parser() -> argparse.ArgumentParser:
    from main import Parser

    p = Parser(prog="generator.py", description="Plot 100 stored reconstructions, the loss curves and prior samples.")
    p.add_argument("--out-dir", type=Path, default=Path("."), help="folder with model.pk (and checkpoint.pt); default .")
    p.add_argument("--seed", type=int, default=0, help="which 100 reconstructions, and the prior draws; default 0")
    p.add_argument("--show", action="store_true", help="also open the figures in a window")
    return p


def generate(args) -> list[Path]:
    out = args.out_dir
    results = load_results(out / MODEL_PK)
    recon = np.asarray(results["train_reconstruction_images"])
    if recon.ndim != 3 or recon.shape[0] == 0:
        raise UserError(f"{out / MODEL_PK}: train_reconstruction_images has shape {recon.shape}, expected (N, 28, 28)")
    written = []

    # As the original: 100 of the stored last-epoch reconstructions, chosen at random.
    pick = torch.randperm(len(recon), generator=torch.Generator().manual_seed(args.seed))[:N_IMAGES].numpy()
    path = out / RECONSTRUCTIONS
    save_image_grid(recon[pick], path, f"{len(pick)} random reconstructions of training images (last epoch)", args.show)
    written.append(path)

    for key, mean_key, path, title in (
        ("train_loss_history", "train_loss_epoch_mean", out / LOSS_CURVE, "Loss (BCE + KLD) during training"),
        ("train_regularization_terms", "train_kld_epoch_mean", out / KLD_CURVE, "Regularization term (KLD) during training"),
    ):
        series = [(label, range(1, len(ys) + 1), ys) for label, ys in (
            ("last batch (as Table 1)", results.get(key, [])), ("epoch mean", results.get(mean_key, [])))]
        save_curve(series, path, title, "loss" if "loss" in key else "KLD", args.show)
        written.append(path)

    ckpt = out / CHECKPOINT
    if ckpt.exists():
        path = out / PRIOR_SAMPLES
        save_image_grid(prior_samples(ckpt, N_IMAGES, args.seed), path,
                        f"{N_IMAGES} samples decoded from z ~ N(0, I) (not reconstructions)", args.show)
        written.append(path)
    return written


@cli("generator.py")
def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    written = generate(args)
    print("wrote " + ", ".join(str(p) for p in written))
    if args.show:
        import matplotlib.pyplot as plt

        plt.show()
    return 0


if __name__ == "__main__":
    sys.exit(main())
