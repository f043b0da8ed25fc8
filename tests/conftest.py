import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests import model, main, generator from the repo root


def script_argv(relative: str) -> list[str]:
    """How a user runs a script: the root's by path (main.py), the ones under report/,
    benchmarks/ and pretrained/ as modules of the root (python -m report.build)."""
    if "/" in relative:
        return [sys.executable, "-m", relative.removesuffix(".py").replace("/", ".")]
    return [sys.executable, str(ROOT / relative)]


# With -m from another working directory, Python finds the root's packages through this.
SCRIPT_ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def load_script(relative: str):
    """A script under report/, benchmarks/ or pretrained/ as a module (they are not packages)."""
    path = ROOT / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The real MNIST, in torchvision's layout, beside the checkout (MNIST_ROOT overrides).
MNIST_ROOT = Path(os.environ.get("MNIST_ROOT", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    if not (MNIST_ROOT / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file():
        message = f"real MNIST not found under {MNIST_ROOT} (set MNIST_ROOT)"
        if os.environ.get("CI"):
            pytest.fail(message + ": CI must run the tests that need it")
        pytest.skip(message)
    return MNIST_ROOT
