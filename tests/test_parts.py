"""Composable parts (issue 11): the rank bound of the report's decoder, every encoder with
every decoder, presets unchanged, old checkpoints still load."""

import json

import pytest
import torch

from conftest import ROOT
from model import PRESETS, VAE, count_parameters, training_loss
from parts import ARCH_PRESETS, DECODERS, ENCODERS, ComposedConfig, build_model, compose, config_from_dict
from training import to_input
from vaeio import load_mnist

LEGACY = json.loads((ROOT / "tests" / "data" / "legacy_presets.json").read_text())


def linear(a, b):
    return a * b + b


def lstm(i, h):
    return 4 * h * (i + h) + 8 * h  # PyTorch's two bias vectors


# By hand from the layer lists: the report's Model 1 less its encoder is its decoder.
MODEL1 = 1_051_123
REPORT_ENCODER = lstm(28, 32) + 2 * linear(32, 256)
REPORT_DECODER = MODEL1 - REPORT_ENCODER
MLP_ENCODER = linear(784, 400) + 2 * linear(400, 20)  # pytorch/examples' sizes
MLP_DECODER = linear(20, 400) + linear(400, 784)
FULLRANK_EXTRA = (64 * 16 * 25 + 16 - (64 * 25 + 1)) + 2 * (16 - 1) + (linear(48, 28) - linear(3, 28))
EXPECTED = {
    ("lstm", "report"): MODEL1,
    ("lstm", "report-fullrank"): MODEL1 + FULLRANK_EXTRA,
    ("mlp", "report"): MLP_ENCODER + linear(20, 28 * 256) + REPORT_DECODER,  # Linear adapter 20 -> 28x256
    ("lstm-vector", "mlp"): lstm(28, 32) + 2 * linear(32, 20) + MLP_DECODER,
    ("mlp", "mlp"): MLP_ENCODER + MLP_DECODER,  # = pytorch/examples' VAE
    ("lstm", "mlp"): REPORT_ENCODER + linear(28 * 256, 20) + MLP_DECODER,  # adapter 28x256 -> 20
}


def logits_rank(model, z) -> list[int]:
    """Numerical rank of every decoded 28x28 logit matrix, in float64."""
    with torch.no_grad():
        logits = model.double().decode_logits(z.double()).squeeze(1)  # (B, 28, 28)
    s = torch.linalg.svdvals(logits)  # (B, 28), descending
    return (s > s[:, :1] * 1e-10).sum(1).tolist()


def train_a_little(model, x, steps=15, reduction="mean"):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for i in range(steps):
        recon, mu, logvar = model(x[i * 20 % len(x):][:20])
        loss = training_loss(recon, x[i * 20 % len(x):][:20], mu, logvar, reduction).total
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


@pytest.mark.parametrize("which", [1, 2])
def test_report_decoder_logits_have_rank_at_most_4(which, mnist_root):
    """L = H W^T + 1 b^T with H (28x3): rank <= 4, untrained and after training on MNIST."""
    torch.manual_seed(0)
    model = VAE(PRESETS[which]).eval()
    z = torch.randn(8, 28, PRESETS[which].latent_channels)
    untrained = logits_rank(model, z)
    x = to_input(load_mnist(mnist_root, train=True)[:300], "cpu")
    model = train_a_little(VAE(PRESETS[which]).train(), x).eval()
    trained = logits_rank(model, z)
    assert max(untrained) <= 4 and max(trained) <= 4, (untrained, trained)
    assert min(trained) >= 3  # trained, the bound is reached: not an accident of dead units


def test_fullrank_decoder_lifts_the_bound():
    torch.manual_seed(0)
    model = build_model(compose("lstm", "report-fullrank")).eval()
    ranks = logits_rank(model, torch.randn(8, 28, 256))
    assert min(ranks) > 4, ranks


@pytest.mark.parametrize("encoder", sorted(ENCODERS))
@pytest.mark.parametrize("decoder", sorted(DECODERS))
def test_every_encoder_with_every_decoder(encoder, decoder):
    torch.manual_seed(0)
    cfg = compose(encoder, decoder)
    model = build_model(cfg).eval()
    recon, mu, logvar = model(torch.rand(3, 1, 28, 28))
    assert recon.shape == (3, 1, 28, 28) and 0 <= recon.min() and recon.max() <= 1
    assert mu.shape == logvar.shape == (3, *model.latent_shape)
    assert model.latent_shape == ((28, 256) if encoder == "lstm" else (20,))
    assert model.sample(2).shape == (2, 1, 28, 28)
    assert config_from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    if (encoder, decoder) in EXPECTED:
        assert count_parameters(model) == EXPECTED[(encoder, decoder)]


@pytest.mark.parametrize("encoder, decoder", [("lstm-vector", "mlp"), ("mlp", "report"), ("lstm", "report-fullrank"),
                                              ("lstm-vector", "conv")])
def test_one_short_training_lowers_the_elbo(encoder, decoder, mnist_root):
    torch.manual_seed(0)
    x = to_input(load_mnist(mnist_root, train=True)[:200], "cpu")
    model = build_model(compose(encoder, decoder))

    def nelbo():
        model.eval()
        torch.manual_seed(1)
        recon, mu, logvar = model(x)
        return training_loss(recon, x, mu, logvar, "per_image").total.item()

    before = nelbo()
    train_a_little(model.train(), x, steps=10, reduction="per_image")
    assert nelbo() < before - 1  # nats per image


@pytest.mark.parametrize("name", sorted(LEGACY))
def test_presets_are_todays_models_and_old_checkpoints_load(name):
    """Same seeded weights (in the same order), same outputs as before the parts existed;
    a state dict with the old flat names loads."""
    record = LEGACY[name]
    cfg = config_from_dict(record["config"])
    assert cfg == (PRESETS[int(name[-1])] if name.startswith("lstm") else ARCH_PRESETS[name])
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    sums = [float(v.double().sum()) for v in model.state_dict().values()]
    assert sums == [s for _, _, s in record["state"]]
    g = torch.Generator().manual_seed(1)
    x = torch.rand(2, 1, cfg.image_size, cfg.image_size, generator=g)
    with torch.no_grad():
        mu, _ = model.encode(x)
        recon = model.decode(torch.randn(mu.shape, generator=g))
    assert float(recon.double().sum()) == pytest.approx(record["recon_sum"], rel=1e-12)
    old = {key: torch.full(shape, float(i)) for i, (key, shape, _) in enumerate(record["state"])}
    fresh = build_model(cfg)
    fresh.load_state_dict(old)  # strict: every old name maps to exactly one new one
    assert [v.flatten()[0].item() for v in fresh.state_dict().values()] == list(map(float, range(len(old))))


def test_composed_config_refuses_mismatched_sizes():
    cfg = compose("lstm-vector", "mlp")
    with pytest.raises(ValueError, match="takes VAEConfig"):
        ComposedConfig("lstm", "mlp", cfg.decoder_sizes, cfg.decoder_sizes)
    with pytest.raises(ValueError, match="unknown encoder"):
        compose("transformer", "mlp")
    with pytest.raises(ValueError, match="report-fullrank needs"):
        ComposedConfig("lstm", "report-fullrank", PRESETS[1], PRESETS[1])


def test_repaired_preset():
    cfg = ARCH_PRESETS["lstm-repaired"]
    assert (cfg.encoder, cfg.decoder, cfg.reduction) == ("lstm-vector", "mlp", "per_image")
    assert count_parameters(build_model(cfg)) == lstm(28, 256) + 2 * linear(256, 20) + linear(20, 512) + linear(512, 512) \
        + linear(512, 784)


def test_full_covariance_class_gaussians_match_the_encodings():
    """class_latent_gaussians(full=True): L L^T is each class's covariance of mu(x), and
    sample_classes draws with that covariance."""
    from model import class_latent_gaussians, sample_classes

    class Identity(torch.nn.Module):  # mu(x) = x's first 3 pixels, decode(z) = z
        latent_shape = (3,)

        def encode(self, x):
            return x.flatten(1)[:, :3], None

        def decode(self, z):
            return z

    g = torch.Generator().manual_seed(0)
    mix = torch.tensor([[1.0, 0.0, 0.0], [0.9, 0.4, 0.0], [0.0, 0.5, 0.2]])
    x = (torch.randn(4000, 3, generator=g) @ mix.T).view(4000, 1, 1, 3)
    labels = torch.arange(4000) % 2
    means, scales = class_latent_gaussians(Identity(), x, labels, full=True)
    assert scales.shape == (2, 3, 3)
    cov0 = torch.cov(x.flatten(1)[labels == 0].T)
    assert torch.allclose(scales[0] @ scales[0].T, cov0, atol=1e-5)
    draws = sample_classes(Identity(), means, scales, 20000, torch.Generator().manual_seed(1))[:20000]
    assert torch.allclose(torch.cov(draws.T), cov0, atol=0.05)  # diagonal draws would lose the 0.9 correlation
