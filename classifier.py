"""A small MNIST classifier, trained here, that checks whether generated digits show the asked class.

    python classifier.py --data-root ../shared/data     # about 5 minutes on 2 CPU cores; writes runs/classifier.pt

It is a judge, not a subject: two conv layers and one linear layer, trained a few epochs
to at least 99 % test accuracy. Its weights stay out of git; this command rebuilds them.
For 14x14 models (mlp14) the digits are enlarged to 28x28 before classifying; the script
also reports the accuracy on the test set shrunk and binarized the same way, so that the
judge's own error on such images is known.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from vae.cli import Parser, cli, positive_float, positive_int
from vae.classifier import Classifier, predict
from vae.files import load_mnist, save_checkpoint, write_text

CLASSIFIER = Path("runs/classifier.pt")


def build_parser():
    p = Parser(prog="classifier.py", description="Train the small MNIST classifier that judges generated digits.")
    p.add_argument("--data-root", type=Path, default=Path("./data"), help="folder holding MNIST/raw/; default ./data")
    p.add_argument("--out", type=Path, default=CLASSIFIER, help=f"where the weights go; default {CLASSIFIER}")
    p.add_argument("--epochs", type=positive_int, default=5)
    p.add_argument("--lr-decay", type=positive_float, default=0.6, help="learning rate factor per epoch; default 0.6")
    p.add_argument("--batch-size", type=positive_int, default=64)
    p.add_argument("--lr", type=positive_float, default=1e-3)
    p.add_argument("--limit", type=positive_int, default=None, help="only the first N training (and test) images, for quick runs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-progress", action="store_true")
    return p


def train(args) -> dict:
    from vae.data import prepare_images
    from vae.presets import ARCHS

    torch.manual_seed(args.seed)
    images, labels = load_mnist(args.data_root, train=True, with_labels=True)
    test_images, test_labels = load_mnist(args.data_root, train=False, with_labels=True)
    x, y = images[: args.limit].float().div(255).unsqueeze(1), labels[: args.limit]
    test_images, test_labels = test_images[: args.limit], test_labels[: args.limit]  # --limit: quick runs
    test_x = test_images.float().div(255).unsqueeze(1)
    model = Classifier()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=args.lr_decay)  # a flat rate stopped short of 99 %
    gen = torch.Generator().manual_seed(args.seed)
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(x), generator=gen)
        starts = range(0, len(x), args.batch_size)
        for start in tqdm(starts, desc=f"epoch {epoch + 1}", leave=False, disable=args.no_progress or not sys.stderr.isatty()):
            idx = order[start : start + args.batch_size]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sched.step()
        acc = (predict(model, test_x) == test_labels).float().mean().item()
        print(f"epoch {epoch + 1}/{args.epochs}: test accuracy {acc:.4f}", flush=True)
    seconds = time.perf_counter() - t0
    small = prepare_images(test_images, ARCHS["mlp14"].model)  # 14x14 binarized, as mlp14 sees MNIST
    acc14 = (predict(model, small) == test_labels).float().mean().item()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(args.out, {"model": model.state_dict(), "config": asdict(model.cfg), "test_accuracy": acc,
                               "test_accuracy_14x14_binary": acc14, "seconds": seconds})
    return {"test_accuracy": acc, "test_accuracy_14x14_binary": acc14, "seconds": seconds}


@cli("classifier.py")
def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    result = train(args)
    print(f"test accuracy {result['test_accuracy']:.4f} (14x14 binarized: {result['test_accuracy_14x14_binary']:.4f}), "
          f"{result['seconds']:.0f} s; wrote {args.out}")
    write_text(args.out.with_suffix(".json"), json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
