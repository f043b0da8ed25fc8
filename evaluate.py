"""Held-out evaluation of any checkpoint: the negative ELBO and the importance-weighted bound.

    python evaluate.py --checkpoint runs/model1/checkpoint.pt --data-root ../shared/data --k 10
    python evaluate.py --checkpoint runs/burda/checkpoint.pt --data-root ../shared/data --k 5000
    python evaluate.py --checkpoint runs/mlp/checkpoint.pt --data-root ../shared/data --classifier runs/classifier.pt
    python evaluate.py --checkpoint pretrained/lstm_vae.pt --data-root ../shared/data --out-dir runs/pretrained

Prints nats per image on the MNIST test set: the single-sample negative ELBO and the
k-sample importance-weighted bound (at k = 5,000 the literature's log-likelihood estimate),
with its standard error over images, and writes them as JSON beside the checkpoint (or in
--out-dir). The per-image bounds are saved as they come (a .partial.pt file beside the
JSON), so an interrupted evaluation continues where it stopped when run again with the
same flags.
On grey-level MNIST (--binarize none) BCE is not a normalised likelihood: those nats compare
with pytorch/examples' "test set loss", not with the binarized-MNIST results in the literature.
Grey levels under a model trained on binarized MNIST are refused; binarized images under a
model trained on grey levels are scored, with a note on stderr.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from vae.cli import Parser, UserError, cli, pick_device, positive_int
from vae.data import BINARIZATIONS, TEST_BINARIZATION_SEED, binarized_once, prepare_images
from vae.files import load_checkpoint, load_mnist, make_out_dir, model_from_state, save_checkpoint, write_text
from vae.measures import ROWS_PER_PASS, active_units, iwae_nats, reconstruction_accuracy
from vae.samples import COVARIANCES, FULL_COV_MAX, check_covariance, class_digits
from vae.device import reuse_freed_memory
from vae.training import evaluate

SAVE_EVERY_S = 30  # seconds between saves of the per-image bounds


def build_parser():
    p = Parser(prog="evaluate.py", description="Test-set negative ELBO and importance-weighted bound of a checkpoint, "
               "in nats per image.")
    p.add_argument("--checkpoint", type=Path, required=True, help="a checkpoint.pt written by main.py, or a pretrained file")
    p.add_argument("--data-root", type=Path, default=Path("./data"), help="folder holding MNIST/raw/; default ./data")
    p.add_argument("--k", type=positive_int, default=10,
                   help="importance samples per image; default 10 (the literature's log-likelihood: 5000)")
    p.add_argument("--binarize", choices=BINARIZATIONS, default=None,
                   help="none = grey levels; dynamic = the test set binarized once with the checkpoint's seed "
                        f"(default {TEST_BINARIZATION_SEED}); default: as the checkpoint was trained")
    p.add_argument("--limit", type=positive_int, default=None, help="only the first N test images")
    p.add_argument("--batch-size", type=positive_int, default=100, help="test images per batch; default 100")
    p.add_argument("--rows", type=positive_int, default=ROWS_PER_PASS,
                   help=f"decoder inputs per pass (importance samples x images): bounds the memory; default {ROWS_PER_PASS}")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto")
    p.add_argument("--classifier", type=Path, default=None, help="classifier.pt: also measure per-class generation")
    p.add_argument("--per-class", type=positive_int, default=100, help="digits generated per class; default 100")
    p.add_argument("--class-covariance", choices=COVARIANCES, default="diagonal",
                   help="the class Gaussians the per-class digits are drawn from: diagonal (the measure of the "
                        "tables), or full covariance (vector latents of at most %d dimensions)" % FULL_COV_MAX)
    p.add_argument("--out-dir", type=Path, default=None,
                   help="folder for the JSON (and the .partial.pt of an unfinished evaluation); default: the "
                        "checkpoint's folder")
    p.add_argument("--no-progress", action="store_true")
    return p


def output_path(args, suffix: str = ".json") -> Path:
    """Where the result goes: --out-dir (default the checkpoint's folder) / output_name."""
    folder = args.checkpoint.parent if args.out_dir is None else args.out_dir
    return folder / (output_name(args).removesuffix(".json") + suffix)


def partial_path(args) -> Path:
    """The per-image bounds of an unfinished evaluation, beside its JSON."""
    return output_path(args, ".partial.pt")


def output_name(args) -> str:
    """evaluation[_fullcov][_STEM]_k<K>.json: the checkpoint's stem unless it is checkpoint.pt."""
    name = "evaluation" if args.class_covariance == "diagonal" else "evaluation_fullcov"
    stem = args.checkpoint.stem
    if stem != "checkpoint":
        name += "_" + stem.removeprefix("checkpoint_")
    return f"{name}_k{args.k}.json"


def check_binarization(asked: str, trained_on: str | None) -> None:
    """Refuse, in one line, grey levels scored under a model trained on binary pixels: its BCE
    of grey targets is no likelihood (a model of binarized MNIST scores lower there than on the
    data it models). The other way round is a likelihood, of binarized images under a model
    of grey levels: said on stderr. A file that does not say how it was trained (weights only)
    is scored as asked."""
    if trained_on == "dynamic" and asked == "none":
        raise UserError("this model was trained on binarized MNIST (--binarize dynamic): on grey levels its BCE is "
                        "not a likelihood; leave out --binarize to score it on binarized test images")
    if trained_on == "none" and asked == "dynamic":
        print("evaluate.py: note: this model was trained on grey levels; these nats are the likelihood of binarized "
              "test images under it, not comparable with its grey-level nats", file=sys.stderr)


def test_images(args, state: dict, cfg, device) -> tuple[torch.Tensor, str, int | None]:
    """The test set as the model sees it, binarized as asked (all 10,000, then the first --limit)."""
    images = load_mnist(args.data_root, train=False)
    if args.limit is not None and args.limit > len(images):
        raise UserError(f"--limit {args.limit} is larger than the {len(images)} test images")
    trained = state.get("train_config", {})
    binarize = args.binarize or trained.get("binarize", "none")
    check_binarization(binarize, trained.get("binarize"))
    x = prepare_images(images, cfg, device)
    seed = None
    if binarize == "dynamic":
        if cfg.binarize:
            raise UserError("this model binarizes by its own threshold (004's); --binarize dynamic does not apply")
        seed = trained.get("test_binarization_seed") or TEST_BINARIZATION_SEED
        x = binarized_once(x, seed)
    return x[: args.limit], binarize, seed


def bound_settings(args, test_images: int, binarize: str, binarize_seed: int | None) -> dict:
    """What a saved .partial.pt must match to be continued: whatever changes a per-image bound."""
    return {"k": args.k, "seed": args.seed, "binarize": binarize, "binarize_seed": binarize_seed,
            "test_images": test_images, "batch_size": args.batch_size, "rows": args.rows}


def importance_bounds(model, x, args, partial: Path, settings: dict) -> tuple[torch.Tensor, float]:
    """Per-image bounds in nats (N,), each image batch with its own seeded generator; saved to
    `partial` as they come, and continued from it when it holds the same settings."""
    nats = torch.full((len(x),), math.nan, dtype=torch.float64)
    seconds = 0.0
    if partial.is_file():
        saved = load_checkpoint(partial, require=("nats", "settings"))
        if saved["settings"] != settings:
            raise UserError(f"{partial} holds an evaluation with other settings ({saved['settings']}); "
                            "pass the same flags to continue it, or delete it to start afresh")
        nats, seconds = saved["nats"], saved["seconds"]
        print(f"continuing {partial}: {int((~nats.isnan()).sum())} of {len(x)} images done")
    starts = [s for s in range(0, len(x), args.batch_size) if nats[s : s + args.batch_size].isnan().any()]
    bar = tqdm(starts, disable=args.no_progress or not sys.stderr.isatty(), leave=False, unit="batch")
    last_save = time.perf_counter()
    t0 = time.perf_counter()
    for start in bar:
        gen = torch.Generator(device=x.device).manual_seed(args.seed * 1_000_003 + start)
        nats[start : start + args.batch_size] = iwae_nats(model, x[start : start + args.batch_size], args.k, args.rows,
                                                          gen).double().cpu()
        if time.perf_counter() - last_save > SAVE_EVERY_S or start == starts[-1]:
            save_checkpoint(partial, {"settings": settings, "nats": nats, "seconds": seconds + time.perf_counter() - t0})
            last_save = time.perf_counter()
        bar.set_postfix(nats=f"{nats[~nats.isnan()].mean():.2f}")
    return nats, seconds + time.perf_counter() - t0


def run(args) -> dict:
    device = pick_device(args.device)
    if device.type == "cpu":
        reuse_freed_memory()  # as main.py: the big activations are reused, not page-faulted in afresh
    if device.type == "cuda":
        # A likelihood in float32, as on a CPU: PyTorch lets cuDNN's convolutions and LSTMs
        # round their inputs to TF32 (10-bit mantissa) by default, an error summed over 784 pixels.
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    state = load_checkpoint(args.checkpoint, map_location=device)
    model = model_from_state(state, args.checkpoint, device)
    cfg = model.cfg
    check_covariance(model, args.class_covariance)
    x, binarize, binarize_seed = test_images(args, state, cfg, device)

    torch.manual_seed(args.seed)
    t0 = time.perf_counter()
    elbo = evaluate(model, x, args.batch_size)
    elbo_s = time.perf_counter() - t0
    partial = partial_path(args)
    nats, iwae_s = importance_bounds(model, x, args, partial, bound_settings(args, len(x), binarize, binarize_seed))
    result = {
        "checkpoint": str(args.checkpoint), "epoch": state.get("epoch"), "test_images": len(x),
        "image_size": cfg.image_size, "binarized": binarize if binarize != "none" else cfg.binarize,
        "binarize_seed": binarize_seed, "trained_binarize": state.get("train_config", {}).get("binarize"),
        "negative_elbo": elbo["negative_elbo"], "bce": elbo["bce"], "kld": elbo["kld"],
        "elbo_seconds": elbo_s, "iwae_k": args.k, "iwae_nats": nats.mean().item(),
        "iwae_se": (nats.std() / math.sqrt(len(nats))).item() if len(nats) > 1 else math.nan,
        "iwae_seconds": iwae_s, "seed": args.seed, "device": str(device), **active_units(model, x),
    }
    if args.classifier is not None:
        result.update(class_accuracy(model, args, device, x, binarize))
    return result


def class_accuracy(model, args, device, x: torch.Tensor, binarize: str) -> dict:
    """The share of per-class digits (class-fitted latent Gaussians) that the judge reads as
    asked, and of the test images x whose reconstructions it reads as their own class."""
    from vae.classifier import load_classifier, predict

    judge = load_classifier(args.classifier, device)
    digits, asked = class_digits(model, args.data_root, binarize, args.per_class, args.seed,
                                 covariance=args.class_covariance, device=device)
    test_labels = load_mnist(args.data_root, train=False, with_labels=True)[1][: len(x)]
    recon = reconstruction_accuracy(model, judge, x, test_labels, torch.Generator(device=x.device).manual_seed(args.seed))
    return {"per_class": args.per_class, "class_covariance": args.class_covariance,
            "class_accuracy": (predict(judge, digits) == asked).float().mean().item(),
            "reconstruction_accuracy": recon}


@cli("evaluate.py")
def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.out_dir is not None:
        make_out_dir(args.out_dir)
    result = run(args)
    out = output_path(args)
    write_text(out, json.dumps(result, indent=2) + "\n")
    print(f"epoch {result['epoch']}, {result['test_images']} test images"
          + (f" (binarized, seed {result['binarize_seed']})" if result["binarize_seed"] is not None else "")
          + f": negative ELBO {result['negative_elbo']:.2f} nats ({result['elbo_seconds']:.1f} s), "
          f"importance-weighted bound k={args.k} {result['iwae_nats']:.2f} ± {result['iwae_se']:.2f} nats "
          f"({result['iwae_seconds']:.1f} s), {result['active_kl']} of {result['latent_dims']} latent dimensions active"
          + (f", {result['class_accuracy']:.1%} of {10 * args.per_class} per-class digits classified as asked, "
             f"{result['reconstruction_accuracy']:.1%} of the test images' reconstructions as their own class"
             if "class_accuracy" in result else "") + f"; wrote {out}")
    partial_path(args).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
