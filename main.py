"""Train the report's VAE (or a peer, --arch, or any encoder with any decoder) on MNIST and
write model.pk, checkpoint.pt and Figure 1.

    python main.py --data-root ../shared/data            # the report's Model 1, 50 epochs
    python main.py --model 2 --out-dir runs/model2       # Table 2's Model 2
    python main.py --out-dir runs/model2 --resume        # continue an interrupted run
    python main.py --arch mlp --out-dir runs/mlp         # 003's VAE with 003's settings
    python main.py --encoder lstm-vector --decoder mlp --out-dir runs/lv_mlp   # a composed VAE

The steps are the report's original script's: the settings, the data, the model and its
optimizer, the training loop, then model.pk. Every default is the report's value, or with
--arch the chosen document's (vae/presets.py). See README.md for the outputs.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import torch

from vae.cli import Parser, UserError, cli, pick_device, with_default
from vae.config import EVAL_BATCH, RunConfig, add_setting_flags, flag_name, training_settings
from vae.data import binarized_once, prepare_images
from vae.device import machine, prepare_device
from vae.files import FIGURE1, load_mnist
from vae.parts import build_model
from vae.presets import ARCHS, chosen_model
from vae.registry import DECODERS, ENCODERS, OBJECTIVES, PRIORS, all_options, named
from vae.trainer import Trainer


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="main.py", description="Train the LSTM-encoder / transpose-conv-decoder VAE of the report "
               "(or, with --arch, a peer VAE) on MNIST. Every default is the report's value; with --arch, that source's.")
    p.add_argument("--data-root", type=Path, default=Path("./data"),
                   help="folder holding MNIST/raw/ (torchvision downloads it there when online); default ./data")
    p.add_argument("--out-dir", type=Path, default=Path("."), help="where model.pk, checkpoint.pt and figures go; default .")
    p.add_argument("--arch", choices=sorted(ARCHS), default="lstm",
                   help=named(ARCHS) + ". Unset flags take that source's values")
    p.add_argument("--encoder", choices=sorted(ENCODERS), default=None,
                   help="compose a VAE with the report's training settings: this encoder (" + named(ENCODERS)
                        + "); default lstm when --decoder is given")
    p.add_argument("--decoder", choices=sorted(DECODERS), default=None,
                   help="compose a VAE: this decoder (" + named(DECODERS) + "); default report when --encoder is given")
    p.add_argument("--objective", choices=sorted(OBJECTIVES), default=None,
                   help="training loss: " + named(OBJECTIVES) + "; default: the architecture's own (elbo for a "
                        "composed VAE)")
    p.add_argument("--prior", choices=sorted(PRIORS), default=None,
                   help="p(z) of a composed VAE: " + named(PRIORS) + "; default normal")
    for option in all_options().values():  # the parts' and objectives' own (--latent, --free-bits, ...)
        p.add_argument(flag_name(option.name), default=None, help=with_default(option.help, option.default),
                       **option.flag)
    add_setting_flags(p)  # --epochs, --batch-size, --lr, ...: vae/config.py's TrainConfig
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto",
                   help="auto = cuda, else mps, else cpu")
    p.add_argument("--no-cuda-graph", action="store_true",
                   help="on CUDA, run every step eagerly instead of replaying it from a CUDA graph "
                        "(the graph is the default there, and is off with --bf16)")
    p.add_argument("--default-malloc", action="store_true",
                   help="on CPU, leave glibc's malloc as it is (by default freed memory is kept for reuse: "
                        "faster, same results; see vae/device.py)")
    p.add_argument("--resume", action="store_true", help="continue from OUT_DIR/checkpoint.pt")
    p.add_argument("--overwrite", action="store_true", help="start afresh even if OUT_DIR holds an earlier run")
    p.add_argument("--no-progress", action="store_true", help="no progress bars (they are off anyway when not a terminal)")
    p.add_argument("--download-only", action="store_true",
                   help="only make sure MNIST is in --data-root (torchvision downloads it when it is not), then stop")
    return p


def run_config(args: argparse.Namespace, argv: list[str]) -> RunConfig:
    """The run's one configuration: --arch's preset (or a composed VAE), the flags, this machine."""
    arch, model_cfg, preset = chosen_model(args)
    device = pick_device(args.device)
    facts = prepare_device(device, bool(args.bf16), bool(args.deterministic), args.default_malloc)
    train = training_settings(
        preset, args, arch=arch, device=str(device), data_root=str(args.data_root),
        eval_batch_size=args.eval_batch_size or EVAL_BATCH.get(device.type, EVAL_BATCH["cpu"]),
        cuda_graph=facts["cuda_graph"] and not args.no_cuda_graph, reuse_freed_memory=facts["reuse_freed_memory"],
        threads=torch.get_num_threads(), machine=machine(device), command=shlex.join(["python", "main.py", *argv]))
    return RunConfig(model_cfg, train)


def load_data(run: RunConfig):
    """(training images as uint8, train_x, test_x): the model's input, on the device, where the whole set lives."""
    train_images = load_mnist(run.train.data_root, train=True)
    test_images = load_mnist(run.train.data_root, train=False)
    n = len(train_images) if run.train.limit is None else run.train.limit
    if n > len(train_images):
        raise UserError(f"--limit {n} is larger than the {len(train_images)} training images")
    train_x = prepare_images(train_images[:n], run.model, run.train.device)  # (N, 1, s, s)
    test_x = prepare_images(test_images, run.model, run.train.device)
    if run.train.binarize == "dynamic":  # the whole set, then the slice
        test_x = binarized_once(test_x, run.train.test_binarization_seed)
    return train_images, train_x, test_x[: min(n, len(test_images))]


def save_figure1(run: RunConfig, train_images: torch.Tensor, out: Path) -> None:
    """The report's Figure 1: 100 random training images."""
    from vae.plotting import save_image_grid  # matplotlib only where a figure is drawn

    pick = torch.randperm(len(train_images), generator=torch.Generator().manual_seed(run.train.seed))[:100]
    save_image_grid(prepare_images(train_images[pick], run.model).squeeze(1).numpy(), out / FIGURE1,
                    "100 random MNIST training images (Figure 1)")


@cli("main.py")
def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    argv = sys.argv[1:] if argv is None else list(map(str, argv))
    if args.download_only:
        for train_split in (True, False):
            load_mnist(args.data_root, train=train_split)  # downloads the four files when they are missing
        print(f"MNIST is in {args.data_root / 'MNIST' / 'raw'}")
        return 0
    run = run_config(args, argv)  # the original's settings, frozen: every one recorded with the run
    trainer = Trainer(run, args.out_dir, progress=not args.no_progress and sys.stderr.isatty())
    with trainer.session(resume=args.resume, overwrite=args.overwrite):
        if trainer.finished():
            return 0
        with trainer.clock.phase("data"):  # the original's MNIST dataset, divided by 255
            train_images, train_x, test_x = load_data(run)
        torch.manual_seed(run.train.seed)  # seeds CPU and CUDA: initialisation, eps, dropout masks
        model = build_model(run.model, run.train.device)  # the original's VAE()
        with trainer.clock.phase("optimizer"):  # torch.optim's first call imports torch._dynamo
            opt = torch.optim.Adam(model.parameters(), lr=run.train.lr, betas=run.train.betas, eps=run.train.eps,
                                   capturable=run.train.cuda_graph)
        if trainer.state is None:
            with trainer.clock.phase("Figure 1"):
                save_figure1(run, train_images, args.out_dir)
        trainer.fit(model, opt, train_x, test_x)  # the original's loop over 50 epochs, then its pickle to model.pk
    return 0


if __name__ == "__main__":
    sys.exit(main())
