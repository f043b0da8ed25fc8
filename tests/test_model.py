"""The model against the report: shapes layer by layer, parameter counts, the loss by hand."""

import math
import subprocess
import sys

import pytest
import torch
from torch import nn

from conftest import SPREAD_TOLERANCE, FixedPosterior, KeepsZ, draw_spread, exp_logvar_as_the_std, spread_posterior
from model import PRESETS, VAE, VAEBase, VAEConfig, decoder_shapes, negative_elbo, training_loss
from vae.measures import count_parameters
from vae.registry import config_from_dict, config_to_dict

# The report's shapes (per image, channels x height x width), from its text and Table 2.
REPORT_DECODER = [(128, 86, 5), (128, 28, 2), (64, 86, 6), (64, 28, 3), (1, 86, 7), (1, 28, 3)]


def record_shapes(model, x):
    """Per-image output shapes of the LSTM, the two heads, each transpose conv and pooling."""
    shapes = {}
    hooks = []
    for name, module in model.named_modules():
        if isinstance(module, (nn.LSTM, nn.Linear, nn.ConvTranspose2d, nn.MaxPool2d)):
            def hook(mod, inp, out, name=name):
                out = out[0] if isinstance(out, tuple) else out
                shapes[name] = tuple(out.shape[1:])
            hooks.append(module.register_forward_hook(hook))
    with torch.no_grad():
        out = model(x)
    for h in hooks:
        h.remove()
    return shapes, out


@pytest.mark.quick
@pytest.mark.parametrize("which, latent", [(1, 256), (2, 16)])
def test_shapes_layer_by_layer(which, latent):
    model = VAE(PRESETS[which]).eval()
    x = torch.rand(3, 1, 28, 28)
    shapes, (recon, mu, logvar) = record_shapes(model, x)
    assert shapes["encoder.lstm"] == (28, 32)  # a1, a2: 28 x 32
    assert shapes["encoder.fc_mu"] == shapes["encoder.fc_logvar"] == (28, latent)  # a3: 28 x 256 (or 16)
    assert tuple(mu.shape) == tuple(logvar.shape) == (3, 28, latent)
    decoder = [shapes[f"decoder.blocks.{b}.{i}"] for b in range(3) for i in (0, 3)]
    assert decoder == REPORT_DECODER
    assert model.decoder.blocks[0][0].in_channels == latent  # z reshaped to latent x 28 x 1
    assert shapes["decoder.fc_out"] == (28, 28)  # Linear(3, 28) on each of the 28 rows
    assert tuple(recon.shape) == (3, 1, 28, 28)
    assert 0 <= recon.min() and recon.max() <= 1


@pytest.mark.quick
def test_decoder_shapes_derive_from_config():
    assert [s for pair in decoder_shapes(VAEConfig()) for s in pair] == REPORT_DECODER


@pytest.mark.quick
def test_reshape_is_plain_not_transpose():
    model = VAE(PRESETS[1]).eval()
    seen = {}
    model.decoder.blocks[0][0].register_forward_pre_hook(lambda m, inp: seen.update(x=inp[0]))
    z = torch.randn(2, 28, 256)
    model.decode(z)
    assert torch.equal(seen["x"], z.reshape(2, 256, 28, 1))


def lstm_parameters(inputs, hidden):
    return 4 * hidden * (inputs + hidden) + 2 * 4 * hidden  # four gates, two bias vectors (PyTorch's)


def linear_parameters(inputs, outputs):
    return inputs * outputs + outputs


def conv_transpose_parameters(cin, cout, kernel):
    return cin * cout * kernel * kernel + cout


def batch_norm_parameters(channels):
    return 2 * channels  # weight and bias; the running statistics are buffers


@pytest.mark.quick
@pytest.mark.parametrize("which, latent", [(1, 256), (2, 16)])
def test_parameter_counts_from_the_reports_layers(which, latent):
    """Each part counted from Table 2's layer list, not from the code's config: LSTM(28 -> 32),
    two Linear(32, C) heads; ConvTranspose 5x5 C -> 128 -> 64 -> 1, each with BatchNorm, and
    Linear(3, 28). Model 1 (C = 256): encoder 24,832, decoder 1,026,291."""
    model = VAE(PRESETS[which])
    encoder = lstm_parameters(28, 32) + 2 * linear_parameters(32, latent)
    decoder = (conv_transpose_parameters(latent, 128, 5) + batch_norm_parameters(128)
               + conv_transpose_parameters(128, 64, 5) + batch_norm_parameters(64)
               + conv_transpose_parameters(64, 1, 5) + batch_norm_parameters(1) + linear_parameters(3, 28))
    assert count_parameters(model.encoder) == encoder and count_parameters(model.decoder) == decoder
    assert count_parameters(model) == encoder + decoder
    assert (which, encoder + decoder) in {(1, 1_051_123), (2, 267_283)}  # the README's and the manifest's figures


@pytest.mark.quick
def test_model2_has_no_dropout_and_model1_does():
    assert not any(isinstance(m, nn.Dropout2d) for m in VAE(PRESETS[2]).modules())
    drops = [m for m in VAE(PRESETS[1]).modules() if isinstance(m, nn.Dropout2d)]
    assert len(drops) == 3 and all(m.p == 0.01 for m in drops)


def hand_terms(recon, x, mu, logvar):
    bce = [-(t * math.log(r) + (1 - t) * math.log(1 - r)) for r, t in zip(recon, x)]
    kl = [-0.5 * (1 + v - m * m - math.exp(v)) for m, v in zip(mu, logvar)]
    return bce, kl


# Two "images" of 3 pixels and 2 latent elements each.
RECON = [[0.9, 0.2, 0.6], [0.3, 0.8, 0.5]]
TARGET = [[1.0, 0.0, 0.5], [0.25, 1.0, 0.0]]
MU = [[0.5, -1.0], [0.0, 2.0]]
LOGVAR = [[0.0, -0.5], [1.0, 0.3]]


def flat(rows):
    return [v for row in rows for v in row]


@pytest.mark.quick
def test_training_loss_matches_hand_computation():
    bce, kl = hand_terms(flat(RECON), flat(TARGET), flat(MU), flat(LOGVAR))
    parts = training_loss(*(torch.tensor(t, dtype=torch.float64) for t in (RECON, TARGET, MU, LOGVAR)))
    assert parts.bce.item() == pytest.approx(sum(bce) / 6, rel=1e-12)  # mean over all pixels
    assert parts.kld.item() == pytest.approx(sum(kl) / 4, rel=1e-12)  # mean over all latent elements
    assert parts.total.item() == pytest.approx(sum(bce) / 6 + sum(kl) / 4, rel=1e-12)


@pytest.mark.quick
def test_negative_elbo_matches_hand_computation():
    bce, kl = hand_terms(flat(RECON), flat(TARGET), flat(MU), flat(LOGVAR))
    parts = negative_elbo(*(torch.tensor(t, dtype=torch.float64) for t in (RECON, TARGET, MU, LOGVAR)))
    assert parts.bce.item() == pytest.approx(sum(bce) / 2, rel=1e-12)  # summed per image, 2 images
    assert parts.kld.item() == pytest.approx(sum(kl) / 2, rel=1e-12)
    assert parts.total.item() == pytest.approx((sum(bce) + sum(kl)) / 2, rel=1e-12)


@pytest.mark.quick
def test_kl_is_zero_at_the_prior():
    mu, logvar = torch.zeros(4, 28, 16), torch.zeros(4, 28, 16)
    x = torch.full((4, 1, 28, 28), 0.5)
    assert training_loss(x, x, mu, logvar).kld.item() == 0.0


def test_sample_decodes_prior_draws():
    from conftest import ROOT
    from vae.files import load_model

    model = load_model(ROOT / "pretrained" / "model2.pt").eval()  # trained: its images move with z
    a = model.sample(5, generator=torch.Generator().manual_seed(3))
    b = model.sample(5, generator=torch.Generator().manual_seed(3))
    assert a.shape == (5, 1, 28, 28) and torch.equal(a, b)
    # the decoded images of the seed's own N(0, I) draws, not of z = 0 (the prior's mean) nor of other draws
    z = torch.randn(5, 28, 16, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(a, model.decode(z))
    at_the_mean = model.decode(torch.zeros_like(z))
    assert (a - at_the_mean).abs().amax(dim=(1, 2, 3)).min() > 0.1  # 0.46 or more when written
    assert (a[0] - a[1]).abs().max() > 0.1


@pytest.mark.quick
def test_config_round_trips_through_plain_dict():
    for cfg in PRESETS.values():
        assert config_from_dict(config_to_dict(cfg)) == cfg
    with pytest.raises(ValueError, match="unknown"):
        config_from_dict({"arch": VAEConfig.arch, "nonsense": 1})


def test_importing_model_has_no_side_effects(tmp_path):
    code = "import torch; s = torch.get_rng_state(); import model; assert torch.equal(s, torch.get_rng_state()); print('ok')"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={"PYTHONPATH": str(__import__("conftest").ROOT), "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "ok", out.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.quick
def test_iwae_with_one_sample_averages_to_the_negative_elbo_and_tightens_with_k():
    from vae.measures import iwae_nats

    torch.manual_seed(0)
    model = VAE(PRESETS[2]).eval()
    x = torch.rand(8, 1, 28, 28).round()  # a binary batch
    with torch.no_grad():
        analytic = negative_elbo(*(lambda r, m, v: (r, x, m, v))(*model(x))).total.item()
    one = torch.stack([iwae_nats(model, x, 1).mean() for _ in range(200)]).mean().item()
    assert one == pytest.approx(analytic, rel=2e-3)
    assert iwae_nats(model, x, 20).mean().item() < one


def spread_of(reparameterize, n=40_000):
    torch.manual_seed(0)
    mu, logvar = spread_posterior()
    return draw_spread(reparameterize(mu.expand(n, 4), logvar.expand(n, 4)), mu, logvar)


@pytest.mark.quick
def test_reparameterize_draws_with_the_variance_exp_logvar():
    ratio, offset = spread_of(VAEBase.reparameterize)
    assert (ratio - 1).abs().max() < SPREAD_TOLERANCE and offset.abs().max() < 5
    ratio, _ = spread_of(exp_logvar_as_the_std)
    assert ((ratio - 1).abs() > 10 * SPREAD_TOLERANCE).all()  # the slip is far outside


@pytest.mark.quick
def test_the_model_decodes_draws_with_the_variance_exp_logvar(monkeypatch):
    """forward() draws z through reparameterize: its z has the spread exp(logvar), and the slip fails."""
    mu, logvar = spread_posterior()
    decoder = KeepsZ()
    model = VAEBase(None, FixedPosterior(mu, logvar), decoder)
    torch.manual_seed(0)
    model(torch.zeros(40_000, 1, 2, 2))
    ratio, offset = draw_spread(decoder.seen[-1], mu, logvar)
    assert (ratio - 1).abs().max() < SPREAD_TOLERANCE and offset.abs().max() < 5
    monkeypatch.setattr(VAEBase, "reparameterize", staticmethod(exp_logvar_as_the_std))
    model(torch.zeros(40_000, 1, 2, 2))
    assert ((draw_spread(decoder.seen[-1], mu, logvar)[0] - 1).abs() > 10 * SPREAD_TOLERANCE).all()
