"""Plot what main.py wrote, for any architecture: stored reconstructions, loss curves, samples.

    python generator.py                      # reads ./model.pk (and ./checkpoint.pt if there)
    python generator.py --out-dir runs/model2 --seed 1
    python generator.py --out-dir runs/mlp --data-root ../shared/data --classifier runs/classifier.pt

Writes PNG files beside model.pk; --show also opens them in a window. With --data-root it
also draws 5 digits per asked class (and, with --classifier, checks them).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import torch

from vaeio import CHECKPOINT, EPOCH1_CHECKPOINT, MODEL_PK, UserError, cli, load_checkpoint, load_results

RECONSTRUCTIONS = "reconstructions.png"  # the report's Figures 4 and 5
LOSS_CURVE = "figure2_loss.png"
KLD_CURVE = "figure3_kld.png"
PRIOR_SAMPLES = "prior_samples.png"
ELBO_TERMS = "elbo_terms.png"  # 004's plot: both ELBO terms against weight updates
RECON_LOGLIK = "recon_loglik_train_vs_test.png"  # 004's plot: reconstruction log-likelihood
SAMPLES_EPOCH1_VS_LAST = "samples_epoch1_vs_last.png"  # 003's figure
DIGITS_PER_CLASS = "digits_per_class.png"  # 002's "5 images per digit", really per class
N_IMAGES = 100
PER_CLASS = 5
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
               xlabel: str = "epoch") -> None:
    """series: (label, xs, values[, matplotlib format]) per line."""
    fig = _new_figure(show, figsize=(7, 4))
    ax = fig.add_subplot()
    for label, xs, ys, *style in series:
        if len(ys):
            marker = {} if style else {"marker": "." if len(ys) < 60 else None}
            ax.plot(xs, ys, *style, label=label, **marker)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend()
    fig.savefig(path, dpi=FIGURE_DPI, bbox_inches="tight")


def model_from_state(state: dict, source: Path, device: torch.device | str = "cpu"):
    """The model rebuilt from a loaded checkpoint alone (its config names the architecture), in eval mode."""
    from model import build_model, config_from_dict

    try:
        model = build_model(config_from_dict(state["config"]), device)
        model.load_state_dict(state["model"])
    except (ValueError, TypeError, RuntimeError) as e:
        raise UserError(f"{source} does not match the model ({str(e).splitlines()[0]})") from None
    return model.eval()


def load_model(checkpoint: Path):
    return model_from_state(load_checkpoint(checkpoint), checkpoint)


def prior_samples(checkpoint: Path, n: int, seed: int) -> np.ndarray:
    """Decode n draws of z ~ N(0, I) with the model rebuilt from the checkpoint alone."""
    images = load_model(checkpoint).sample(n, generator=torch.Generator().manual_seed(seed))
    return images.squeeze(1).numpy()  # (n, s, s)


def digits_per_class(checkpoint: Path, data_root: Path, per_class: int, seed: int, limit: int | None = None):
    """per_class digits of each class 0-9, decoded from a Gaussian fitted to that class's encoded
    training means (model.class_latent_gaussians). Returns (images (10*per_class, s, s), asked labels)."""
    from model import class_latent_gaussians, prepare_images, sample_classes
    from vaeio import load_mnist

    model = load_model(checkpoint)
    images, labels = load_mnist(data_root, train=True, with_labels=True)
    x = prepare_images(images[:limit], model.cfg)
    means, stds = class_latent_gaussians(model, x, labels[:limit])
    out = sample_classes(model, means, stds, per_class, torch.Generator().manual_seed(seed))
    asked = torch.arange(len(means)).repeat_interleave(per_class)
    return out.squeeze(1).numpy(), asked


def build_parser() -> argparse.ArgumentParser:
    from main import Parser

    p = Parser(prog="generator.py", description="Plot 100 stored reconstructions, the loss curves and prior samples.")
    p.add_argument("--out-dir", type=Path, default=Path("."), help="folder with model.pk (and checkpoint.pt); default .")
    p.add_argument("--seed", type=int, default=0, help="which 100 reconstructions, and the prior draws; default 0")
    p.add_argument("--data-root", type=Path, default=None,
                   help="MNIST folder: also draw 5 digits per class from class-fitted latent Gaussians")
    p.add_argument("--classifier", type=Path, default=None,
                   help="classifier.pt from classifier.py: report the share of those digits of the asked class")
    p.add_argument("--show", action="store_true", help="also open the figures in a window")
    return p


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


def generate(args) -> list[Path]:
    out = args.out_dir
    results = load_results(out / MODEL_PK)
    recon = np.asarray(results["train_reconstruction_images"])
    if recon.ndim != 3 or recon.shape[0] == 0:
        raise UserError(f"{out / MODEL_PK}: train_reconstruction_images has shape {recon.shape}, expected (N, H, W)")
    if args.classifier is not None and args.data_root is None:
        raise UserError("--classifier judges the per-class digits, which need --data-root")
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

    path = out / ELBO_TERMS
    if plot_elbo_terms(results, path, args.show):
        written.append(path)
    train_bce, test_bce = results.get("train_bce_epoch_mean", []), results.get("test_bce", [])
    if train_bce:
        path = out / RECON_LOGLIK
        save_curve([("training set (mean over the epoch's batches)", range(1, len(train_bce) + 1), -np.asarray(train_bce)),
                    ("test set (end of epoch, eval mode)", range(1, len(test_bce) + 1), -np.asarray(test_bce))],
                   path, "Reconstruction log-likelihood E[log p(x|z)], training vs test", "nats per image", args.show)
        written.append(path)

    ckpt = out / CHECKPOINT
    if ckpt.exists():
        path = out / PRIOR_SAMPLES
        save_image_grid(prior_samples(ckpt, N_IMAGES, args.seed), path,
                        f"{N_IMAGES} samples decoded from z ~ N(0, I) (not reconstructions)", args.show)
        written.append(path)
        first = out / EPOCH1_CHECKPOINT
        if first.exists():
            n = 50  # the same z through both: 5 rows each
            last_epoch = load_checkpoint(ckpt)["epoch"]
            both = np.concatenate([prior_samples(first, n, args.seed), prior_samples(ckpt, n, args.seed)])
            path = out / SAMPLES_EPOCH1_VS_LAST
            save_image_grid(both, path, f"The same z ~ N(0, I) after epoch 1 (top) and epoch {last_epoch} (bottom)",
                            args.show, columns=10)
            written.append(path)
        else:
            print(f"no {SAMPLES_EPOCH1_VS_LAST}: {out} has no {EPOCH1_CHECKPOINT} (the run began before main.py "
                  "kept one)")
        if args.data_root is not None:
            images, asked = digits_per_class(ckpt, args.data_root, PER_CLASS, args.seed)
            title = f"{PER_CLASS} generated digits per class (rows 0-9), from class-fitted latent Gaussians"
            if args.classifier is not None:
                from classifier import load_classifier, predict

                judged = predict(load_classifier(args.classifier), torch.from_numpy(images).unsqueeze(1))
                share = (judged == asked).float().mean().item()
                print(f"{share:.0%} of the {len(asked)} digits are classified as the asked class")
                title += f"; {share:.0%} classified as asked"
            path = out / DIGITS_PER_CLASS
            save_image_grid(images, path, title, args.show, columns=PER_CLASS)
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
