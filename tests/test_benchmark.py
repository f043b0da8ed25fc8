"""report/benchmark.py end to end on tiny binarized runs: seeds gathered, the calibration's
stages, the published rows with their sources, a grey-level run refused."""

import json

import pytest

import evaluate
import main
from conftest import ROOT, load_script
from vae.cli import UserError


def train(out, mnist_root, *extra):
    assert main.main(["--data-root", str(mnist_root), "--out-dir", str(out), "--limit", "200", "--epochs", "1",
                      "--device", "cpu", "--no-progress", *extra]) == 0


def evaluated(checkpoint, mnist_root):
    assert evaluate.main(["--checkpoint", str(checkpoint), "--data-root", str(mnist_root), "--k", "5", "--limit", "50",
                          "--device", "cpu", "--no-progress"]) == 0


def test_the_benchmark_table_from_tiny_runs(mnist_root, tmp_path):
    for seed in (0, 1):
        train(tmp_path / f"ex{seed}", mnist_root, "--arch", "examples", "--binarize", "dynamic", "--seed", str(seed))
        evaluated(tmp_path / f"ex{seed}" / "checkpoint.pt", mnist_root)
    train(tmp_path / "burda", mnist_root, "--arch", "burda-vae")
    evaluated(tmp_path / "burda" / "checkpoint_stage0.pt", mnist_root)
    bench = load_script("report/benchmark.py")
    out = tmp_path / "report"
    note = tmp_path / "reading.md"
    note.write_text("What the table shows: a test paragraph.\n")
    assert bench.main([f"examples={tmp_path / 'ex0'}", f"examples={tmp_path / 'ex1'}",
                       "--calibration", str(tmp_path / "burda"), "--out", str(out), "--note-file", str(note)]) == 0
    data = json.loads((out / "benchmark.json").read_text())
    (row,) = data["ours"]
    assert row["seeds"] == [0, 1] and row["nats_sd"] is not None and row["k"] == 5 and row["test_images"] == 50
    assert (row["encoder"], row["decoder"], row["objective"]) == ("mlp", "mlp", "elbo-sum")
    assert row["commands"][0].startswith("python main.py --data-root") and "--binarize dynamic" in row["commands"][0]
    (stage,) = data["calibration"]
    assert (stage["stage"], stage["passes"], stage["published"]) == (0, 1, 86.76)
    assert len(data["published"]) >= 8 and all(p["source"] for p in data["published"])
    page = (out / "benchmark.md").read_text()
    assert "| examples | mlp / mlp | elbo-sum | 1 | 0, 1 | 50 | 5 |" in page and "Calibration" in page
    assert "What the table shows: a test paragraph." in page
    assert all(p["checked"] in page for p in data["published"])  # each row says what it was checked against
    assert (out / "benchmark" / "examples.png").read_bytes()[:4] == b"\x89PNG"

    # a row added to the stored table without its run folders, and a stored row replaced in place
    stored = tmp_path / "stored.json"
    stored.write_text((out / "benchmark.json").read_text())
    assert bench.main(["--from-json", str(stored), f"seed 1 alone={tmp_path / 'ex1'}", "--out", str(out)]) == 0
    added = json.loads((out / "benchmark.json").read_text())
    assert [r["name"] for r in added["ours"]] == ["examples", "seed 1 alone"] and added["calibration"] == data["calibration"]
    assert added["ours"][0] == data["ours"][0] and added["ours"][1]["seeds"] == [1]
    assert (out / "benchmark" / "seed_1_alone.png").exists()
    stored.write_text((out / "benchmark.json").read_text())
    assert bench.main(["--from-json", str(stored), f"examples={tmp_path / 'ex1'}", "--out", str(out)]) == 0
    replaced = json.loads((out / "benchmark.json").read_text())["ours"]
    assert [r["name"] for r in replaced] == ["examples", "seed 1 alone"] and replaced[0]["seeds"] == [1]

    train(tmp_path / "grey", mnist_root, "--arch", "examples")
    evaluated(tmp_path / "grey" / "checkpoint.pt", mnist_root)
    assert bench.main([f"grey={tmp_path / 'grey'}", "--out", str(out)]) == 2  # grey levels: not on this scale


def test_a_resumed_runs_command_is_its_training_from_the_start(tmp_path):
    bench = load_script("report/benchmark.py")
    train = {"command": "python main.py --arch lstm-vae-long --seed 0 --out-dir runs/long --resume"}
    assert bench.training_command(train, tmp_path) == "python main.py --arch lstm-vae-long --seed 0 --out-dir runs/long"


def test_seeds_measured_on_different_test_images_say_so():
    bench = load_script("report/benchmark.py")
    rows = [{"seed": s, "test_images": n, "nats": v, "negative_elbo": v, "kl": 1.0, "active_units": 2,
             "seconds_per_epoch": 1.0, "command": "c", "folder": "f"} for s, n, v in [(0, 10000, 81.0), (1, 2000, 82.0)]]
    row = bench.gathered(rows)
    assert row["test_images"] == [10000, 2000] and row["nats"] == 81.5 and row["seeds"] == [0, 1]
    assert bench.images(row["test_images"]) == "10,000 / 2,000 (per seed)" and bench.images(50) == "50"


def test_the_committed_page_is_its_stored_rows_and_the_published_table(tmp_path):
    """report/benchmark.md is what --from-json writes from report/benchmark.json, the reading and
    PUBLISHED: a published row changed in the code and not on the page (or back) fails here."""
    benchmark = load_script("report/benchmark.py")
    stored = json.loads((ROOT / "report" / "benchmark.json").read_text())
    assert stored["published"] == json.loads(json.dumps(benchmark.PUBLISHED))
    assert benchmark.main(["--from-json", str(ROOT / "report" / "benchmark.json"), "--out", str(tmp_path),
                           "--note-file", str(ROOT / "report" / "benchmark" / "reading.md")]) == 0
    assert (tmp_path / "benchmark.md").read_text() == (ROOT / "report" / "benchmark.md").read_text()
    assert (tmp_path / "benchmark.json").read_text() == (ROOT / "report" / "benchmark.json").read_text()
    row_lstm = [p for p in benchmark.PUBLISHED if p["nats"] == 80.54]
    assert len(row_lstm) == 1 and row_lstm[0]["estimator"] == "exact" and row_lstm[0]["binarization"] == "static"
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(UserError, match="not a benchmark.json"):
        benchmark.stored_rows(tmp_path / "bad.json")
