"""The field's yardstick: our models on binarized MNIST beside the published table.

    python -m report.benchmark "pytorch/examples=runs/bench/examples" "repaired LSTM VAE=runs/bench/repaired" \
        --calibration runs/burda_vae

Each run folder holds what `main.py --binarize dynamic` wrote, and the evaluation_k<K>.json of
`evaluate.py --checkpoint RUN/checkpoint.pt --data-root ../shared/data --k 5000`; a label given
more than once gathers seeds (mean ± sd). The calibration folder holds Burda et al.'s VAE
(`--arch burda-vae`) with its checkpoint_stage<i>.pt and evaluation_stage<i>_k<K>.json.
Writes report/benchmark.json, report/benchmark.md and report/benchmark/<name>.png (prior
samples as pixel probabilities), or into --out. With --from-json report/benchmark.json, the
committed rows are kept and the folders given add rows (or replace the row of the same label):

    python -m report.benchmark --from-json report/benchmark.json "LSTM VAE, long=runs/long_s0" \
        --note-file report/benchmark/reading.md
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from vae.cli import Parser, cli, labelled_folders
from vae.cli import UserError
from vae.files import CHECKPOINT, load_checkpoint, write_text
from vae.parts import model_config, part_names
from vae.plotting import save_image_grid
from vae.samples import prior_samples
from vae.schedules import burda_stage

# Published log-likelihoods on binarized MNIST, nats per image (lower is better). "checked"
# says what the number was held against. This workplace reaches no paper's table (only its
# first page) unless a public repository keeps a copy, so a row that nothing else confirms stays
# "as quoted" by the issue.
QUOTED = "not yet: as quoted (the paper's table not reachable here)"
# Read on 2026-12-01 from copies of the papers' PDFs kept in public repositories (their own tables).
DRAW_TABLE = ("the paper's Table 2: upper bounds on the negative log-likelihood, on the binarized MNIST of "
              "Salakhutdinov & Murray (2008)")
PIXELRNN_TABLE = ("the paper's Table 4 (exact negative log-likelihoods), on the binary MNIST of Salakhutdinov & "
                  "Murray (2008), its section 5.5")
BURDA = "setting confirmed by the authors' code (yburda/iwae README: dynamic binarization, 59,600 training images); the figure as quoted"
LADDER = "81.74 on dynamically binarized MNIST in a benchmark listing (wizwand.com), not the paper itself"
# Read on 2026-12-07 from a copy of the paper's text kept in a public repository.
IAF_TABLE = ("the paper's Table 1 (dynamically binarized MNIST as in Burda et al.; log p(x) importance-sampled "
             "with 128 samples; the deepest IAF, 8 steps of width 1,920: VLB 80.80, log p(x) 79.10) and its section 6.1")
NVAE = ("setting confirmed by the authors' code (NVlabs/NVAE README: dynamically binarized MNIST; its evaluation "
        "command takes 1,000 importance samples, not 5,000); the figure as quoted")
PUBLISHED = [
    dict(name="VAE, 1 stochastic layer, k = 1", nats=86.76, binarization="dynamic", estimator="IWAE bound, k = 5,000",
         source="Burda, Grosse & Salakhutdinov, Importance Weighted Autoencoders, ICLR 2016, Table 1", checked=BURDA),
    dict(name="VAE, 2 stochastic layers, k = 1", nats=85.33, binarization="dynamic", estimator="IWAE bound, k = 5,000",
         source="Burda, Grosse & Salakhutdinov, Importance Weighted Autoencoders, ICLR 2016, Table 1", checked=BURDA),
    dict(name="IWAE, 2 stochastic layers, k = 50", nats=82.90, binarization="dynamic", estimator="IWAE bound, k = 5,000",
         source="Burda, Grosse & Salakhutdinov, Importance Weighted Autoencoders, ICLR 2016, Table 1", checked=BURDA),
    dict(name="DRAW without attention (LSTM encoder and decoder)", nats=87.40, binarization="static",
         estimator="negative ELBO (an upper bound)",
         source="Gregor, Danihelka, Graves, Rezende & Wierstra, DRAW, ICML 2015", checked=DRAW_TABLE),
    dict(name="DRAW with attention", nats=80.97, binarization="static", estimator="negative ELBO (an upper bound)",
         source="Gregor, Danihelka, Graves, Rezende & Wierstra, DRAW, ICML 2015", checked=DRAW_TABLE),
    dict(name="Ladder VAE", nats=81.74, binarization="dynamic", estimator="importance sampling",
         source="Sønderby, Raiko, Maaløe, Sønderby & Winther, Ladder Variational Autoencoders, NeurIPS 2016",
         checked=LADDER),
    dict(name="VAE with IAF", nats=79.10, binarization="dynamic", estimator="importance sampling, k = 128",
         source="Kingma, Salimans, Jozefowicz, Chen, Sutskever & Welling, Improved Variational Inference with "
                "Inverse Autoregressive Flow, NeurIPS 2016", checked=IAF_TABLE),
    dict(name="VLAE", nats=78.53, binarization="dynamic", estimator="importance sampling, k = 4,096 (as quoted)",
         source="Chen, Kingma, Salimans, Duan, Dhariwal, Schulman, Sutskever & Abbeel, Variational Lossy "
                "Autoencoder, ICLR 2017", checked=QUOTED),
    dict(name="PixelRNN, Diagonal BiLSTM, 7 layers", nats=79.20, binarization="static", estimator="exact",
         source="van den Oord, Kalchbrenner & Kavukcuoglu, Pixel Recurrent Neural Networks, ICML 2016",
         checked=PIXELRNN_TABLE),
    dict(name="PixelRNN, Row LSTM, 1 layer (an LSTM over the rows alone, no latent)", nats=80.54, binarization="static",
         estimator="exact", source="van den Oord, Kalchbrenner & Kavukcuoglu, Pixel Recurrent Neural Networks, ICML 2016",
         checked=PIXELRNN_TABLE),
    dict(name="NVAE", nats=78.01, binarization="dynamic", estimator="importance sampling",
         source="Vahdat & Kautz, NVAE: A Deep Hierarchical Variational Autoencoder, NeurIPS 2020", checked=NVAE),
]


def evaluation(folder: Path, stem: str = "") -> dict:
    """The evaluation JSON of the largest k (then the most test images) for checkpoint<stem>.pt."""
    prefix = "evaluation" + (f"_{stem}" if stem else "")
    found = [json.loads(p.read_text()) for p in folder.glob(f"{prefix}_k*.json") if p.stem.rsplit("_k", 1)[0] == prefix]
    if not found:
        name = f"checkpoint_{stem}.pt" if stem else CHECKPOINT
        raise UserError(f"{folder} has no {prefix}_k*.json: run evaluate.py --checkpoint {folder / name} --k 5000 first")
    return max(found, key=lambda e: (e["iwae_k"], e["test_images"]))


def run_row(label: str, folder: Path) -> dict:
    state = load_checkpoint(folder / CHECKPOINT)
    train, config = state["train_config"], state["config"]
    if train.get("binarize") != "dynamic":
        raise UserError(f"{folder} was not trained with --binarize dynamic: its nats are not on this scale")
    ev = evaluation(folder)
    encoder, decoder = part_names(model_config(config))
    seconds = state["history"]["epoch_seconds"]
    return {"name": label, "encoder": encoder, "decoder": decoder, "objective": config["objective"],
            "epochs": state["epoch"], "seed": train["seed"], "test_images": ev["test_images"], "k": ev["iwae_k"],
            "nats": ev["iwae_nats"], "se": ev["iwae_se"], "negative_elbo": ev["negative_elbo"], "kl": ev["kld"],
            "active_units": ev["active_kl"], "latent_dims": ev["latent_dims"],
            "seconds_per_epoch": statistics.median(seconds), "machine": train.get("machine", "this 2-core CPU"),
            "command": training_command(train, folder), "evaluation_seconds": ev["iwae_seconds"],
            "folder": str(folder)}


def one_thread(machine: str) -> str:
    """The machine as runs before 2026-12-06 recorded it ("…, 1 threads"), in good English."""
    return machine.replace(", 1 threads", ", 1 thread")


def training_command(train: dict, folder: Path) -> str:
    """The main.py command that trains the run from the start: the recorded one (the last
    invocation's) without --resume, which a run continued over sessions was last given."""
    recorded = train.get("command") or command_of(train, folder)
    return " ".join(word for word in recorded.split(" ") if word != "--resume")


def command_of(train: dict, folder: Path) -> str:
    """The main.py command of a run that predates the recorded one: its settings as flags
    (the --arch presets' runs; a composed run's parts are in its recorded command only)."""
    if train["arch"] == "composed":
        return ""
    flags = [f"--arch {train['arch']}", f"--epochs {train['epochs']}", f"--batch-size {train['batch_size']}",
             f"--lr {train['lr']:g}", "--betas " + " ".join(f"{b:g}" for b in train["betas"]),
             "--shuffle" if train["shuffle"] else "--no-shuffle", f"--patience {train['patience'] or 0}",
             f"--binarize {train['binarize']}", f"--seed {train['seed']}"] + (["--model 2"] if train["model"] == 2 else [])
    return f"python main.py --data-root ../shared/data --out-dir {folder} " + " ".join(flags)


def gathered(rows: list[dict]) -> dict:
    """Rows of one label (seeds) as one: means, and the spread of the nats over seeds."""
    first = dict(rows[0])
    for key in ("nats", "negative_elbo", "kl", "active_units", "seconds_per_epoch"):
        first[key] = statistics.mean(r[key] for r in rows)
    first["seeds"] = [r["seed"] for r in rows]
    counts = [r["test_images"] for r in rows]  # seeds may be measured on fewer images (said per seed)
    first["test_images"] = counts[0] if len(set(counts)) == 1 else counts
    first["nats_per_seed"] = [r["nats"] for r in rows]
    first["nats_sd"] = statistics.stdev(first["nats_per_seed"]) if len(rows) > 1 else None
    first["commands"] = [r["command"] for r in rows]
    for key in ("seed", "command", "folder"):
        first.pop(key)
    return first


def calibration_rows(folder: Path) -> list[dict]:
    rows = []
    for ckpt in sorted(folder.glob("checkpoint_stage*.pt"), key=lambda p: int(p.stem.removeprefix("checkpoint_stage"))):
        stem = ckpt.stem.removeprefix("checkpoint_")
        try:
            ev = evaluation(folder, stem)
        except UserError:
            continue  # a stage not yet evaluated
        epoch = load_checkpoint(ckpt)["epoch"]
        rows.append({"stage": burda_stage(epoch - 1), "passes": epoch, "test_images": ev["test_images"],
                     "k": ev["iwae_k"], "nats": ev["iwae_nats"], "se": ev["iwae_se"],
                     "negative_elbo": ev["negative_elbo"], "active_units": ev["active_kl"], "published": 86.76})
    return rows


def fmt(v, digits=2):
    return "–" if v is None else f"{v:.{digits}f}"


def markdown(ours: list[dict], calibration: list[dict], note: str = "") -> str:
    md = ["# Binarized MNIST: our models beside the published table", "",
          "Test log-likelihood in nats per image (lower is better), estimated by the importance-weighted bound "
          "with k samples (`evaluate.py --k 5000`; at k = 5,000 the literature's estimate), on MNIST binarized "
          "dynamically: every training batch drawn afresh as u ≤ x, the test set once with seed 123 "
          "(`main.py --binarize dynamic`). The grey-level figures elsewhere in this repository are binary "
          "cross-entropy on grey pixels: not likelihoods, and not on this scale.", "",
          *([note, ""] if note else []), "## Ours", "",
          "| model | encoder / decoder | objective | epochs | seeds | test images | k | nats (± se over images) "
          "| −ELBO | KL | active units | s / epoch |",
          "|" + " --- |" * 12]
    for r in sorted(ours, key=lambda r: r["nats"]):
        seeds = ", ".join(map(str, r["seeds"]))
        nats = fmt(r["nats"]) + (f" ± {fmt(r['nats_sd'])} sd over seeds" if r["nats_sd"] is not None else
                                 f" ± {fmt(r['se'])}")
        md.append(f"| {r['name']} | {r['encoder']} / {r['decoder']} | {r['objective']} | {r['epochs']} | {seeds} | "
                  f"{images(r['test_images'])} | {r['k']:,} | {nats} | {fmt(r['negative_elbo'])} | {fmt(r['kl'])} | "
                  f"{r['active_units']:.0f} of {r['latent_dims']} | {r['seconds_per_epoch']:.0f} ({one_thread(r['machine'])}) |")
    if calibration:
        md += ["", "## Calibration: Burda et al.'s VAE, 1 stochastic layer (`--arch burda-vae`)", "",
               "Their schedule: stage i of 3^i passes at learning rate 0.001·10^(−i/7). Their figure, 86.76, is "
               "after all 8 stages (3,280 passes).", "",
               "| stage | passes | test images | k | nats (± se) | −ELBO | active units | theirs |", "|" + " --- |" * 8]
        for r in calibration:
            md.append(f"| {r['stage']} | {r['passes']:,} | {r['test_images']:,} | {r['k']:,} | {fmt(r['nats'])} ± "
                      f"{fmt(r['se'])} | {fmt(r['negative_elbo'])} | {r['active_units']} | {r['published']} |")
    md += ["", "## Published", "", "| model | nats | binarization | estimator | source | checked |", "|" + " --- |" * 6]
    for p in sorted(PUBLISHED, key=lambda p: -p["nats"]):
        md.append(f"| {p['name']} | {p['nats']:.2f} | {p['binarization']} | {p['estimator']} | {p['source']} | "
                  f"{p['checked']} |")
    md += ["", "\"static\": the fixed binarization of Larochelle & Murray (2011), 1-2 nats harder than dynamic "
           "(Burda et al.'s code's README).", "", "## Prior samples", "",
           "Pixel probabilities of images decoded from z drawn from the prior (N(0, I) unless the model has a flow "
           "prior; an autoregressive decoder's: each pixel's "
           "probability given the pixels drawn before it), not binary draws.", ""]
    md += [f"![{r['name']}](benchmark/{tag(r['name'])}.png)" for r in sorted(ours, key=lambda r: r["nats"])]
    md += ["", "## Commands", ""] + [f"- {r['name']}: `{c}`" for r in ours for c in r["commands"] if c]
    return "\n".join(md) + "\n"


def images(count: int | list[int]) -> str:
    """A row's test images: one count, or one per seed when they differ."""
    return " / ".join(f"{c:,}" for c in count) + " (per seed)" if isinstance(count, list) else f"{count:,}"


def tag(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")


def stored_rows(stored: Path) -> tuple[list[dict], list[dict]]:
    """A committed benchmark.json's rows (ours, calibration): the table without its run folders."""
    try:
        data = json.loads(stored.read_text())
        return data["ours"], data["calibration"]
    except (OSError, ValueError, KeyError) as e:
        raise UserError(f"--from-json {stored}: not a benchmark.json ({type(e).__name__}: {e})") from None


def merged(kept: list[dict], new: list[dict]) -> list[dict]:
    """kept's rows with a row of the same name replaced in place by new's, then new's other rows."""
    by_name = {r["name"]: r for r in new}
    return [by_name.pop(r["name"], r) for r in kept] + list(by_name.values())


def build(pairs: list[tuple[str, Path]], calibration: Path | None, out: Path, note: str = "",
          stored: Path | None = None) -> Path:
    """The table from run folders; with stored (a benchmark.json), its rows kept and the folders'
    rows added or put in place of the stored row of the same label."""
    kept, stages = stored_rows(stored) if stored is not None else ([], [])
    rows: dict[str, list[dict]] = {}
    for label, folder in pairs:
        rows.setdefault(label, []).append(run_row(label, folder))
    ours = merged(kept, [gathered(r) for r in rows.values()])
    (out / "benchmark").mkdir(parents=True, exist_ok=True)
    for label, folder in dict(pairs).items():  # the last folder of a label: its grid
        save_image_grid(prior_samples(folder / CHECKPOINT, 100, seed=0), out / "benchmark" / f"{tag(label)}.png",
                        f"{label}: pixel probabilities of 100 images from z drawn from the prior")
    if calibration is not None:
        stages = calibration_rows(calibration)
    write_text(out / "benchmark.json", json.dumps({"ours": ours, "calibration": stages, "published": PUBLISHED},
                                                  indent=1) + "\n")
    path = out / "benchmark.md"
    write_text(path, markdown(ours, stages, note))
    return path


def read_note(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError as e:
        raise UserError(f"--note-file {path}: {e.strerror or e}") from None


@cli("benchmark.py")
def main(argv=None) -> int:
    p = Parser(prog="benchmark.py", description="Write report/benchmark.md and .json from binarized-MNIST run folders.")
    p.add_argument("runs", nargs="*", metavar="LABEL=FOLDER", help="a label and a folder written by main.py")
    p.add_argument("--calibration", type=Path, default=None, help="the --arch burda-vae run folder")
    p.add_argument("--out", type=Path, default=ROOT / "report", help="default: report/")
    p.add_argument("--note", default="", help="a paragraph under the title, e.g. which rows are still running")
    p.add_argument("--note-file", type=Path, default=None, help="the note's markdown from a file (instead of --note)")
    p.add_argument("--from-json", type=Path, default=None,
                   help="start from this benchmark.json's stored rows: alone, the page again (e.g. after a change "
                        "to the published table); with LABEL=FOLDER, those rows added or replaced")
    args = p.parse_args(argv)
    note = read_note(args.note_file) if args.note_file is not None else args.note
    print(f"wrote {build(labelled_folders(args.runs), args.calibration, args.out, note, args.from_json)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
