"""The committed pretrained weights: each file is what its manifest entry and the README say."""

import hashlib
import json

import pytest

from conftest import ROOT, load_script
from vae.measures import count_parameters
from vae.files import load_checkpoint, load_model

MANIFEST = json.loads((ROOT / "pretrained" / "manifest.json").read_text())


def export_module():
    module = load_script("pretrained/export.py")
    return module


def test_every_file_is_in_the_manifest_and_the_readme():
    files = sorted(p.name for p in (ROOT / "pretrained").glob("*.pt"))
    assert files == sorted(MANIFEST)
    readme = (ROOT / "README.md").read_text()
    for name, entry in MANIFEST.items():
        assert f"pretrained/{name}" in readme and f"{entry['parameters']:,}" in readme, name


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_pretrained_file_matches_its_manifest(name, mnist_root):
    path = ROOT / "pretrained" / name
    entry = MANIFEST[name]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
    model = load_model(path)  # weights_only, config from the file alone
    assert count_parameters(model) == entry["parameters"]
    binarize = load_checkpoint(path).get("train_config", {}).get("binarize", "none")
    # The manifest's figure at its own seed and images (check_nelbo: seed 0, the first 1,000), on
    # the CPU: it comes back to about 4e-5 (the manifest keeps 4 decimals), so a slip in the model,
    # the loss or the binarization that moves it by a thousandth of a nat is caught.
    nelbo = export_module().check_nelbo(model, mnist_root, binarize)
    assert abs(nelbo - entry["test_negative_elbo_first_1000"]) < 1e-3, nelbo


def test_repaired_file_is_the_preset():
    from vae.files import load_checkpoint
    from vae.presets import ARCHS
    from vae.registry import config_from_dict

    state = load_checkpoint(ROOT / "pretrained" / "lstm_repaired.pt")
    assert config_from_dict(state["config"]) == ARCHS["lstm-repaired"].model
    assert set(state) == {"model", "config", "epoch"}  # weights only: no optimizer, no RNG


@pytest.mark.parametrize("number", [1, 2])
def test_model_file_is_the_reports_model(number):
    from model import PRESETS
    from vae.files import load_checkpoint
    from vae.registry import config_from_dict

    state = load_checkpoint(ROOT / "pretrained" / f"model{number}.pt")
    assert config_from_dict(state["config"]) == PRESETS[number]
    assert set(state) == {"model", "config", "epoch"} and state["epoch"] == 50


@pytest.mark.parametrize("name, arch", [("lstm_vae.pt", "lstm-vae"), ("lstm_vae_long.pt", "lstm-vae-long")])
def test_lstm_vae_file_is_the_preset(name, arch):
    """Both were trained with explicit flags (main.py's and made_pilot.sh's); the --arch preset is that model
    and its training's length."""
    from vae.presets import ARCHS
    from vae.registry import config_from_dict

    state = load_checkpoint(ROOT / "pretrained" / name)
    assert config_from_dict(state["config"]) == ARCHS[arch].model
    assert ARCHS[arch].training.binarize == "dynamic" == state["train_config"]["binarize"]
    assert set(state) == {"model", "config", "epoch", "train_config"} and state["epoch"] == ARCHS[arch].training.epochs


def test_export_records_an_evaluation_or_says_why_not(tmp_path):
    export = export_module()
    good = tmp_path / "evaluation_k5000.json"
    good.write_text(json.dumps({"iwae_k": 5000, "test_images": 1000, "iwae_nats": 81.594, "iwae_se": 0.661,
                                "binarized": "dynamic", "device": "cpu"}))
    assert export.evaluation_entry(good) == {"k": 5000, "test_images": 1000, "nats": 81.59, "se": 0.66,
                                             "binarized": "dynamic", "device": "cpu"}
    bad = tmp_path / "other.json"
    bad.write_text("{}")
    from vae.cli import UserError
    with pytest.raises(UserError, match="not an evaluate.py JSON"):
        export.evaluation_entry(bad)
