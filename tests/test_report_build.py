"""report/build.py end to end on tiny runs: the seeds' spread in Table 1 and the figures, the re-created
original loop beside our run of the same seed, and a bad --seeds run refused in one line."""

import re
import subprocess

import pytest

from conftest import SCRIPT_ENV, script_argv

TINY = ("--limit", 100, "--epochs", 2)


def run(script, *args, cwd, ok=True):
    proc = subprocess.run([*script_argv(script), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          env={**SCRIPT_ENV, "OMP_NUM_THREADS": "1"}, timeout=600)
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def runs(tmp_path_factory, mnist_root):
    """Model 1 with seeds 0 and 1, Model 2 with seed 0, and the original loop with Model 1's seed 0."""
    top = tmp_path_factory.mktemp("build")
    folders = {}
    for name, model, seed in (("m1s0", 1, 0), ("m1s1", 1, 1), ("m2s0", 2, 0)):
        folders[name] = top / name
        run("main.py", "--data-root", mnist_root, "--out-dir", folders[name], "--model", model, "--seed", seed,
            *TINY, "--device", "cpu", "--no-progress", cwd=top)
    folders["orig"] = top / "orig"
    run("benchmarks/original_run.py", "--data-root", mnist_root, "--out-dir", folders["orig"], *TINY,
        cwd=top)
    return top, folders


def test_build_shows_seeds_and_the_original_loop(runs, mnist_root):
    top, f = runs
    out = top / "report"
    run("report/build.py", f["m1s0"], f["m2s0"], "--seeds", f["m1s1"], "--original", f["orig"],
        "--data-root", mnist_root, "--out", out, cwd=top)
    text = (out / "README.md").read_text()
    assert "Model 1 (seeds 0, 1) test −ELBO" in text and "Model 2 test −ELBO" in text  # Table 1's columns
    assert re.search(r"\| 2 \| – \| – \| [\d.]+ ± [\d.]+ \|", text)  # the last epoch, mean ± sd over seeds
    assert "- Model 1, seeds 0, 1: the report's last-batch loss is within our seeds' range at" in text
    assert "- Model 2: one seed (0)" in text
    # The re-created loop starts from the same weights and noise as our seed-0 run: the same losses.
    theirs, ours = re.search(r"Its last epoch: last-batch loss ([\d.]+), .*our run at epoch 2: ([\d.]+),", text).groups()
    assert abs(float(theirs) - float(ours)) < 1e-3
    # The report's Table 1 against our seeds and the re-created loop together: its one listed epoch (1) is placed.
    placed = re.search(r"The report's Table 1 loss is within the range of our seeds and the re-created loop together "
                       r"at (\d) of the 1 epochs it lists, above at (\d), below at (\d)", text)
    assert placed and sum(map(int, placed.groups())) == 1
    for png in ("figure2_loss.png", "figure3_kld.png", "prior_samples_model1.png", "test_pairs_model2.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("seeds, says", [
    (("m1s0",), "repeats seed 0 of Model 1"),
    (("m2s0",), "trained Model 2, and no main run does"),
])
def test_build_refuses_a_seed_run_that_does_not_fit(runs, mnist_root, seeds, says):
    top, f = runs
    proc = run("report/build.py", f["m1s0"], "--seeds", *(f[s] for s in seeds), "--data-root", mnist_root,
               "--out", top / "refused", cwd=top, ok=False)
    assert proc.returncode == 2 and says in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (top / "refused").exists()  # refused before anything is written
