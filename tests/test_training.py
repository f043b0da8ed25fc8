"""End to end on the real MNIST: training lowers the loss, outputs round-trip, resume is exact."""

import json
import math
import pickle
import shutil
import sys

import numpy as np
import pytest
import torch

import generator
import main
from conftest import ROOT, load_script
from model import PRESETS, VAE
from vae import files, samples, training
from vae.config import EVAL_BATCH
from vae.data import prepare_images
from vae.files import load_checkpoint, load_results
from vae.registry import config_from_dict, config_to_dict
from vae.trainer import time_split


def run_main(mnist_root, out_dir, *extra):
    # CPU, also on a machine with a GPU: these tests check CPU settings and bit-exact resumes.
    args = ["--data-root", str(mnist_root), "--out-dir", str(out_dir), "--no-progress", "--device", "cpu", *map(str, extra)]
    assert main.main(args) == 0
    return out_dir


@pytest.fixture(scope="session")
def trained(mnist_root, tmp_path_factory):
    """Model 1, 2 epochs on the first 1000 training images."""
    return run_main(mnist_root, tmp_path_factory.mktemp("run"), "--limit", 1000, "--epochs", 2)


@pytest.mark.quick
def test_training_lowers_the_loss(trained):
    r = load_results(trained / "model.pk")
    assert r["train_loss_epoch_mean"][1] < r["train_loss_epoch_mean"][0]
    assert r["test_negative_elbo"][1] < r["test_negative_elbo"][0]
    # Not noise: the second epoch's mean is clearly lower (0.77 -> 0.70 when written).
    assert r["train_loss_epoch_mean"][1] < 0.97 * r["train_loss_epoch_mean"][0]


def test_model_pk_has_the_originals_keys_and_round_trips(trained):
    with open(trained / "model.pk", "rb") as f:
        plain = pickle.load(f)  # what the original generator did
    safe = load_results(trained / "model.pk")
    images = safe["train_reconstruction_images"]
    assert images.dtype == np.float32 and images.shape == (1000, 28, 28)
    assert 0 <= images.min() and images.max() <= 1
    assert np.array_equal(images, plain["train_reconstruction_images"])
    for key in ("train_loss_history", "train_regularization_terms", "test_negative_elbo", "epoch_seconds"):
        assert len(safe[key]) == 2 and all(isinstance(v, float) for v in safe[key])
    assert safe["config"]["model"] == config_to_dict(PRESETS[1])
    assert safe["seed"] == 0
    settings = json.loads((trained / "config.json").read_text())["train"]
    assert settings["limit"] == 1000
    assert settings["reuse_freed_memory"] is (sys.platform == "linux")  # glibc's mallopt, on CPU


FAULTS = """
import resource, sys, torch
from vae import device
kept = device.reuse_freed_memory() if sys.argv[1] == "kept" else None
size = 9 * 2**20  # float32: 36 MiB as Model 1's biggest buffer, above glibc's largest mmap threshold (32 MiB)
for _ in range(16):  # the heap grows to hold it: steady state came after 2 to 7 requests here
    torch.empty(size).fill_(1)  # allocated and freed
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(3):
    torch.empty(size).fill_(1)
print(kept, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="glibc's malloc only")
def test_reuse_freed_memory_stops_the_page_faults():
    """A 36 MiB buffer freed and asked for again comes back from the heap, not as fresh
    pages (in a fresh process: the setting is process-wide)."""
    import subprocess

    faults = {}
    for mode in ("default", "kept"):
        out = subprocess.run([sys.executable, "-c", FAULTS, mode], cwd=ROOT, capture_output=True, text=True, check=True)
        applied, faults[mode] = out.stdout.split()
        assert applied == ("True" if mode == "kept" else "None")
    assert int(faults["kept"]) < 1000  # glibc's default faults 3 x 9,216 pages (4 KiB each) here
    assert int(faults["default"]) > 10 * int(faults["kept"])


def test_checkpoint_round_trips_and_rebuilds_the_model(trained):
    state = load_checkpoint(trained / "checkpoint.pt")
    assert state["epoch"] == 2
    model = VAE(config_from_dict(state["config"]))
    model.load_state_dict(state["model"])  # strict: every key, every shape
    assert state["history"] == {k: load_results(trained / "model.pk")[k] for k in state["history"]}


class EchoModel(torch.nn.Module):
    """Reconstructs each image as itself, so where each reconstruction lands can be checked exactly."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        mu = self.w.expand(x.shape[0], 1)
        return x.clamp(0.01, 0.99), mu, torch.zeros_like(mu)


@pytest.mark.quick
@pytest.mark.parametrize("shuffle", [False, True])
def test_reconstructions_are_stored_in_data_order(shuffle):
    data = torch.rand(250, 1, 28, 28)
    order = torch.randperm(250) if shuffle else torch.arange(250)
    model = EchoModel()
    out = torch.full_like(data, -1.0)
    step = training.TrainStep(model, torch.optim.SGD(model.parameters(), lr=0.1), data, 100)
    training.train_epoch(step, order, out)
    assert torch.equal(out, data.clamp(0.01, 0.99))


def test_generator_writes_its_pngs(trained, tmp_path):
    """Each PNG is a picture of the run: the curves are model.pk's whatever the seed, the
    reconstructions and samples are the seed's own pick and draws."""
    from matplotlib.image import imread

    other = tmp_path / "seed4"
    other.mkdir()
    for name in (files.MODEL_PK, files.CHECKPOINT, files.EPOCH1_CHECKPOINT):
        shutil.copy(trained / name, other / name)
    assert generator.main(["--out-dir", str(trained), "--seed", "3"]) == 0
    assert generator.main(["--out-dir", str(other), "--seed", "4"]) == 0
    by_seed = {generator.RECONSTRUCTIONS, generator.PRIOR_SAMPLES, generator.SAMPLES_EPOCH1_VS_LAST}
    for name in (generator.RECONSTRUCTIONS, generator.LOSS_CURVE, generator.KLD_CURVE, generator.PRIOR_SAMPLES,
                 generator.SAMPLES_EPOCH1_VS_LAST, generator.ELBO_TERMS):
        three, four = imread(trained / name), imread(other / name)
        assert three.shape == four.shape and three.shape[0] > 300 and three[..., :3].std() > 0.05, name  # not blank
        assert np.array_equal(three, four) != (name in by_seed), name
    assert imread(trained / files.FIGURE1)[..., :3].std() > 0.05


def test_prior_samples_come_from_the_checkpoint(trained):
    a = samples.prior_samples(trained / "checkpoint.pt", 4, seed=1)
    b = samples.prior_samples(trained / "checkpoint.pt", 4, seed=2)
    assert a.shape == (4, 28, 28) and not np.array_equal(a, b)


@pytest.mark.parametrize("shuffle", [False, True])
def test_resume_reaches_the_same_weights(mnist_root, tmp_path, shuffle):
    flags = ["--limit", 200, "--model", 1] + (["--shuffle"] if shuffle else [])
    straight = run_main(mnist_root, tmp_path / "straight", *flags, "--epochs", 2)
    resumed = run_main(mnist_root, tmp_path / "resumed", *flags, "--epochs", 1)
    run_main(mnist_root, resumed, *flags, "--epochs", 2, "--resume")
    a, b = load_checkpoint(straight / "checkpoint.pt"), load_checkpoint(resumed / "checkpoint.pt")
    assert a["epoch"] == b["epoch"] == 2
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    assert a["history"]["train_loss_history"] == b["history"]["train_loss_history"]
    ra = load_results(straight / "model.pk")["train_reconstruction_images"]
    rb = load_results(resumed / "model.pk")["train_reconstruction_images"]
    assert np.array_equal(ra, rb)


def test_a_finished_run_is_not_overwritten(mnist_root, tmp_path, capsys):
    run_main(mnist_root, tmp_path, "--limit", 100, "--epochs", 1)
    before = (tmp_path / "checkpoint.pt").read_bytes()
    assert main.main(["--data-root", str(mnist_root), "--out-dir", str(tmp_path), "--limit", "100"]) == 2
    assert "--resume" in capsys.readouterr().err
    assert (tmp_path / "checkpoint.pt").read_bytes() == before


def test_resume_refuses_other_settings(mnist_root, tmp_path, capsys):
    run_main(mnist_root, tmp_path, "--limit", 100, "--epochs", 1)
    args = ["--data-root", str(mnist_root), "--out-dir", str(tmp_path), "--limit", "100", "--epochs", "2", "--resume"]
    assert main.main(args + ["--lr", "0.01"]) == 2
    assert "--lr" in capsys.readouterr().err


def test_benchmark_runs_and_both_loops_agree(mnist_root, capsys):
    bench = load_script("benchmarks/train_step.py")
    assert bench.forward_flops(PRESETS[1]) > 60e6  # about 70 MFLOP per image, as profiled
    assert bench.main(["--data-root", str(mnist_root), "--steps", "2", "--warmup", "0", "--batch-size", "20",
                       "--profile", "1"]) == 0
    out = capsys.readouterr().out
    assert "speed-up ours / original" in out
    assert "profile of 1 steps of ours" in out and "aten::mm" in out
    assert "the malloc setting alone" in out  # timed on CPU with and without it
    diff = float(out.split("largest loss difference over 2 steps (all fp32 variants against the original): ")[1].split()[0])
    assert diff < 1e-4


def test_train_set_negative_elbo_is_stored(trained, mnist_root):
    """model.pk's training-set nats are the final weights' on the run's own 1,000 training images:
    recomputed with other noise they agree to 0.3 nats (seeds differ by 0.05 when written), while
    the next 1,000 training images or the test images are 0.7 and 1.2 nats away."""
    r = load_results(trained / "model.pk")
    model = VAE(config_from_dict(load_checkpoint(trained / "checkpoint.pt")["config"]))
    model.load_state_dict(load_checkpoint(trained / "checkpoint.pt")["model"])
    x = prepare_images(files.load_mnist(mnist_root, train=True)[:1000], PRESETS[1])
    torch.manual_seed(12345)
    assert isinstance(r["train_negative_elbo"], float)
    assert r["train_negative_elbo"] == pytest.approx(training.evaluate(model, x, 100)["negative_elbo"], abs=0.3)


def test_evaluation_batch_changes_only_the_noise(trained, mnist_root, monkeypatch):
    # Without the sampling noise, any batch size (a short last one included) gives the same nats.
    model = VAE(config_from_dict(load_checkpoint(trained / "checkpoint.pt")["config"]))
    model.load_state_dict(load_checkpoint(trained / "checkpoint.pt")["model"])
    monkeypatch.setattr(VAE, "reparameterize", staticmethod(lambda mu, logvar: mu))
    x = prepare_images(files.load_mnist(mnist_root, train=False)[:1000], PRESETS[1])
    by_100, by_64 = training.evaluate(model, x, 100), training.evaluate(model, x, 64)
    for key in by_100:
        assert by_64[key] == pytest.approx(by_100[key], rel=1e-5)
    # The CPU default stays the report's 100, so CPU runs draw the same noise as before.
    train_config = json.loads((trained / "config.json").read_text())["train"]
    assert train_config["eval_batch_size"] == EVAL_BATCH["cpu"] == 100


@pytest.mark.quick
def test_time_split_counts_only_this_calls_epochs():
    history = {"epoch_seconds": [100.0, 2.0, 3.0], "eval_seconds": [50.0, 0.5, 0.5]}  # epoch 1 from a resumed run
    line = time_split(10.0, {"data": 1.0, "model.pk": 0.5}, history, epochs=2)
    assert "training 5.0 s" in line and "test evaluations 1.0 s" in line
    assert "data 1.0 s" in line and "model.pk 0.5 s" in line and line.endswith("other 2.5 s")


def test_evaluate_writes_the_iwae_bound(trained, mnist_root):
    """k = 1 is the one-sample negative ELBO; k = 3 is under it. With --rows equal to the images,
    each draw of z is its own pass of the same generator, so the first of k = 3's draws is k = 1's:
    per image, -log mean(w_1, w_2, w_3) <= -log w_1 + log 3, a margin derived from k alone."""
    import evaluate

    result = {}
    for k in (1, 3):
        args = ["--checkpoint", str(trained / "checkpoint.pt"), "--data-root", str(mnist_root), "--limit", "40",
                "--k", str(k), "--rows", "40", "--device", "cpu", "--no-progress"]
        assert evaluate.main(args) == 0
        result[k] = json.loads((trained / f"evaluation_k{k}.json").read_text())
        assert result[k]["test_images"] == 40 and result[k]["iwae_k"] == k and result[k]["epoch"] == 2
    one, three, nelbo = result[1]["iwae_nats"], result[3]["iwae_nats"], result[3]["negative_elbo"]
    assert abs(one - nelbo) < 4 * result[1]["iwae_se"]  # the same bound, other noise (and the KL in closed form)
    assert three < nelbo and three <= one + math.log(3)
def test_binarized_images_under_a_grey_level_model_are_named_as_such(trained, mnist_root, tmp_path, capsys):
    import evaluate

    args = ["--checkpoint", str(trained / "checkpoint.pt"), "--data-root", str(mnist_root), "--limit", "20",
            "--k", "1", "--device", "cpu", "--no-progress", "--out-dir", str(tmp_path)]
    assert evaluate.main(args + ["--binarize", "dynamic"]) == 0
    assert "trained on grey levels" in capsys.readouterr().err
    binarized = json.loads((tmp_path / "evaluation_k1.json").read_text())
    assert binarized["trained_binarize"] == "none" and binarized["binarize_seed"] == 123
    assert evaluate.main(args) == 0  # as trained: no note
    assert "trained on grey levels" not in capsys.readouterr().err
    grey = json.loads((tmp_path / "evaluation_k1.json").read_text())
    assert grey["binarized"] is False and grey["negative_elbo"] != binarized["negative_elbo"]


def load_build():
    build = load_script("report/build.py")
    return build


def test_report_builds_from_tiny_runs(trained, mnist_root, tmp_path):
    model2 = run_main(mnist_root, tmp_path / "model2", "--limit", 200, "--epochs", 1, "--model", 2)
    import evaluate

    assert evaluate.main(["--checkpoint", str(model2 / "checkpoint.pt"), "--data-root", str(mnist_root),
                          "--limit", "20", "--k", "2"]) == 0
    build = load_build()
    out = tmp_path / "report"
    assert build.main([str(trained), str(model2), "--out", str(out), "--data-root", str(mnist_root)]) == 0
    text = (out / "README.md").read_text()
    for heading in ("## Summary", "## Table 1", "## Table 2", "## Figures", "## Where and why we differ"):
        assert heading in text, heading
    assert "1,051,123" in text and "267,283" in text  # both models' parameter counts, from torchinfo's table
    assert "| 49 | 0.1622 | 0.0211 |" in text  # the report's last Table 1 line beside ours
    assert "k=2" in text  # Model 2's IWAE bound is reported
    for png in ("figure1_mnist.png", "figure2_loss.png", "figure3_kld.png", "reconstructions_model1.png",
                "reconstructions_model2.png", "prior_samples_model1.png", "prior_samples_model2.png",
                "test_pairs_model1.png", "test_pairs_model2.png", "elbo_terms_model1.png", "elbo_terms_model2.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG", png
        assert f"]({png})" in text, png


def test_report_shows_the_seed_spread(trained, mnist_root, tmp_path, capsys):
    seed1 = run_main(mnist_root, tmp_path / "seed1", "--limit", 1000, "--epochs", 2, "--seed", 1)
    build = load_build()
    out = tmp_path / "report"
    assert build.main([str(trained), "--seeds", str(seed1), "--out", str(out), "--data-root", str(mnist_root)]) == 0
    text = (out / "README.md").read_text()
    losses = [load_results(run / "model.pk")["train_loss_history"][0] for run in (trained, seed1)]
    mean, sd = np.mean(losses), np.std(losses, ddof=1)
    assert sd > 0  # the seeds differ
    assert f"| 1 | 0.2700 | 0.0141 | {mean:.4f} ± {sd:.4f} |" in text  # Table 1's first line, by hand
    assert "Model 1, seeds 0, 1: the report's last-batch loss is within our seeds' range at" in text
    assert "the shaded band is the range over our seeds" in text
    # A seed run of a model with no main run is one line, not a traceback.
    model2 = run_main(mnist_root, tmp_path / "model2", "--limit", 200, "--epochs", 1, "--model", 2)
    assert build.main([str(trained), "--seeds", str(model2), "--out", str(out), "--data-root", str(mnist_root)]) == 2
    assert "trained Model 2, and no main run does" in capsys.readouterr().err
    assert build.main([str(trained), "--seeds", str(trained), "--out", str(out), "--data-root", str(mnist_root)]) == 2
    assert "repeats seed 0 of Model 1" in capsys.readouterr().err


def test_original_loop_run_follows_main_and_resumes(trained, mnist_root, tmp_path, capsys):
    original_run = load_script("benchmarks/original_run.py")
    common = ["--data-root", str(mnist_root), "--limit", "1000"]
    assert original_run.main([*common, "--epochs", "2", "--out-dir", str(tmp_path / "straight")]) == 0
    assert original_run.main([*common, "--epochs", "1", "--out-dir", str(tmp_path / "resumed")]) == 0
    assert original_run.main([*common, "--epochs", "2", "--out-dir", str(tmp_path / "resumed"), "--resume"]) == 0
    straight, resumed = (json.loads((tmp_path / d / "history.json").read_text()) for d in ("straight", "resumed"))
    for key in ("train_loss_history", "train_regularization_terms", "test_negative_elbo"):
        assert resumed[key] == straight[key], key  # interrupted and resumed: the same numbers
    # Same weights, data and noise as main.py's run: only rounding differs (a few 1e-5 after 20 steps).
    ours = load_results(trained / "model.pk")
    assert straight["train_loss_history"] == pytest.approx(ours["train_loss_history"], rel=1e-3)
    assert straight["test_negative_elbo"] == pytest.approx(ours["test_negative_elbo"], abs=0.5)
    assert original_run.main([*common, "--epochs", "3", "--out-dir", str(tmp_path / "resumed"), "--resume",
                              "--lr", "0.01"]) == 2
    assert "trained with lr 0.001, not 0.01" in capsys.readouterr().err
    build = load_build()
    out = tmp_path / "report"
    assert build.main([str(trained), "--original", str(tmp_path / "straight"), "--out", str(out),
                       "--data-root", str(mnist_root)]) == 0
    text = (out / "README.md").read_text()
    assert "original training loop re-created (`benchmarks/original_run.py`, Model 1, seed 0, 2 epochs)" in text
    assert f"test negative ELBO {straight['test_negative_elbo'][-1]:.2f} nats" in text


def test_report_names_every_collapsed_stretch():
    build = load_build()
    assert build.epoch_ranges([1, 2, 3, 4, 45, 46, 47, 48, 49]) == "1-4 and 45-49"
    assert build.epoch_ranges([1, 3, 4, 9]) == "1, 3-4 and 9"
    assert build.epoch_ranges([7]) == "7"


def test_report_places_table1_against_a_range_of_runs():
    build = load_build()
    table = build.REPORT_TABLE1
    loss = {e: v[0] for e, v in table.items()}
    # Two runs of 3 epochs: at epoch 1 they bracket the report's loss, at epoch 3 both lie above it.
    series = [[loss[1] - 0.01, 9.0, loss[3] + 0.01], [loss[1] + 0.01, 9.0, loss[3] + 0.02]]
    assert build.within_spread(series, 0) == ("within our seeds' range at 1 (epochs 1) of the 2 epochs it lists, "
                                              "above at 0, below at 1 (epochs 3)")
    # The shortest run decides which of the report's epochs are compared.
    said = build.within_spread([*series, [loss[1]]], 0, "the range")
    assert said == "within the range at 1 of the 1 epochs it lists, above at 0, below at 0"


def test_report_reads_a_collapse_from_the_test_kl():
    from types import SimpleNamespace

    build = load_build()
    run = SimpleNamespace(name="Model 2", tag="model2", cfg=PRESETS[2],
                          results={"test_kld": [5.0, 0.4, 0.3, 6.0], "test_negative_elbo": [210.0, 230.0, 231.5, 205.0]})
    note = build.collapse_note(run, figs={})
    assert "under 1 nat per test image in epochs 2-3" in note and "rose to 231.5 nats" in note
    assert "β = 1.75 above 1" in note  # 28 rows / 16 latent channels
    run.results["test_kld"] = [5.0, 0.4, 0.3, 0.2]
    assert "fell to 0.200 nats per test image: posterior collapse" in build.collapse_note(run, figs={})
    run.results["test_kld"] = [5.0, 4.0, 3.0, 2.0]
    assert build.collapse_note(run, figs={}) is None


def test_deterministic_flag_runs_on_cpu_and_changes_nothing(mnist_root, tmp_path):
    """CPU runs are deterministic already: --deterministic must give the same bits (and not raise)."""
    plain = run_main(mnist_root, tmp_path / "plain", "--limit", 200, "--epochs", 1)
    try:
        strict = run_main(mnist_root, tmp_path / "strict", "--limit", 200, "--epochs", 1, "--deterministic")
    finally:
        torch.use_deterministic_algorithms(False)  # process-wide: leave the other tests as they were
    a, b = load_checkpoint(plain / "checkpoint.pt"), load_checkpoint(strict / "checkpoint.pt")
    assert b["train_config"]["deterministic"] is True
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key


def test_weights_broken_by_the_last_update_stop_before_evaluation(mnist_root, tmp_path, monkeypatch, capsys):
    """A finite last loss but NaN weights after its update: one line, not BCE's error on NaN pixels."""
    real = training.TrainStep.__call__

    def poison_last_update(self, idx):
        out = real(self, idx)
        if idx[-1].item() == self.data.shape[0] - 1:  # the epoch's last batch
            with torch.no_grad():
                next(self.model.parameters()).fill_(float("nan"))
        return out

    monkeypatch.setattr(training.TrainStep, "__call__", poison_last_update)
    args = ["--data-root", str(mnist_root), "--out-dir", str(tmp_path), "--no-progress", "--device", "cpu",
            "--limit", "200", "--epochs", "1"]
    assert main.main(args) == 2
    assert "diverged" in capsys.readouterr().err and not (tmp_path / "checkpoint.pt").exists()


def test_our_idx_reader_gives_torchvisions_mnist(mnist_root):
    import torchvision  # required (requirements.txt): a broken install fails, not skips
    for train in (True, False):
        ds = torchvision.datasets.MNIST(mnist_root, train=train, download=False)
        images, labels = files.load_mnist(mnist_root, train, with_labels=True)
        assert torch.equal(images, ds.data) and torch.equal(labels, ds.targets)
        assert labels.dtype == ds.targets.dtype


def _idx(type_code: int, *shape: int) -> bytes:
    return bytes([0, 0, type_code, len(shape)]) + b"".join(d.to_bytes(4, "big") for d in shape)


@pytest.mark.parametrize("content, expected", [
    (_idx(0x0D, 3) + bytes(3), "type code 0x0d"),  # floats, not bytes
    (_idx(0x08, 4) + bytes(3), r"3 bytes of data for shape \(4,\)"),
    (bytes([0, 0, 8, 7]), "a header of 7 dimensions"),
    (b"\x01\x02", "no IDX magic number"),
])
def test_idx_reader_refuses_a_bad_header(tmp_path, content, expected):
    path = tmp_path / "x-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=expected):
        files.read_idx(path)


def test_idx_reader_keeps_shape_and_order(tmp_path):
    path = tmp_path / "x-idx2-ubyte"
    path.write_bytes(_idx(0x08, 2, 3) + bytes(range(6)))
    assert files.read_idx(path).tolist() == [[0, 1, 2], [3, 4, 5]]


def test_mnist_missing_is_downloaded_by_torchvision_then_read(mnist_root, tmp_path, monkeypatch):
    import torchvision  # required (requirements.txt): a broken install fails, not skips
    calls = []

    class FakeMNIST:  # stands in for the download: it writes the raw files where torchvision would
        def __init__(self, root, train, download):
            calls.append((train, download))
            raw = tmp_path / "MNIST" / "raw"
            raw.mkdir(parents=True, exist_ok=True)
            for name in files.MNIST_FILES:
                shutil.copyfile(mnist_root / "MNIST" / "raw" / name, raw / name)

    monkeypatch.setattr(torchvision.datasets, "MNIST", FakeMNIST)
    images, labels = files.load_mnist(tmp_path, train=False, with_labels=True)
    assert calls == [(True, True), (False, True)] and images.shape == (10000, 28, 28) and labels.shape == (10000,)
    files.load_mnist(tmp_path, train=True)  # the files are there now: no second download
    assert len(calls) == 2


@pytest.mark.quick
def test_resume_compares_every_setting_not_marked_may_change():
    """The run configuration's fields say which may change on --resume; every other one is compared."""
    import dataclasses

    from vae.cli import UserError
    from vae.config import RunConfig, TrainConfig, check_resumable, flag_name

    run = RunConfig(PRESETS[1], TrainConfig())
    state = {"train_config": run.train.to_dict(), "config": config_to_dict(PRESETS[1]), "epoch": 1}
    check_resumable(run, state)
    may_change = {f.name for f in dataclasses.fields(TrainConfig) if f.metadata["may_change"]}
    assert {"epochs", "device", "eval_batch_size", "command"} <= may_change and "lr" not in may_change
    for f in dataclasses.fields(TrainConfig):
        other = {**state, "train_config": {**state["train_config"], f.name: "another value"}}
        if f.name in may_change:
            check_resumable(run, other)
        else:
            with pytest.raises(UserError, match=f"trained with {flag_name(f.name)} another value"):
                check_resumable(run, other)
    with pytest.raises(UserError, match="another model"):
        check_resumable(run, {**state, "config": config_to_dict(PRESETS[2])})
