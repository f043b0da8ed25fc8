"""colab.ipynb top to bottom in a Python kernel, on a tiny setting (issue 26)."""

import os

import nbclient  # required (requirements.txt): a broken install fails here, not skips
import nbformat

from conftest import ROOT


def test_the_colab_notebook_runs_top_to_bottom(mnist_root, tmp_path, monkeypatch):
    out = tmp_path / "run"
    # A `python` first on PATH that is not the interpreter running the kernel (a venv used by
    # its path, not activated): the notebook's commands must not reach it.
    wrong = tmp_path / "bin"
    wrong.mkdir()
    (wrong / "python").write_text("#!/bin/sh\necho 'not the notebook interpreter' >&2\nexit 97\n")
    (wrong / "python").chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrong}{os.pathsep}{os.environ['PATH']}")
    for name, value in {"VAE_EPOCHS": "1", "VAE_EXTRA": "--limit 1000 --device cpu --no-progress",
                        "VAE_DATA_ROOT": str(mnist_root), "VAE_OUT_DIR": str(out), "VAE_RUN_TESTS": "0"}.items():
        monkeypatch.setenv(name, value)  # the kernel inherits them; its parameters cell reads them
    pretrained_before = sorted(p.name for p in (ROOT / "pretrained").iterdir())
    nb = nbformat.read(ROOT / "colab.ipynb", as_version=4)
    assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    assert (out / "model.pk").stat().st_size > 0 and (out / "checkpoint.pt").is_file()
    assert (out / "pretrained_samples" / "evaluation_lstm_repaired_k10.json").is_file()
    assert sorted(p.name for p in (ROOT / "pretrained").iterdir()) == pretrained_before  # nothing into the source tree
    for name in ("reconstructions.png", "figure2_loss.png", "prior_samples.png",
                 "pretrained_samples/prior_samples.png", "pretrained_samples/digits_per_class.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG", name
    shown = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(shown) == 6  # the figures inline: four of the run, two of the pretrained model
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "torch " in text and "Epoch:1/1" in text and "test images" in text
