"""Binarized MNIST (issue 24): dynamic binarization, the test set's fixed one, exact resume,
and the learning-rate schedules (Burda et al.'s stages, the cosine)."""

import math

import pytest
import torch

import main
from vae.data import TEST_BINARIZATION_SEED, binarize, binarized_once
from vae.files import load_checkpoint, load_results
from vae.schedules import burda_stage, schedule


def test_binarize_draws_each_pixel_with_its_grey_level():
    x = torch.tensor([0.0, 0.25, 0.5, 1.0]).repeat(50_000, 1)
    b = binarize(x, torch.Generator().manual_seed(0))
    assert set(b.unique().tolist()) <= {0.0, 1.0}
    assert b[:, 0].sum() == 0 and b[:, 3].sum() == 50_000  # u <= 0 never (u > 0 almost surely), u <= 1 always
    assert b[:, 1].mean().item() == pytest.approx(0.25, abs=0.01) and b[:, 2].mean().item() == pytest.approx(0.5, abs=0.01)
    assert torch.equal(binarized_once(x[:100]), binarized_once(x[:100], TEST_BINARIZATION_SEED))
    assert not torch.equal(binarized_once(x[:100], 1), binarized_once(x[:100], 2))


@pytest.mark.quick
def test_burda_stages_and_rates():
    burda = schedule("burda")
    ends = [e + 1 for e in range(3280) if burda.stage_ending(e)]
    assert ends == [1, 4, 13, 40, 121, 364, 1093, 3280]  # 3^0 + ... + 3^i passes
    assert [burda_stage(e) for e in (0, 1, 3, 4, 12, 13, 1092, 1093, 3279)] == [0, 1, 1, 2, 2, 3, 6, 7, 7]
    assert burda.stage_ending(39) == "stage3" and burda.stage_ending(40) is None
    assert burda.lr(1e-3, 0, 364) == 1e-3
    assert burda.lr(1e-3, 3279, 3280) == pytest.approx(1e-4)  # 10^(-7/7)
    assert schedule("constant").lr(1e-3, 3279, 3280) == 1e-3 and schedule("constant").stage_ending(0) is None


@pytest.mark.quick
def test_the_cosine_falls_by_half_a_cosine_to_zero_over_the_run():
    cosine = schedule("cosine")
    # (1 + cos(pi e / 4)) / 2 for e = 0..3, by hand: 1, (1 + 0.7071068) / 2, 1/2, (1 - 0.7071068) / 2
    assert [cosine.lr(2e-3, e, 4) for e in range(4)] == pytest.approx([2e-3, 1.7071068e-3, 1e-3, 0.2928932e-3], rel=1e-6)
    assert cosine.lr(2e-3, 4, 4) == pytest.approx(0.0, abs=1e-18)  # one epoch past the end: zero
    assert all(cosine.stage_ending(e) is None for e in range(10))
    with pytest.raises(ValueError, match="one of \\['burda', 'constant', 'cosine'\\]"):
        schedule("step")


def run(out, mnist_root, *extra):
    return main.main(["--arch", "burda-vae", "--data-root", str(mnist_root), "--out-dir", str(out), "--limit", "200",
                      "--device", "cpu", "--no-progress", "--record-every", "3", *extra])


def test_a_killed_binarized_run_resumes_bit_exactly(mnist_root, tmp_path):
    """3 epochs at once against 1, then 2 more by --resume: the same weights and history
    (epoch 1 ends Burda's stage 0, so the rate also changes across the resume)."""
    assert run(tmp_path / "whole", mnist_root, "--epochs", "3") == 0
    assert run(tmp_path / "parts", mnist_root, "--epochs", "1") == 0
    assert run(tmp_path / "parts", mnist_root, "--epochs", "3", "--resume") == 0
    whole, parts = (load_checkpoint(tmp_path / d / "checkpoint.pt") for d in ("whole", "parts"))
    for key in whole["model"]:
        assert torch.equal(whole["model"][key], parts["model"][key]), key
    for key, values in whole["history"].items():
        if not key.endswith("seconds"):
            assert values == parts["history"][key], key
    assert len(whole["history"]["step_bce"][0]) == 4  # 10 steps of 20 images, averaged in groups of 3
    assert whole["optimizer"]["param_groups"][0]["lr"] == pytest.approx(1e-3 * 10 ** (-1 / 7))
    assert whole["train_config"]["test_binarization_seed"] == TEST_BINARIZATION_SEED
    stage0 = load_checkpoint(tmp_path / "whole" / "checkpoint_stage0.pt")
    assert stage0["epoch"] == 1 and stage0["train_config"]["binarize"] == "dynamic"
    r = load_results(tmp_path / "whole" / "model.pk")
    assert r["test_bce"][-1] > 0 and r["config"]["train"]["lr_schedule"] == "burda"


def test_a_cosine_run_sets_each_epochs_rate_and_resumes_on_it(mnist_root, tmp_path):
    assert run(tmp_path / "c", mnist_root, "--epochs", "2", "--lr-schedule", "cosine") == 0
    first = load_checkpoint(tmp_path / "c" / "checkpoint.pt")
    assert first["optimizer"]["param_groups"][0]["lr"] == pytest.approx(1e-3 * (1 + math.cos(math.pi / 2)) / 2)
    assert run(tmp_path / "c", mnist_root, "--epochs", "3", "--lr-schedule", "cosine", "--resume") == 0
    # resumed with 3 epochs: epoch index 2 of the 3-epoch curve
    last = load_checkpoint(tmp_path / "c" / "checkpoint.pt")
    assert last["epoch"] == 3
    assert last["optimizer"]["param_groups"][0]["lr"] == pytest.approx(1e-3 * (1 + math.cos(2 * math.pi / 3)) / 2)
    assert not list((tmp_path / "c").glob("checkpoint_stage*.pt"))


def test_binarize_refuses_a_thresholded_model(mnist_root, tmp_path, capsys):
    args = ["--arch", "mlp14", "--binarize", "dynamic", "--data-root", str(mnist_root), "--out-dir", str(tmp_path)]
    assert main.main(args) == 2
    assert "its own threshold" in capsys.readouterr().err
