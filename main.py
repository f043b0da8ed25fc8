"""Train the report's VAE (or a peer, --arch) on MNIST and write model.pk, checkpoint.pt and Figure 1.

    python main.py --data-root ../shared/data            # the report's Model 1, 50 epochs
    python main.py --model 2 --out-dir runs/model2       # Table 2's Model 2
    python main.py --out-dir runs/model2 --resume        # continue an interrupted run
    python main.py --arch mlp --out-dir runs/mlp         # 003's VAE with 003's settings

Every default is the report's value, or with --arch the chosen document's (TRAIN_PRESETS).
See README.md for the outputs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from model import ARCH_PRESETS, LossParts, PRESETS, build_model, negative_elbo, per_image_nats, prepare_images, training_loss
from vaeio import (
    CHECKPOINT,
    CONFIG_JSON,
    EPOCH1_CHECKPOINT,
    MODEL_PK,
    UserError,
    cli,
    load_checkpoint,
    load_mnist,
    save_checkpoint,
    save_results,
    write_text,
)

FIGURE1 = "figure1_mnist.png"
# Settings a resumed run must share with its checkpoint; --epochs and --device may change.
RESUME_MUST_MATCH = ("arch", "batch_size", "lr", "betas", "model", "seed", "shuffle", "limit", "patience")

# Each source's training settings; flags left unset take these. patience: early stopping
# on the test negative ELBO (002 stops after 10 epochs without improvement).
TRAIN_PRESETS = {
    "lstm": dict(epochs=50, batch_size=100, lr=1e-3, betas=(0.9, 0.999), shuffle=False, patience=None),  # 001
    "conv": dict(epochs=1250, batch_size=128, lr=1e-4, betas=(0.9, 0.99), shuffle=True, patience=10),  # 002
    "mlp": dict(epochs=30, batch_size=128, lr=1e-3, betas=(0.9, 0.999), shuffle=True, patience=None),  # 003
    # 004 trained 19 epochs on 1000 images per class with a plateau schedule; we keep its
    # batch and rate on the full training set, without the schedule.
    "mlp14": dict(epochs=19, batch_size=32, lr=2e-3, betas=(0.9, 0.999), shuffle=True, patience=None),
    "examples": dict(epochs=10, batch_size=128, lr=1e-3, betas=(0.9, 0.999), shuffle=True, patience=None),
}


# Per-epoch history, in checkpoint.pt and model.pk. The first two are the original's keys.
HISTORY_KEYS = (
    "train_loss_history",  # last batch's loss, as Table 1
    "train_regularization_terms",  # last batch's KLD, as Table 1
    "train_loss_epoch_mean",
    "train_kld_epoch_mean",
    "test_negative_elbo",  # nats per image
    "test_bce",  # nats per image
    "test_kld",  # nats per image
    "epoch_seconds",  # training pass only
    "eval_seconds",
    "train_bce_epoch_mean",  # nats per image, measured during the training pass
    "step_bce",  # one list per epoch: every step's BCE in nats per image (the ELBO's first term)
    "step_kld",  # one list per epoch: every step's KL in nats per image
)


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line, without the usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _bounded(kind, low, what):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value >= low or (kind is float and not math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text}")
        return value

    return parse


positive_int = _bounded(int, 1, "at least 1")
positive_float = _bounded(float, 1e-300, "a positive number")


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="main.py", description="Train the LSTM-encoder / transpose-conv-decoder VAE of the report "
               "(or, with --arch, a peer VAE) on MNIST.")
    p.add_argument("--data-root", type=Path, default=Path("./data"),
                   help="folder holding MNIST/raw/ (torchvision downloads it there when online); default ./data")
    p.add_argument("--out-dir", type=Path, default=Path("."), help="where model.pk, checkpoint.pt and figures go; default .")
    p.add_argument("--arch", choices=sorted(ARCH_PRESETS), default="lstm",
                   help="lstm = the report's (default); conv, mlp, mlp14 = the peer documents'; "
                   "examples = pytorch/examples' baseline. Unset flags take that source's values")
    p.add_argument("--epochs", type=positive_int, default=None, help="default 50 (the report's)")
    p.add_argument("--batch-size", type=positive_int, default=None, help="default 100 (the report's)")
    p.add_argument("--lr", type=positive_float, default=None, help="Adam learning rate; default 0.001 (the report's)")
    p.add_argument("--betas", type=positive_float, nargs=2, default=None, metavar=("B1", "B2"),
                   help="Adam betas; default 0.9 0.999 (PyTorch's, which the report used)")
    p.add_argument("--patience", type=positive_int, default=None,
                   help="stop after this many epochs without a better test negative ELBO (default: never; conv: 10)")
    p.add_argument("--model", type=int, choices=sorted(PRESETS), default=1,
                   help="Table 2 (--arch lstm): 1 = 32x256 FC + dropout (default), 2 = 32x16 FC, no dropout")
    p.add_argument("--seed", type=int, default=0, help="seeds initialisation, noise, dropout, shuffling and Figure 1")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto",
                   help="auto = cuda, else mps, else cpu")
    p.add_argument("--shuffle", action=argparse.BooleanOptionalAction, default=None,
                   help="shuffle batches each epoch (default: no, as the report's original; the peers shuffle)")
    p.add_argument("--limit", type=positive_int, default=None,
                   help="use only the first N training images (and at most N test images), for quick runs")
    p.add_argument("--eval-batch-size", type=positive_int, default=100,
                   help="batch size of the test-set evaluation (no effect on results); default 100")
    p.add_argument("--bf16", action="store_true",
                   help="forward pass in bfloat16 autocast (AMP on CUDA); fast only where the hardware has bf16")
    p.add_argument("--no-cuda-graph", action="store_true",
                   help="on CUDA, run every step eagerly instead of replaying it from a CUDA graph "
                        "(the graph is the default there, and is off with --bf16)")
    p.add_argument("--default-malloc", action="store_true",
                   help="on CPU, leave glibc's malloc as it is (by default freed memory is kept for reuse: "
                        "faster, same results; see reuse_freed_memory)")
    p.add_argument("--resume", action="store_true", help="continue from OUT_DIR/checkpoint.pt")
    p.add_argument("--overwrite", action="store_true", help="start afresh even if OUT_DIR holds an earlier run")
    p.add_argument("--no-progress", action="store_true", help="no progress bars (they are off anyway when not a terminal)")
    return p


def pick_device(name: str) -> torch.device:
    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    if name == "auto":
        name = "cuda" if cuda else "mps" if mps else "cpu"
    if (name == "cuda" and not cuda) or (name == "mps" and not mps):
        raise UserError(f"--device {name} was asked for, but this machine has no {name.upper()} device that PyTorch can use")
    return torch.device(name)


# glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4


def reuse_freed_memory() -> bool:
    """Tell glibc's malloc to serve every allocation from its heap and keep what is freed.

    By default glibc hands each allocation over 32 MiB (Model 1's 36 MB product of the first
    transpose convolution, forward and backward) to mmap and back to the system when freed,
    so every step page-faults it in afresh: about 14,000 minor faults per step here. Kept
    on the heap they are reused: a one-epoch training pass took 118-125 s instead of 134 s
    here, with bit-identical losses; the peak resident memory is about 10 % higher, since
    freed memory stays with the process (README, Speed). A process-wide setting, made once
    at start-up like a thread count. Returns False where there is no glibc mallopt.
    """
    import ctypes
    import ctypes.util

    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    # mallopt returns 1 on success; its value argument is an int, hence the 2 GiB cap.
    return bool(mallopt(M_MMAP_MAX, 0) and mallopt(M_TRIM_THRESHOLD, 2**31 - 1))


def rng_state(shuffle_gen: torch.Generator, device: torch.device) -> dict:
    state = {"torch": torch.get_rng_state(), "shuffle": shuffle_gen.get_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict, shuffle_gen: torch.Generator, device: torch.device) -> None:
    # The checkpoint is loaded onto the training device; RNG states must be CPU byte tensors.
    torch.set_rng_state(state["torch"].cpu())
    shuffle_gen.set_state(state["shuffle"].cpu())
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"].cpu(), device)


class TrainStep:
    """One optimisation step on the batch data[idx]: eager, or replayed from a CUDA graph.

    At batch 100 a GPU step is bound by kernel launches; replaying the whole step (forward,
    backward, Adam) as one CUDA graph ran it 4.2-5.1x faster on an H100, with the same
    losses (README, Speed). The graph is captured after WARMUP eager steps on a side
    stream, as PyTorch's CUDA-graph docs ask, and reused for every full batch of the run;
    a short last batch runs eagerly. Its outputs are static buffers: use them before the
    next call. Gradients are zeroed, never set to None, so the graph's buffers stay put.
    """

    WARMUP = 3

    def __init__(self, model, opt, data, batch_size, reduction="mean", bf16=False, graph=False):
        self.model, self.opt, self.data = model, opt, data
        self.batch_size, self.reduction, self.bf16 = batch_size, reduction, bf16
        self.use_graph = graph
        self.graph, self.static_idx, self.static_out = None, None, None
        self.warmed = 0

    def _step(self, idx):
        x = self.data[idx]  # (B, 1, 28, 28)
        with torch.autocast(self.data.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            recon, mu, logvar = self.model(x)
        # BCE is unsafe under autocast: the loss in the data's precision (a no-op without --bf16)
        recon, mu, logvar = recon.to(x.dtype), mu.to(x.dtype), logvar.to(x.dtype)
        parts = training_loss(recon, x, mu, logvar, self.reduction)
        self.opt.zero_grad(set_to_none=not self.use_graph)
        parts.total.backward()
        self.opt.step()
        parts = LossParts(*(t.detach() for t in parts))
        return recon.detach(), parts, torch.stack(per_image_nats(parts, self.reduction, x, mu))

    def __call__(self, idx):
        """(reconstructions, LossParts, the step's BCE and KL in nats per image) of batch data[idx]."""
        if not self.use_graph or idx.numel() != self.batch_size:
            return self._step(idx)
        if self.graph is None and self.warmed < self.WARMUP:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                out = self._step(idx)
            torch.cuda.current_stream().wait_stream(side)
            self.warmed += 1
            return out
        if self.graph is None:
            self.static_idx = idx.clone()
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph):  # records the step; the replay below runs it
                self.static_out = self._step(self.static_idx)
        self.static_idx.copy_(idx)
        self.graph.replay()
        return self.static_out


def set_capturable(opt: torch.optim.Optimizer, on: bool) -> None:
    """Adam inside a CUDA graph keeps its step counts on the GPU (capturable=True). A
    checkpoint carries its run's setting; this sets the one this run needs."""
    for group in opt.param_groups:
        group["capturable"] = on
        for p in group["params"]:
            state = opt.state.get(p, {})
            if "step" in state:
                state["step"] = state["step"].to(p.device if on else "cpu", torch.float32)


def train_epoch(model, opt, data, batch_size, order, recon_out, progress, reduction="mean", bf16=False, step=None):
    """One pass over `data` in `order`, minimising training_loss(..., reduction).

    Returns (epoch-mean loss, epoch-mean KLD, last batch LossParts, steps): the means in
    the objective's units, steps (n_batches, 2) every step's BCE and KL in nats per image.
    bf16: the forward pass under bfloat16 autocast; the loss is computed in fp32.
    step: a TrainStep to use (main.py keeps one per run, for its CUDA graph); by default an
    eager one. Everything stays on the device: no per-batch host sync, except for the
    progress bar's occasional refresh.
    """
    model.train()
    step = step or TrainStep(model, opt, data, batch_size, reduction, bf16)
    n = data.shape[0]
    n_batches = math.ceil(n / batch_size)
    loss_sum = torch.zeros((), device=data.device)
    kld_sum = torch.zeros((), device=data.device)
    steps = torch.empty(n_batches, 2, device=data.device)
    bar = tqdm(range(n_batches), leave=False, disable=not progress, unit="batch", dynamic_ncols=True)
    for i in bar:
        idx = order[i * batch_size : (i + 1) * batch_size]
        recon, parts, nats = step(idx)
        # Epoch means weigh each batch by its images, so a short last batch counts fairly.
        weight = idx.numel() if reduction == "mean" else 1
        loss_sum += parts.total * weight
        kld_sum += parts.kld * weight
        steps[i] = nats
        if recon_out is not None:
            recon_out[idx] = recon  # kept in data order
        if progress and (i % 50 == 0 or i == n_batches - 1):
            bar.set_postfix(loss=f"{parts.total.item():.4f}", kld=f"{parts.kld.item():.4f}")
    parts = LossParts(*(t.clone() for t in parts))  # a graph's buffers change at its next replay
    return (loss_sum / n).item(), (kld_sum / n).item(), parts, steps.cpu()


@torch.no_grad()
def evaluate(model, data, batch_size) -> dict:
    """Negative ELBO in nats per image, and its two parts, over `data` with the model in eval mode."""
    model.eval()
    totals = torch.zeros(3, device=data.device)
    for start in range(0, data.shape[0], batch_size):
        x = data[start : start + batch_size]
        recon, mu, logvar = model(x)
        totals += torch.stack(tuple(negative_elbo(recon, x, mu, logvar))) * x.shape[0]
    nelbo, bce, kld = (totals / data.shape[0]).tolist()
    return {"negative_elbo": nelbo, "bce": bce, "kld": kld}


def to_input(images, device, cfg=PRESETS[1]) -> torch.Tensor:
    """uint8 (N, 28, 28) -> the model's float input (N, 1, s, s) on `device`; for the report's
    model the original's data / 255."""
    return prepare_images(images.to(device), cfg)


def resolve(args) -> argparse.Namespace:
    """Fill the flags left unset from the chosen architecture's TRAIN_PRESETS."""
    if args.arch != "lstm" and args.model != 1:
        raise UserError("--model chooses between the report's two LSTM models; it needs --arch lstm")
    for key, value in TRAIN_PRESETS[args.arch].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.betas = tuple(args.betas)
    if not all(b < 1 for b in args.betas):
        raise UserError(f"--betas must each be below 1, got {' '.join(map(str, args.betas))}")
    return args


def batch_sizes(n: int, batch_size: int) -> list[int]:
    return [min(batch_size, n - start) for start in range(0, n, batch_size)]


def stop_early(test_nelbo: list, patience: int | None) -> bool:
    """True when the last `patience` epochs brought no better test negative ELBO than before them."""
    if patience is None or len(test_nelbo) <= patience:
        return False
    return min(test_nelbo[-patience:]) >= min(test_nelbo[:-patience])


def check_resumable(state: dict, settings: dict, epochs: int) -> None:
    # Checkpoints of the first release trained the LSTM with these and did not record them.
    saved = {"arch": "lstm", "betas": [0.9, 0.999], "patience": None, **state.get("train_config", {})}
    for key in RESUME_MUST_MATCH:
        if saved.get(key) != settings[key]:
            flag = "--" + key.replace("_", "-")
            raise UserError(
                f"--resume: the checkpoint was trained with {flag} {saved.get(key)}, not {settings[key]}; "
                f"pass the same {flag}, or start afresh with --overwrite"
            )
    if state["epoch"] > epochs:
        raise UserError(f"--resume: the checkpoint has already trained {state['epoch']} epochs, more than --epochs {epochs}")


def train(args) -> int:
    out = args.out_dir
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create --out-dir {out}: {e.strerror}") from None
    device = pick_device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    graph = device.type == "cuda" and not args.bf16 and not args.no_cuda_graph  # see TrainStep
    reused = device.type == "cpu" and not args.default_malloc and reuse_freed_memory()
    settings = {
        "arch": args.arch, "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
        "betas": list(args.betas), "patience": args.patience, "model": args.model,
        "seed": args.seed, "shuffle": args.shuffle, "limit": args.limit,
        "bf16": args.bf16, "eval_batch_size": args.eval_batch_size, "data_root": str(args.data_root), "device": str(device),
        "cuda_graph": graph, "reuse_freed_memory": reused,
    }
    ckpt_path = out / CHECKPOINT
    state = None
    if args.resume:
        if not ckpt_path.is_file():
            raise UserError(f"--resume: no {CHECKPOINT} in {out} to continue from")
        state = load_checkpoint(ckpt_path, map_location=device)
        check_resumable(state, settings, args.epochs)
        if state["epoch"] == args.epochs:
            print(f"{ckpt_path} has already trained all {args.epochs} epochs; pass a larger --epochs to go on")
            return 0
    elif ckpt_path.exists() and not args.overwrite:
        raise UserError(f"{out} already holds a run ({CHECKPOINT}): continue it with --resume, or start afresh with --overwrite")

    train_images = load_mnist(args.data_root, train=True)
    test_images = load_mnist(args.data_root, train=False)
    n = len(train_images) if args.limit is None else args.limit
    if n > len(train_images):
        raise UserError(f"--limit {n} is larger than the {len(train_images)} training images")
    cfg = PRESETS[args.model] if args.arch == "lstm" else ARCH_PRESETS[args.arch]
    train_x = to_input(train_images[:n], device, cfg)  # (N, 1, s, s): the whole set lives on the device
    test_x = to_input(test_images[: min(n, len(test_images))], device, cfg)

    torch.manual_seed(args.seed)  # seeds CPU and CUDA: initialisation, eps, dropout masks
    model = build_model(cfg, device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=args.betas, capturable=graph)
    shuffle_gen = torch.Generator().manual_seed(args.seed)
    history = {key: [] for key in HISTORY_KEYS}
    start = 0
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        set_capturable(opt, graph)
        history = state["history"]
        for key in HISTORY_KEYS:  # a first-release checkpoint lacks the newer keys: mark its epochs as unknown
            history.setdefault(key, [[] if key.startswith("step_") else math.nan] * state["epoch"])
        set_rng_state(state["rng"], shuffle_gen, device)
        start = state["epoch"]
        print(f"resuming {ckpt_path} after epoch {start}")
    else:
        from generator import save_image_grid  # matplotlib only where a figure is drawn

        pick = torch.randperm(len(train_images), generator=torch.Generator().manual_seed(args.seed))[:100]
        save_image_grid(to_input(train_images[pick], "cpu", cfg).squeeze(1).numpy(), out / FIGURE1,
                        "100 random MNIST training images (Figure 1)")
    write_text(out / CONFIG_JSON, json.dumps({"train": settings, "model": cfg.to_dict()}, indent=2) + "\n")

    progress = not args.no_progress and sys.stderr.isatty()
    recon = None
    if stop_early(history["test_negative_elbo"], args.patience):
        print(f"{ckpt_path} had already stopped early after epoch {start}")
        return 0
    step = TrainStep(model, opt, train_x, args.batch_size, cfg.reduction, args.bf16, graph)
    for epoch in range(start, args.epochs):
        last = epoch == args.epochs - 1
        order = torch.randperm(n, generator=shuffle_gen).to(device) if args.shuffle else torch.arange(n, device=device)
        # Reconstructions of the last epoch trained; with early stopping any epoch may be the last.
        recon = torch.empty_like(train_x) if last or args.patience else None
        t0 = time.perf_counter()
        mean_loss, mean_kld, parts, steps = train_epoch(
            model, opt, train_x, args.batch_size, order, recon, progress, cfg.reduction, args.bf16, step)
        train_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        test = evaluate(model, test_x, args.eval_batch_size)
        eval_s = time.perf_counter() - t0
        # Table 1 logs the last batch's values, not epoch means.
        for key, value in zip(HISTORY_KEYS, (
            parts.total.item(), parts.kld.item(), mean_loss, mean_kld,
            test["negative_elbo"], test["bce"], test["kld"], train_s, eval_s,
            (steps[:, 0] * steps.new_tensor(batch_sizes(n, args.batch_size))).sum().item() / n,
            steps[:, 0].tolist(), steps[:, 1].tolist(),
        )):
            history[key].append(value)
        print(
            f"Epoch:{epoch + 1}/{args.epochs}, Train_Loss:{history['train_loss_history'][-1]}, "
            f"Train_Reg_Term:{history['train_regularization_terms'][-1]} | "
            f"mean loss {mean_loss:.4f} KLD {mean_kld:.4f} | test -ELBO {test['negative_elbo']:.2f} nats | "
            f"{train_s:.1f} s + eval {eval_s:.1f} s",
            flush=True,
        )
        state = {
            "model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch + 1,
            "config": cfg.to_dict(), "train_config": settings, "history": history,
            "rng": rng_state(shuffle_gen, device),
        }
        save_checkpoint(ckpt_path, state)
        if epoch == 0:
            save_checkpoint(out / EPOCH1_CHECKPOINT, {k: state[k] for k in ("model", "epoch", "config")})
        if not last and stop_early(history["test_negative_elbo"], args.patience):
            print(f"no better test negative ELBO in {args.patience} epochs: stopping early after epoch {epoch + 1}")
            break

    if recon is None:  # resumed into a run whose last epoch was already done: nothing new to write
        return 0
    t0 = time.perf_counter()
    train_eval = evaluate(model, train_x, args.eval_batch_size)  # once, at the end: the training set's own nats
    print(f"training set negative ELBO {train_eval['negative_elbo']:.2f} nats ({time.perf_counter() - t0:.1f} s)")
    results = {
        # The original's three keys, same shapes and dtypes.
        "train_reconstruction_images": recon.reshape(n, cfg.image_size, cfg.image_size).cpu().numpy(),
        **history,
        "train_negative_elbo": train_eval["negative_elbo"],
        "config": {"train": settings, "model": cfg.to_dict()},
        "seed": args.seed,
    }
    del recon
    save_results(out / MODEL_PK, results)
    print(f"wrote {out / MODEL_PK}, {ckpt_path} and {out / FIGURE1}")
    print(peak_memory(device))
    return 0


def peak_memory(device: torch.device) -> str:
    try:
        import resource  # Unix only
    except ImportError:
        text = "peak resident memory: unknown on this system"
    else:  # ru_maxrss is in KiB on Linux
        text = f"peak resident memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB"
    if device.type == "cuda":
        text += f", peak GPU memory {torch.cuda.max_memory_allocated(device) / 2**30:.2f} GiB"
    return text


@cli("main.py")
def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return train(resolve(args))
    except KeyboardInterrupt:
        print(f"\nmain.py: interrupted; finished epochs are in {args.out_dir / CHECKPOINT}: continue with --resume",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
