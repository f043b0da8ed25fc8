"""Files in and out: MNIST, model.pk and checkpoint.pt.

Everything a user can get wrong here (a missing or corrupt file, a bad path) raises
`UserError` with one readable line; the scripts print it and exit non-zero.
Nothing here runs code from a file: checkpoints load with `weights_only=True`, and
model.pk through an unpickler that admits only numpy arrays and plain containers.
"""

from __future__ import annotations

import contextlib
import math
import os
import pickle
import shutil
import signal
import socket
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from vae.cli import UserError

MODEL_PK = "model.pk"
CHECKPOINT = "checkpoint.pt"
EPOCH1_CHECKPOINT = "checkpoint_epoch1.pt"  # weights after epoch 1, for samples then vs now
CONFIG_JSON = "config.json"
FIGURE1 = "figure1_mnist.png"  # the report's Figure 1: 100 training digits

# torchvision's layout: <root>/MNIST/raw/<name>
MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


RUN_LOCK = ".main.lock"  # held in --out-dir by the main.py run writing there


@contextlib.contextmanager
def run_lock(out: Path):
    """Hold the operating system's advisory lock on OUT/.main.lock while a run writes to OUT.

    The lock dies with the process (a killed run never blocks --resume); a second run into a
    locked folder is refused in one line that names the holder. Only processes on the same
    machine see the lock: two machines sharing a network folder are not kept apart.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    try:
        f = open(make_out_dir(out) / RUN_LOCK, "a+")
    except OSError as e:
        raise UserError(f"cannot write in --out-dir {out}: {e.strerror}") from None
    with f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise UserError(f"{out} is in use by another main.py run ({holder}); wait for it to finish, "
                            "or choose another --out-dir") from None
        f.seek(0)
        f.truncate()
        f.write(f"process {os.getpid()} on {socket.gethostname()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# ---------------------------------------------------------------- writing


def make_out_dir(out: Path) -> Path:
    """Create an --out-dir folder and its parents; one line where it cannot be made."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create --out-dir {out}: {e.strerror}") from None
    return out


# Room a run needs beyond its files: a checkpoint is written beside the old one, then renamed.
DISK_MARGIN = 16 * 2**20


def check_free_space(out: Path, n_images: int, image_size: int, model: torch.nn.Module) -> None:
    """Refuse before training when --out-dir cannot hold the run's files: model.pk's
    reconstructions, two checkpoints of weights and Adam's two moments, epoch 1's weights."""
    params = sum(p.numel() for p in model.parameters()) * 4
    recon = n_images * image_size**2 * 4
    need = recon + 2 * 3 * params + params + DISK_MARGIN
    free = shutil.disk_usage(out).free
    if free < need:
        raise UserError(f"--out-dir {out} has {free / 2**20:.0f} MiB free, and this run needs about {need / 2**20:.0f} MiB "
                        f"(model.pk {recon / 2**20:.0f} MiB and checkpoints); free some space or choose another --out-dir")


@contextlib.contextmanager
def ctrl_c_held_back():
    """Hold Ctrl-C back until the block ends, then raise it as KeyboardInterrupt.

    Inside torch.save a KeyboardInterrupt in the middle of the tensor data comes out of its
    zip writer as a RuntimeError ("unexpected pos"), a traceback instead of the one line and
    exit status 130 (seen in CI on a loaded machine); held back, the file being written is
    finished and renamed into place first, so the epoch it records is kept too. Only in the
    main thread and where Ctrl-C is Python's own handler (not where it is ignored)."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return
    caught = []
    signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if caught:
        raise KeyboardInterrupt


def atomic_write(path: Path, write) -> None:
    """Call write(fileobj) on a temporary file beside `path`, then rename it into place,
    so an interrupted run never leaves a half-written file. A failed write (a full disk)
    leaves the old file as it was and raises UserError. Ctrl-C during the write takes
    effect once the file is in place."""
    with ctrl_c_held_back():
        _write_then_rename(Path(path), write)


def _write_then_rename(path: Path, write) -> None:
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise UserError(f"could not write {path}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; results are meant to be shared
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise UserError(f"could not write {path}: {e.strerror or e}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_results(path: Path, results: dict) -> None:
    # Protocol 5 lets numpy hand its buffer to the pickler: no second copy of 188 MB.
    atomic_write(path, lambda f: pickle.dump(results, f, protocol=5))


def save_checkpoint(path: Path, state: dict) -> None:
    atomic_write(path, lambda f: torch.save(state, f))


# ---------------------------------------------------------------- reading


class _RestrictedUnpickler(pickle.Unpickler):
    """Admits numpy arrays, numpy scalars and dtypes; plain containers need no globals."""

    ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy._core.numeric", "_frombuffer"),
    }

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED or (module == "numpy.dtypes" and name.endswith("DType")):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"forbidden object {module}.{name}")


def load_results(path: Path) -> dict:
    """Read a model.pk (ours or the original's) without running any code from it."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path} not found: run main.py first (or pass --out-dir where it wrote model.pk)")
    try:
        with open(path, "rb") as f:
            results = _RestrictedUnpickler(f).load()
    except pickle.UnpicklingError as e:
        if "forbidden object" in str(e):
            raise UserError(f"{path} was refused: it holds a {e}, not only arrays and lists") from None
        raise UserError(f"{path} is corrupt or truncated ({e})") from None
    except (EOFError, ValueError, TypeError, AttributeError, IndexError, MemoryError) as e:
        raise UserError(f"{path} is corrupt or truncated ({type(e).__name__}: {e})") from None
    if not isinstance(results, dict) or "train_reconstruction_images" not in results:
        raise UserError(f"{path} is not a model.pk: expected a dict with 'train_reconstruction_images'")
    problem = results_problem(results)
    if problem:
        raise UserError(f"{path} is not a model.pk that main.py wrote: {problem}")
    return results


def _numbers(value) -> bool:
    return isinstance(value, (list, tuple, np.ndarray)) and all(
        isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in value)


def results_problem(results: dict) -> str | None:
    """What is wrong with a loaded model.pk's keys (types and shapes), or None."""
    recon = results["train_reconstruction_images"]
    if not isinstance(recon, np.ndarray) or recon.dtype.kind != "f" or recon.ndim != 3 or recon.shape[0] == 0:
        shape = getattr(recon, "shape", None)
        what = f"array of shape {shape} and dtype {recon.dtype}" if isinstance(recon, np.ndarray) else type(recon).__name__
        return f"train_reconstruction_images must be a float array (N, H, W), not a {what}"
    for key, value in results.items():
        if key.startswith("step_"):
            if not isinstance(value, list) or not all(_numbers(v) for v in value):
                return f"{key} must be a list of lists of numbers, one per epoch"
        elif key.endswith(("_history", "_terms", "_mean", "_seconds")) or key.startswith("test_"):
            if not _numbers(value):
                return f"{key} must be a list of numbers, one per epoch, not a {type(value).__name__}"
    return None


ZIP_MAGIC = b"PK\x03\x04"  # torch.save's format: a zip archive
PICKLE_MAGIC = b"\x80"  # torch.save's legacy format begins with a pickle's protocol opcode


def load_checkpoint(path: Path, map_location="cpu", require: tuple[str, ...] = ("model", "config")) -> dict:
    """A file written by torch.save, holding a dict with the keys `require`; every way it can be
    something else (empty, not a PyTorch file, truncated, holding code) is one UserError line."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path} not found")
    with open(path, "rb") as f:
        head = f.read(4)
    if not head:
        raise UserError(f"{path} is empty (0 bytes): not a checkpoint; an interrupted copy or download?")
    if not head.startswith((ZIP_MAGIC, PICKLE_MAGIC)):
        raise UserError(f"{path} is not a PyTorch file (torch.save writes a zip archive); pass a checkpoint.pt or "
                        "a pretrained .pt file")
    try:
        with warnings.catch_warnings():  # torch 2.1 warns of its own TypedStorage on every load
            warnings.filterwarnings("ignore", message="TypedStorage is deprecated")
            state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        # PyTorch's message suggests weights_only=False, which would run the file's code.
        raise UserError(f"{path} was refused: it holds objects other than tensors and plain containers, and loading "
                        "them could run code from the file. Do not load it any other way; use a checkpoint you trust") from None
    except (RuntimeError, EOFError, ValueError, OSError, IndexError) as e:
        raise UserError(f"{path} is truncated or corrupt ({(str(e).splitlines() or [type(e).__name__])[0]})") from None
    if not isinstance(state, dict) or not all(key in state for key in require):
        raise UserError(f"{path} is not a checkpoint written by main.py")
    return state


IDX_UBYTE = 0x08  # the IDX type code of unsigned bytes, MNIST's only one


def read_idx(path: Path) -> torch.Tensor:
    """An IDX file of unsigned bytes (LeCun's MNIST format) as a uint8 tensor of its shape;
    ValueError where the header and the size disagree."""
    data = bytearray(Path(path).read_bytes())
    if len(data) < 4 or data[0] or data[1]:
        raise ValueError("no IDX magic number")
    if data[2] != IDX_UBYTE:
        raise ValueError(f"type code 0x{data[2]:02x}, expected 0x{IDX_UBYTE:02x} (unsigned bytes)")
    ndim, start = data[3], 4 + 4 * data[3]
    if not 1 <= ndim <= 3 or len(data) < start:
        raise ValueError(f"a header of {ndim} dimensions in {len(data)} bytes")
    shape = tuple(int.from_bytes(data[4 * i : 4 * i + 4], "big") for i in range(1, ndim + 1))
    if len(data) - start != math.prod(shape):
        raise ValueError(f"{len(data) - start} bytes of data for shape {shape}")
    return torch.frombuffer(data, dtype=torch.uint8, offset=start).reshape(shape)


def load_mnist(root: Path, train: bool, with_labels: bool = False):
    """MNIST images as a uint8 tensor (N, 28, 28), in the original order (and the labels (N,), int64).

    Reads <root>/MNIST/raw when the files are there, else lets torchvision download them
    there first. The files are read here, not through torchvision, whose import is slow
    (benchmarks/README.md).
    """
    root = Path(root)
    raw = root / "MNIST" / "raw"
    split = "training" if train else "test"
    if not mnist_present(root):
        download_mnist(root, raw)
    prefix = "train" if train else "t10k"
    try:
        images = read_idx(raw / f"{prefix}-images-idx3-ubyte")
        labels = read_idx(raw / f"{prefix}-labels-idx1-ubyte").long()
    except (ValueError, OSError) as e:
        reason = (str(e).splitlines() or [""])[0] or type(e).__name__
        raise UserError(f"MNIST {split} files in {raw} are corrupt or truncated ({reason})") from None
    if images.ndim != 3 or tuple(images.shape[1:]) != (28, 28):
        raise UserError(f"MNIST {split} images in {raw} have shape {tuple(images.shape)}, expected (N, 28, 28)")
    if labels.ndim != 1 or len(labels) != len(images) or (len(labels) and not 0 <= int(labels.min()) <= int(labels.max()) <= 9):
        raise UserError(f"MNIST {split} labels in {raw} are corrupt: expected {len(images)} labels from 0 to 9")
    return (images, labels) if with_labels else images


def mnist_present(root: Path) -> bool:
    """Whether <root>/MNIST/raw holds MNIST's four files (intact or not)."""
    return all((Path(root) / "MNIST" / "raw" / name).is_file() for name in MNIST_FILES)


def download_mnist(root: Path, raw: Path) -> None:
    """torchvision's download into <root>/MNIST/raw (it checks each file's MD5)."""
    import torchvision  # only a download needs it

    try:
        for train in (True, False):
            torchvision.datasets.MNIST(root, train=train, download=True)
    except (RuntimeError, OSError) as e:
        reason = str(e).splitlines()[-1].strip() or type(e).__name__
        raise UserError(
            f"MNIST is not in {raw} and could not be downloaded ({reason}); "
            f"offline, pass --data-root with a folder that holds MNIST/raw/ (e.g. ../shared/data)"
        ) from None


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode()))



def model_from_state(state: dict, source: Path, device: torch.device | str = "cpu"):
    """The model rebuilt from a loaded checkpoint alone (its config names the architecture), in eval mode."""
    from vae.parts import build_model, model_config

    try:
        model = build_model(model_config(state["config"]), device)
        model.load_state_dict(state["model"])
    except (ValueError, TypeError, RuntimeError, KeyError) as e:
        raise UserError(f"{source} does not match the model ({str(e).splitlines()[0]})") from None
    return model.eval()


def load_model(checkpoint: Path, device: torch.device | str = "cpu"):
    return model_from_state(load_checkpoint(checkpoint, map_location=device), checkpoint, device)
