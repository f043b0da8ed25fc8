"""The LSTM decoder (issue 25): shapes, teacher forcing against row-by-row drawing, seeded
samples, the decoder alone, the KL shaped against collapse, an exact resume."""

import pytest
import torch
import torch.nn.functional as F

import main
from model import PRESETS, LossParts
from vae.files import load_checkpoint
from vae.measures import iwae_nats
from vae.parts import ComposedConfig, build_model, compose
from vae.registry import Sizes
from vae.training import kl_weight, shaped_kl

SIZES = Sizes(PRESETS[1], latent=8, lstm_hidden=32, decoder_hidden=48)


@pytest.fixture(params=["lstm", "lstm-masked"])
def model(request):
    torch.manual_seed(0)
    return build_model(compose("lstm-vector", request.param, SIZES)).eval()


def test_shapes(model):
    x = torch.rand(5, 1, 28, 28).round()
    recon, mu, logvar = model(x)
    assert recon.shape == (5, 1, 28, 28) and mu.shape == logvar.shape == (5, 8)
    images, probs, logits = model.decoder.generate(torch.randn(3, 8))
    assert images.shape == probs.shape == logits.shape == (3, 1, 28, 28)
    assert set(images.unique().tolist()) <= {0.0, 1.0} and model.sample(2).shape == (2, 1, 28, 28)


def test_teacher_forcing_gives_the_likelihood_of_a_drawn_image(model):
    """log p(x|z) of an image drawn row by row (pixel by pixel when masked), summed from the
    drawing's own logits, equals the one teacher forcing computes from the whole image."""
    z = torch.randn(6, 8, dtype=torch.float64)
    model = model.double()
    if model.decoder.cfg.masked:
        with torch.no_grad():
            model.decoder.in_row.normal_()
    images, _, logits = model.decoder.generate(z, torch.Generator().manual_seed(1))
    drawn = -F.binary_cross_entropy_with_logits(logits, images, reduction="none").flatten(1).sum(1)
    forced = -F.binary_cross_entropy_with_logits(model.decode_logits(z, images), images, reduction="none").flatten(1).sum(1)
    torch.testing.assert_close(forced, drawn, rtol=1e-10, atol=1e-10)


def test_row_t_depends_only_on_the_rows_above(model):
    z, x = torch.randn(2, 8), torch.rand(2, 1, 28, 28).round()
    changed = x.clone()
    changed[:, :, 10:] = 1 - changed[:, :, 10:]  # rows 10-27
    a, b = model.decode_logits(z, x), model.decode_logits(z, changed)
    masked = model.decoder.cfg.masked
    if masked:  # the in-row map starts at zero: give it weights to carry the dependence
        with torch.no_grad():
            model.decoder.in_row.normal_()
        a, b = model.decode_logits(z, x), model.decode_logits(z, changed)
    assert torch.equal(a[:, :, :10], b[:, :, :10])  # rows 0-9 see none of it
    if masked:
        assert not torch.equal(a[:, :, 10], b[:, :, 10])  # row 10's own pixels feed its later pixels
    else:
        assert torch.equal(a[:, :, 10], b[:, :, 10])
    assert not torch.equal(a[:, :, 11], b[:, :, 11])


def test_sampling_is_seeded(model):
    a, b = (model.sample(4, torch.Generator().manual_seed(5)) for _ in range(2))
    c = model.sample(4, torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_the_decoder_alone_ignores_z():
    torch.manual_seed(0)
    model = build_model(compose("lstm-vector", "lstm", Sizes(PRESETS[1], latent=8, decoder_alone=True))).eval()
    x = torch.rand(3, 1, 28, 28).round()
    assert torch.equal(model.decode_logits(torch.randn(3, 8), x), model.decode_logits(torch.randn(3, 8), x))
    # with q equal to the prior the bound is exact: every k gives log p(x) itself
    for p in model.encoder.parameters():
        torch.nn.init.zeros_(p)
    one, many = iwae_nats(model, x, 1), iwae_nats(model, x, 50)
    torch.testing.assert_close(one, many)


def test_free_bits_and_warmup_shape_the_kl_by_hand():
    mu = torch.tensor([[1.0, 0.0], [0.0, 0.0]])  # dimension 0: KL 0.5 on average; dimension 1: 0
    logvar = torch.zeros(2, 2)
    parts = LossParts(torch.tensor(10.25), torch.tensor(10.0), torch.tensor(0.25))  # kld: 0.5 / 2 images
    assert shaped_kl(parts, mu, logvar, 0.0, 1.0).total.item() == pytest.approx(10.25)
    assert shaped_kl(parts, mu, logvar, 0.3, 1.0).total.item() == pytest.approx(10.0 + 0.3 + 0.3)  # both floored
    assert shaped_kl(parts, mu, logvar, 0.2, 0.5).total.item() == pytest.approx(10.0 + 0.5 * (0.25 + 0.2))
    assert [kl_weight(3, e) for e in range(4)] == pytest.approx([1 / 3, 2 / 3, 1, 1]) and kl_weight(0, 0) == 1
    with pytest.raises(ValueError, match="elbo objective only"):
        ComposedConfig("lstm-vector", "lstm", PRESETS[1], compose("lstm-vector", "lstm").decoder_sizes, "report", 1.0)


def test_a_killed_run_resumes_bit_exactly(mnist_root, tmp_path):
    def run(out, *extra):
        return main.main(["--encoder", "lstm-vector", "--decoder", "lstm-masked", "--lstm-hidden", "32",
                          "--decoder-hidden", "32", "--latent", "8", "--binarize", "dynamic", "--free-bits", "0.05",
                          "--kl-warmup", "2", "--row-dropout", "0.1", "--limit", "200", "--data-root", str(mnist_root),
                          "--out-dir", str(out), "--device", "cpu", "--no-progress", *extra])

    assert run(tmp_path / "whole", "--epochs", "3") == 0
    assert run(tmp_path / "parts", "--epochs", "1") == 0
    assert run(tmp_path / "parts", "--epochs", "3", "--resume") == 0
    whole, parts = (load_checkpoint(tmp_path / d / "checkpoint.pt") for d in ("whole", "parts"))
    for key in whole["model"]:
        assert torch.equal(whole["model"][key], parts["model"][key]), key
    assert whole["history"]["test_negative_elbo"] == parts["history"]["test_negative_elbo"]
    assert whole["config"]["decoder_sizes"]["masked"] and whole["config"]["free_bits"] == 0.05


def test_reconstruction_accuracy_reads_the_class_through_z():
    """Reconstructions are drawn from the posterior mean alone, never from x: a stub model
    whose z carries the label in its first 10 values, a stub judge that reads them back."""
    from vae.measures import reconstruction_accuracy

    class Stub(torch.nn.Module):
        def encode(self, x):
            return x.flatten(1)[:, :10], None  # mu: the first 10 pixels

        def generate(self, z, generator=None):
            image = torch.zeros(len(z), 1, 28, 28)
            image.view(len(z), -1)[:, :10] = z
            return image

        def decode_logits(self, z, x=None):
            raise AssertionError("a reconstruction must not read x (teacher forcing)")

    class Judge(torch.nn.Module):
        def forward(self, x):
            return x.flatten(1)[:, :10]  # logits: the first 10 pixels

    labels = torch.arange(30) % 10
    x = torch.zeros(30, 1, 28, 28)
    x.view(30, -1)[torch.arange(30), labels] = 1
    assert reconstruction_accuracy(Stub(), Judge(), x, labels, batch_size=7) == 1
    assert reconstruction_accuracy(Stub(), Judge(), x, (labels + 1) % 10) == 0
