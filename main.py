"""Train the report's VAE (or a peer, --arch, or any encoder with any decoder) on MNIST and
write model.pk, checkpoint.pt and Figure 1.

    python main.py --data-root ../shared/data            # the report's Model 1, 50 epochs
    python main.py --model 2 --out-dir runs/model2       # Table 2's Model 2
    python main.py --out-dir runs/model2 --resume        # continue an interrupted run
    python main.py --arch mlp --out-dir runs/mlp         # 003's VAE with 003's settings
    python main.py --encoder lstm-vector --decoder mlp --out-dir runs/lv_mlp   # a composed VAE

Every default is the report's value, or with --arch the chosen document's (vae/presets.py).
See README.md for the outputs.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import platform
import shlex
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from vae.cli import Parser, cli, non_negative_float, non_negative_int, pick_device, positive_float, positive_int, unit_fraction
from model import OBJECTIVES, PRESETS
from vae.data import BINARIZATIONS, TEST_BINARIZATION_SEED, binarized_once, prepare_images
from vae.measures import count_parameters
from vae.parts import build_model, compose, model_config
from vae.presets import ARCHS, COMPOSED_TRAINING
from vae.registry import DECODERS, ENCODERS, Sizes, config_to_dict
from vae.training import (
    HISTORY_KEYS,
    TrainingDiverged,
    TrainStep,
    batch_sizes,
    LR_SCHEDULES,
    burda_stage,
    ends_stage,
    evaluate,
    grouped_steps,
    kl_weight,
    scheduled_lr,
    peak_memory,
    reuse_freed_memory,
    rng_state,
    set_capturable,
    set_rng_state,
    stop_early,
    train_epoch,
    weights_finite,
)
from vae.files import (
    CHECKPOINT,
    CONFIG_JSON,
    EPOCH1_CHECKPOINT,
    FIGURE1,
    MODEL_PK,
    UserError,
    load_checkpoint,
    load_mnist,
    make_out_dir,
    run_lock,
    save_checkpoint,
    save_results,
    write_text,
)

# Settings a resumed run must share with its checkpoint; --epochs and --device may change.
RESUME_MUST_MATCH = ("arch", "batch_size", "lr", "betas", "eps", "model", "seed", "shuffle", "limit", "patience",
                     "binarize", "lr_schedule", "record_every")
# Room a run needs beyond its files: a checkpoint is written beside the old one, then renamed.
DISK_MARGIN = 16 * 2**20
# Evaluation batch by device. On a GPU, batches of 100 are bound by kernel launches, and
# 2000 images fit any CUDA card (benchmarks/README.md). The CPU keeps 100, so its runs draw
# the same noise as before, bit for bit.
EVAL_BATCH = {"cpu": 100, "cuda": 2000}


def named(table: dict) -> str:
    """'name = help, ...' of a registry, for --help."""
    return ", ".join(f"{name} = {entry.help}" for name, entry in sorted(table.items()))


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="main.py", description="Train the LSTM-encoder / transpose-conv-decoder VAE of the report "
               "(or, with --arch, a peer VAE) on MNIST.")
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
                   help="training loss: " + "; ".join(f"{k} = {v}" for k, v in OBJECTIVES.items())
                        + "; default: the architecture's own (elbo for a composed VAE)")
    p.add_argument("--latent", type=positive_int, default=20,
                   help="latent size of vector-latent parts (lstm-vector, conv, mlp) when composing; default 20")
    p.add_argument("--mlp-hidden", type=positive_int, nargs="+", default=None, metavar="N",
                   help="hidden sizes of the mlp parts when composing (the decoder mirrors them); default 400 "
                        "(pytorch/examples')")
    p.add_argument("--lstm-hidden", type=positive_int, default=None,
                   help="LSTM hidden size of the lstm encoders when composing; default 32 (the report's)")
    p.add_argument("--decoder-hidden", type=positive_int, default=None,
                   help="LSTM hidden size of the lstm decoders; default 256")
    p.add_argument("--decoder-alone", action="store_true",
                   help="the lstm decoders ignore z: an autoregressive model alone, the baseline a latent must beat")
    p.add_argument("--row-dropout", type=unit_fraction, default=None,
                   help="lstm decoders: in training, hide each row they read with this chance; default 0")
    p.add_argument("--free-bits", type=non_negative_float, default=None,
                   help="elbo objective: each latent dimension's KL counts at least this many nats; default 0")
    p.add_argument("--kl-warmup", type=non_negative_int, default=None,
                   help="elbo objective: the KL's weight rises linearly to 1 over this many epochs; default 0")
    p.add_argument("--epochs", type=positive_int, default=None, help="default 50 (the report's)")
    p.add_argument("--batch-size", type=positive_int, default=None, help="default 100 (the report's)")
    p.add_argument("--lr", type=positive_float, default=None, help="Adam learning rate; default 0.001 (the report's)")
    p.add_argument("--betas", type=positive_float, nargs=2, default=None, metavar=("B1", "B2"),
                   help="Adam betas; default 0.9 0.999 (PyTorch's, which the report used)")
    p.add_argument("--eps", type=positive_float, default=None, help="Adam's epsilon; default 1e-8 (PyTorch's)")
    p.add_argument("--lr-schedule", choices=LR_SCHEDULES, default=None,
                   help="constant (default), or burda: Burda et al. (2016)'s stages i = 0, 1, ... of 3^i epochs "
                        "at lr * 10^(-i/7), keeping checkpoint_stage<i>.pt at each stage's end")
    p.add_argument("--binarize", choices=BINARIZATIONS, default=None,
                   help="none = grey levels as BCE targets (the report's; default); dynamic = every training batch "
                        f"binarized afresh (u <= x, u uniform, from the run's seeded generator), the test set once "
                        f"with seed {TEST_BINARIZATION_SEED}: the VAE literature's benchmark")
    p.add_argument("--record-every", type=positive_int, default=None,
                   help="average this many steps into one entry of the per-step ELBO terms (default 1: every step)")
    p.add_argument("--patience", type=non_negative_int, default=None,
                   help="stop after this many epochs without a better test negative ELBO (default: never; conv: 10; 0: never)")
    p.add_argument("--model", type=int, choices=sorted(PRESETS), default=1,
                   help="Table 2: 1 = 32x256 FC + dropout (default), 2 = 32x16 FC, no dropout; "
                        "for --arch lstm and for the report's parts of a composed VAE")
    p.add_argument("--seed", type=int, default=0, help="seeds initialisation, noise, dropout, shuffling and Figure 1")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto",
                   help="auto = cuda, else mps, else cpu")
    p.add_argument("--shuffle", action=argparse.BooleanOptionalAction, default=None,
                   help="shuffle batches each epoch (default: no, as the report's original; the peers shuffle)")
    p.add_argument("--limit", type=positive_int, default=None,
                   help="use only the first N training images (and at most N test images), for quick runs")
    p.add_argument("--eval-batch-size", type=positive_int, default=None,
                   help=f"batch size of the test- and training-set evaluations (it changes only which noise they draw); "
                        f"default {EVAL_BATCH['cpu']}, on CUDA {EVAL_BATCH['cuda']}")
    p.add_argument("--bf16", action="store_true",
                   help="forward pass in bfloat16 autocast (AMP on CUDA); fast only where the hardware has bf16")
    p.add_argument("--no-cuda-graph", action="store_true",
                   help="on CUDA, run every step eagerly instead of replaying it from a CUDA graph "
                        "(the graph is the default there, and is off with --bf16)")
    p.add_argument("--default-malloc", action="store_true",
                   help="on CPU, leave glibc's malloc as it is (by default freed memory is kept for reuse: "
                        "faster, same results; see reuse_freed_memory)")
    p.add_argument("--deterministic", action="store_true",
                   help="on CUDA, PyTorch's reproducibility settings (deterministic algorithms, no cuDNN autotuning, "
                        "a fixed cuBLAS workspace): bit-identical reruns on one GPU, somewhat slower. CPU runs are "
                        "deterministic already")
    p.add_argument("--resume", action="store_true", help="continue from OUT_DIR/checkpoint.pt")
    p.add_argument("--overwrite", action="store_true", help="start afresh even if OUT_DIR holds an earlier run")
    p.add_argument("--no-progress", action="store_true", help="no progress bars (they are off anyway when not a terminal)")
    p.add_argument("--download-only", action="store_true",
                   help="only make sure MNIST is in --data-root (torchvision downloads it when it is not), then stop")
    return p


def resolve(args) -> argparse.Namespace:
    """Fill the flags left unset from the chosen architecture's preset; args.cfg is the model."""
    composed = args.encoder is not None or args.decoder is not None
    if composed:
        args.encoder, args.decoder = args.encoder or "lstm", args.decoder or "report"
    report_parts = not composed and args.arch == "lstm" or composed and (
        ENCODERS[args.encoder].uses_report_sizes or DECODERS[args.decoder].uses_report_sizes)
    if composed and args.arch != "lstm":
        raise UserError("--encoder/--decoder compose a VAE of their own; leave --arch out")
    if args.model != 1 and not report_parts:
        raise UserError("--model chooses between the report's two LSTM models; it needs --arch lstm or a report part")
    if composed:
        args.arch = "composed"
        sizes = Sizes(PRESETS[args.model], args.latent, args.lstm_hidden, tuple(args.mlp_hidden or Sizes.mlp_hidden),
                      args.decoder_hidden or Sizes.decoder_hidden, args.decoder_alone, args.row_dropout or 0.0)
        try:
            cfg = compose(args.encoder, args.decoder, sizes, args.objective or "elbo", args.free_bits or 0.0,
                          args.kl_warmup or 0)
        except ValueError as e:
            raise UserError(str(e)) from None
    else:
        composing = ("lstm_hidden", "mlp_hidden", "decoder_hidden", "row_dropout", "free_bits", "kl_warmup")
        if any(getattr(args, k) is not None for k in composing) or args.decoder_alone:
            raise UserError("--lstm-hidden, --mlp-hidden, --decoder-hidden, --decoder-alone, --row-dropout, --free-bits "
                            "and --kl-warmup shape a composed VAE; they need --encoder or --decoder")
        cfg = PRESETS[args.model] if args.arch == "lstm" else ARCHS[args.arch].model
    if args.objective is not None:
        cfg = dataclasses.replace(cfg, objective=args.objective)
    args.cfg = cfg
    training = COMPOSED_TRAINING if composed else ARCHS[args.arch].training
    for key, value in training.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.betas = tuple(args.betas)
    args.patience = args.patience or None  # --patience 0: never stop early, whatever the preset
    if args.binarize == "dynamic" and getattr(cfg, "binarize", False):
        raise UserError(f"--arch {args.arch} binarizes by its own threshold (004's); --binarize dynamic does not apply")
    if not all(b < 1 for b in args.betas):
        raise UserError(f"--betas must each be below 1, got {' '.join(map(str, args.betas))}")
    return args


def check_resumable(state: dict, settings: dict, cfg, epochs: int) -> None:
    saved = state.get("train_config", {})
    for key in RESUME_MUST_MATCH:
        if saved.get(key) != settings[key]:
            flag = "--" + key.replace("_", "-")
            raise UserError(
                f"--resume: the checkpoint was trained with {flag} {saved.get(key)}, not {settings[key]}; "
                f"pass the same {flag}, or start afresh with --overwrite"
            )
    try:
        same = model_config(state["config"]) == cfg
    except (ValueError, TypeError):
        same = False
    if not same:
        raise UserError("--resume: the checkpoint holds another model than these flags ask for (--encoder, --decoder, "
                        "--objective, --latent, --lstm-hidden); pass the same flags, or start afresh with --overwrite")
    if state["epoch"] > epochs:
        raise UserError(f"--resume: the checkpoint has already trained {state['epoch']} epochs, more than --epochs {epochs}")


class Clock:
    """Seconds spent in named phases of one train() call, for the time line at its end."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def phase(self, name: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0


@dataclass
class Run:
    """What one training run needs beside the model: where, on what, with which settings."""

    args: argparse.Namespace
    out: Path
    device: torch.device
    settings: dict
    cfg: object
    state: dict | None  # the checkpoint resumed from
    clock: Clock = field(default_factory=Clock)


def apply_determinism(device: torch.device) -> None:
    """PyTorch's reproducibility settings (its 'Reproducibility' notes). The cuBLAS workspace
    setting must be in the environment before the first cuBLAS call."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True


BF16_MIN_CAPABILITY = (8, 0)  # Ampere: the first GPUs with bf16 arithmetic


def check_bf16(args, device: torch.device) -> None:
    """Refuse --bf16 on a GPU that only emulates bf16 (Colab's T4: compute capability 7.5). A
    quiet fallback to fp32 would run other numbers than asked; fp32 is the fast path there."""
    if args.bf16 and device.type == "cuda":
        capability = torch.cuda.get_device_capability(device)
        if capability < BF16_MIN_CAPABILITY:
            raise UserError(f"--bf16 needs a GPU of compute capability {'.'.join(map(str, BF16_MIN_CAPABILITY))} or "
                            f"newer; this {torch.cuda.get_device_name(device)} has {'.'.join(map(str, capability))} and "
                            "only emulates bf16, several times slower than fp32: leave --bf16 out")


def machine(device: torch.device) -> str:
    """The device in words, for the timings beside a run's results."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpu = platform.processor() or platform.machine()
    try:  # Linux names the processor here; platform does not
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return f"{cpu}, {torch.get_num_threads()} threads"


def set_up(args) -> Run:
    """Check the flags against the out-dir and any checkpoint; choose the device."""
    out = make_out_dir(args.out_dir)
    device = pick_device(args.device)
    check_bf16(args, device)
    if args.eval_batch_size is None:
        args.eval_batch_size = EVAL_BATCH.get(device.type, EVAL_BATCH["cpu"])
    if args.deterministic:
        apply_determinism(device)
    elif device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    graph = device.type == "cuda" and not args.bf16 and not args.no_cuda_graph  # see TrainStep
    reused = device.type == "cpu" and not args.default_malloc and reuse_freed_memory()
    settings = {
        "arch": args.arch, "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
        "betas": list(args.betas), "eps": args.eps, "patience": args.patience, "model": args.model,
        "seed": args.seed, "shuffle": args.shuffle, "limit": args.limit, "binarize": args.binarize,
        "test_binarization_seed": TEST_BINARIZATION_SEED if args.binarize == "dynamic" else None,
        "lr_schedule": args.lr_schedule, "record_every": args.record_every,
        "objective": args.cfg.objective,
        "bf16": args.bf16, "eval_batch_size": args.eval_batch_size, "data_root": str(args.data_root), "device": str(device),
        "cuda_graph": graph, "reuse_freed_memory": reused, "deterministic": args.deterministic,
        "threads": torch.get_num_threads(),  # CPU timings depend on it
        "machine": machine(device),
        "command": args.command,
    }
    ckpt_path = out / CHECKPOINT
    state = None
    if args.resume:
        if not ckpt_path.is_file():
            raise UserError(f"--resume: no {CHECKPOINT} in {out} to continue from")
        state = load_checkpoint(ckpt_path, map_location=device)
        check_resumable(state, settings, args.cfg, args.epochs)
    elif ckpt_path.exists() and not args.overwrite:
        raise UserError(f"{out} already holds a run ({CHECKPOINT}): continue it with --resume, or start afresh with --overwrite")
    return Run(args, out, device, settings, args.cfg, state)


def load_data(run: Run):
    """(train_x, test_x) as the model's input, on the device: the whole set lives there."""
    train_images = load_mnist(run.args.data_root, train=True)
    test_images = load_mnist(run.args.data_root, train=False)
    n = len(train_images) if run.args.limit is None else run.args.limit
    if n > len(train_images):
        raise UserError(f"--limit {n} is larger than the {len(train_images)} training images")
    train_x = prepare_images(train_images[:n], run.cfg, run.device)  # (N, 1, s, s)
    test_x = prepare_images(test_images, run.cfg, run.device)
    if run.args.binarize == "dynamic":
        test_x = binarized_once(test_x, run.settings["test_binarization_seed"])  # the whole set, then the slice
    return train_images, train_x, test_x[: min(n, len(test_images))]


def check_free_space(out: Path, n_images: int, cfg, model) -> None:
    """Refuse before training when --out-dir cannot hold the run's files."""
    params = count_parameters(model) * 4
    need = n_images * cfg.image_size**2 * 4 + 2 * 3 * params + params + DISK_MARGIN  # model.pk, checkpoint x2, epoch 1
    free = shutil.disk_usage(out).free
    if free < need:
        raise UserError(f"--out-dir {out} has {free / 2**20:.0f} MiB free, and this run needs about {need / 2**20:.0f} MiB "
                        f"(model.pk {n_images * cfg.image_size**2 * 4 / 2**20:.0f} MiB and checkpoints); "
                        "free some space or choose another --out-dir")


def start_state(run: Run, model, opt, shuffle_gen) -> tuple[dict, int]:
    """(history, first epoch): from the checkpoint when resuming, else empty."""
    history = {key: [] for key in HISTORY_KEYS}
    if run.state is None:
        return history, 0
    state = run.state
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    set_capturable(opt, run.settings["cuda_graph"])
    history = state["history"]
    set_rng_state(state["rng"], shuffle_gen, run.device)
    print(f"resuming {run.out / CHECKPOINT} after epoch {state['epoch']}")
    return history, state["epoch"]


def save_figure1(run: Run, train_images) -> None:
    from vae.plotting import save_image_grid  # matplotlib only where a figure is drawn

    pick = torch.randperm(len(train_images), generator=torch.Generator().manual_seed(run.args.seed))[:100]
    save_image_grid(prepare_images(train_images[pick], run.cfg).squeeze(1).numpy(), run.out / FIGURE1,
                    "100 random MNIST training images (Figure 1)")


def set_lr(opt, step: TrainStep, lr: float) -> None:
    """The epoch's learning rate; a CUDA graph captured with another one is captured anew."""
    if any(group["lr"] != lr for group in opt.param_groups):
        for group in opt.param_groups:
            group["lr"] = lr
        step.forget_graph()


def set_kl_weight(step: TrainStep, weight: float) -> None:
    """The epoch's KL weight (warm-up); a CUDA graph captured with another one is captured anew."""
    if weight != step.kl_weight:
        step.kl_weight = weight
        step.forget_graph()


def epoch_record(trained, test: dict, train_s: float, eval_s: float, n: int, batch_size: int, every: int) -> dict:
    """One epoch's history values by key (HISTORY_KEYS), from train_epoch's result and the
    test evaluation; Table 1 logs the last batch's loss and KLD."""
    mean_loss, mean_kld, parts, steps = trained
    recorded = grouped_steps(steps, every)
    return {
        "train_loss_history": parts.total.item(), "train_regularization_terms": parts.kld.item(),
        "train_loss_epoch_mean": mean_loss, "train_kld_epoch_mean": mean_kld,
        "test_negative_elbo": test["negative_elbo"], "test_bce": test["bce"], "test_kld": test["kld"],
        "epoch_seconds": train_s, "eval_seconds": eval_s,
        "train_bce_epoch_mean": (steps[:, 0] * steps.new_tensor(batch_sizes(n, batch_size))).sum().item() / n,
        "step_bce": recorded[:, 0].tolist(), "step_kld": recorded[:, 1].tolist(),
    }


def record_epoch(history: dict, record: dict) -> None:
    """Append one epoch's record to the history, key by key."""
    if set(record) != set(HISTORY_KEYS):
        raise ValueError(f"an epoch record must hold exactly {HISTORY_KEYS}")
    for key in HISTORY_KEYS:
        history[key].append(record[key])


def write_results(run: Run, model, train_x, recon, history) -> None:
    """The training-set evaluation, then model.pk; a failed write says how to recover."""
    with run.clock.phase("training-set evaluation"):
        if run.args.binarize == "dynamic":
            train_x = binarized_once(train_x, run.settings["test_binarization_seed"])
        train_eval = evaluate(model, train_x, run.args.eval_batch_size)  # once, at the end: the training set's own nats
    print(f"training set negative ELBO {train_eval['negative_elbo']:.2f} nats "
          f"({run.clock.seconds['training-set evaluation']:.1f} s)")
    n, s = train_x.shape[0], run.cfg.image_size
    results = {
        # The original's three keys, same shapes and dtypes.
        "train_reconstruction_images": recon.reshape(n, s, s).cpu().numpy(),
        **history,
        "train_negative_elbo": train_eval["negative_elbo"],
        "config": {"train": run.settings, "model": config_to_dict(run.cfg)},
        "seed": run.args.seed,
    }
    with run.clock.phase(MODEL_PK):
        save_results(run.out / MODEL_PK, results)


def train(args) -> int:
    began = time.perf_counter()
    run = set_up(args)
    if run.state is not None and run.state["epoch"] == args.epochs:
        print(f"{run.out / CHECKPOINT} has already trained all {args.epochs} epochs and written {MODEL_PK}; "
              "pass a larger --epochs to go on")
        return 0
    with run.clock.phase("device start-up"):
        torch.empty(1, device=run.device)  # a GPU's context is made here, at its first tensor
    with run.clock.phase("data"):
        train_images, train_x, test_x = load_data(run)
    n = train_x.shape[0]

    torch.manual_seed(args.seed)  # seeds CPU and CUDA: initialisation, eps, dropout masks
    model = build_model(run.cfg, run.device)
    check_free_space(run.out, n, run.cfg, model)
    with run.clock.phase("optimizer"):  # torch.optim's first call imports torch._dynamo
        opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=args.betas, eps=args.eps,
                               capturable=run.settings["cuda_graph"])
    shuffle_gen = torch.Generator().manual_seed(args.seed)
    history, start = start_state(run, model, opt, shuffle_gen)
    if run.state is None:
        with run.clock.phase("Figure 1"):
            save_figure1(run, train_images)
    write_text(run.out / CONFIG_JSON, json.dumps({"train": run.settings, "model": config_to_dict(run.cfg)}, indent=2) + "\n")
    if stop_early(history["test_negative_elbo"], args.patience):
        print(f"{run.out / CHECKPOINT} had already stopped early after epoch {start}")
        return 0

    progress = not args.no_progress and sys.stderr.isatty()
    step = TrainStep(model, opt, train_x, args.batch_size, run.cfg.objective, args.bf16, run.settings["cuda_graph"],
                     binarize=args.binarize == "dynamic")
    step.free_bits = getattr(run.cfg, "free_bits", 0.0)
    for epoch in range(start, args.epochs):
        last = epoch == args.epochs - 1
        order = torch.randperm(n, generator=shuffle_gen).to(run.device) if args.shuffle else torch.arange(n, device=run.device)
        # Reconstructions of the last epoch trained; with early stopping any epoch may be the last.
        recon = torch.empty_like(train_x) if last or args.patience else None
        set_lr(opt, step, scheduled_lr(args.lr, args.lr_schedule, epoch))
        set_kl_weight(step, kl_weight(getattr(run.cfg, "kl_warmup", 0), epoch))
        t0 = time.perf_counter()
        try:
            trained = train_epoch(step, order, recon, progress)
        except TrainingDiverged as e:
            raise UserError(diverged_message(run, epoch, e.step, math.ceil(n / args.batch_size))) from None
        train_s = time.perf_counter() - t0
        test, eval_s = evaluate_epoch(run, model, test_x, epoch)
        record_epoch(history, epoch_record(trained, test, train_s, eval_s, n, args.batch_size, args.record_every))
        print(f"Epoch:{epoch + 1}/{args.epochs}, Train_Loss:{history['train_loss_history'][-1]}, "
              f"Train_Reg_Term:{history['train_regularization_terms'][-1]} | "
              f"mean loss {history['train_loss_epoch_mean'][-1]:.4f} KLD {history['train_kld_epoch_mean'][-1]:.4f} | test -ELBO {test['negative_elbo']:.2f} nats | "
              f"{train_s:.1f} s + eval {eval_s:.1f} s", flush=True)
        stopping = not last and stop_early(history["test_negative_elbo"], args.patience)
        save_epoch(run, model, opt, shuffle_gen, history, epoch, (train_x, recon) if last or stopping else None)
        if stopping:
            print(f"no better test negative ELBO in {args.patience} epochs: stopped early after epoch {epoch + 1}")
        if last or stopping:
            print(f"wrote {run.out / MODEL_PK}, {run.out / CHECKPOINT} and {run.out / FIGURE1}")
            print(peak_memory(run.device))
            print(time_split(time.perf_counter() - began, run.clock.seconds, history, epoch + 1 - start))
            break
    return 0


def evaluate_epoch(run: Run, model, test_x: torch.Tensor, epoch: int) -> tuple[dict, float]:
    """The test set's ELBO terms after an epoch, and the seconds they took; one clear line
    where the weights or the test loss are no longer finite."""
    if not weights_finite(model):  # the epoch's last update can break them after a finite loss
        raise UserError(diverged_message(run, epoch, None, None))
    t0 = time.perf_counter()
    test = evaluate(model, test_x, run.args.eval_batch_size)
    eval_s = time.perf_counter() - t0
    if not math.isfinite(test["negative_elbo"]):
        raise UserError(diverged_message(run, epoch, None, None))
    return test, eval_s


def save_epoch(run: Run, model, opt, shuffle_gen, history: dict, epoch: int, results=None) -> None:
    """Checkpoint the epoch just trained (0-based `epoch`); with results = (train_x, recon),
    write model.pk first."""
    state = {
        "model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch + 1,
        "config": config_to_dict(run.cfg), "train_config": run.settings, "history": history,
        "rng": rng_state(shuffle_gen, run.device),
    }
    if results is not None:
        # model.pk first: the checkpoint says this epoch is done only once model.pk is
        # written, so a failed write (a full disk) is redone by --resume, not lost.
        try:
            write_results(run, model, *results, history)
        except UserError as e:
            raise UserError(f"{e}; {run.out / CHECKPOINT} still holds epoch {epoch}: free some space, then "
                            f"--resume redoes epoch {epoch + 1} and writes {MODEL_PK}") from None
    with run.clock.phase("checkpoints"):
        save_checkpoint(run.out / CHECKPOINT, state)
        weights = {k: state[k] for k in ("model", "epoch", "config", "train_config")}
        if epoch == 0:
            save_checkpoint(run.out / EPOCH1_CHECKPOINT, weights)
        if ends_stage(run.args.lr_schedule, epoch):  # for the test nats after each stage
            save_checkpoint(run.out / f"checkpoint_stage{burda_stage(epoch)}.pt", weights)


def time_split(total: float, phases: dict, history: dict, epochs: int) -> str:
    """Where train()'s time went (Python's start-up and imports not counted), to compare
    machines: this call's training passes and test evaluations, the timed phases, the rest."""
    train_s, eval_s = (sum(history[k][-epochs:]) for k in ("epoch_seconds", "eval_seconds"))
    parts = {"training": train_s, "test evaluations": eval_s, **phases}
    rest = total - sum(parts.values())
    return f"{total:.1f} s in main(): " + ", ".join(f"{k} {v:.1f} s" for k, v in parts.items()) + f", other {rest:.1f} s"


def diverged_message(run: Run, epoch: int, step: int | None, steps: int | None) -> str:
    where = f"epoch {epoch + 1}, step {step + 1} of {steps}" if step is not None else f"epoch {epoch + 1}"
    kept = f"{run.out / CHECKPOINT} still holds epoch {epoch}" if epoch > 0 else "this run wrote no checkpoint"
    return (f"training diverged: the loss became NaN or infinite at {where}; {kept}. "
            f"Try a smaller --lr (this run: {run.args.lr:g})")


@cli("main.py")
def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    args.command = shlex.join(["python", "main.py", *(sys.argv[1:] if argv is None else map(str, argv))])
    if args.download_only:
        for train_split in (True, False):
            load_mnist(args.data_root, train=train_split)  # downloads the four files when they are missing
        print(f"MNIST is in {args.data_root / 'MNIST' / 'raw'}")
        return 0
    args = resolve(args)
    try:
        with run_lock(args.out_dir):
            return train(args)
    except KeyboardInterrupt:
        print(f"\nmain.py: interrupted; finished epochs are in {args.out_dir / CHECKPOINT}: continue with --resume",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
