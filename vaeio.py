"""Files in and out: MNIST, model.pk and checkpoint.pt.

Everything a user can get wrong here (a missing or corrupt file, a bad path) raises
`UserError` with one readable line; the scripts print it and exit non-zero.
Nothing here runs code from a file: checkpoints load with `weights_only=True`, and
model.pk through an unpickler that admits only numpy arrays and plain containers.
"""

from __future__ import annotations

import functools
import os
import pickle
import sys
import tempfile
from pathlib import Path

import torch

MODEL_PK = "model.pk"
CHECKPOINT = "checkpoint.pt"
EPOCH1_CHECKPOINT = "checkpoint_epoch1.pt"  # weights after epoch 1, for samples then vs now
CONFIG_JSON = "config.json"

# torchvision's layout: <root>/MNIST/raw/<name>
MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


class UserError(Exception):
    """A problem with the user's input, reported as one line without a traceback."""


def cli(prog: str):
    """Decorate a script's main(argv): a UserError becomes one line on stderr and exit status 2."""

    def wrap(main):
        @functools.wraps(main)
        def run(argv=None) -> int:
            try:
                return main(argv)
            except UserError as e:
                print(f"{prog}: error: {e}", file=sys.stderr)
                return 2

        return run

    return wrap


# ---------------------------------------------------------------- writing


def atomic_write(path: Path, write) -> None:
    """Call write(fileobj) on a temporary file beside `path`, then rename it into place,
    so an interrupted run never leaves a half-written file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; results are meant to be shared
        os.replace(tmp, path)
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
    return results


def load_checkpoint(path: Path, map_location="cpu") -> dict:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path} not found")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        raise UserError(f"{path} was refused by torch.load(weights_only=True): {str(e).splitlines()[0]}") from None
    except (RuntimeError, EOFError, ValueError, OSError) as e:
        raise UserError(f"{path} is corrupt or truncated ({str(e).splitlines()[0]})") from None
    if not isinstance(state, dict) or "model" not in state or "config" not in state:
        raise UserError(f"{path} is not a checkpoint written by main.py")
    return state


def load_mnist(root: Path, train: bool, with_labels: bool = False):
    """MNIST images as a uint8 tensor (N, 28, 28), in the original order (and the labels (N,)).

    Reads <root>/MNIST/raw when the files are there, else lets torchvision download them.
    """
    import torchvision  # only the data path needs it

    root = Path(root)
    raw = root / "MNIST" / "raw"
    split = "training" if train else "test"
    if all((raw / name).is_file() for name in MNIST_FILES):
        try:
            ds = torchvision.datasets.MNIST(root, train=train, download=False)
        except (RuntimeError, ValueError, OSError, EOFError) as e:
            raise UserError(f"MNIST {split} files in {raw} are corrupt or truncated ({str(e).splitlines()[0]})") from None
    else:
        try:
            ds = torchvision.datasets.MNIST(root, train=train, download=True)
        except (RuntimeError, OSError) as e:
            reason = str(e).splitlines()[-1].strip() or type(e).__name__
            raise UserError(
                f"MNIST is not in {raw} and could not be downloaded ({reason}); "
                f"offline, pass --data-root with a folder that holds MNIST/raw/ (e.g. ../shared/data)"
            ) from None
    images = ds.data
    if images.dtype != torch.uint8 or images.ndim != 3 or tuple(images.shape[1:]) != (28, 28):
        raise UserError(f"MNIST {split} images in {raw} have shape {tuple(images.shape)}, expected (N, 28, 28)")
    return (images, ds.targets) if with_labels else images


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode()))

