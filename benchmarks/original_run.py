"""Train with the re-created original loop for whole epochs, to draw its trajectory beside ours.

    python -m benchmarks.original_run --data-root ../shared/data --out-dir runs/original_loop
    python -m benchmarks.original_run --data-root ../shared/data --out-dir runs/original_loop --resume

`vae.original.original_loop` is the report's original loop as far as its facts go (plain torch
modules, a DataLoader in order, gradients asked for the input, every batch copied to the
host). It starts from the weights main.py starts from with the same --seed, draws its noise
from the same stream, and evaluates the test set after each epoch as main.py does, so it
differs from main.py's run only in how the arithmetic is done: where the two trajectories
part, that is floating-point chaos, not a different model or loop. `report/build.py
--original` draws it in Figures 2-3. Writes history.json and checkpoint.pt (every epoch,
--resume continues); no model.pk.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import torch

from vae.data import prepare_images
from vae.cli import Parser, cli, pick_device, positive_float, positive_int
from model import PRESETS, VAE
from vae.original import original_loop
from vae.training import evaluate
from vae.registry import config_to_dict
from vae.cli import UserError
from vae.files import CHECKPOINT, load_checkpoint, load_mnist, save_checkpoint, write_text

HISTORY = "history.json"
# Settings a resumed run must share with its checkpoint.
MUST_MATCH = ("model", "seed", "batch_size", "lr", "limit")


def one_epoch(model, opt, train_data, test_x, batch_size, device) -> dict:
    """Train one epoch with the original loop, then evaluate as main.py does."""
    t0 = time.perf_counter()
    klds = []
    losses = original_loop(model, opt, train_data, batch_size, math.ceil(len(train_data) / batch_size), device, klds)
    seconds = time.perf_counter() - t0
    test = evaluate(model, test_x, 100)
    model.train()
    return {"train_loss_history": losses[-1], "train_regularization_terms": klds[-1],
            "train_loss_epoch_mean": sum(losses) / len(losses), "train_kld_epoch_mean": sum(klds) / len(klds),
            "test_negative_elbo": test["negative_elbo"], "epoch_seconds": seconds}


def start(args, out: Path, settings: dict, model, opt) -> tuple[dict, int]:
    """(history, first epoch): from the checkpoint with --resume, else empty."""
    ckpt = out / CHECKPOINT
    if not args.resume:
        if ckpt.exists() and not args.overwrite:
            raise UserError(f"{out} already holds a run: continue it with --resume, or start afresh with --overwrite")
        return {}, 0
    if not ckpt.is_file():
        raise UserError(f"--resume: no {CHECKPOINT} in {out} to continue from")
    state = load_checkpoint(ckpt)
    for key in MUST_MATCH:
        if state["settings"][key] != settings[key]:
            raise UserError(f"--resume: the checkpoint was trained with {key} {state['settings'][key]}, not {settings[key]}")
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["rng"])
    return state["history"], state["epoch"]


@cli("original_run.py")
def main(argv=None) -> int:
    p = Parser(prog="original_run.py", description=__doc__.splitlines()[0])
    p.add_argument("--data-root", type=Path, default=Path("./data"))
    p.add_argument("--out-dir", type=Path, default=Path("runs/original_loop"))
    p.add_argument("--epochs", type=positive_int, default=50, help="default 50, as the report")
    p.add_argument("--model", type=int, choices=sorted(PRESETS), default=1)
    p.add_argument("--batch-size", type=positive_int, default=100)
    p.add_argument("--lr", type=positive_float, default=1e-3)
    p.add_argument("--seed", type=int, default=0, help="the same seed as main.py's run gives the same start")
    p.add_argument("--limit", type=positive_int, default=None, help="only the first N training (and test) images")
    p.add_argument("--device", choices=("cpu",), default="cpu",
                   help="cpu only: the RNG state it saves and restores is the CPU's")
    p.add_argument("--resume", action="store_true", help="continue from --out-dir's checkpoint.pt")
    p.add_argument("--overwrite", action="store_true", help="start afresh over an earlier run in --out-dir")
    args = p.parse_args(argv)
    device = pick_device(args.device)
    settings = {k: getattr(args, k) for k in MUST_MATCH} | {"epochs": args.epochs, "threads": torch.get_num_threads()}
    out = args.out_dir
    out.mkdir(parents=True, exist_ok=True)

    images = load_mnist(args.data_root, train=True)[: args.limit]
    train_data = images.float() / 255  # the original's train.data / 255
    test_x = prepare_images(load_mnist(args.data_root, train=False)[: args.limit], PRESETS[args.model], device)
    torch.manual_seed(args.seed)  # as main.py: the same weights, then the same noise stream
    model = VAE(PRESETS[args.model]).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    history, first = start(args, out, settings, model, opt)
    for epoch in range(first, args.epochs):
        for key, value in one_epoch(model, opt, train_data, test_x, args.batch_size, device).items():
            history.setdefault(key, []).append(value)
        print(f"Epoch:{epoch + 1}/{args.epochs}, Train_Loss:{history['train_loss_history'][-1]}, "
              f"Train_Reg_Term:{history['train_regularization_terms'][-1]} | "
              f"test -ELBO {history['test_negative_elbo'][-1]:.2f} nats | {history['epoch_seconds'][-1]:.1f} s", flush=True)
        write_text(out / HISTORY, json.dumps({"settings": settings, **history}, indent=1) + "\n")
        save_checkpoint(out / CHECKPOINT, {
            "model": model.state_dict(), "config": config_to_dict(PRESETS[args.model]), "optimizer": opt.state_dict(),
            "epoch": epoch + 1, "settings": settings, "history": history, "rng": torch.get_rng_state()})
    print(f"wrote {out / HISTORY} and {out / CHECKPOINT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
