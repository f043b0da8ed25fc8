"""Bad input gets one clear line on stderr, a non-zero exit, and no traceback.

The scripts run as a user runs them, in a subprocess.
"""

import errno
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, SCRIPT_ENV, script_argv
from vae import files
from vae.cli import UserError
from vae.files import MNIST_FILES

# A proxy on a closed local port makes any download fail at once, online or not.
OFFLINE = {"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
           "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}


def run(script, *args, cwd):
    env = {**SCRIPT_ENV, **OFFLINE}
    return subprocess.run([*script_argv(script), *map(str, args)], cwd=cwd,
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
    (["--patience", "-1"], "--patience: must be at least 0"),
    (["--latent", "30"], "--latent shapes a composed VAE's parts, objective or prior; it needs --encoder or --decoder"),
    (["--encoder", "mlp", "--decoder", "mlp", "--decoder-hidden", "5"],
     "--decoder-hidden does not apply to --encoder mlp --decoder mlp --objective elbo --prior normal"),
    (["--encoder", "mlp", "--objective", "report", "--free-bits", "1"], "--free-bits does not apply"),
])
@pytest.mark.quick
def test_impossible_arguments(tmp_path, monkeypatch, capsys, args, expected):
    """In-process, as importing torch for each would cost seconds; the subprocess test below
    shows the same path ends a real process with one line."""
    import main

    monkeypatch.chdir(tmp_path)
    try:
        status = main.main(args)
    except SystemExit as e:  # argparse's own refusals
        status = e.code
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and expected in err and "Traceback" not in err, err
    assert not list(tmp_path.iterdir())  # refused before anything is written


def test_an_impossible_argument_ends_a_real_process_with_one_line(tmp_path):
    assert_one_line_error(run("main.py", "--betas", "0.9", "1", cwd=tmp_path), "--betas must each be below 1")


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
    assert_one_line_error(proc, "truncated or corrupt")


@pytest.mark.parametrize("content, expected", [
    (b"", "is empty (0 bytes)"),
    (b"just some text\n", "is not a PyTorch file"),
    ((ROOT / "pretrained" / "manifest.json").read_bytes(), "is not a PyTorch file"),
    ((ROOT / "pretrained" / "model2.pt").read_bytes()[:50_000], "truncated or corrupt"),
])
def test_files_that_are_not_checkpoints_each_get_their_own_line(tmp_path, mnist_root, content, expected):
    path = tmp_path / "file.pt"
    path.write_bytes(content)
    proc = run("evaluate.py", "--checkpoint", path, "--data-root", mnist_root, "--limit", 10, cwd=tmp_path)
    assert_one_line_error(proc, expected)
    assert "could run code" not in proc.stderr


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


# ---- Faults (issue 12): one line, exit status 2, nothing the user had is lost. ----

def run_patched(prelude, script, *args, cwd):
    """Run a script as __main__ after `prelude` (Python) has patched a module, to simulate a fault."""
    code = f"import runpy, sys\n{prelude}\nsys.argv = [{str(ROOT / script)!r}] + sys.argv[1:]\n" \
           f"runpy.run_path(sys.argv[0], run_name='__main__')"
    env = {**os.environ, **OFFLINE, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=300)


def small_run(mnist_root, out, *extra, cwd):
    proc = run("main.py", "--data-root", mnist_root, "--out-dir", out, "--limit", 200, "--device", "cpu", *extra, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return out


def test_random_bytes_in_the_labels_file(tmp_path, mnist_root):
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST_FILES:
        shutil.copyfile(mnist_root / "MNIST" / "raw" / name, raw / name)
    labels = raw / "train-labels-idx1-ubyte"
    labels.write_bytes(os.urandom(labels.stat().st_size))
    proc = run("main.py", "--data-root", tmp_path / "data", "--out-dir", tmp_path / "out", cwd=tmp_path)
    assert_one_line_error(proc, "MNIST training files", "corrupt")
    assert proc.returncode == 2


def test_a_diverging_run_stops_with_one_line_and_keeps_the_last_run(tmp_path, mnist_root):
    out = small_run(mnist_root, tmp_path / "run", "--epochs", 1, cwd=tmp_path)
    before = {name: (out / name).read_bytes() for name in ("checkpoint.pt", "model.pk")}
    proc = run("main.py", "--data-root", mnist_root, "--out-dir", out, "--limit", 200, "--device", "cpu",
               "--lr", "1e6", "--overwrite", cwd=tmp_path)
    assert_one_line_error(proc, "diverged", "epoch 1, step", "--lr")
    assert proc.returncode == 2
    assert {name: (out / name).read_bytes() for name in before} == before  # nothing overwritten with NaN


@pytest.mark.parametrize("key, value, expected", [
    ("train_reconstruction_images", [[0.0] * 28, [0.0] * 3], "train_reconstruction_images must be a float array"),
    ("train_loss_history", "0.1 0.2", "train_loss_history must be a list of numbers"),
    ("step_bce", [1.0, 2.0], "step_bce must be a list of lists"),
])
def test_model_pk_with_wrong_types(tmp_path, key, value, expected):
    import numpy as np

    results = {"train_reconstruction_images": np.zeros((100, 28, 28), np.float32), "train_loss_history": [0.2, 0.1]}
    results[key] = value
    (tmp_path / "model.pk").write_bytes(pickle.dumps(results))
    assert_one_line_error(run("generator.py", "--out-dir", tmp_path, cwd=tmp_path), expected)


# The disk fills as model.pk is renamed into place: atomic_write's own failure path (os.replace
# raising ENOSPC), not a stand-in for it.
FULL_DISK = """
import errno, os
real_replace = os.replace
def replace(src, dst, *args, **kwargs):
    if str(dst).endswith('model.pk'):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return real_replace(src, dst, *args, **kwargs)
os.replace = replace
"""


def test_a_full_disk_at_the_end_loses_nothing_and_resume_finishes(tmp_path, mnist_root):
    from vae.files import load_checkpoint, load_results

    out = small_run(mnist_root, tmp_path / "full", "--epochs", 1, cwd=tmp_path)
    before = {name: (out / name).read_bytes() for name in ("checkpoint.pt", "model.pk")}
    proc = run_patched(FULL_DISK, "main.py", "--data-root", mnist_root, "--out-dir", out, "--limit", 200,
                       "--device", "cpu", "--epochs", 2, "--resume", cwd=tmp_path)
    assert_one_line_error(proc, "No space left on device", "--resume")
    assert proc.returncode == 2
    # epoch 1's checkpoint and model.pk as they were (epoch 2 is not marked done without its model.pk)
    assert {name: (out / name).read_bytes() for name in before} == before
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    resumed = run("main.py", "--data-root", mnist_root, "--out-dir", out, "--limit", 200, "--device", "cpu",
                  "--epochs", 2, "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "after epoch 1" in resumed.stdout and load_checkpoint(out / "checkpoint.pt")["epoch"] == 2
    first, both = pickle.loads(before["model.pk"]), load_results(out / "model.pk")  # epoch 1's model.pk, then 2's
    assert both["train_loss_history"][:1] == first["train_loss_history"] and len(both["train_loss_history"]) == 2


def write_with_a_fault(write_file, tmp_path, fault) -> tuple[bool, Exception | None]:
    """write_file(path, write) over an old file while `fault` strikes: whether the old bytes, and
    nothing else, are left in the folder, and what it raised."""
    folder = tmp_path / fault
    folder.mkdir(parents=True)
    path = folder / "checkpoint.pt"
    path.write_bytes(b"the old checkpoint")

    def write(f):
        f.write(b"half of the new")
        if fault == "write":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    try:
        write_file(path, write)
        raised = None
    except (UserError, OSError) as e:
        raised = e
    return path.read_bytes() == b"the old checkpoint" and os.listdir(folder) == ["checkpoint.pt"], raised


def naive_write(path, write):  # what atomic_write guards against: writing the file in place
    with open(path, "wb") as f:
        write(f)


@pytest.mark.quick
@pytest.mark.parametrize("fault", ["write", "fsync", "rename"])
def test_a_failed_write_or_rename_keeps_the_old_file(tmp_path, monkeypatch, fault):
    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if fault != "write":
        monkeypatch.setattr(files.os, {"fsync": "fsync", "rename": "replace"}[fault], no_space)
    kept, raised = write_with_a_fault(files.atomic_write, tmp_path / "ours", fault)
    assert kept and isinstance(raised, UserError), raised
    assert "could not write" in str(raised) and "No space left on device" in str(raised)
    if fault == "write":  # the check catches a file written in place
        assert not write_with_a_fault(naive_write, tmp_path / "naive", fault)[0]


def test_saving_results_and_checkpoints_goes_through_atomic_write(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(files, "atomic_write", lambda path, write: calls.append(Path(path).name))
    files.save_checkpoint(tmp_path / "checkpoint.pt", {"epoch": 1})
    files.save_results(tmp_path / "model.pk", {"train_loss_history": [0.1]})
    assert calls == ["checkpoint.pt", "model.pk"] and not list(tmp_path.iterdir())


class InterruptedFile:
    """A file whose third write meets Ctrl-C, as a terminal's would arrive mid-checkpoint."""

    def __init__(self, f):
        self.f, self.writes = f, 0

    def write(self, data):
        self.writes += 1
        if self.writes == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return self.f.write(data)

    def flush(self):
        self.f.flush()


@pytest.mark.quick
def test_ctrl_c_inside_torch_save_is_one_interrupt_after_the_checkpoint_is_in_place(tmp_path):
    """CI on a loaded machine, 2026-12-02: Ctrl-C inside torch.save's tensor data came out of
    its zip writer as RuntimeError ("unexpected pos"), a traceback and exit status 1 instead
    of the one line and 130. atomic_write now holds Ctrl-C back until the file is in place."""
    import torch

    state = {"epoch": 3, "weights": torch.arange(1000.0)}
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # a CI runner may start us with it ignored
    try:
        with pytest.raises(KeyboardInterrupt):
            files.atomic_write(tmp_path / "checkpoint.pt", lambda f: torch.save(state, InterruptedFile(f)))
    finally:
        signal.signal(signal.SIGINT, previous)
    saved = files.load_checkpoint(tmp_path / "checkpoint.pt", require=("epoch",))
    assert saved["epoch"] == 3 and torch.equal(saved["weights"], state["weights"])
    assert os.listdir(tmp_path) == ["checkpoint.pt"]  # no .tmp left behind
    assert signal.getsignal(signal.SIGINT) is previous


def test_too_little_free_space_is_refused_before_training(tmp_path, mnist_root):
    prelude = "import shutil, collections\nshutil.disk_usage = lambda p: collections.namedtuple('U', 'total used free')(1, 1, 10 * 2**20)"
    proc = run_patched(prelude, "main.py", "--data-root", mnist_root, "--out-dir", tmp_path / "out", "--device", "cpu",
                       cwd=tmp_path)
    assert_one_line_error(proc, "has 10 MiB free", "needs about", "model.pk 179 MiB")
    assert proc.returncode == 2
    assert not (tmp_path / "out" / "checkpoint.pt").exists()


def test_hostile_checkpoint_is_refused_in_our_own_words(tmp_path, mnist_root):
    marker = tmp_path / "pwned"
    torch_save = "import torch, os, sys\n"
    code = torch_save + (
        f"class E:\n    def __reduce__(self):\n        return (os.system, ('touch {marker}',))\n"
        f"torch.save({{'model': E(), 'config': {{}}}}, sys.argv[1])\n")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "checkpoint.pt")], check=True)
    for proc in (run("main.py", "--data-root", mnist_root, "--out-dir", tmp_path, "--resume", cwd=tmp_path),
                 run("generator.py", "--checkpoint", tmp_path / "checkpoint.pt", "--out-dir", tmp_path / "s", cwd=tmp_path)):
        assert_one_line_error(proc, "was refused", "could run code")
        assert "weights_only=False" not in proc.stderr and proc.returncode == 2
    assert not marker.exists()


def test_full_covariance_refused_for_the_reports_latent(tmp_path, mnist_root):
    out = small_run(mnist_root, tmp_path / "m1", "--epochs", 1, cwd=tmp_path)
    proc = run("evaluate.py", "--checkpoint", out / "checkpoint.pt", "--data-root", mnist_root, "--limit", 10,
               "--classifier", out / "checkpoint.pt", "--class-covariance", "full", "--device", "cpu", cwd=tmp_path)
    assert_one_line_error(proc, "--class-covariance full needs a latent of at most 256 dimensions", "7168")
    proc = run("generator.py", "--checkpoint", out / "checkpoint.pt", "--out-dir", tmp_path / "s", "--data-root",
               mnist_root, "--class-covariance", "full", cwd=tmp_path)
    assert_one_line_error(proc, "--class-covariance full needs a latent of at most 256 dimensions", "7168")
    proc = run("generator.py", "--checkpoint", out / "checkpoint.pt", "--out-dir", tmp_path / "s",
               "--class-covariance", "full", cwd=tmp_path)
    assert_one_line_error(proc, "--class-covariance", "need --data-root")


def test_resume_refuses_another_composed_model(tmp_path, mnist_root):
    out = small_run(mnist_root, tmp_path / "c", "--epochs", 1, "--encoder", "lstm-vector", "--decoder", "mlp", cwd=tmp_path)
    before = (out / "checkpoint.pt").read_bytes()
    proc = run("main.py", "--data-root", mnist_root, "--out-dir", out, "--limit", 200, "--device", "cpu", "--epochs", 2,
               "--encoder", "lstm-vector", "--decoder", "mlp", "--lstm-hidden", 64, "--resume", cwd=tmp_path)
    assert_one_line_error(proc, "another model", "--overwrite")
    assert (out / "checkpoint.pt").read_bytes() == before



def test_closed_stdout_pipe_is_no_traceback(tmp_path):
    """`python generator.py ... | head -1`: the reader leaves while the script still writes."""
    code = ("import sys\nfrom vae.cli import cli\n@cli('x.py')\ndef main(argv=None):\n"
            "    for _ in range(100):\n        print('x' * 10_000)\n    return 0\nsys.exit(main())\n")
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run([sys.executable, "-c", code], stdout=write, stderr=subprocess.PIPE, text=True,
                              cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    finally:
        os.close(write)
    assert proc.stderr == "" and proc.returncode == 1


def test_tests_look_for_mnist_where_a_user_has_it(tmp_path, mnist_root):
    import conftest

    def raw(root):
        (root / "MNIST" / "raw").mkdir(parents=True)
        for name in MNIST_FILES:
            (root / "MNIST" / "raw" / name).write_bytes(b"")
        return root

    env, data, shared = raw(tmp_path / "env"), raw(tmp_path / "data"), raw(tmp_path / "shared")
    assert conftest.find_mnist([tmp_path / "nowhere", data, shared]) == data  # ./data before ../shared/data
    assert conftest.find_mnist([env, data, shared]) == env  # $MNIST_ROOT first
    assert conftest.find_mnist([tmp_path / "nowhere"]) is None
    assert conftest.MNIST_CANDIDATES[-3:] == [ROOT / "data", ROOT.parent / "shared" / "data", conftest.MNIST_CACHE]
    assert ROOT not in conftest.MNIST_CACHE.parents  # the tests' own download stays out of the source tree
    proc = run("main.py", "--download-only", "--data-root", mnist_root, cwd=tmp_path)  # present: nothing to fetch
    assert proc.returncode == 0 and str(mnist_root / "MNIST" / "raw") in proc.stdout
    proc = run("main.py", "--download-only", "--data-root", data, cwd=tmp_path)  # empty files, offline
    assert_one_line_error(proc, "corrupt or truncated")


def test_bf16_is_refused_on_a_gpu_without_bf16(tmp_path, monkeypatch, capsys):
    """A T4 (compute capability 7.5, Colab's free GPU), faked: one line, before any work."""
    import torch

    import main

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (7, 5))
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Tesla T4")
    assert main.main(["--bf16", "--device", "cuda", "--out-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Tesla T4 has 7.5" in err and "leave --bf16 out" in err
    assert not list(tmp_path.iterdir())  # refused before the out-dir is touched


HOLD_LOCK = """
import sys, time
from pathlib import Path
from vae.files import run_lock
with run_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_a_second_run_into_a_locked_out_dir_is_refused(tmp_path, mnist_root):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text("the first run's\\n")
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(out)], stdout=subprocess.PIPE, text=True,
                              env=SCRIPT_ENV)
    try:
        assert holder.stdout.readline().strip() == "locked"
        proc = run("main.py", "--data-root", mnist_root, "--out-dir", out, "--limit", 100, "--epochs", 1, cwd=tmp_path)
        assert_one_line_error(proc, "is in use by another main.py run", f"process {holder.pid} on")
        assert (out / "config.json").read_text() == "the first run's\\n"
        assert sorted(p.name for p in out.iterdir()) == [".main.lock", "config.json"]
    finally:
        holder.kill()
        holder.wait()


def signalled_after_a_checkpoint(out, mnist_root, sig) -> subprocess.CompletedProcess:
    """A long main.py run, sent `sig` once its first checkpoint is written; its exit and stderr."""
    args = [*script_argv("main.py"), "--arch", "examples", "--data-root", str(mnist_root),
            "--out-dir", str(out), "--limit", "2000", "--epochs", "200", "--device", "cpu", "--no-progress"]
    # SIGINT as a terminal's Ctrl-C finds it: a shell's background job (a CI runner's, say) starts
    # its children with SIGINT ignored, and Python then leaves it ignored.
    first = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=SCRIPT_ENV,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        for _ in range(600):  # until its first checkpoint
            if (out / "checkpoint.pt").is_file() or first.poll() is not None:
                break
            time.sleep(0.1)
        assert (out / "checkpoint.pt").is_file()
    finally:
        first.send_signal(sig)
        _, err = first.communicate(timeout=120)
    return subprocess.CompletedProcess(args, first.returncode, "", err)


def resume_one_more_epoch(out, mnist_root, tmp_path) -> int:
    """--resume for one epoch more than the checkpoint holds: it must continue, not start over."""
    from vae.files import load_checkpoint

    done = load_checkpoint(out / "checkpoint.pt")["epoch"]  # a checkpoint that loads: not half-written
    proc = run("main.py", "--arch", "examples", "--data-root", mnist_root, "--out-dir", out, "--limit", 2000,
               "--epochs", done + 1, "--device", "cpu", "--no-progress", "--resume", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"after epoch {done}" in proc.stdout
    assert load_checkpoint(out / "checkpoint.pt")["epoch"] == done + 1
    return done


def test_a_killed_run_leaves_no_lock_that_blocks_resume(tmp_path, mnist_root):
    out = tmp_path / "run"
    assert signalled_after_a_checkpoint(out, mnist_root, signal.SIGKILL).returncode == -signal.SIGKILL
    resume_one_more_epoch(out, mnist_root, tmp_path)


def test_ctrl_c_stops_with_one_line_and_exit_130_and_resume_continues(tmp_path, mnist_root):
    out = tmp_path / "run"
    proc = signalled_after_a_checkpoint(out, mnist_root, signal.SIGINT)
    assert proc.returncode == 130
    assert_one_line_error(proc, "main.py: interrupted", str(out / "checkpoint.pt"), "--resume")
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    assert resume_one_more_epoch(out, mnist_root, tmp_path) >= 1


def test_grey_levels_scored_under_a_binarized_model_are_refused(tmp_path, mnist_root):
    """Issue 34: `--binarize none` on pretrained/lstm_vae.pt printed "77.58 nats", BCE of grey
    pixels under a model of binary ones, which is no likelihood."""
    proc = run("evaluate.py", "--checkpoint", ROOT / "pretrained" / "lstm_vae.pt", "--data-root", mnist_root,
               "--binarize", "none", "--limit", 10, "--k", 1, "--device", "cpu", "--out-dir", tmp_path, cwd=tmp_path)
    assert_one_line_error(proc, "trained on binarized MNIST", "not a likelihood", "leave out --binarize")
    assert proc.returncode == 2 and not list(tmp_path.glob("evaluation*"))
