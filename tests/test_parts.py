"""Composable parts (issue 11): the rank bound of the report's decoder, every encoder with
every decoder, presets unchanged, a new part added in one registry entry."""

import json

import pytest
import torch

from conftest import ROOT
from model import PRESETS, VAE, kl_per_element, negative_elbo
from vae.registry import OBJECTIVES
from vae.data import prepare_images
from vae.files import load_mnist
from vae.measures import count_parameters
from vae.parts import ComposedConfig, build_model, compose
from vae.presets import ARCHS
from vae.registry import DECODERS, ENCODERS, config_from_dict, config_to_dict

# Sums of every seeded initial weight and of one decoded batch, recorded before the parts
# and the registry existed: the presets build the same models, in the same order.
FINGERPRINTS = json.loads((ROOT / "tests" / "data" / "preset_fingerprints.json").read_text())


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


def train_a_little(model, x, steps=15, objective="report"):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for i in range(steps):
        recon, mu, logvar = model(x[i * 20 % len(x):][:20])
        loss = OBJECTIVES[objective]().loss(recon, x[i * 20 % len(x):][:20], mu, logvar, 1.0,
                                            kl_per_element(mu, logvar)).total
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
    x = prepare_images(load_mnist(mnist_root, train=True)[:300], PRESETS[which])
    model = train_a_little(VAE(PRESETS[which]).train(), x).eval()
    trained = logits_rank(model, z)
    assert max(untrained) <= 4 and max(trained) <= 4, (untrained, trained)
    assert min(trained) >= 3  # trained, the bound is reached: not an accident of dead units


def test_fullrank_decoder_lifts_the_bound():
    torch.manual_seed(0)
    model = build_model(compose("lstm", "report-fullrank")).eval()
    ranks = logits_rank(model, torch.randn(8, 28, 256))
    assert min(ranks) > 4, ranks


@pytest.mark.quick
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
    assert config_from_dict(json.loads(json.dumps(config_to_dict(cfg)))) == cfg
    if (encoder, decoder) in EXPECTED:
        assert count_parameters(model) == EXPECTED[(encoder, decoder)]


@pytest.mark.parametrize("encoder, decoder", [("lstm-vector", "mlp"), ("mlp", "report"), ("lstm", "report-fullrank"),
                                              ("lstm-vector", "conv")])
def test_one_short_training_lowers_the_elbo(encoder, decoder, mnist_root):
    torch.manual_seed(0)
    x = prepare_images(load_mnist(mnist_root, train=True)[:200], PRESETS[1])
    model = build_model(compose(encoder, decoder))

    def nelbo():
        model.eval()
        torch.manual_seed(1)
        recon, mu, logvar = model(x)
        return negative_elbo(recon, x, mu, logvar).total.item()

    before = nelbo()
    train_a_little(model.train(), x, steps=10, objective="elbo")
    assert nelbo() < before - 1  # nats per image


@pytest.mark.parametrize("name", sorted(FINGERPRINTS))
def test_presets_build_the_models_they_built_before_the_registry(name):
    cfg = PRESETS[int(name[-1])] if name.startswith("lstm") else ARCHS[name].model
    record = FINGERPRINTS[name]
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    state = [[list(v.shape), float(v.double().sum())] for v in model.state_dict().values()]
    assert [shape for shape, _ in state] == [shape for shape, _ in record["state_shapes_and_sums"]]
    # recorded on another torch: equal to float32's precision, not to the last bit
    assert [s for _, s in state] == pytest.approx([s for _, s in record["state_shapes_and_sums"]], rel=1e-6, abs=1e-6)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(2, 1, cfg.image_size, cfg.image_size, generator=g)
    with torch.no_grad():
        mu, _ = model.encode(x)
        recon = model.decode(torch.randn(mu.shape, generator=g))
    assert float(recon.double().sum()) == pytest.approx(record["recon_sum"], rel=1e-6)


@pytest.mark.quick
def test_composed_config_refuses_mismatched_sizes():
    cfg = compose("lstm-vector", "mlp")
    with pytest.raises(ValueError, match="takes VAEConfig"):
        ComposedConfig("lstm", "mlp", cfg.decoder_sizes, cfg.decoder_sizes)
    with pytest.raises(ValueError, match="unknown encoder"):
        compose("transformer", "mlp")
    with pytest.raises(ValueError, match="report-fullrank needs"):
        ComposedConfig("lstm", "report-fullrank", PRESETS[1], PRESETS[1])


def test_repaired_preset():
    cfg = ARCHS["lstm-repaired"].model
    assert (cfg.encoder, cfg.decoder, cfg.objective) == ("lstm-vector", "mlp", "elbo")
    assert count_parameters(build_model(cfg)) == lstm(28, 256) + 2 * linear(256, 20) + linear(20, 512) + linear(512, 512) \
        + linear(512, 784)


def test_full_covariance_class_gaussians_match_the_encodings():
    """class_latent_gaussians(full=True): L L^T is each class's covariance of mu(x), and
    sample_classes draws with that covariance."""
    from vae.measures import class_latent_gaussians, sample_classes

    class Identity(torch.nn.Module):  # mu(x) = x's first 3 pixels, decode(z) = z
        latent_shape = (3,)

        def encode(self, x):
            return x.flatten(1)[:, :3], None

        def generate(self, z, generator=None):
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


def test_a_new_decoder_and_objective_are_one_registry_entry_each(mnist_root, tmp_path, monkeypatch, capsys):
    """A decoder with an option of its own (--toy-width) and an objective, each defined here alone
    and registered in one entry (and the decoder's config class in the config registry): main.py
    takes the flag, trains one step, and the model is rebuilt from the checkpoint with the
    option's value; --resume goes on. Nothing outside this test changes for them."""
    import dataclasses
    from typing import ClassVar

    import main
    from vae.files import load_checkpoint, load_model
    from vae.objectives import Objective
    from vae.registry import CONFIGS, OBJECTIVES, Option, Part

    @dataclasses.dataclass(frozen=True)
    class ToyConfig:
        arch: ClassVar[str] = "toy"
        image_size: int = 28
        latent: int = 20
        width: int = 8

    class ToyDecoder(torch.nn.Module):
        def __init__(self, cfg: ToyConfig):
            super().__init__()
            self.hidden = torch.nn.Linear(cfg.latent, cfg.width)
            self.out = torch.nn.Linear(cfg.width, cfg.image_size**2)
            self.latent_shape = (cfg.latent,)

        def forward(self, z):
            return self.out(torch.relu(self.hidden(z))).view(-1, 1, 28, 28)  # logits

    class Toy(Objective):
        name, help = "toy", "a test's: the BCE alone, summed per image"

        def loss(self, recon, x, mu, logvar, kl_weight=1.0, extra=None):
            bce = torch.nn.functional.binary_cross_entropy(recon, x, reduction="sum") / x.shape[0]
            return LossParts(bce, bce, torch.zeros(()))

    from model import LossParts

    width = Option("toy_width", 8, "the toy decoder's hidden width", {"type": int})
    monkeypatch.setitem(CONFIGS, ToyConfig.arch, ToyConfig)
    monkeypatch.setitem(DECODERS, "toy", Part("toy", ToyConfig, ToyDecoder,
                                              lambda o: ToyConfig(latent=o.latent, width=o.toy_width),
                                              "a test's two linear layers", options=(width,)))
    monkeypatch.setitem(OBJECTIVES, "toy", Toy)
    with pytest.raises(SystemExit):
        main.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "toy = a test's two linear layers" in text and "--toy-width TOY_WIDTH the toy decoder's hidden width" in text
    assert "toy = a test's: the BCE alone" in text
    out = tmp_path / "toy"
    args = ["--encoder", "mlp", "--decoder", "toy", "--toy-width", "5", "--objective", "toy", "--limit", "100",
            "--data-root", str(mnist_root), "--out-dir", str(out), "--device", "cpu", "--no-progress"]
    assert main.main([*args, "--epochs", "1"]) == 0
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["config"]["decoder_sizes"] == {"arch": "toy", "image_size": 28, "latent": 20, "width": 5}
    assert state["config"]["objective"] == "toy" and state["history"]["test_kld"][0] > 0  # the measure keeps the KL
    assert state["history"]["step_kld"][0] == [0.0]  # 100 images, batch 100: one step, trained on the toy loss
    model = load_model(out / "checkpoint.pt")
    assert isinstance(model.decoder, ToyDecoder) and model.decoder.hidden.out_features == 5
    torch.manual_seed(0)  # main.py's seed: the same initial weights, before the step
    assert not torch.equal(build_model(model.cfg).decoder.out.weight, model.decoder.out.weight)
    assert main.main([*args, "--epochs", "2", "--resume"]) == 0
    assert load_checkpoint(out / "checkpoint.pt")["epoch"] == 2
    assert main.main([*args[:4], "--toy-width", "6", *args[6:], "--epochs", "3", "--resume"]) == 2
    assert "another model" in capsys.readouterr().err
    assert main.main(["--encoder", "mlp", "--decoder", "mlp", "--toy-width", "5", "--out-dir", str(tmp_path / "x")]) == 2
    assert "--toy-width does not apply to --encoder mlp --decoder mlp" in capsys.readouterr().err


def test_the_iwae_objective_trains_through_main(mnist_root, tmp_path):
    import main
    from vae.files import load_checkpoint, load_results

    out = tmp_path / "iwae"
    assert main.main(["--encoder", "mlp", "--decoder", "mlp", "--objective", "iwae", "--iwae-k", "3", "--binarize",
                      "dynamic", "--limit", "500", "--epochs", "2", "--data-root", str(mnist_root), "--out-dir", str(out),
                      "--device", "cpu", "--no-progress"]) == 0
    r = load_results(out / "model.pk")
    assert r["test_negative_elbo"][1] < r["test_negative_elbo"][0]
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["config"]["objective"] == "iwae" and dict(state["config"]["objective_options"]) == {"iwae_k": 3}
