"""Training-step speed: the original's loop against ours, side by side in one process.

    python -m benchmarks.train_step --data-root ../shared/data [--steps 20] [--model 1] [--device cuda] [--profile 6]

(a) re-creates the original script's loop from its known facts: plain torch modules, a
DataLoader over train.data / 255 in order, gradients asked for the input images, every
batch's reconstructions copied to the host and its loss read with .item().
(b) is main.py's step: GemmConvTranspose2d on CPU (cuDNN's kernels on CUDA), batches
sliced from one tensor on the device, nothing copied back per batch, and on CPU glibc's
malloc told to keep freed memory (vae.device.reuse_freed_memory), as main.py does. All start
from the same weights and draw the same noise (the same eps and dropout masks), so their
losses must agree step for step.

On CPU the malloc setting is timed on its own too: (a) and (b) run with glibc's defaults
first, before it is switched on (it cannot be switched back), then (b) and (a) with it.
"""

from __future__ import annotations

import functools
import resource
import sys
import time
from pathlib import Path

import torch

from vae.data import prepare_images
from vae.cli import Parser, cli, pick_device, positive_int
from vae.device import reuse_freed_memory
from vae.original import original_loop
from vae.training import TrainStep, train_epoch
from model import PRESETS, VAE, VAEConfig, decoder_shapes
from vae.fastconv import use_gemm_transpose_convs
from vae.files import load_mnist


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def gemm_gflops(device: torch.device, n: int = 2048, reps: int = 5) -> float:
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    a @ b
    sync(device)
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    sync(device)
    return 2 * n**3 * reps / (time.perf_counter() - t) / 1e9


def forward_flops(cfg: VAEConfig) -> int:
    """Multiply-adds x 2 of one image's forward pass (the matrix products; elementwise work ignored)."""
    s, h, c = cfg.image_size, cfg.lstm_hidden, cfg.latent_channels
    flops = 2 * s * 4 * h * (s + h)  # LSTM gates
    flops += 2 * 2 * s * h * c  # mu and logvar heads
    in_ch, in_hw = c, (s, 1)
    for out_ch, (_, pooled) in zip(cfg.decoder_channels, decoder_shapes(cfg)):
        flops += 2 * in_ch * in_hw[0] * in_hw[1] * out_ch * cfg.kernel_size**2
        in_ch, in_hw = out_ch, pooled[1:]
    return flops + 2 * s * in_hw[1] * s  # final Linear(3, 28) per row


def our_loop(model, opt, train_x, batch_size, steps, device, bf16=False):
    losses = []
    data = train_x[: steps * batch_size]
    for i in range(steps):  # one step per call, to read each loss for the comparison
        chunk = data[i * batch_size : (i + 1) * batch_size]
        _, _, parts, _ = train_epoch(TrainStep(model, opt, chunk, batch_size, bf16=bf16), torch.arange(len(chunk)))
        losses.append(parts.total.item())
    return losses


def timed(fn, *args, device):
    sync(device)
    t = time.perf_counter()
    out = fn(*args, device)
    sync(device)
    return out, time.perf_counter() - t


@cli("train_step.py")
def main(argv=None) -> int:
    p = Parser(prog="train_step.py", description=__doc__.splitlines()[0])
    p.add_argument("--data-root", type=Path, default=Path("./data"))
    p.add_argument("--steps", type=positive_int, default=20, help="timed training steps per variant; default 20")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first; default 2")
    p.add_argument("--model", type=int, choices=sorted(PRESETS), default=1)
    p.add_argument("--batch-size", type=positive_int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--bf16", action="store_true", help="also time our step under bfloat16 autocast")
    p.add_argument("--profile", type=int, default=0, metavar="N",
                   help="then profile N more steps of ours with torch.profiler and print where the time goes")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu",
                   help="default cpu; on cuda our step is also timed with the GEMM path that it takes on CPU")
    args = p.parse_args(argv)
    device = pick_device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # as main.py
    images = load_mnist(args.data_root, train=True)
    cfg, bs = PRESETS[args.model], args.batch_size
    n = (args.warmup + args.steps) * bs
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{torch.get_num_threads()} CPU threads"
    print(f"torch {torch.__version__}, {where}, Model {args.model}, batch {bs}")
    n_gemm = 8192 if device.type == "cuda" else 2048
    rate = gemm_gflops(device, n_gemm)
    print(f"fp32 GEMM {n_gemm}x{n_gemm}: {rate:.0f} GFLOP/s")

    torch.manual_seed(args.seed)
    init = VAE(cfg).state_dict()
    results = {}
    ours_x = prepare_images(images[:n], cfg, device)
    # (name, loop, data, the model's transpose convolutions: GEMM path or not, malloc keeps
    # freed memory); "ours" is built and run as main.py does: the GEMM path and the malloc
    # setting on CPU only. The untuned variants come first: the setting is for good.
    cpu = device.type == "cpu"
    original_x = images[:n].float() / 255
    variants = [("original loop", original_loop, original_x, False, False)]
    if cpu:
        variants.append(("ours, malloc default", our_loop, ours_x, True, False))
    variants.append(("ours", our_loop, ours_x, cpu, cpu))
    if args.bf16:
        variants.append(("ours, bf16", functools.partial(our_loop, bf16=True), ours_x, cpu, cpu))
    if cpu:
        variants.append(("original, malloc kept", original_loop, original_x, False, True))
    else:
        variants.append(("ours, GEMM convs", our_loop, ours_x, True, False))
    for name, loop, data, fast, keep in variants:
        if keep and not reuse_freed_memory():
            print("no glibc mallopt here: the malloc setting is not applied")
        model = VAE(cfg)
        if fast:
            use_gemm_transpose_convs(model)
        model = model.to(device)
        model.load_state_dict(init)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        torch.manual_seed(args.seed + 1)  # the same eps and dropout masks in both
        warm, _ = timed(loop, model, opt, data[: args.warmup * bs], bs, args.warmup, device=device)
        losses, seconds = timed(loop, model, opt, data[args.warmup * bs :], bs, args.steps, device=device)
        results[name] = (warm + losses, seconds / args.steps)
        if name == "ours" and args.profile:
            profiled = (model, opt, prepare_images(images[: args.profile * bs], cfg, device), bs, args.profile)

    step_flops = 3 * forward_flops(cfg) * bs  # forward, and the backward's two products
    floor_ms = step_flops / (rate * 1e9) * 1e3
    print(f"FLOP per training step: {step_flops / 1e9:.1f} GFLOP -> floor at the GEMM rate {floor_ms:.3g} ms")
    print(f"{'':22} {'ms/step':>8} {'images/s':>9} {'of floor':>9}")
    for name, (_, sec) in results.items():
        print(f"{name:22} {sec * 1e3:8.1f} {bs / sec:9.0f} {floor_ms / (sec * 1e3):9.1%}")
    (la, ta), (lb, tb) = results["original loop"], results["ours"]
    print(f"speed-up ours / original: {ta / tb:.2f}x")
    if cpu:
        print(f"  the malloc setting alone (ours, kept / default): {results['ours, malloc default'][1] / tb:.2f}x; "
              f"ours / original, both with it: {results['original, malloc kept'][1] / tb:.2f}x")
    worst = max(abs(a - b) for name, (lc, _) in results.items() if "bf16" not in name for a, b in zip(la, lc))
    print(f"largest loss difference over {len(la)} steps (all fp32 variants against the original): {worst:.2e}")
    if "ours, bf16" in results:
        lc, tc = results["ours, bf16"]
        print(f"bf16 / fp32 (ours): {tb / tc:.2f}x the speed; largest loss difference {max(abs(a - b) for a, b in zip(lb, lc)):.2e}")
    if "ours, GEMM convs" in results:
        lc, tc = results["ours, GEMM convs"]
        print(f"GEMM path / cuDNN transpose convs (ours): {tb / tc:.2f}x the speed; largest loss difference "
              f"{max(abs(a - b) for a, b in zip(lb, lc)):.2e}")
        print(f"peak GPU memory: {torch.cuda.max_memory_allocated(device) / 2**30:.2f} GiB")
    print(f"peak resident memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")
    if args.profile:
        print_profile(*profiled, device)
    return 0


def print_profile(model, opt, data, bs, steps, device, rows=20):
    """Where `steps` of our training steps spend their time, per operator and input shape."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities, record_shapes=True) as prof:
        _, seconds = timed(our_loop, model, opt, data, bs, steps, device=device)
    print(f"\nprofile of {steps} steps of ours ({seconds / steps * 1e3:.1f} ms per step with the profiler on), "
          "self time per operator and input shapes:")
    print(prof.key_averages(group_by_input_shape=True).table(sort_by="self_cpu_time_total", row_limit=rows,
                                                              max_name_column_width=32, max_shapes_column_width=60))


if __name__ == "__main__":
    sys.exit(main())
