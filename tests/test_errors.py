"""Bad input gets one clear line on stderr, a non-zero exit, and no traceback.

The scripts run as a user runs them, in a subprocess.
"""

import os
import pickle
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT
from vaeio import MNIST_FILES

# A proxy on a closed local port makes any download fail at once, online or not.
OFFLINE = {"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
           "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}


def run(script, *args, cwd):
    env = {**os.environ, **OFFLINE}
    return subprocess.run([sys.executable, str(ROOT / script), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=300)


def assert_one_line_error(proc, *expected):
    err = proc.stderr.strip()
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert len(err.splitlines()) == 1, err
    for text in expected:
        assert text in err, err


@pytest.mark.parametrize("args, expected", [
    (["--epochs", "0"], "--epochs: must be at least 1"),
    (["--batch-size", "0"], "--batch-size: must be at least 1"),
    (["--lr", "-1"], "--lr: must be a positive number"),
    (["--lr", "nan"], "--lr: must be a positive number"),
    (["--model", "3"], "--model"),
    (["--arch", "conv", "--model", "2"], "--model chooses between the report's two LSTM models"),
    (["--arch", "vgg"], "--arch: invalid choice"),
    (["--betas", "0.9", "1"], "--betas must each be below 1"),
    (["--patience", "0"], "--patience: must be at least 1"),
])
def test_impossible_arguments(tmp_path, args, expected):
    assert_one_line_error(run("main.py", *args, cwd=tmp_path), expected)


def test_limit_larger_than_the_data(tmp_path, mnist_root):
    proc = run("main.py", "--data-root", mnist_root, "--limit", 70000, cwd=tmp_path)
    assert_one_line_error(proc, "--limit 70000 is larger than the 60000 training images")
    assert not (tmp_path / "checkpoint.pt").exists()


def test_data_root_missing_while_offline(tmp_path):
    proc = run("main.py", "--data-root", tmp_path / "nowhere", cwd=tmp_path)
    assert_one_line_error(proc, "could not be downloaded", "--data-root")


def test_truncated_idx_file(tmp_path, mnist_root):
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST_FILES:
        shutil.copyfile(mnist_root / "MNIST" / "raw" / name, raw / name)
    with open(raw / "train-images-idx3-ubyte", "r+b") as f:
        f.truncate(1_000_000)
    proc = run("main.py", "--data-root", tmp_path / "data", cwd=tmp_path)
    assert_one_line_error(proc, "corrupt or truncated")


def test_model_pk_missing(tmp_path):
    assert_one_line_error(run("generator.py", "--out-dir", tmp_path, cwd=tmp_path), "model.pk not found", "main.py")


def test_model_pk_truncated(tmp_path):
    import numpy as np

    blob = pickle.dumps({"train_reconstruction_images": np.zeros((100, 28, 28), np.float32)}, protocol=5)
    (tmp_path / "model.pk").write_bytes(blob[: len(blob) // 2])
    assert_one_line_error(run("generator.py", "--out-dir", tmp_path, cwd=tmp_path), "corrupt or truncated")


class Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_model_pk_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    with open(tmp_path / "model.pk", "wb") as f:
        pickle.dump({"train_reconstruction_images": Exploit(marker)}, f)
    proc = run("generator.py", "--out-dir", tmp_path, cwd=tmp_path)
    assert_one_line_error(proc, "refused", "system")
    assert not marker.exists()


def test_resume_without_a_checkpoint(tmp_path, mnist_root):
    proc = run("main.py", "--data-root", mnist_root, "--out-dir", tmp_path, "--resume", cwd=tmp_path)
    assert_one_line_error(proc, "no checkpoint.pt")


def test_truncated_checkpoint(tmp_path, mnist_root):
    (tmp_path / "checkpoint.pt").write_bytes(b"PK\x03\x04 not a whole zip")
    proc = run("main.py", "--data-root", mnist_root, "--out-dir", tmp_path, "--resume", cwd=tmp_path)
    assert_one_line_error(proc, "corrupt or truncated")


def test_cuda_asked_for_where_there_is_none(tmp_path, mnist_root):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    proc = run("main.py", "--data-root", mnist_root, "--device", "cuda", cwd=tmp_path)
    assert_one_line_error(proc, "--device cuda")


def test_compare_needs_an_evaluation(tmp_path):
    proc = run("report/compare.py", f"x={tmp_path}", cwd=tmp_path)
    assert_one_line_error(proc, "model.pk")  # an empty folder: no run there


def test_generator_classifier_needs_data(tmp_path, mnist_root):
    out = tmp_path / "run"
    assert run("main.py", "--arch", "examples", "--data-root", mnist_root, "--out-dir", out, "--limit", 100,
               "--epochs", 1, cwd=tmp_path).returncode == 0
    proc = run("generator.py", "--out-dir", out, "--classifier", out / "checkpoint.pt", cwd=tmp_path)
    assert_one_line_error(proc, "--classifier judges the per-class digits, which need --data-root")
    proc = run("evaluate.py", "--checkpoint", out / "checkpoint.pt", "--data-root", mnist_root, "--limit", 10,
               "--classifier", out / "checkpoint.pt", cwd=tmp_path)
    assert_one_line_error(proc, "is not a classifier written by classifier.py")
