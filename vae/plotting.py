"""Figures: image grids and curves, drawn without a window unless asked (show=True)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

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


def save_curve(series: list[tuple], path: Path, title: str, ylabel: str, show: bool = False,
               xlabel: str = "epoch", bands: list[tuple] = ()) -> None:
    """series: (label, xs, values[, matplotlib format]) per line; bands: (label, xs, low, high,
    colour) per shaded range, drawn under the lines."""
    fig = _new_figure(show, figsize=(7, 4))
    ax = fig.add_subplot()
    for label, xs, low, high, color in bands:
        ax.fill_between(xs, low, high, alpha=0.25, label=label, linewidth=0, color=color)
    for label, xs, ys, *style in series:
        if len(ys):
            marker = {} if style else {"marker": "." if len(ys) < 60 else None}
            ax.plot(xs, ys, *style, label=label, **marker)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    if ax.lines or bands:
        ax.legend()
    fig.savefig(path, dpi=FIGURE_DPI, bbox_inches="tight")


def plot_elbo_terms(results: dict, path: Path, show: bool = False) -> bool:
    """004's plot: both ELBO terms of every training batch against weight updates.
    False (and nothing written) when the run recorded no updates."""
    steps_bce, steps_kld = results.get("step_bce", []), results.get("step_kld", [])
    recorded = [e for e, s in enumerate(steps_bce) if len(s)]  # a first-release run's early epochs have none
    if not recorded:
        return False
    per_epoch = len(steps_bce[recorded[0]])  # updates per epoch: the same in every epoch of a run
    updates = np.concatenate([e * per_epoch + np.arange(1, len(steps_bce[e]) + 1) for e in recorded])
    bce = np.concatenate([steps_bce[e] for e in recorded])
    kld = np.concatenate([steps_kld[e] for e in recorded])
    title = "The two ELBO terms per training batch, nats per image"
    if len(recorded) < len(steps_bce):
        title += f"\n(epochs {recorded[0] + 1}-{len(steps_bce)}; earlier ones were not recorded)"
        early = f"epochs 1-{recorded[0]} of this run were" if recorded[0] > 1 else "epoch 1 of this run was"
        print(f"{path.name}: {early} trained by an earlier main.py that did not record every update's terms; "
              "plotting the rest")
    save_curve([("reconstruction: -E[log p(x|z)] (BCE)", updates, bce, "b-"), ("KL(q(z|x) || p(z))", updates, kld, "g-")],
               path, title, "nats per image", show, xlabel="weight updates")
    return True
