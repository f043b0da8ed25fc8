"""The peer VAEs (issue 5) in the same harness: shapes, parameter counts, losses, training, scripts."""

import json

import numpy as np
import pytest
import torch
from torch import nn

import evaluate
import generator
import main
from conftest import load_script
from model import kl_per_element, negative_elbo
from vae import training
from vae.classifier import Classifier, load_classifier, predict
from vae.data import prepare_images
from vae.files import load_checkpoint, load_mnist, load_model, load_results
from vae.measures import class_latent_gaussians, count_parameters, sample_classes
from vae.parts import ConvVAEConfig, MLPVAEConfig, build_model
from vae.presets import ARCHS
from vae.registry import config_from_dict, config_to_dict
from vae.objectives import Objective
from vae.registry import OBJECTIVES


def linear(a, b):
    return a * b + b


# Parameter counts by hand from each source's layer list.
EXPECTED_PARAMETERS = {
    "conv": 1_234_143,  # 002's printed summary
    "mlp": linear(784, 400) + linear(400, 200) + 2 * linear(200, 20) + linear(20, 200) + linear(200, 400) + linear(400, 784),
    "mlp14": linear(196, 128) + 2 * linear(128, 8) + linear(8, 128) + linear(128, 196),
    "examples": linear(784, 400) + 2 * linear(400, 20) + linear(20, 400) + linear(400, 784),
}


@pytest.mark.parametrize("arch", sorted(EXPECTED_PARAMETERS))
def test_parameter_counts(arch):
    assert count_parameters(build_model(ARCHS[arch].model)) == EXPECTED_PARAMETERS[arch]


@pytest.mark.parametrize("arch, size, latent", [("conv", 28, 15), ("mlp", 28, 20), ("mlp14", 14, 8), ("examples", 28, 20)])
def test_output_shapes(arch, size, latent):
    model = build_model(ARCHS[arch].model).eval()
    recon, mu, logvar = model(torch.rand(3, 1, size, size))
    assert recon.shape == (3, 1, size, size) and 0 <= recon.min() and recon.max() <= 1
    assert mu.shape == logvar.shape == (3, latent)
    assert model.sample(4).shape == (4, 1, size, size)


def test_conv_shapes_layer_by_layer_match_002():
    model = build_model(ConvVAEConfig()).eval()
    shapes = []
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            m.register_forward_hook(lambda mod, inp, out: shapes.append(tuple(out.shape[1:])))
    model(torch.rand(2, 1, 28, 28))
    assert shapes == [(32, 14, 14), (64, 7, 7), (128, 3, 3), (256, 1, 1), (30,),  # encoder, as 002's summary
                      (256,), (128, 3, 3), (64, 7, 7), (32, 14, 14), (1, 28, 28)]  # decoder


def test_std_head_is_a_standard_deviation():
    model = build_model(ARCHS["mlp14"].model)
    x = torch.rand(2, 1, 14, 14)
    h = model.encoder.net(x.flatten(1))
    _, logvar = model.encode(x)
    assert torch.allclose(logvar.exp().sqrt(), model.encoder.fc_var(h).abs(), rtol=1e-5)


def test_mlp14_input_is_shrunk_and_binarized_as_004():
    images = torch.zeros(1, 28, 28, dtype=torch.uint8)
    images[0, 0, 0:2] = 255  # a 2x2 block averaging 127.5: below 004's threshold of 128
    images[0, 2:4, 2:4] = 200  # averages 200: above it
    x = prepare_images(images, ARCHS["mlp14"].model)
    assert x.shape == (1, 1, 14, 14)
    assert x[0, 0, 0, 0] == 0 and x[0, 0, 1, 1] == 1 and x.sum() == 1


def test_elbo_sum_objective_against_hand_computation():
    g = torch.Generator().manual_seed(0)
    recon, x = torch.rand(4, 1, 28, 28, generator=g).double(), torch.rand(4, 1, 28, 28, generator=g).double()
    mu, logvar = torch.randn(4, 15, generator=g).double(), torch.randn(4, 15, generator=g).double()
    bce = -(x * recon.log() + (1 - x) * (1 - recon).log()).sum()
    kld = -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum()
    parts = OBJECTIVES["elbo-sum"]().loss(recon, x, mu, logvar, 1.0, kl_per_element(mu, logvar))
    assert torch.allclose(parts.bce, bce) and torch.allclose(parts.kld, kld)
    # Every objective converts to the same nats per image.
    for name, objective in OBJECTIVES.items():
        if objective.forward is not Objective.forward:
            continue  # its loss reads its own pass's draws: test_estimator checks it
        kl = kl_per_element(mu, logvar)  # the KL to N(0, I) per element, as the model's prior gives it
        b, k = objective().per_image(objective().loss(recon, x, mu, logvar, 1.0, kl), x, mu)
        ref = negative_elbo(recon, x, mu, logvar)
        assert torch.allclose(b, ref.bce) and torch.allclose(k, ref.kld), name
    with pytest.raises(ValueError, match="has no option"):
        OBJECTIVES["report"](free_bits=1.0)


def test_configs_round_trip_and_name_their_arch():
    for arch in ARCHS.values():
        assert config_from_dict(json.loads(json.dumps(config_to_dict(arch.model)))) == arch.model
    conv = config_to_dict(ConvVAEConfig())
    assert config_from_dict(conv) == ConvVAEConfig() != MLPVAEConfig()
    for bad in ({**conv, "arch": "nonesuch"}, {**conv, "hidden": (1,)}, {k: v for k, v in conv.items() if k != "arch"}):
        with pytest.raises(ValueError):
            config_from_dict(bad)


def test_stop_early():
    assert not training.stop_early([5, 4, 3], None)
    assert not training.stop_early([5, 4, 3, 3.5], 2)  # 1 epoch without improvement
    assert training.stop_early([5, 3, 3.5, 3.2], 2)  # 2 epochs without beating 3
    assert not training.stop_early([5, 3], 2)


@pytest.fixture(scope="module")
def mnist_batch(mnist_root):
    images, labels = load_mnist(mnist_root, train=True, with_labels=True)
    return images[:512], labels[:512]


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_short_training_on_real_mnist_lowers_the_loss(arch, mnist_batch):
    cfg = ARCHS[arch].model
    x = prepare_images(mnist_batch[0], cfg)
    torch.manual_seed(0)
    model = build_model(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=ARCHS[arch].training.lr)

    def loss():  # same noise each time, no dropout: only the weights change
        torch.manual_seed(1)
        model.eval()
        with torch.no_grad():
            recon, mu, logvar = model(x)
            return negative_elbo(recon, x, mu, logvar).total.item()

    before = loss()
    model.train()
    for start in list(range(0, len(x), 128)) * 3:  # 12 updates: enough even at conv's lr of 1e-4
        batch = x[start : start + 128]
        recon, mu, logvar = model(batch)
        opt.zero_grad()
        OBJECTIVES[cfg.objective]().loss(recon, batch, mu, logvar, 1.0, kl_per_element(mu, logvar)).total.backward()
        opt.step()
    assert loss() < 0.99 * before, (before, loss())  # same noise: the drop is the weights'


@pytest.fixture(scope="module")
def judge(mnist_root, tmp_path_factory):
    path = tmp_path_factory.mktemp("judge") / "classifier.pt"
    args = ["--data-root", str(mnist_root), "--out", str(path), "--limit", "2000", "--epochs", "1", "--no-progress"]
    assert __import__("classifier").main(args) == 0
    return path


def test_classifier_round_trips_and_learns(judge, mnist_batch):
    model = load_classifier(judge)
    state = load_checkpoint(judge)
    assert state["test_accuracy"] > 0.7  # 2000 images, one epoch (0.83 when written): far above chance
    x = mnist_batch[0].float().div(255).unsqueeze(1)
    assert (predict(model, x) == mnist_batch[1]).float().mean() > 0.7
    small = prepare_images(mnist_batch[0], ARCHS["mlp14"].model)
    assert (predict(model, small) == mnist_batch[1]).float().mean() > 0.5  # 14x14 inputs enlarged, still read
    for key, value in model.state_dict().items():  # the file's weights, not a fresh classifier's
        assert torch.equal(value, state["model"][key]), key
    torch.manual_seed(0)
    assert (predict(Classifier(), x) == mnist_batch[1]).float().mean() < 0.3  # untrained: near chance


def test_class_gaussians_are_the_class_means(mnist_batch):
    cfg = ARCHS["examples"].model
    model = build_model(cfg).eval()
    x = prepare_images(mnist_batch[0], cfg)
    means, stds = class_latent_gaussians(model, x, mnist_batch[1], batch_size=100)
    mu = model.encode(x)[0].detach()
    assert means.shape == stds.shape == (10, 20)
    assert torch.allclose(means[3], mu[mnist_batch[1] == 3].mean(0), atol=1e-6)


@pytest.mark.parametrize("arch", ["mlp14", "conv"])
def test_peer_end_to_end(arch, mnist_root, tmp_path, judge):
    out = tmp_path / arch
    args = ["--arch", arch, "--data-root", str(mnist_root), "--out-dir", str(out), "--limit", "300", "--epochs", "2",
            "--batch-size", "64", "--no-progress"]
    assert main.main(args) == 0
    r = load_results(out / "model.pk")
    size = ARCHS[arch].model.image_size
    assert r["train_reconstruction_images"].shape == (300, size, size)
    assert [len(s) for s in r["step_bce"]] == [5, 5]  # ceil(300 / 64) updates per epoch
    assert r["config"]["train"]["arch"] == arch and r["config"]["train"]["betas"] == list(ARCHS[arch].training.betas)
    assert np.isclose(r["train_bce_epoch_mean"][1], np.average(r["step_bce"][1], weights=[64] * 4 + [44]))
    assert load_checkpoint(out / "checkpoint_epoch1.pt")["epoch"] == 1
    assert generator.main(["--out-dir", str(out), "--data-root", str(mnist_root), "--classifier", str(judge)]) == 0
    for name in (generator.ELBO_TERMS, generator.RECON_LOGLIK, generator.SAMPLES_EPOCH1_VS_LAST,
                 generator.DIGITS_PER_CLASS, generator.PRIOR_SAMPLES):
        assert (out / name).stat().st_size > 1000
    # on the CPU, also on a GPU machine: the class accuracy below is recomputed on the CPU and must match
    assert evaluate.main(["--checkpoint", str(out / "checkpoint.pt"), "--data-root", str(mnist_root), "--k", "2",
                          "--limit", "200", "--classifier", str(judge), "--per-class", "10", "--device", "cpu"]) == 0
    result = json.loads((out / "evaluation_k2.json").read_text())
    assert result["image_size"] == size and result["per_class"] == 10
    # The judge's verdict on 10 digits of each class, drawn as evaluate.py draws them (class Gaussians
    # of the encoded training images, the seed's generator), against the classes asked, class-major.
    model, judge_model = load_model(out / "checkpoint.pt"), load_classifier(judge)
    train, labels = load_mnist(mnist_root, train=True, with_labels=True)
    means, scales = class_latent_gaussians(model, prepare_images(train, model.cfg), labels)
    digits = sample_classes(model, means, scales, 10, torch.Generator().manual_seed(0))
    asked = torch.tensor([c for c in range(10) for _ in range(10)])
    assert result["class_accuracy"] == pytest.approx((predict(judge_model, digits) == asked).float().mean().item())
    assert result["iwae_nats"] <= result["negative_elbo"] + 1.0  # the IWAE bound is tighter, up to noise

    compare = load_script("report/compare.py")
    assert compare.main([f"{arch} run={out}", "--out", str(tmp_path / "report"), "--classifier", str(judge),
                         "--data-root", str(mnist_root)]) == 0
    table = (tmp_path / "report" / "comparison.md").read_text()
    assert f"| {arch} run | {arch} | {EXPECTED_PARAMETERS[arch]:,} |" in table
    assert f"{result['iwae_nats']:.2f} (k=2)" in table and "scores" in table  # the judge's own accuracy
    pngs = [f"samples_{arch}_run.png", f"digits_{arch}_run.png"] + (["test_nelbo_per_epoch.png"] if size == 28 else [])
    for png in pngs:
        assert (tmp_path / "report" / png).read_bytes()[:4] == b"\x89PNG" and f"]({png})" in table, png


def test_generator_draws_full_covariance_class_digits(mnist_root, tmp_path, capsys):
    out = tmp_path / "run"
    assert main.main(["--arch", "examples", "--data-root", str(mnist_root), "--out-dir", str(out), "--limit", "300",
                      "--epochs", "1", "--no-progress", "--device", "cpu"]) == 0
    drawn = {}
    for covariance in ("diagonal", "full"):
        png = tmp_path / covariance
        args = ["--checkpoint", str(out / "checkpoint.pt"), "--out-dir", str(png), "--data-root", str(mnist_root),
                "--class-covariance", covariance]
        assert generator.main(args) == 0
        drawn[covariance] = (png / generator.DIGITS_PER_CLASS).read_bytes()
        assert drawn[covariance][:4] == b"\x89PNG"
    assert drawn["diagonal"] != drawn["full"]  # other Gaussians, other digits


def test_resume_refuses_another_arch(mnist_root, tmp_path):
    args = ["--data-root", str(mnist_root), "--out-dir", str(tmp_path), "--limit", "100", "--no-progress"]
    assert main.main(["--arch", "examples", "--epochs", "1", *args]) == 0
    assert main.main(["--arch", "mlp", "--epochs", "2", "--resume", *args]) == 2  # one-line error, not a traceback
    assert main.main(["--arch", "examples", "--epochs", "2", "--resume", *args]) == 0


def long_runs_flags(job: str) -> list[str]:
    """The main.py flags that benchmarks/gpu_long.sh gives JOB (its LONG lines and the job's own)."""
    import re
    import shlex
    from conftest import ROOT

    script = (ROOT / "benchmarks" / "gpu_long.sh").read_text()
    flags: list[str] = []
    for line in re.findall(r'^LONG="(.*)"$', script, re.M):
        flags += [f for f in shlex.split(line) if f != "$LONG"]
    own = re.search(rf"^\s*{re.escape(job)}\) flags=\"\$LONG (.*?)\" ;;$", script, re.M)
    assert own, f"no {job} line in gpu_long.sh"
    return flags + shlex.split(own.group(1).replace("${name#long_s}", "0"))


def test_the_long_preset_is_what_gpu_long_trains():
    """--arch lstm-vae-long is the model and training of gpu_long.sh's long_s* jobs (run with
    explicit flags, so that its decoder-alone and flow jobs differ from it in one flag each);
    the checkpoints those runs write are the preset's."""
    def run(argv):
        argv = [*argv, "--device", "cpu"]
        return main.run_config(main.build_parser().parse_args(argv), argv)

    preset, flags = run(["--arch", "lstm-vae-long"]), run(long_runs_flags("long_s*"))
    assert preset.model == flags.model
    differ = {k for k, v in preset.train.to_dict().items() if flags.train.to_dict()[k] != v}
    assert differ == {"arch", "command"}
    assert (preset.train.epochs, preset.train.lr_schedule, preset.model.prior) == (364, "burda", "normal")
    assert preset.model.decoder_sizes.row_hidden == 256 and dict(preset.model.objective_options)["free_bits"] == 1.0
    alone, flow = run(long_runs_flags("alone_s0")), run(long_runs_flags("flow_s0"))
    assert alone.model != preset.model and flow.model != preset.model and flow.model.prior == "maf"
    assert alone.train.to_dict() == {**flags.train.to_dict(), "command": alone.train.command}
