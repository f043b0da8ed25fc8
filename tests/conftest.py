import importlib.util
import os
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests import model, main, generator from the repo root

from vae.cli import UserError
from vae.files import load_mnist, mnist_present  # noqa: E402  (found through the line above


def pytest_addoption(parser):
    parser.addoption("--full", action="store_true",
                     help="the full tier: every test, not only those marked quick (.ci/run passes it)")


def pytest_configure(config):
    config.addinivalue_line("markers", "mnist: needs the real MNIST (set on every test that takes mnist_root)")
    config.addinivalue_line("markers", "quick: in the quick tier, which `pytest tests` runs without --full")


def pytest_collection_modifyitems(config, items):
    """Mark the tests that read the real MNIST; without --full, keep the quick tier alone
    (the others are deselected, not skipped) unless tests were chosen otherwise: by file
    (tests/test_cuda.py), by name (FILE::NAME), -k or -m."""
    for item in items:
        if "mnist_root" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.mnist)
    chosen = config.option.keyword or config.option.markexpr or any(
        arg.split("::")[0].endswith(".py") for arg in config.args)
    if config.getoption("--full") or chosen:
        return
    later = [item for item in items if item.get_closest_marker("quick") is None]
    if later:
        config.hook.pytest_deselected(items=later)
        items[:] = [item for item in items if item.get_closest_marker("quick") is not None]


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


def draw_spread(z, mu, logvar):
    """Draws z (N, *shape) of N(mu, exp(logvar)): each element's sample variance over exp(logvar),
    and its sample mean's offset from mu in standard errors."""
    var = logvar.exp()
    return z.var(0) / var, (z.mean(0) - mu) / (var / z.shape[0]).sqrt()


# Log-variances away from 0, where exp(logvar) as the standard deviation would be right by
# accident: a factor-of-e slip moves each variance by e or more, far outside 5 %.
SPREAD_LOGVAR = (-2.0, -1.0, 1.0, 2.0)
SPREAD_TOLERANCE = 0.05  # 40,000 draws: the sample variance's relative error has sd 0.7 %


def spread_posterior():
    """(mu, logvar) of four latent dimensions, one per SPREAD_LOGVAR."""
    return torch.tensor([0.5, -1.0, 2.0, 0.0]), torch.tensor(SPREAD_LOGVAR)


def exp_logvar_as_the_std(mu, logvar, eps=None):
    """The slip the spread tests must catch: exp(logvar) as the standard deviation."""
    return mu + (torch.randn_like(mu) if eps is None else eps) * torch.exp(logvar)


class FixedPosterior(nn.Module):
    """An encoder whose q(z|x) is N(mu, exp(logvar)) for every image."""

    def __init__(self, mu, logvar):
        super().__init__()
        self.mu, self.logvar, self.latent_shape = mu, logvar, tuple(mu.shape)

    def forward(self, x):
        return self.mu.expand(len(x), *self.mu.shape), self.logvar.expand(len(x), *self.mu.shape)


class KeepsZ(nn.Module):
    """A decoder that keeps every z it is given and returns zero logits for 2x2 images."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, z):
        self.seen.append(z)
        return z.new_zeros(len(z), 1, 2, 2)


# Where the real MNIST may be, in torchvision's layout: $MNIST_ROOT, then ./data (where
# main.py downloads it), then ../shared/data (this repository's CI), then the tests' own
# download cache, outside the source tree so that a read-only checkout passes.
MNIST_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lstm-vae-tests"
MNIST_CANDIDATES = [Path(p) for p in (os.environ.get("MNIST_ROOT"),) if p] + [ROOT / "data", ROOT.parent / "shared" / "data",
                                                                              MNIST_CACHE]
DOWNLOAD_COMMAND = "python main.py --download-only"


def find_mnist(candidates=None) -> Path | None:
    for root in MNIST_CANDIDATES if candidates is None else candidates:
        if mnist_present(root):
            return root
    return None


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    """The real MNIST. Where it is nowhere, torchvision downloads it into MNIST_CACHE (as
    main.py would into ./data); where that fails too, every test that needs it fails with
    one line that says what to do: none is skipped. Under CI nothing is fetched."""
    root = find_mnist()
    if root is not None:
        return root
    where = ", ".join(map(str, MNIST_CANDIDATES[:-1]))
    if os.environ.get("CI"):
        pytest.fail(f"real MNIST not found in {where}; CI must run the tests that need it", pytrace=False)
    try:
        for train in (True, False):
            load_mnist(MNIST_CACHE, train=train)  # torchvision's download, each file's MD5 checked
        return MNIST_CACHE
    except UserError as e:
        failed = str(e).split(";")[0]
    pytest.fail(f"real MNIST not found in {where}, and {failed}: `{DOWNLOAD_COMMAND}` puts it in ./data, or set "
                "MNIST_ROOT to a folder that holds MNIST/raw/", pytrace=False)
