"""The importance-weighted estimator of log p(x) (issue 24) against the exact log-likelihood
of a model with a 2-d latent, computed by numerical integration on a fine grid."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from conftest import SPREAD_TOLERANCE, FixedPosterior, KeepsZ, draw_spread, exp_logvar_as_the_std, spread_posterior
from model import PRESETS, VAEBase
from vae.measures import active_units, iwae_nats

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


@pytest.mark.quick
def test_the_estimators_proposal_has_the_variance_exp_logvar(monkeypatch):
    """The k samples z_i ~ q(z|x) that the bound weighs are drawn with the spread exp(logvar),
    and the bound's log q(z|x) is of that spread: the slip exp(logvar) as the std fails here."""
    mu, logvar = spread_posterior()
    decoder = KeepsZ()
    model = VAEBase(None, FixedPosterior(mu, logvar), decoder)
    x = torch.zeros(4, 1, 2, 2)
    iwae_nats(model, x, 10_000, generator=torch.Generator().manual_seed(0))
    ratio, offset = draw_spread(torch.cat(decoder.seen), mu, logvar)
    assert (ratio - 1).abs().max() < SPREAD_TOLERANCE and offset.abs().max() < 5
    # With a decoder that ignores z, p(x|z) is constant and the weights are p(z) / q(z|x), whose mean
    # is 1: the bound is log 2 per pixel (4 pixels at logit 0), 4 log 2 nats, for a q wider than the
    # prior (bounded weights: the log of their mean over k = 10,000 is near its limit).
    wide = VAEBase(None, FixedPosterior(torch.zeros(4), torch.tensor([1.0, 2.0, 1.0, 2.0])), KeepsZ())
    exact = iwae_nats(wide, x, 10_000, generator=torch.Generator().manual_seed(1))
    assert (exact - 4 * math.log(2)).abs().max() < 0.1  # 0.05 at most when written
    monkeypatch.setattr(VAEBase, "reparameterize", staticmethod(exp_logvar_as_the_std))
    decoder.seen.clear()
    iwae_nats(model, x, 10_000, generator=torch.Generator().manual_seed(0))
    assert ((draw_spread(torch.cat(decoder.seen), mu, logvar)[0] - 1).abs() > 10 * SPREAD_TOLERANCE).all()
    slipped = iwae_nats(wide, x, 10_000, generator=torch.Generator().manual_seed(1))
    assert (slipped - 4 * math.log(2)).abs().min() > 1  # 3 nats off: draws of one density weighed as another's


@pytest.mark.quick
def test_the_bound_is_the_log_mean_of_the_one_sample_weights(toy):
    """With one draw per pass (rows = the batch), k draws of one generator are k one-sample bounds
    in a row: the k-sample bound is exactly -log mean exp(-one-sample nats) of those, no more
    than their mean (Jensen), and at most log k above the best of them."""
    _, x, _, _, _ = toy
    model = model_with(toy, widen=2.5)
    k = 7
    bound = iwae_nats(model, x, k, rows=len(x), generator=torch.Generator().manual_seed(4))
    gen = torch.Generator().manual_seed(4)
    singles = torch.stack([iwae_nats(model, x, 1, rows=len(x), generator=gen) for _ in range(k)])  # (k, B)
    torch.testing.assert_close(bound, -(torch.logsumexp(-singles, 0) - math.log(k)), rtol=0, atol=1e-12)
    assert (bound <= singles.mean(0) + 1e-12).all() and (bound <= singles.min(0).values + math.log(k)).all()
    assert (bound < singles.mean(0) - 0.1).any()  # the draws differ: the bound is strictly tighter somewhere


class IndexedPosterior(nn.Module):
    """q(z|x) given by hand: image i (x filled with i) has the posterior (MEANS[i], LOGVARS[i])."""

    def __init__(self, means, logvars):
        super().__init__()
        self.means, self.logvars = torch.tensor(means), torch.tensor(logvars)

    def encode(self, x):
        i = x.flatten(1)[:, 0].long()
        return self.means[i], self.logvars[i]


@pytest.mark.quick
def test_active_units_by_hand():
    """Four images, five latent dimensions, the threshold 0.01 nats (KL) and 0.01 (variance of mu):
    dim 0: mu = +-1, logvar 0        KL 0.5 each           var(mu) 4/3       active, active
    dim 1: mu = 0, logvar 0          KL 0                  var 0             -, -
    dim 2: mu = 0.05, logvar -0.1    KL 0.0037             var 0             -, -
    dim 3: mu = +-0.1, logvar 0      KL 0.005              var 0.04/3        -, active
    dim 4: mu = 0, logvar -1         KL (e^-1)/2 = 0.18    var 0             active, -"""
    sign = [1.0, -1.0, 1.0, -1.0]
    means = [[s, 0.0, 0.05, 0.1 * s, 0.0] for s in sign]
    logvars = [[0.0, 0.0, -0.1, 0.0, -1.0]] * 4
    model = IndexedPosterior(means, logvars)
    x = torch.arange(4.0).view(4, 1, 1, 1).expand(4, 1, 2, 2)
    for batch_size in (3, 500):  # across batches and in one
        assert active_units(model, x, batch_size=batch_size) == {"latent_dims": 5, "active_kl": 2, "active_cov": 2}
    assert active_units(model, x, threshold=0.003) == {"latent_dims": 5, "active_kl": 4, "active_cov": 2}  # dims 2, 3 too


@pytest.mark.quick
def test_the_iwae_objective_is_the_estimators_bound_on_the_same_draws():
    """--objective iwae trains on the bound evaluate.py reports: on the same draws the two agree,
    and its history terms are the ELBO's (the first draw's BCE, the closed-form KL)."""
    from model import negative_elbo
    from vae.parts import build_model, compose
    from vae.registry import OBJECTIVES, option_values

    model = build_model(compose("lstm-vector", "lstm-masked",
                                option_values(PRESETS[1], dict(latent=4, lstm_hidden=8, decoder_hidden=8)))).eval()
    x = (torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    objective = OBJECTIVES["iwae"](iwae_k=7)
    torch.manual_seed(3)
    recon, mu, logvar, log_w = objective.forward(model, x)
    assert log_w[0].shape == (7, 6)
    parts = objective.loss(recon, x, mu, logvar, 1.0, log_w)  # log_w: the log weights and the first draw's KL
    torch.manual_seed(3)
    assert parts.total.item() == pytest.approx(iwae_nats(model, x, 7).mean().item(), abs=1e-4)
    elbo = negative_elbo(recon, x, mu, logvar)
    assert torch.allclose(parts.bce, elbo.bce) and torch.allclose(parts.kld, elbo.kld)
    assert objective.per_image(parts, x, mu) == (parts.bce, parts.kld)
    assert parts.total < elbo.total  # k = 7 draws: tighter than this one-draw ELBO here
