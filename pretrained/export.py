"""Write a finished run's weights as a small pretrained file, and record it in the manifest.

    python -m pretrained.export runs/lstmvec256_mlp512x2 lstm_repaired --data-root ../shared/data

Writes pretrained/NAME.pt (state dict in fp32 and the model config; no optimizer, no RNG)
and its entry in pretrained/manifest.json: SHA-256, parameters, epochs, and the test
negative ELBO on the first 1,000 test images (seed 0, CPU), which tests/test_pretrained.py
checks the file against. generator.py and evaluate.py take the file as --checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]

from vae.data import binarized_once, prepare_images
from vae.cli import Parser, cli
from vae.measures import count_parameters
from vae.registry import config_to_dict
from vae.training import evaluate
from vae.cli import UserError
from vae.files import CHECKPOINT, load_checkpoint, load_mnist, model_from_state, save_checkpoint, write_text

MANIFEST = ROOT / "pretrained" / "manifest.json"
CHECK_IMAGES = 1000  # test images the manifest's negative ELBO is measured on


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@torch.no_grad()
def check_nelbo(model, data_root: Path, binarize: str = "none") -> float:
    """Test negative ELBO, nats per image, on the first CHECK_IMAGES test images: seed 0, CPU;
    binarized as evaluate.py does (the whole test set once, seed 123) for a binarized model."""
    x = prepare_images(load_mnist(data_root, train=False), model.cfg)
    x = (binarized_once(x) if binarize == "dynamic" else x)[:CHECK_IMAGES]
    torch.manual_seed(0)
    return evaluate(model, x, 100)["negative_elbo"]


def evaluation_entry(path: Path) -> dict:
    """The manifest's record of an evaluate.py JSON: k, test images, nats and standard error."""
    try:
        ev = json.loads(path.read_text())
        return {"k": ev["iwae_k"], "test_images": ev["test_images"], "nats": round(ev["iwae_nats"], 2),
                "se": round(ev["iwae_se"], 2), "binarized": ev["binarized"], "device": ev["device"]}
    except (OSError, ValueError, KeyError) as e:
        raise UserError(f"--evaluation {path}: not an evaluate.py JSON ({type(e).__name__}: {e})") from None


def build_parser():
    p = Parser(prog="pretrained/export.py", description="Export a finished run's weights to pretrained/NAME.pt.")
    p.add_argument("run", type=Path, help="a run folder with checkpoint.pt")
    p.add_argument("name", help="file name without .pt, e.g. model1")
    p.add_argument("--data-root", type=Path, default=Path("./data"), help="MNIST folder; default ./data")
    p.add_argument("--command", default="", help="the main.py command that trained the run, for the manifest")
    p.add_argument("--evaluation", type=Path, default=None,
                   help="an evaluate.py JSON of the exported weights: its importance-weighted bound goes into the manifest")
    return p


@cli("pretrained/export.py")
def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if not args.name.replace("_", "").replace("-", "").isalnum():
        raise UserError(f"name {args.name!r}: letters, digits, - and _ only")
    state = load_checkpoint(args.run / CHECKPOINT)
    model = model_from_state(state, args.run / CHECKPOINT)
    out = ROOT / "pretrained" / f"{args.name}.pt"
    weights = {k: v.detach().float().cpu().clone() for k, v in model.state_dict().items()}
    saved = {"model": weights, "config": config_to_dict(model.cfg), "epoch": state["epoch"]}
    binarize = state.get("train_config", {}).get("binarize", "none")
    if binarize != "none":  # evaluate.py and the tests then measure it on the test set it was trained for
        saved["train_config"] = {k: state["train_config"][k] for k in ("binarize", "test_binarization_seed")}
    save_checkpoint(out, saved)
    entry = {
        "sha256": sha256(out), "parameters": count_parameters(model), "epochs": state["epoch"],
        "test_negative_elbo_first_1000": round(check_nelbo(model, args.data_root, binarize), 4),
        "trained_by": args.command or f"see {args.run}/config.json",
    }
    if args.evaluation is not None:
        entry["importance_weighted"] = evaluation_entry(args.evaluation)
    manifest = json.loads(MANIFEST.read_text()) if MANIFEST.exists() else {}
    manifest[out.name] = entry
    write_text(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    print(f"wrote {out} ({out.stat().st_size / 2**20:.1f} MiB, sha256 {entry['sha256']}): "
          f"{entry['parameters']:,} parameters, test negative ELBO {entry['test_negative_elbo_first_1000']:.2f} nats "
          f"on the first {CHECK_IMAGES} test images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
