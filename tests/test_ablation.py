"""report/ablation.py end to end on a tiny run: measured, stored, and on the page with its shortfall said."""

import json
import subprocess

import pytest

from conftest import SCRIPT_ENV, load_script, script_argv
from vae.data import prepare_images
from vae.files import load_mnist, load_model
from vae.measures import active_units


def run(script, *args, cwd):
    proc = subprocess.run([*script_argv(script), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          env={**SCRIPT_ENV, "OMP_NUM_THREADS": "1"}, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc


def test_ablation_page_from_a_tiny_run(tmp_path, mnist_root):
    out = tmp_path / "mlp_mlp"
    run("main.py", "--data-root", mnist_root, "--out-dir", out, "--encoder", "mlp", "--decoder", "mlp",
        "--limit", 300, "--epochs", 1, "--device", "cpu", "--no-progress", cwd=tmp_path)
    judge = tmp_path / "judge.pt"
    run("classifier.py", "--data-root", mnist_root, "--out", judge, "--limit", 500, "--epochs", 1,
        "--no-progress", cwd=tmp_path)
    run("evaluate.py", "--checkpoint", out / "checkpoint.pt", "--data-root", mnist_root, "--limit", 200,
        "--k", 2, "--classifier", judge, "--per-class", 5, "--device", "cpu", cwd=tmp_path)
    store, page = tmp_path / "ablation", tmp_path / "ablation.md"
    run("report/ablation.py", out, "--store", store, "--page", page, cwd=tmp_path)
    row = json.loads((store / "mlp_mlp.json").read_text())
    assert row["epochs"] == 1 and row["parameters"] == 652_824 and row["latent_dims"] == 20
    evaluation = json.loads((out / "evaluation_k2.json").read_text())
    for key in ("active_kl", "active_cov", "class_accuracy", "latent_dims"):
        assert row[key] == evaluation[key], key  # the page's figures are the evaluation's
    model = load_model(out / "checkpoint.pt")
    x = prepare_images(load_mnist(mnist_root, train=False)[:200], model.cfg)
    assert {k: row[k] for k in ("active_kl", "active_cov")} == {k: v for k, v in active_units(model, x).items()
                                                                if k != "latent_dims"}
    assert row["class_accuracy"] * 50 == pytest.approx(round(row["class_accuracy"] * 50))  # k of 5 x 10 digits
    assert (store / "mlp_mlp.png").read_bytes()[:4] == b"\x89PNG"
    text = page.read_text()
    assert f"{row['test_negative_elbo']:.2f} (**1 of 50 epochs**)" in text
    assert f"{row['active_kl']} / {row['active_cov']} of 20 | {row['class_accuracy']:.1%} / " in text
    assert text.count("not yet run") == len(load_script("report/ablation.py").ROWS) - 1  # the other rows
    assert "--encoder mlp --decoder mlp --objective elbo" in text


def test_rank_floor_orders_the_families(tmp_path, mnist_root):
    out = tmp_path / "rank_floor.json"
    run("report/rank_floor.py", "--data-root", mnist_root, "--images", 60, "--steps", 150,
        "--features", 3, 28, "--out", out, cwd=tmp_path)
    result = json.loads(out.read_text())
    floor = result["entropy_floor_nats"]
    report, free = result["fits"]
    assert result["test_images"] == 60 and report["features"] == 3 and free["features"] == 28
    # 28 features per row can make any 28x28 logit matrix: the fit reaches the entropy floor.
    assert floor <= free["bce_nats"] < floor + 1
    # The report's 3 shared profiles cannot, and Adam improved on the PCA start.
    assert report["bce_nats"] > free["bce_nats"] + 5 and report["bce_nats"] < report["start_nats"]
    assert out.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"


def test_rank_floor_fit_has_rank_at_most_four(mnist_root):
    import torch

    rank_floor = load_script("report/rank_floor.py")
    from model import VAEConfig
    from vae.data import prepare_images
    from vae.files import load_mnist

    x = prepare_images(load_mnist(mnist_root, train=False)[:20], VAEConfig()).squeeze(1)
    fit = rank_floor.fit_floor(x, 3, steps=20, lr=0.1)
    sv = torch.linalg.svdvals(fit["logits"].double())  # (20, 28), each image's singular values, largest first
    assert (sv[:, 4] < 1e-5 * sv[:, 0]).all()  # rank 4 up to float32 rounding
    assert (sv[:, 3] > 1e-3 * sv[:, 0]).all()  # and not less
