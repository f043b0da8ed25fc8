"""The LSTM decoder (issue 25): shapes, the raster order pixel by pixel (and the masks a slip
could write, caught), drawn against teacher-forced probabilities, seeded samples, the decoder
alone, the KL shaped against collapse, an exact resume."""

import math

import pytest
import torch

import main
from model import PRESETS, LossParts, kl_per_element
from vae.files import load_checkpoint
from vae.measures import iwae_nats
from vae.parts import ComposedConfig, build_model, compose
from vae.objectives import ELBO, shaped_kl
from vae.registry import option_values

SMALL = dict(latent=8, lstm_hidden=32, decoder_hidden=48)
SIZES = option_values(PRESETS[1], SMALL)


# (decoder, options): the row decoder, the linear in-row map, and a MADE inside each row
DECODERS = {"lstm": ("lstm", {}), "lstm-masked": ("lstm-masked", {}),
            "lstm-masked, row MADE": ("lstm-masked", dict(row_hidden=16))}


def decoder_model(name: str):
    torch.manual_seed(0)
    decoder, options = DECODERS[name]
    return build_model(compose("lstm-vector", decoder, option_values(PRESETS[1], SMALL | options))).eval()


@pytest.fixture(params=sorted(DECODERS))
def model(request):
    return decoder_model(request.param)


@pytest.mark.quick
def test_shapes(model):
    x = torch.rand(5, 1, 28, 28).round()
    recon, mu, logvar = model(x)
    assert recon.shape == (5, 1, 28, 28) and mu.shape == logvar.shape == (5, 8)
    images, probs, logits = model.decoder.generate(torch.randn(3, 8))
    assert images.shape == probs.shape == logits.shape == (3, 1, 28, 28)
    assert set(images.unique().tolist()) <= {0.0, 1.0} and model.sample(2).shape == (2, 1, 28, 28)


def random_in_row(model):
    """The in-row map starts at zero; random weights make it carry each pixel's dependence."""
    if model.decoder.cfg.masked:
        with torch.no_grad():
            model.decoder.in_row.normal_()
            if model.decoder.cfg.row_hidden:  # the MADE's weights as large as the map's
                model.decoder.row_in.weight.normal_()
                model.decoder.row_out.weight.normal_()
    return model


def logit_jacobian(model, z, x):
    """J (N, N) with J[i, j] = d logit_i / d x_j for one image x (1, 1, s, s) and its z (1, D),
    pixels in raster order: N copies of x in one batch, copy i differentiating logit i."""
    n = x.numel()
    xs = x.expand(n, *x.shape[1:]).clone().requires_grad_(True)  # (N, 1, s, s)
    logits = model.decode_logits(z.expand(n, *z.shape[1:]), xs).flatten(1)  # (N, N)
    logits.diagonal().sum().backward()
    return xs.grad.flatten(1)  # row i: the gradient of logit i


def order_faults(model) -> dict:
    """How many pixels break the raster order: a pixel's logit must not move with itself or any
    later pixel of the teacher-forcing image, and must move with some earlier one (every pixel
    after the first when masked; every pixel below the first row when not)."""
    torch.manual_seed(0)
    z, x = torch.randn(1, 8, dtype=torch.float64), torch.rand(1, 1, 28, 28, dtype=torch.float64).round()
    seen = logit_jacobian(model, z, x) != 0  # (784, 784)
    n, s = seen.shape[0], model.decoder.cfg.image_size
    own_or_later = torch.ones(n, n, dtype=torch.bool).triu()  # j >= i
    first = 1 if model.decoder.cfg.masked else s  # the first pixel with something before it to see
    return {"sees itself or later": int((seen & own_or_later).any(1).sum()),
            "sees nothing before": int((~(seen & ~own_or_later).any(1))[first:].sum())}


@pytest.mark.quick
def test_each_pixel_sees_only_the_pixels_before_it(model):
    model = random_in_row(model.double())
    assert order_faults(model) == {"sees itself or later": 0, "sees nothing before": 0}
    if not model.decoder.cfg.masked:  # the row decoder: a row's pixels see the rows above, not their own row
        x = torch.rand(1, 1, 28, 28, dtype=torch.float64).round()
        seen = logit_jacobian(model, torch.randn(1, 8, dtype=torch.float64), x) != 0
        same_row = torch.block_diag(*[torch.ones(28, 28)] * 28).bool()
        assert not seen[same_row].any() and seen[28:, :28].all()  # row 0 reaches every pixel below it


# The masks a slip could write: each pixel seeing itself (the diagonal), or every pixel of its
# row; for the row MADE, a hidden unit feeding the pixel of its own degree (<= for <).
DEGREE = torch.arange(16) % 27
CHEATING_MASKS = {"tril(0)": ("mask", torch.ones(28, 28).tril(0)), "ones": ("mask", torch.ones(28, 28)),
                  "MADE out <=": ("made_out", (DEGREE <= torch.arange(28)[:, None]).float())}


def cheating_model(mask: str):
    name, cheat = CHEATING_MASKS[mask]
    model = random_in_row(decoder_model("lstm-masked, row MADE").double())
    assert getattr(model.decoder, name).shape == cheat.shape
    setattr(model.decoder, name, cheat.double())
    return model


@pytest.mark.parametrize("mask", sorted(CHEATING_MASKS))
def test_the_order_check_catches_a_mask_that_sees_ahead(mask):
    # every pixel when written, for the in-row map; for the MADE, of the pixels 0..15 of each row
    # that a hidden unit's degree reaches (16 units, 448), those where that unit's ReLU is on
    assert order_faults(cheating_model(mask))["sees itself or later"] >= (100 if "MADE" in mask else 700)


def drawn_and_forced(model, seed=1):
    """Each pixel's probability as generation drew it, and as teacher forcing gives it for the drawn image."""
    z = torch.randn(6, 8, dtype=torch.float64)
    images, probs, _ = model.decoder.generate(z, torch.Generator().manual_seed(seed))
    return probs, torch.sigmoid(model.decode_logits(z, images))


@pytest.mark.quick
def test_each_pixel_is_drawn_with_its_teacher_forced_probability(model):
    """The probabilities generation records at the moment it draws each pixel are the ones the
    likelihood gives the drawn image: what is trained and scored is what is sampled."""
    drawn, forced = drawn_and_forced(random_in_row(model.double()))
    torch.testing.assert_close(drawn, forced, rtol=0, atol=1e-12)
    assert 0.1 < drawn.mean() < 0.9 and drawn.std() > 0.01  # probabilities that vary, none saturated


@pytest.mark.parametrize("mask", sorted(CHEATING_MASKS))
def test_drawn_and_forced_probabilities_part_under_a_mask_that_sees_ahead(mask):
    drawn, forced = drawn_and_forced(cheating_model(mask))
    assert (drawn - forced).abs().max() > 0.1


def test_sampling_is_seeded(model):
    a, b = (model.sample(4, torch.Generator().manual_seed(5)) for _ in range(2))
    c = model.sample(4, torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_the_decoder_alone_ignores_z():
    torch.manual_seed(0)
    model = build_model(compose("lstm-vector", "lstm", option_values(PRESETS[1], dict(latent=8, decoder_alone=True)))).eval()
    x = torch.rand(3, 1, 28, 28).round()
    assert torch.equal(model.decode_logits(torch.randn(3, 8), x), model.decode_logits(torch.randn(3, 8), x))
    # with q equal to the prior the bound is exact: every k gives log p(x) itself
    for p in model.encoder.parameters():
        torch.nn.init.zeros_(p)
    one, many = iwae_nats(model, x, 1), iwae_nats(model, x, 50)
    torch.testing.assert_close(one, many)


@pytest.mark.quick
def test_free_bits_and_warmup_shape_the_kl_by_hand():
    mu = torch.tensor([[1.0, 0.0], [0.0, 0.0]])  # dimension 0: KL 0.5 on average; dimension 1: 0
    logvar = torch.zeros(2, 2)
    parts = LossParts(torch.tensor(10.25), torch.tensor(10.0), torch.tensor(0.25))  # kld: 0.5 / 2 images
    kl = kl_per_element(mu, logvar)
    assert shaped_kl(parts, kl, 0.0, 1.0).total.item() == pytest.approx(10.25)
    assert shaped_kl(parts, kl, 0.3, 1.0).total.item() == pytest.approx(10.0 + 0.3 + 0.3)  # both floored
    assert shaped_kl(parts, kl, 0.2, 0.5).total.item() == pytest.approx(10.0 + 0.5 * (0.25 + 0.2))
    assert [ELBO(kl_warmup=3).kl_weight(e) for e in range(4)] == pytest.approx([1 / 3, 2 / 3, 1, 1])
    assert ELBO().kl_weight(0) == 1
    # The objective's loss applies them: free bits 0.3 floor both dimensions, KL weight 0.5
    recon, x = torch.full((2, 1, 1, 1), 0.5), torch.ones(2, 1, 1, 1)
    bce = math.log(2)  # per image
    assert ELBO(free_bits=0.3).loss(recon, x, mu, logvar, 0.5, kl).total.item() == pytest.approx(bce + 0.5 * 0.6)
    with pytest.raises(ValueError, match="has no option"):
        ComposedConfig("lstm-vector", "lstm", PRESETS[1], compose("lstm-vector", "lstm").decoder_sizes, "report",
                       (("free_bits", 1.0),))


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
    assert whole["config"]["decoder_sizes"]["masked"] and dict(whole["config"]["objective_options"]) == {
        "free_bits": 0.05, "kl_warmup": 2}


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
