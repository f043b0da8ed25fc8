"""report/ablation.py end to end on a tiny run: measured, stored, and on the page with its shortfall said."""

import json
import os
import subprocess
import sys

from conftest import ROOT


def run(*args, cwd):
    proc = subprocess.run([sys.executable, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc


def test_ablation_page_from_a_tiny_run(tmp_path, mnist_root):
    out = tmp_path / "mlp_mlp"
    run(ROOT / "main.py", "--data-root", mnist_root, "--out-dir", out, "--encoder", "mlp", "--decoder", "mlp",
        "--limit", 300, "--epochs", 1, "--device", "cpu", "--no-progress", cwd=tmp_path)
    judge = tmp_path / "judge.pt"
    run(ROOT / "classifier.py", "--data-root", mnist_root, "--out", judge, "--limit", 500, "--epochs", 1,
        "--no-progress", cwd=tmp_path)
    run(ROOT / "evaluate.py", "--checkpoint", out / "checkpoint.pt", "--data-root", mnist_root, "--limit", 200,
        "--k", 2, "--classifier", judge, "--per-class", 5, "--device", "cpu", cwd=tmp_path)
    store, page = tmp_path / "ablation", tmp_path / "ablation.md"
    run(ROOT / "report" / "ablation.py", out, "--store", store, "--page", page, cwd=tmp_path)
    row = json.loads((store / "mlp_mlp.json").read_text())
    assert row["epochs"] == 1 and row["parameters"] == 652_824 and row["latent_dims"] == 20
    assert 0 <= row["active_kl"] <= 20 and 0 <= row["class_accuracy"] <= 1
    assert (store / "mlp_mlp.png").read_bytes()[:4] == b"\x89PNG"
    text = page.read_text()
    assert f"{row['test_negative_elbo']:.2f} (**1 of 50 epochs**)" in text
    assert text.count("not yet run") == 8  # the other rows
    assert "--encoder mlp --decoder mlp --objective elbo" in text
