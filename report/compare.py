"""One table comparing the report's LSTM-encoder VAE with the peer VAEs, from their run folders.

    python -m report.compare "LSTM Model 1=runs/model1" "LSTM Model 2=runs/model2" conv=runs/conv \
        mlp=runs/mlp mlp14=runs/mlp14 "pytorch/examples=runs/examples"

Each run folder holds what main.py wrote plus the evaluation_k<K>.json of
`evaluate.py --checkpoint RUN/checkpoint.pt --k 10 --classifier runs/classifier.pt`.
Writes report/comparison.md and one sample grid per run (or into --out).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from vae.cli import Parser, cli, labelled_folders
from vae.plotting import save_curve, save_image_grid
from vae.samples import PER_CLASS, digits_per_class, prior_samples
from vae.presets import ARCHS
from vae.measures import count_parameters
from vae.cli import UserError
from vae.files import CHECKPOINT, MODEL_PK, load_checkpoint, load_model, load_results, write_text

CURVES = "test_nelbo_per_epoch.png"

# What each source reports about itself, in its own units, for context only.
SOURCE_CLAIMS = {
    "lstm1": "last-batch loss 0.1622 (mean BCE + mean KL) after 50 epochs",
    "lstm2": "no numbers; its Figure 5 reconstructions do not \"look like MNIST data\"",
    "conv": "training loss \"around 90\" after 1,250 epochs",
    "mlp": "loss 183 -> 99 per image over 30 epochs",
    "mlp14": "validation ELBO -32.8 nats per image (printed as \"Test set loss\") after 19 epochs on 10,000 images",
    "examples": "test set loss about 105.6 after 10 epochs",
}


def run_row(label: str, folder: Path, out: Path, k_wanted: int | None, data_root: Path | None) -> tuple[list[str], str]:
    results = load_results(folder / MODEL_PK)
    state = load_checkpoint(folder / CHECKPOINT)
    train = state["train_config"]
    arch = train.get("arch", "lstm")
    evals = sorted(folder.glob("evaluation_k*.json"), key=lambda p: int(p.stem.split("_k")[1]))
    if k_wanted is not None:
        evals = [p for p in evals if p.stem == f"evaluation_k{k_wanted}"]
    if not evals:
        raise UserError(f"{folder} has no evaluation_k*.json: run evaluate.py --checkpoint {folder / CHECKPOINT} first")
    ev = json.loads(evals[-1].read_text())
    params = count_parameters(load_model(folder / CHECKPOINT))
    epochs = len(results["test_negative_elbo"])
    planned = ARCHS[arch].training.epochs  # the source's own count
    epochs_text = f"{epochs}" + (f" of its {planned}" if epochs < planned else "")
    binary = ev.get("binarized", False)
    nelbo = f"{ev['negative_elbo']:.2f}"
    tag = "".join(c if c.isalnum() else "_" for c in label.lower()).strip("_")
    grid = f"samples_{tag}.png"
    save_image_grid(prior_samples(folder / CHECKPOINT, 100, seed=0), out / grid, f"{label}: 100 samples from N(0, I)")
    if data_root is not None:
        digits, _ = digits_per_class(folder / CHECKPOINT, data_root, PER_CLASS, seed=0)
        save_image_grid(digits, out / f"digits_{tag}.png", f"{label}: {PER_CLASS} digits per asked class, rows 0-9",
                        columns=PER_CLASS)
    accuracy = f"{ev['class_accuracy']:.1%} of {10 * ev['per_class']}" if "class_accuracy" in ev else "not run"
    first, last = results["train_loss_epoch_mean"][0], results["train_loss_epoch_mean"][-1]
    if state["config"]["objective"] == "report":  # the report's units: means per pixel and latent
        train_loss = f"{first:.4f} → {last:.4f} (mean-reduced)"
    else:
        train_loss = f"{first:.1f} → {last:.1f}"
    claim_key = f"lstm{train['model']}" if arch == "lstm" else arch
    cells = [
        label, arch, f"{params:,}", f"{np.median(results['epoch_seconds']):.1f}", epochs_text, train_loss,
        "–" if binary else nelbo, nelbo if binary else "–",
        f"{ev['iwae_nats']:.2f} (k={ev['iwae_k']})", accuracy, SOURCE_CLAIMS.get(claim_key, ""), f"![{label}]({grid})",
    ]
    command = (f"`python main.py --arch {arch}" + (f" --model {train['model']}" if arch == "lstm" else "")
               + (f" --epochs {train['epochs']}" if train["epochs"] != planned else "") + f" --out-dir {folder}`; `python evaluate.py --checkpoint {folder / CHECKPOINT} "
               f"--k {ev['iwae_k']}" + (" --classifier runs/classifier.pt" if "class_accuracy" in ev else "") + "`")
    return cells, f"- {label}: {command}"


def build(pairs: list[tuple[str, Path]], out: Path, k: int | None, classifier: Path | None,
          data_root: Path | None = None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    head = ["model", "arch", "parameters", "s / epoch here", "epochs", "training loss per image, epoch 1 → last",
            "test −ELBO, 28×28 grey (nats/image)",
            "test −ELBO, 14×14 binary (nats/image)", "IWAE bound", "per-class digits classified as asked",
            "the source's own figure", "samples from N(0, I)"]
    rows, commands = [], []
    for label, folder in pairs:
        cells, command = run_row(label, folder, out, k, data_root)
        rows.append("| " + " | ".join(cells) + " |")
        commands.append(command)
    # Every 28x28 run's test negative ELBO per epoch on one set of axes (mlp14's scale differs).
    curves = []
    for label, folder in pairs:
        h = load_results(folder / MODEL_PK)
        if h["train_reconstruction_images"].shape[-1] == 28:
            curves.append((label, range(1, len(h["test_negative_elbo"]) + 1), h["test_negative_elbo"]))
    if curves:
        save_curve(curves, out / CURVES, "Test negative ELBO after each epoch (28x28 grey models)", "nats per image")
    judge = ""
    if classifier is not None:
        c = load_checkpoint(classifier)
        judge = (f" The classifier (`python classifier.py`, {classifier}) scores {c['test_accuracy']:.2%} on the "
                 f"MNIST test set, and {c['test_accuracy_14x14_binary']:.2%} on the test set shrunk to 14×14, "
                 "binarized and enlarged again, which bounds what mlp14's row can reach.")
    md = [
        "# Is the LSTM encoder any good? The report's VAE beside its peers", "",
        "Built by `python -m report.compare " + " ".join(f'"{label}={folder}"' for label, folder in pairs)
        + (f" --classifier {classifier}" if classifier else "") + "`.",
        "Every run used the same data path, training loop, evaluation and checkpoints (`main.py --arch`), "
        "each with its own document's settings unless the epochs column says otherwise.", "",
        "| " + " | ".join(head) + " |", "|" + " --- |" * len(head), *rows, "",
        "How to read it:", "",
        "- Test −ELBO and the IWAE bound are nats per test image (lower is better): BCE summed over the pixels "
        "plus KL summed over the latents. On grey levels this is not a proper likelihood, so it compares "
        "across these rows and with pytorch/examples' \"test set loss\", not with binarized-MNIST results "
        "in the literature. mlp14 sees 14×14 binarized images: a different scale, in its own column.",
        "- Per-class digits: for each class, a Gaussian fitted to the encoded means of that class's training "
        "images (diagonal, since the LSTM's latent has 7,168 dimensions), decoded; judged by `classifier.py`, "
        "a small CNN trained here. For mlp14 the 14×14 digits are enlarged to 28×28 first." + judge,
        "- The report's loss averages BCE over 784 pixels and KL over 28×C latents, which weighs the KL by "
        "β = 784 / (28·C) against the ELBO (0.109 for Model 1, 1.75 for Model 2): its −ELBO is not what it minimised.",
        "- Training loss: the epoch mean of the training objective, summed per image for the peers (the "
        "units of the sources' own figures); the report's is a mean over pixels and latents.",
        "- Seconds per epoch: the median training pass on this 2-core CPU, while other runs shared it, so a rough guide.",
        "", *([f"![test negative ELBO per epoch]({CURVES})", ""] if curves else []),
    ]
    if data_root is not None:
        md += ["## Digits of an asked class", "",
               f"{PER_CLASS} digits per class 0-9 (one row each) from each model, drawn as the table's column "
               "describes. Draws from N(0, I), as 002 made its \"per digit\" images, carry no class at all.", ""]
        tags = ["".join(c if c.isalnum() else "_" for c in label.lower()).strip("_") for label, _ in pairs]
        md += ["| " + " | ".join(label for label, _ in pairs) + " |", "|" + " --- |" * len(pairs),
               "| " + " | ".join(f"![{label}](digits_{tag}.png)" for (label, _), tag in zip(pairs, tags)) + " |", ""]
    md += ["Commands (data root `../shared/data`, seed 0):", "", *commands, ""]
    path = out / "comparison.md"
    write_text(path, "\n".join(md))
    return path


@cli("compare.py")
def main(argv=None) -> int:
    p = Parser(prog="compare.py", description="Write report/comparison.md from labelled run folders.")
    p.add_argument("runs", nargs="+", metavar="LABEL=FOLDER", help="a label and a folder written by main.py")
    p.add_argument("--out", type=Path, default=ROOT / "report", help="default: report/")
    p.add_argument("--k", type=int, default=None, help="which evaluation_k<K>.json to use; default the largest K")
    p.add_argument("--classifier", type=Path, default=None, help="classifier.pt: state its own accuracy")
    p.add_argument("--data-root", type=Path, default=None, help="MNIST: also draw each model's digits per class")
    args = p.parse_args(argv)
    print(f"wrote {build(labelled_folders(args.runs), args.out, args.k, args.classifier, args.data_root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
