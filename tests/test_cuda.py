"""The CUDA-graph training step against the eager one. Needs a GPU: skipped on CPU-only
machines (CI has none); run on one with `MNIST_ROOT=... python -m pytest tests/test_cuda.py`."""

import pytest
import torch

from model import PRESETS
from vae.parts import build_model
from vae.data import prepare_images
from vae.files import load_mnist
from vae import training

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def run(graph: bool, data, init, epochs: int = 2, batch_size: int = 100):
    device = data.device
    model = build_model(PRESETS[1], device)
    model.load_state_dict(init)
    # capturable in both: its update is computed on the GPU, with rounding of its own
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, capturable=True)
    step = training.TrainStep(model, opt, data, batch_size, graph=graph)
    torch.manual_seed(1)  # the same eps and dropout masks in both
    recon = torch.empty_like(data)
    out = [training.train_epoch(step, torch.arange(len(data), device=device), recon) for _ in range(epochs)]
    return out, recon, step


@pytest.fixture
def exact_cudnn():
    """fp32 convolutions and fixed algorithms, so the two paths can be held to rounding
    (TF32 and autotuned kernels make any two runs drift apart by about 1e-3)."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark
    torch.backends.cudnn.allow_tf32, torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = False, True, False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = saved


def test_graph_step_matches_eager_step(mnist_root, exact_cudnn):
    # 1,050 images: ten full batches through the graph, then a short one run eagerly
    data = prepare_images(load_mnist(mnist_root, train=True)[:1050], PRESETS[1], "cuda")
    torch.manual_seed(0)
    init = build_model(PRESETS[1]).state_dict()
    (eager, eager_recon, _), (graphed, graph_recon, step) = run(False, data, init), run(True, data, init)
    assert step.graph is not None  # the graph was captured and replayed
    for (loss_e, kld_e, _, steps_e), (loss_g, kld_g, _, steps_g) in zip(eager, graphed):
        assert loss_g == pytest.approx(loss_e, abs=1e-5)
        assert kld_g == pytest.approx(kld_e, abs=1e-5)
        torch.testing.assert_close(steps_g, steps_e, atol=1e-2, rtol=1e-4)  # nats per image
    torch.testing.assert_close(graph_recon, eager_recon, atol=1e-4, rtol=0)
