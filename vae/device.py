"""The machine a run trains on: the device's settings, its name, its memory, and the CPU
allocator tuning (process-wide settings, made once at start-up like a thread count)."""

from __future__ import annotations

import os
import platform

import torch

from vae.cli import UserError

BF16_MIN_CAPABILITY = (8, 0)  # Ampere: the first GPUs with bf16 arithmetic
# glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4


def reuse_freed_memory() -> bool:
    """Tell glibc's malloc to serve every allocation from its heap and keep what is freed.

    By default glibc hands each allocation over 32 MiB (Model 1's product of the first
    transpose convolution, forward and backward) to mmap and back to the system when freed,
    so every step page-faults it in afresh; kept on the heap they are reused, with
    bit-identical losses and a somewhat higher peak resident memory (benchmarks/README.md
    gives both). Returns False where there is no glibc mallopt.
    """
    import ctypes
    import ctypes.util

    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    # mallopt returns 1 on success; its value argument is an int, hence the 2 GiB cap.
    return bool(mallopt(M_MMAP_MAX, 0) and mallopt(M_TRIM_THRESHOLD, 2**31 - 1))


def apply_determinism(device: torch.device) -> None:
    """PyTorch's reproducibility settings (its 'Reproducibility' notes). The cuBLAS workspace
    setting must be in the environment before the first cuBLAS call."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True


def check_bf16(bf16: bool, device: torch.device) -> None:
    """Refuse --bf16 on a GPU that only emulates bf16 (Colab's T4: compute capability 7.5). A
    quiet fallback to fp32 would run other numbers than asked; fp32 is the fast path there."""
    if bf16 and device.type == "cuda":
        capability = torch.cuda.get_device_capability(device)
        if capability < BF16_MIN_CAPABILITY:
            raise UserError(f"--bf16 needs a GPU of compute capability {'.'.join(map(str, BF16_MIN_CAPABILITY))} or "
                            f"newer; this {torch.cuda.get_device_name(device)} has {'.'.join(map(str, capability))} and "
                            "only emulates bf16, several times slower than fp32: leave --bf16 out")


def prepare_device(device: torch.device, bf16: bool, deterministic: bool, default_malloc: bool) -> dict:
    """Set the device up for training; returns the facts a run records: whether each full
    batch replays a CUDA graph (not under bf16, see vae.training.TrainStep) and whether freed
    memory is kept for reuse."""
    check_bf16(bf16, device)
    if deterministic:
        apply_determinism(device)
    elif device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    return {"cuda_graph": device.type == "cuda" and not bf16,
            "reuse_freed_memory": device.type == "cpu" and not default_malloc and reuse_freed_memory()}


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
    n = torch.get_num_threads()
    return f"{cpu}, {n} thread{'' if n == 1 else 's'}"


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
