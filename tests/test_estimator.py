"""The importance-weighted estimator of log p(x) (issue 24) against the exact log-likelihood
of a model with a 2-d latent, computed by numerical integration on a fine grid."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from model import VAEBase
from vae.measures import iwae_nats

GRID = torch.linspace(-7.0, 7.0, 1401, dtype=torch.float64)  # step 0.01; the prior's mass beyond 7 is ~1e-12
PIXELS = 16


class Decoder(nn.Module):
    latent_shape = (2,)

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, PIXELS)

    def forward(self, z):
        return self.fc(z).view(-1, 1, 4, 4)  # logits


class Posterior(nn.Module):
    """q(z|x): a fixed Gaussian per image (the exact posterior's moments, its spread widened
    by `widen`), for exactly the batch it was made for."""

    latent_shape = (2,)

    def __init__(self, x, mu, var, widen):
        super().__init__()
        self.x, self.mu, self.logvar = x, mu, (var * widen**2).log()

    def forward(self, x):
        assert torch.equal(x, self.x)
        return self.mu, self.logvar


def exact(decoder, x):
    """log p(x) (N,), the posterior means (N, 2) and variances (N, 2), summed over the grid."""
    z = torch.cartesian_prod(GRID, GRID)  # (G, 2)
    step = (GRID[1] - GRID[0]).item()
    with torch.no_grad():
        logits = decoder(z).flatten(1)  # (G, 16)
        log_prior = -0.5 * z.pow(2).sum(1) - math.log(2 * math.pi)
        out = []
        for image in x.flatten(1):
            log_joint = log_prior - F.binary_cross_entropy_with_logits(logits, image.expand_as(logits),
                                                                       reduction="none").sum(1)
            log_px = torch.logsumexp(log_joint, 0) + 2 * math.log(step)
            w = (log_joint - torch.logsumexp(log_joint, 0)).exp()[:, None]
            mean = (w * z).sum(0)
            out.append((log_px, mean, (w * (z - mean) ** 2).sum(0)))
    return (torch.stack([o[i] for o in out]) for i in range(3))


@pytest.fixture(scope="module")
def toy():
    torch.manual_seed(0)
    decoder = Decoder().double()
    with torch.no_grad():
        decoder.fc.weight.mul_(6.0)  # sharp enough that the posterior is far from the prior
    z = torch.randn(12, 2, dtype=torch.float64)
    x = torch.bernoulli(torch.sigmoid(decoder(z)))  # (12, 1, 4, 4) binary images from the model
    log_px, mean, var = exact(decoder, x)
    return decoder, x, log_px, mean, var


def model_with(toy, widen):
    decoder, x, _, mean, var = toy
    return VAEBase(None, Posterior(x, mean, var, widen), decoder).eval()


def test_large_k_matches_the_exact_log_likelihood(toy):
    _, x, log_px, _, _ = toy
    model = model_with(toy, widen=1.5)
    nats = iwae_nats(model, x, 5000, rows=600, generator=torch.Generator().manual_seed(0))
    assert (nats + log_px).abs().max().item() < 0.05, (nats, -log_px)
    assert (-log_px).min().item() > 3  # the images are not trivially likely


def test_small_k_is_no_better_on_average_and_chunks_do_not_matter(toy):
    _, x, log_px, _, _ = toy
    model = model_with(toy, widen=2.5)  # a poorer q: a visible gap at small k
    gen = torch.Generator().manual_seed(1)
    mean_nats = {k: torch.stack([iwae_nats(model, x, k, generator=gen) for _ in range(40)]).mean().item()
                 for k in (1, 10, 1000)}
    assert mean_nats[1] > mean_nats[10] > mean_nats[1000] >= -log_px.mean().item() - 0.02
    one_by_one = iwae_nats(model, x, 1000, rows=1, generator=torch.Generator().manual_seed(2))  # 1 sample per pass
    assert (one_by_one + log_px).abs().mean().item() < 0.05


def test_the_estimate_is_seeded(toy):
    _, x, _, _, _ = toy
    model = model_with(toy, widen=1.5)
    a, b = (iwae_nats(model, x, 50, generator=torch.Generator().manual_seed(3)) for _ in range(2))
    assert torch.equal(a, b)


def test_an_interrupted_evaluation_continues_where_it_stopped(mnist_root, tmp_path, monkeypatch, capsys):
    import json
    import shutil

    import evaluate
    from conftest import ROOT

    ckpt = tmp_path / "lstm_repaired.pt"
    shutil.copy(ROOT / "pretrained" / "lstm_repaired.pt", ckpt)
    args = ["--checkpoint", str(ckpt), "--data-root", str(mnist_root), "--limit", "300", "--k", "20",
            "--binarize", "dynamic", "--device", "cpu", "--no-progress"]
    assert evaluate.main(args) == 0
    whole = json.loads((tmp_path / "evaluation_lstm_repaired_k20.json").read_text())
    assert whole["binarize_seed"] == 123 and whole["test_images"] == 300 and whole["iwae_se"] > 0

    real, calls = evaluate.iwae_nats, []

    def dies_at_the_third_batch(*a, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(evaluate, "SAVE_EVERY_S", 0)
    monkeypatch.setattr(evaluate, "iwae_nats", dies_at_the_third_batch)
    with pytest.raises(KeyboardInterrupt):
        evaluate.main(args)
    assert (tmp_path / "evaluation_lstm_repaired_k20.partial.pt").is_file()
    capsys.readouterr()
    monkeypatch.setattr(evaluate, "iwae_nats", real)
    assert evaluate.main(args) == 0
    assert "200 of 300 images done" in capsys.readouterr().out
    resumed = json.loads((tmp_path / "evaluation_lstm_repaired_k20.json").read_text())
    assert resumed["iwae_nats"] == whole["iwae_nats"]  # each batch has its own seeded generator
    assert not (tmp_path / "evaluation_lstm_repaired_k20.partial.pt").exists()
    assert evaluate.main([a if a != "dynamic" else "none" for a in args]) == 0
    grey = json.loads((tmp_path / "evaluation_lstm_repaired_k20.json").read_text())
    assert grey["binarize_seed"] is None and grey["iwae_nats"] != whole["iwae_nats"]
