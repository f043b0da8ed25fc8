"""The ablation of issue 11: why the report's VAE draws no digits, one change at a time.

    python -m report.ablation runs/mlp_mlp runs/lstmvec_mlp ...   # measure finished runs, rebuild the page
    python -m report.ablation                                     # rebuild report/ablation.md only

Each RUN_DIR holds what main.py wrote and the evaluation_k<K>.json of
`evaluate.py --checkpoint RUN_DIR/checkpoint.pt --k 10 --classifier runs/classifier.pt`.
Measuring a run stores its row as report/ablation/<row>.json with a grid of 100 prior
samples (small, committed), so rows trained in different sessions or on other machines
add up; the page is rebuilt from all stored rows. A row that is not there yet, or has
fewer than 50 epochs, says so in the table.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from vae.cli import Parser, cli
from vae.measures import count_parameters
from vae.plotting import save_image_grid
from vae.samples import prior_samples
from vae.cli import UserError
from vae.files import CHECKPOINT, MODEL_PK, load_checkpoint, load_model, load_results, write_text

OUT_DIR = ROOT / "report" / "ablation"
PAGE = ROOT / "report" / "ablation.md"
EPOCHS = 50
D = "--data-root ../shared/data"
# (row, encoder, decoder, objective, extra flags, what it tests), in the page's order.
ROWS = [
    ("lstm_report_report", "lstm", "report", "report", "", "the report's Model 1, faithful baseline"),
    ("lstm_report_elbo", "lstm", "report", "elbo", "", "the objective alone"),
    ("lstm_fullrank_elbo", "lstm", "report-fullrank", "elbo", "", "the rank-4 bottleneck removed"),
    ("mlp_report_elbo", "mlp", "report", "elbo", "", "a good encoder before the report's decoder"),
    # With the report's LSTM: per-row latent or one vector, before the report's decoder or an MLP.
    ("lstmvec_report_elbo", "lstm-vector", "report", "elbo", "",
     "one latent vector from the report's LSTM before the report's decoder"),
    ("lstm_mlp_elbo", "lstm", "mlp", "elbo", "", "the report's per-row latent before an MLP decoder"),
    ("lstmvec_mlp", "lstm-vector", "mlp", "elbo", "", "one latent vector from the report's LSTM, an MLP decoder"),
    ("lstmvec256_mlp", "lstm-vector", "mlp", "elbo", "--lstm-hidden 256", "the same with a 256-wide LSTM"),
    ("lstmvec256_mlp512x2", "lstm-vector", "mlp", "elbo", "--lstm-hidden 256 --mlp-hidden 512 512",
     "the repaired LSTM VAE (--arch lstm-repaired): a deeper MLP decoder"),
    ("lstmvec_conv", "lstm-vector", "conv", "elbo", "", "one latent vector, 002's conv decoder"),
    ("mlp_mlp", "mlp", "mlp", "elbo", "", "pytorch/examples' VAE: the equal-epoch anchor"),
    ("mlp_mlp_latent7168", "mlp", "mlp", "elbo", "--latent 7168",
     "the anchor with the report's latent size (28×256 = 7,168 dimensions, one vector)"),
]


def row_of(run: Path) -> tuple:
    """The ROWS entry a run folder was trained as, from its config.json."""
    cfg = json.loads((run / "config.json").read_text())
    model, train = cfg["model"], cfg["train"]
    objective = model.get("objective")
    if model.get("arch") == "composed":
        enc_sizes, dec_sizes = model["encoder_sizes"], model["decoder_sizes"]
        key = (model["encoder"], model["decoder"], objective)
        hidden = enc_sizes.get("lstm_hidden", 32) if model["encoder"].startswith("lstm") else 32
        mlp = tuple(dec_sizes.get("hidden", (400,))) if model["decoder"] == "mlp" else (400,)
        latent = {"lstm": 20, "lstm-vector": enc_sizes.get("latent_channels")}.get(model["encoder"],
                                                                                   enc_sizes.get("latent"))
    elif model.get("arch", "lstm") == "lstm" and train.get("model", 1) == 1:
        key, hidden, mlp, latent = ("lstm", "report", objective or "report"), 32, (400,), 20
    else:
        raise UserError(f"{run} is not one of the ablation's rows (arch {model.get('arch')})")
    extra = " ".join(([f"--latent {latent}"] if latent != 20 else [])
                     + ([f"--lstm-hidden {hidden}"] if hidden != 32 else [])
                     + ([f"--mlp-hidden {' '.join(map(str, mlp))}"] if mlp != (400,) else []))
    for row in ROWS:
        if row[1:4] == key and row[4] == extra:
            return row
    raise UserError(f"{run} ({' / '.join(map(str, key))} {extra}) is not one of the ablation's rows")


def command(row) -> str:
    name, enc, dec, objective, extra, _ = row
    model = "" if (enc, dec, objective) == ("lstm", "report", "report") else \
        f" --encoder {enc} --decoder {dec} --objective {objective}" + (f" {extra}" if extra else "")
    return f"python main.py {D} --out-dir runs/{name}{model}"


def full_covariance_accuracy(run: Path, k: int) -> float | None:
    """Class-true with full-covariance class Gaussians (evaluate.py --class-covariance full), if measured."""
    path = run / f"evaluation_fullcov_k{k}.json"
    return json.loads(path.read_text())["class_accuracy"] if path.exists() else None


def measure(run: Path, store: Path) -> dict:
    row = row_of(run)
    results = load_results(run / MODEL_PK)
    state = load_checkpoint(run / CHECKPOINT)
    evals = sorted(run.glob("evaluation_k*.json"))
    if not evals:
        raise UserError(f"{run} has no evaluation_k*.json: run evaluate.py --checkpoint {run / CHECKPOINT} "
                        "--k 10 --classifier runs/classifier.pt first")
    ev = json.loads(evals[-1].read_text())
    if "active_kl" not in ev or "class_accuracy" not in ev:
        raise UserError(f"{evals[-1]} lacks active units or class accuracy: rerun evaluate.py with --classifier")
    store.mkdir(parents=True, exist_ok=True)
    seed = state["train_config"]["seed"]
    stem = row[0] if seed == 0 else f"{row[0]}_seed{seed}"  # the table shows seed 0; other seeds give the spread
    grid = f"{stem}.png"
    save_image_grid(prior_samples(run / CHECKPOINT, 100, seed=0), store / grid,
                    f"{stem}: 100 samples from z ~ N(0, I)")
    summary = {
        "row": row[0], "seed": seed, "command": command(row) + (f" --seed {seed}" if seed else ""), "epochs": state["epoch"],
        "parameters": count_parameters(load_model(run / CHECKPOINT)),
        "test_negative_elbo": ev["negative_elbo"], "test_bce": ev["bce"], "test_kl": ev["kld"],
        "iwae_k": ev["iwae_k"], "iwae": ev["iwae_nats"],
        "latent_dims": ev["latent_dims"], "active_kl": ev["active_kl"], "active_cov": ev["active_cov"],
        "class_accuracy": ev["class_accuracy"], "per_class": ev["per_class"],
        "class_accuracy_fullcov": full_covariance_accuracy(run, ev["iwae_k"]),
        "seconds_per_epoch": statistics.median(results["epoch_seconds"]),
        "device": state["train_config"]["device"], "threads": state["train_config"].get("threads"),
        "grid": f"{store.name}/{grid}",
    }
    write_text(store / f"{stem}.json", json.dumps(summary, indent=2) + "\n")
    return summary


def full_text(s: dict) -> str:
    full = s.get("class_accuracy_fullcov")
    return "–" if full is None else f"{full:.1%}"


def table(summaries: dict) -> list[str]:
    lines = ["| encoder | decoder | objective | what it tests | parameters | test −ELBO | IWAE bound | test KL | "
             "active units (KL > 0.01 / Cov > 0.01) | class-true (diagonal / full-covariance class Gaussians) | "
             "s / epoch (device) | prior samples |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, enc, dec, objective, extra, what in ROWS:
        head = f"| {enc} | {dec} | {objective} | {what}{f' (`{extra}`)' if extra else ''} |"
        s = summaries.get(name)
        if s is None:
            lines.append(head + " not yet run | | | | | | | |")
            continue
        short = "" if s["epochs"] >= EPOCHS else f" (**{s['epochs']} of {EPOCHS} epochs**)"
        lines.append(
            head + f" {s['parameters']:,} | {s['test_negative_elbo']:.2f}{short} | {s['iwae']:.2f} (k={s['iwae_k']}) | "
            f"{s['test_kl']:.2f} | {s['active_kl']} / {s['active_cov']} of {s['latent_dims']:,} | "
            f"{s['class_accuracy']:.1%} / {full_text(s)} | {s['seconds_per_epoch']:.1f} ({s['device']}) | "
            f"![{name}]({s['grid']}) |")
    return lines


def seed_lines(stored: list[dict]) -> list[str]:
    """Mean and spread over seeds, for the rows that have more than one."""
    lines = []
    for name, *_ in ROWS:
        runs = sorted((s for s in stored if s["row"] == name), key=lambda s: s.get("seed", 0))
        if len(runs) < 2:
            continue
        values = {key: [s[key] for s in runs] for key in ("test_negative_elbo", "iwae", "class_accuracy")}
        full = [s.get("class_accuracy_fullcov") for s in runs]

        def spread(v, fmt):
            return f"{fmt.format(statistics.mean(v))} ± {fmt.format(statistics.stdev(v))} ({', '.join(fmt.format(x) for x in v)})"

        lines.append(f"| {name} | {', '.join(str(s.get('seed', 0)) for s in runs)} | "
                     f"{spread(values['test_negative_elbo'], '{:.2f}')} | {spread(values['iwae'], '{:.2f}')} | "
                     f"{spread([100 * v for v in values['class_accuracy']], '{:.1f}')} | "
                     + (f"{spread([100 * v for v in full], '{:.1f}')} |" if None not in full else "– |"))
    if not lines:
        return []
    return ["## Seeds", "", "Mean ± standard deviation over the seeds trained so far (each seed's value in brackets); "
            "class-true in %.", "",
            "| row | seeds | test −ELBO | IWAE bound | class-true, diagonal | class-true, full covariance |",
            "| --- | --- | --- | --- | --- | --- |", *lines, ""]


def build_page(summaries: dict, store: Path, stored: list[dict] | None = None) -> str:
    reading = store.parent / "ablation_reading.md"
    text = reading.read_text() if reading.exists() else ""
    return "\n".join([
        "# Why the report's VAE draws no digits: one change at a time",
        "",
        f"Built by `python -m report.ablation` from the stored rows in `report/{store.name}/`. Every row: {EPOCHS} epochs, "
        "seed 0, batch 100, Adam 1e-3, batches in order (the report's settings); only the model and the objective "
        "change. Test −ELBO and the IWAE bound are nats per test image (grey-level BCE summed over pixels + KL summed "
        "over latents; lower is better); test KL is the ELBO's KL term; class-true is the share of 1,000 digits drawn "
        "from class-fitted latent Gaussians (100 per class) that `classifier.py`'s CNN reads as the asked class.",
        "",
        *table(summaries),
        "",
        "Commands (then `python evaluate.py --checkpoint runs/ROW/checkpoint.pt --data-root ../shared/data --k 10 "
        "--classifier runs/classifier.pt` and `python -m report.ablation runs/ROW`):",
        "",
        *[f"- {name}: `{command(row)}`" for row in ROWS for name in [row[0]]],
        "",
        *seed_lines(stored or list(summaries.values())),
        text,
    ]).rstrip() + "\n"


def build_parser():
    p = Parser(prog="report/ablation.py", description="Measure finished ablation runs and rebuild report/ablation.md.")
    p.add_argument("runs", type=Path, nargs="*", help="run folders to measure (each with evaluation_k*.json)")
    p.add_argument("--store", type=Path, default=OUT_DIR, help="where the rows are kept; default report/ablation")
    p.add_argument("--page", type=Path, default=PAGE, help="the page to write; default report/ablation.md")
    return p


@cli("report/ablation.py")
def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    for run in args.runs:
        s = measure(run, args.store)
        print(f"{s['row']}: {s['test_negative_elbo']:.2f} nats, IWAE {s['iwae']:.2f}, class-true {s['class_accuracy']:.1%}")
    stored = [json.loads(p.read_text()) for p in sorted(args.store.glob("*.json"))]
    summaries = {s["row"]: s for s in stored if s.get("seed", 0) == 0}
    write_text(args.page, build_page(summaries, args.store, stored))
    print(f"wrote {args.page} ({len(summaries)} of {len(ROWS)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
