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

from vae.data import prepare_images
from vae.cli import Parser, cli
from vae.measures import count_parameters
from vae.registry import config_to_dict
from vae.training import evaluate
from vae.files import CHECKPOINT, UserError, load_checkpoint, load_mnist, model_from_state, save_checkpoint, write_text

MANIFEST = ROOT / "pretrained" / "manifest.json"
CHECK_IMAGES = 1000  # test images the manifest's negative ELBO is measured on


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@torch.no_grad()
def check_nelbo(model, data_root: Path) -> float:
    """Test negative ELBO, nats per image, on the first CHECK_IMAGES test images: seed 0, CPU."""
    x = prepare_images(load_mnist(data_root, train=False)[:CHECK_IMAGES], model.cfg)
    torch.manual_seed(0)
    return evaluate(model, x, 100)["negative_elbo"]


def build_parser():
    p = Parser(prog="pretrained/export.py", description="Export a finished run's weights to pretrained/NAME.pt.")
    p.add_argument("run", type=Path, help="a run folder with checkpoint.pt")
    p.add_argument("name", help="file name without .pt, e.g. model1")
    p.add_argument("--data-root", type=Path, default=Path("./data"), help="MNIST folder; default ./data")
    p.add_argument("--command", default="", help="the main.py command that trained the run, for the manifest")
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
    save_checkpoint(out, {"model": weights, "config": config_to_dict(model.cfg), "epoch": state["epoch"]})
    entry = {
        "sha256": sha256(out), "parameters": count_parameters(model), "epochs": state["epoch"],
        "test_negative_elbo_first_1000": round(check_nelbo(model, args.data_root), 4),
        "trained_by": args.command or f"see {args.run}/config.json",
    }
    manifest = json.loads(MANIFEST.read_text()) if MANIFEST.exists() else {}
    manifest[out.name] = entry
    write_text(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    print(f"wrote {out} ({out.stat().st_size / 2**20:.1f} MiB, sha256 {entry['sha256']}): "
          f"{entry['parameters']:,} parameters, test negative ELBO {entry['test_negative_elbo_first_1000']:.2f} nats "
          f"on the first {CHECK_IMAGES} test images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
