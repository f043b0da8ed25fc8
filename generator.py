"""Plot what main.py wrote, for any architecture: stored reconstructions, loss curves, samples.

    python generator.py                      # reads ./model.pk (and ./checkpoint.pt if there)
    python generator.py --out-dir runs/model2 --seed 1
    python generator.py --out-dir runs/mlp --data-root ../shared/data --classifier runs/classifier.pt

Writes PNG files beside model.pk; --show also opens them in a window. With --data-root it
also draws 5 digits per asked class (and, with --classifier, checks them;
--class-covariance full fits full-covariance class Gaussians). With
--checkpoint (e.g. pretrained/model1.pt) it needs no model.pk: it draws the samples alone.

    python generator.py --checkpoint pretrained/model1.pt --out-dir samples
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from vae.cli import Parser, UserError, cli
from vae.plotting import plot_elbo_terms, save_curve, save_image_grid
from vae.samples import COVARIANCES, FULL_COV_MAX, PER_CLASS, digits_per_class, prior_samples
from vae.files import CHECKPOINT, EPOCH1_CHECKPOINT, MODEL_PK, load_checkpoint, load_results, make_out_dir

RECONSTRUCTIONS = "reconstructions.png"  # the report's Figures 4 and 5
LOSS_CURVE = "figure2_loss.png"
KLD_CURVE = "figure3_kld.png"
PRIOR_SAMPLES = "prior_samples.png"
ELBO_TERMS = "elbo_terms.png"  # 004's plot: both ELBO terms against weight updates
RECON_LOGLIK = "recon_loglik_train_vs_test.png"  # 004's plot: reconstruction log-likelihood
SAMPLES_EPOCH1_VS_LAST = "samples_epoch1_vs_last.png"  # 003's figure
DIGITS_PER_CLASS = "digits_per_class.png"  # 002's "5 images per digit", really per class
N_IMAGES = 100


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="generator.py", description="Plot 100 stored reconstructions, the loss curves and prior samples.")
    p.add_argument("--out-dir", type=Path, default=Path("."), help="folder with model.pk (and checkpoint.pt); default .")
    p.add_argument("--checkpoint", type=Path, default=None,
                   help="weights alone (e.g. pretrained/model1.pt): draw the prior samples (and with --data-root the "
                        "per-class digits) into --out-dir, without model.pk")
    p.add_argument("--seed", type=int, default=0, help="which 100 reconstructions, and the prior draws; default 0")
    p.add_argument("--data-root", type=Path, default=None,
                   help="MNIST folder: also draw 5 digits per class from class-fitted latent Gaussians")
    p.add_argument("--classifier", type=Path, default=None,
                   help="classifier.pt from classifier.py: report the share of those digits of the asked class")
    p.add_argument("--class-covariance", choices=COVARIANCES, default="diagonal",
                   help="the class Gaussians of those digits: diagonal (default; what the tables call class-true) or "
                        "full covariance (vector latents of at most %d dimensions: the repaired model's digits read "
                        "as the asked class far more often, report/ablation.md)" % FULL_COV_MAX)
    p.add_argument("--show", action="store_true", help="also open the figures in a window")
    return p


def draw_samples(ckpt: Path, out: Path, args) -> list[Path]:
    """prior_samples.png, and with --data-root digits_per_class.png, from the weights in ckpt."""
    path = out / PRIOR_SAMPLES
    save_image_grid(prior_samples(ckpt, N_IMAGES, args.seed), path,
                    f"{N_IMAGES} samples decoded from z drawn from the prior (not reconstructions)", args.show)
    written = [path]
    if args.data_root is not None:
        images, asked = digits_per_class(ckpt, args.data_root, PER_CLASS, args.seed,
                                         covariance=args.class_covariance)
        kind = "full-covariance" if args.class_covariance == "full" else "class-fitted"
        title = f"{PER_CLASS} generated digits per class (rows 0-9), from {kind} latent Gaussians"
        if args.classifier is not None:
            from vae.classifier import load_classifier, predict

            judged = predict(load_classifier(args.classifier), torch.from_numpy(images).unsqueeze(1))
            share = (judged == asked).float().mean().item()
            print(f"{share:.0%} of the {len(asked)} digits are classified as the asked class")
            title += f"; {share:.0%} classified as asked"
        path = out / DIGITS_PER_CLASS
        save_image_grid(images, path, title, args.show, columns=PER_CLASS)
        written.append(path)
    return written


def generate(args) -> list[Path]:
    out = args.out_dir
    if args.classifier is not None and args.data_root is None:
        raise UserError("--classifier judges the per-class digits, which need --data-root")
    if args.class_covariance != "diagonal" and args.data_root is None:
        raise UserError("--class-covariance shapes the per-class digits, which need --data-root")
    if args.checkpoint is not None:
        return draw_samples(args.checkpoint, make_out_dir(out), args)
    results = load_results(out / MODEL_PK)
    recon = np.asarray(results["train_reconstruction_images"])
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
        written += draw_samples(ckpt, out, args)
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
