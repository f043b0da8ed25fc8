"""Held-out evaluation of any checkpoint: negative ELBO and the importance-weighted bound.

    python evaluate.py --checkpoint runs/model1/checkpoint.pt --data-root ../shared/data --k 10
    python evaluate.py --checkpoint runs/mlp/checkpoint.pt --data-root ../shared/data --classifier runs/classifier.pt

Prints nats per image on the MNIST test set and writes them as JSON beside the checkpoint
(evaluation_k<K>.json). With --classifier it also generates --per-class digits of each
class from class-fitted latent Gaussians and reports the share classified as asked.
Grey-level BCE is not a proper likelihood: these nats compare with
pytorch/examples' VAE "test set loss", not with binarized-MNIST results in the literature.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from vae.cli import Parser, cli, pick_device, positive_int
from vae.data import prepare_images
from vae.measures import active_units, class_latent_gaussians, iwae_nats, sample_classes
from vae.samples import COVARIANCES, FULL_COV_MAX, check_covariance
from vae.training import evaluate, reuse_freed_memory
from vae.files import UserError, load_checkpoint, load_mnist, model_from_state, write_text


def build_parser():
    p = Parser(prog="evaluate.py", description="Test-set negative ELBO and IWAE bound of a checkpoint, in nats per image.")
    p.add_argument("--checkpoint", type=Path, required=True, help="a checkpoint.pt written by main.py")
    p.add_argument("--data-root", type=Path, default=Path("./data"), help="folder holding MNIST/raw/; default ./data")
    p.add_argument("--k", type=positive_int, default=10, help="importance samples per image; default 10")
    p.add_argument("--limit", type=positive_int, default=None, help="only the first N test images")
    p.add_argument("--batch-size", type=positive_int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto")
    p.add_argument("--classifier", type=Path, default=None, help="classifier.pt: also measure per-class generation")
    p.add_argument("--per-class", type=positive_int, default=100, help="digits generated per class; default 100")
    p.add_argument("--class-covariance", choices=COVARIANCES, default="diagonal",
                   help="the class Gaussians the per-class digits are drawn from: diagonal (the measure of the "
                        "tables), or full covariance (vector latents of at most %d dimensions)" % FULL_COV_MAX)
    p.add_argument("--no-progress", action="store_true")
    return p


def run(args) -> dict:
    device = pick_device(args.device)
    if device.type == "cpu":
        reuse_freed_memory()  # as main.py: the big activations are reused, not page-faulted in afresh
    state = load_checkpoint(args.checkpoint, map_location=device)
    model = model_from_state(state, args.checkpoint, device)
    cfg = model.cfg
    check_covariance(model, args.class_covariance)
    images = load_mnist(args.data_root, train=False)
    if args.limit is not None and args.limit > len(images):
        raise UserError(f"--limit {args.limit} is larger than the {len(images)} test images")
    x = prepare_images(images[: args.limit], cfg, device)
    torch.manual_seed(args.seed)

    t0 = time.perf_counter()
    elbo = evaluate(model, x, args.batch_size)
    elbo_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    total = torch.zeros((), device=device)
    starts = range(0, len(x), args.batch_size)
    for start in tqdm(starts, disable=args.no_progress or not sys.stderr.isatty(), leave=False, unit="batch"):
        total += iwae_nats(model, x[start : start + args.batch_size], args.k).sum()
    iwae_s = time.perf_counter() - t0
    result = {
        "checkpoint": str(args.checkpoint), "epoch": state["epoch"], "test_images": len(x),
        "image_size": cfg.image_size, "binarized": getattr(cfg, "binarize", False),
        "negative_elbo": elbo["negative_elbo"], "bce": elbo["bce"], "kld": elbo["kld"], "elbo_seconds": elbo_s,
        "iwae_k": args.k, "iwae_nats": (total / len(x)).item(), "iwae_seconds": iwae_s, "seed": args.seed,
        **active_units(model, x),
    }
    if args.classifier is not None:
        from vae.classifier import load_classifier, predict

        judge = load_classifier(args.classifier, device)
        train_images, labels = load_mnist(args.data_root, train=True, with_labels=True)
        full = args.class_covariance == "full"
        means, scales = class_latent_gaussians(model, prepare_images(train_images, cfg, device), labels.to(device), full=full)
        digits = sample_classes(model, means, scales, args.per_class, torch.Generator().manual_seed(args.seed))
        asked = torch.arange(len(means), device=device).repeat_interleave(args.per_class)
        result["per_class"] = args.per_class
        result["class_covariance"] = args.class_covariance
        result["class_accuracy"] = (predict(judge, digits) == asked).float().mean().item()
    return result


@cli("evaluate.py")
def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    result = run(args)
    # the tables read evaluation_k<K>.json; the full-covariance check is kept apart
    name = "evaluation" if args.class_covariance == "diagonal" else "evaluation_fullcov"
    out = args.checkpoint.parent / f"{name}_k{args.k}.json"
    write_text(out, json.dumps(result, indent=2) + "\n")
    print(f"epoch {result['epoch']}, {result['test_images']} test images: negative ELBO {result['negative_elbo']:.2f} "
          f"nats ({result['elbo_seconds']:.1f} s), IWAE bound k={args.k} {result['iwae_nats']:.2f} nats "
          f"({result['iwae_seconds']:.1f} s), {result['active_kl']} of {result['latent_dims']} latent dimensions active"
          + (
              f", {result['class_accuracy']:.1%} of {10 * args.per_class} per-class digits classified as asked"
              if "class_accuracy" in result else "") + f"; wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
