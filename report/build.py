"""Build the reproduction report from run folders written by main.py (and evaluate.py).

    python -m report.build runs/model1 runs/model2 --data-root ../shared/data \
        [--seeds runs/model1_seed1 runs/model1_seed2 runs/model2_seed1 ...]

Writes report/README.md and its PNGs (or into --out). Every number in the report comes
from the runs' model.pk, checkpoint.pt and evaluation_k*.json; the report's own values
(Table 1) are copied below from ../shared/papers/001_*.txt.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]

from vae.data import prepare_images
from vae.cli import Parser, cli
from vae.plotting import plot_elbo_terms, save_curve, save_image_grid
from vae.samples import prior_samples
from model import VAE, VAEConfig
from vae.measures import count_parameters
from vae.parts import build_model, model_config
from vae.cli import UserError
from vae.files import CHECKPOINT, FIGURE1, MODEL_PK, load_checkpoint, load_mnist, load_results, write_text

# The report's Table 1: "Epoch:N/50" -> (Train_Loss, Train_Reg_Term), last batch of the epoch. It logs
# the model the report calls "Model 1 (Our Best Model)"; it has no per-epoch values for Model 2.
REPORT_TABLE1_MODEL = 1
REPORT_TABLE1 = {
    1: (0.2699808180332184, 0.01405326183885336), 3: (0.23286059498786926, 0.01844196766614914),
    5: (0.2101295441389084, 0.022014062851667404), 7: (0.19987408816814423, 0.02239052951335907),
    9: (0.19428744912147522, 0.022439904510974884), 11: (0.18660761415958405, 0.022746892645955086),
    13: (0.17839045822620392, 0.022831201553344727), 15: (0.17468763887882233, 0.022949425503611565),
    17: (0.1827358901500702, 0.022359220311045647), 19: (0.17179976403713226, 0.02230830490589142),
    21: (0.16798606514930725, 0.022184187546372414), 23: (0.16492648422718048, 0.021665574982762337),
    25: (0.16751641035079956, 0.021801074966788292), 27: (0.16398532688617706, 0.021657707169651985),
    29: (0.16510458290576935, 0.021368449553847313), 31: (0.16255581378936768, 0.021654251962900162),
    33: (0.16123589873313904, 0.021236201748251915), 35: (0.16076241433620453, 0.021205490455031395),
    37: (0.1578901708126068, 0.02118915319442749), 39: (0.16217315196990967, 0.02125754952430725),
    41: (0.16033892333507538, 0.021140186116099358), 43: (0.15823622047901154, 0.021100422367453575),
    45: (0.16266587376594543, 0.02103406935930252), 47: (0.16424018144607544, 0.021063359454274178),
    49: (0.1622491180896759, 0.021074645221233368),
}


class Run:
    def __init__(self, folder: Path):
        self.dir = folder
        self.results = load_results(folder / MODEL_PK)
        self.state = load_checkpoint(folder / CHECKPOINT)
        self.cfg = model_config(self.state["config"])
        self.train = self.state["train_config"]
        self.name = f"Model {self.train['model']}"
        self.tag = self.name.lower().replace(" ", "")  # in figure file names: model1, model2
        self.epochs = len(self.results["train_loss_history"])
        evals = sorted(folder.glob("evaluation_k*.json"), key=lambda p: int(p.stem.split("_k")[1]))
        self.iwae = json.loads(evals[-1].read_text()) if evals else None

    def model(self):
        model = build_model(self.cfg)
        model.load_state_dict(self.state["model"])
        return model.eval()


def fmt(v, digits=4):
    return "–" if v is None else f"{v:.{digits}f}"


# Settings every seed of a model must share with its main run, so the spread is the seed's alone.
SAME_FOR_SEEDS = ("arch", "epochs", "batch_size", "lr", "shuffle", "limit")


def group_seeds(runs: list[Run], seeds: list[Run]) -> list[list[Run]]:
    """One list per main run: the main run first, then the seed runs of the same model."""
    groups = {r.name: [r] for r in runs}
    for s in seeds:
        group = groups.get(s.name)
        if group is None:
            raise UserError(f"--seeds {s.dir} trained {s.name}, and no main run does")
        if s.train["seed"] in [r.train["seed"] for r in group]:
            raise UserError(f"--seeds {s.dir} repeats seed {s.train['seed']} of {s.name}")
        for key in SAME_FOR_SEEDS:
            if s.train.get(key) != group[0].train.get(key) or s.epochs != group[0].epochs:
                raise UserError(f"--seeds {s.dir} differs from {group[0].dir} in more than the seed "
                                f"({key} or epochs trained)")
        group.append(s)
    return list(groups.values())


def seed_list(group: list[Run]) -> str:
    return ", ".join(str(r.train["seed"]) for r in group)


def spread(values: list[float], digits: int) -> str:
    """One run's value, or mean ± sample standard deviation over seeds."""
    if len(values) == 1:
        return fmt(values[0], digits)
    return f"{np.mean(values):.{digits}f} ± {np.std(values, ddof=1):.{digits}f}"


def table1(groups: list[list[Run]]) -> str:
    names = [g[0].name + (f" (seeds {seed_list(g)})" if len(g) > 1 else "") for g in groups]
    head = "| epoch | report loss | report KLD | " + " | ".join(
        f"{n} loss | {n} KLD | {n} mean loss | {n} test −ELBO" for n in names) + " |"
    lines = [head, "|" + " --- |" * (3 + 4 * len(groups))]
    epochs = sorted(set(REPORT_TABLE1) | {max(g[0].epochs for g in groups)})
    keys = (("train_loss_history", 4), ("train_regularization_terms", 4), ("train_loss_epoch_mean", 4),
            ("test_negative_elbo", 2))
    for e in epochs:
        rep = REPORT_TABLE1.get(e, (None, None))
        cells = [str(e), fmt(rep[0]), fmt(rep[1])]
        for g in groups:
            ok = e <= g[0].epochs
            cells += [spread([r.results[k][e - 1] for r in g], d) if ok else "–" for k, d in keys]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def within_spread(series: list[list[float]], report_index: int, label: str = "our seeds' range") -> str:
    """Where the report's Table 1 values fall against the range of `series` (per-epoch values of
    several runs), epoch by epoch; the epochs are named on a side that holds five or fewer of them."""
    where = {f"within {label}": [], "above": [], "below": []}
    for e, values in REPORT_TABLE1.items():
        if e > min(map(len, series)):
            continue
        ours, theirs = [s[e - 1] for s in series], values[report_index]
        side = "above" if theirs > max(ours) else "below" if theirs < min(ours) else f"within {label}"
        where[side].append(e)
    listed = sum(map(len, where.values()))
    parts = []
    for side, es in where.items():
        named = f" (epochs {epoch_ranges(es)})" if 0 < len(es) <= 5 and len(es) < listed else ""
        parts.append(f"{side} at {len(es)}{named}")
    parts[0] += f" of the {listed} epochs it lists"
    return ", ".join(parts)


def table2(runs: list[Run]) -> str:
    import torchinfo

    out = []
    for r in runs:
        model = VAE(r.cfg)  # the plain layers: the table names nn.ConvTranspose2d
        paths = {id(m): name for name, m in model.named_modules()}
        summary = torchinfo.summary(model, input_size=(1, 1, 28, 28), depth=3, verbose=0,
                                    col_names=("output_size", "num_params"), device="cpu")
        rows = [f"**{r.name}** ({count_parameters(VAE(r.cfg)):,} parameters)", "",
                "| layer | output (C×H×W) | parameters |", "| --- | --- | --- |"]
        for layer in summary.summary_list[1:]:
            if layer.class_name == "Sequential":
                continue
            shape = "×".join(map(str, layer.output_size[1:]))
            name = paths.get(id(layer.module), layer.var_name)
            rows.append(f"| {layer.class_name} `{name}` | {shape} | {layer.num_params:,} |")
            if name == "fc_logvar":
                rows.append(f"| z = mu + eps·std, reshaped | {r.cfg.latent_channels}×{r.cfg.image_size}×1 | 0 |")
        out.append("\n".join(rows))
    return "\n\n".join(out)


def load_original(folder: Path) -> dict:
    """benchmarks/original_run.py's history: the re-created original loop's trajectory."""
    path = folder / "history.json"
    try:
        history = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise UserError(f"--original {folder}: cannot read {path} ({e})") from None
    if not isinstance(history, dict) or not history.get("train_loss_history"):
        raise UserError(f"--original {folder}: {path} holds no epochs (write it with benchmarks/original_run.py)")
    return history


def curves(groups, key, report_index, path, title, ylabel, original=None):
    epochs = sorted(REPORT_TABLE1)
    series = [(f"report (Table 1, Model {REPORT_TABLE1_MODEL})", epochs, [REPORT_TABLE1[e][report_index] for e in epochs], "k.--")]
    if original is not None:
        series.append((f"original loop re-created, Model {original['settings']['model']} "
                       f"(seed {original['settings']['seed']})", range(1, len(original[key]) + 1), original[key], "r.:"))
    series += [(f"ours, {g[0].name} (last batch, seed {g[0].train['seed']})", range(1, g[0].epochs + 1),
                g[0].results[key], f"C{i}.-") for i, g in enumerate(groups)]
    bands = []
    for i, g in enumerate(groups):
        if len(g) > 1:
            values = np.array([r.results[key] for r in g])  # (seeds, epochs)
            bands.append((f"ours, {g[0].name}, seeds {seed_list(g)}: range", range(1, g[0].epochs + 1),
                          values.min(0), values.max(0), f"C{i}"))
    save_curve(series, path, title, ylabel, bands=bands)


def test_pairs(run: Run, data_root: Path, path: Path, n: int = 10):
    """Top row: test digits; bottom row: their reconstructions (eval mode)."""
    x = prepare_images(load_mnist(data_root, train=False)[:n], VAEConfig())
    torch.manual_seed(0)
    with torch.no_grad():
        recon = run.model()(x)[0]
    save_image_grid(np.concatenate([x.squeeze(1).numpy(), recon.squeeze(1).numpy()]), path,
                    f"{run.name}: first {n} test digits (top) and their reconstructions (bottom)", columns=n)


def draw_figures(runs: list[Run], groups: list[list[Run]], orig: dict | None, out: Path, data_root: Path) -> dict:
    """Figures 1-5 and the figures beyond the report; returns the optional ones drawn, by key."""
    figs = {}
    if (runs[0].dir / FIGURE1).is_file():
        shutil.copyfile(runs[0].dir / FIGURE1, out / "figure1_mnist.png")
        figs["fig1"] = "figure1_mnist.png"
    curves(groups, "train_loss_history", 0, out / "figure2_loss.png", "Loss (BCE + KLD) per epoch", "loss", orig)
    curves(groups, "train_regularization_terms", 1, out / "figure3_kld.png", "Regularization term (KLD) per epoch",
           "KLD", orig)
    for i, r in enumerate(runs):
        tag = r.tag
        recon = np.asarray(r.results["train_reconstruction_images"])
        pick = torch.randperm(len(recon), generator=torch.Generator().manual_seed(0))[:100].numpy()
        save_image_grid(recon[pick], out / f"reconstructions_{tag}.png",
                        f"{r.name}: 100 random stored reconstructions, epoch {r.epochs} (Figure {4 + i} of the report)")
        save_image_grid(prior_samples(r.dir / CHECKPOINT, 100, seed=0), out / f"prior_samples_{tag}.png",
                        f"{r.name}: 100 samples decoded from z ~ N(0, I)")
        test_pairs(r, data_root, out / f"test_pairs_{tag}.png")
        if plot_elbo_terms(r.results, out / f"elbo_terms_{tag}.png"):
            figs[f"elbo_{tag}"] = f"elbo_terms_{tag}.png"
    return figs


def summary(runs: list[Run], groups: list[list[Run]]) -> list[str]:
    """The summary table: one column per model, seed spreads where there are seeds."""
    rows = ["| | " + " | ".join(r.name for r in runs) + " |", "|" + " --- |" * (1 + len(runs))]

    def row(label, values):
        rows.append(f"| {label} | " + " | ".join(values) + " |")

    row("parameters", [f"{count_parameters(VAE(r.cfg)):,}" for r in runs])
    row("epochs trained", [str(r.epochs) for r in runs])
    row(f"last-batch loss / KLD, epoch {runs[0].epochs} (report, epoch 49 line: 0.1622 / 0.0211)",
        [f"{r.results['train_loss_history'][-1]:.4f} / {r.results['train_regularization_terms'][-1]:.4f}" for r in runs])
    row("test negative ELBO, nats per image (last epoch)", [f"{r.results['test_negative_elbo'][-1]:.2f}" for r in runs])
    row("training-set negative ELBO, nats per image", [fmt(r.results.get("train_negative_elbo"), 2) for r in runs])
    row("IWAE bound on the test set, nats per image", [
        f"{r.iwae['iwae_nats']:.2f} (k={r.iwae['iwae_k']}, {r.iwae['test_images']} images, {r.iwae['iwae_seconds']:.0f} s)"
        if r.iwae else "not run" for r in runs])
    # The runs shared a 2-core CPU with other work at times: the spread shows how much.
    row("seconds per epoch (training pass): median (fastest-slowest)", [
        f"{np.median(s):.1f} ({min(s):.1f}-{max(s):.1f})" for s in (r.results["epoch_seconds"] for r in runs)])
    row("total training time", [f"{sum(r.results['epoch_seconds']) / 60:.1f} min" for r in runs])
    if any(len(g) > 1 for g in groups):
        row("seeds", [seed_list(g) for g in groups])
        for label, key, d in (("test negative ELBO", "test_negative_elbo", 2),
                              ("last-batch loss", "train_loss_history", 4), ("last-batch KLD", "train_regularization_terms", 4)):
            row(f"{label}, last epoch, over the seeds: mean ± sd (each seed)", [
                f"{spread([r.results[key][-1] for r in g], d)} ({', '.join(f'{r.results[key][-1]:.{d}f}' for r in g)})"
                for g in groups])
    return rows


def figure_section(figs: dict, seeded: bool) -> list[str]:
    """Figure 1 and Figures 2-3 (loss and KLD curves)."""
    md = []
    if "fig1" in figs:
        md += ["Figure 1: 100 random training digits.", "", "![Figure 1](figure1_mnist.png)", ""]
    md += ["Figures 2 and 3: loss and KLD per epoch, ours and the report's"
           + ("; the shaded band is the range over our seeds." if seeded else "."), "",
           "![Figure 2](figure2_loss.png)", "", "![Figure 3](figure3_kld.png)", ""]
    return md


def run_figures(runs: list[Run], figs: dict) -> list[str]:
    """Figures 4-5 (stored reconstructions) and, per model, its prior samples, test pairs, ELBO terms."""
    md = []
    for i, r in enumerate(runs):
        tag = r.tag
        md += [f"Figure {4 + i} ({r.name}): 100 random stored reconstructions of training images "
               "(what the report calls generated images).", "", f"![{r.name} reconstructions](reconstructions_{tag}.png)", "",
               f"Beyond the report ({r.name}): true samples from the prior, and test digits beside their reconstructions.",
               "", f"![{r.name} prior samples](prior_samples_{tag}.png)", "", f"![{r.name} test pairs](test_pairs_{tag}.png)", ""]
        if f"elbo_{tag}" in figs:
            md += [f"Beyond the report ({r.name}): the two ELBO terms of every training batch, in nats per image.", "",
                   f"![{r.name} ELBO terms]({figs[f'elbo_{tag}']})", ""]
    return md


GENERAL_DIFFERENCES = [
    "- The report's Figures 4 and 5 are reconstructions of training images, not new digits; "
    "our prior samples show what the model generates from N(0, I).",
    "- Table 1 lists lines `Epoch:1/50` to `Epoch:49/50` and calls the last one the value after 50 "
    "epochs, so its labels may be 0-based; we place them at the epoch number they print.",
    "- Grey-level BCE is not a proper likelihood: our nats compare with pytorch/examples' VAE "
    "\"test set loss\" (about 105.6 after its 10 epochs), not with binarized-MNIST results in the literature.",
]


def objective_note(r: Run) -> str:
    # Means over 784 pixels and over 28*C latents weigh the KL by 784 / (28*C) against the per-image ELBO.
    beta = r.cfg.image_size**2 / (r.cfg.image_size * r.cfg.latent_channels)
    return (f"- {r.name}'s training loss is BCE averaged over {r.cfg.image_size ** 2} pixels plus KL averaged over "
            f"{r.cfg.image_size * r.cfg.latent_channels:,} latents: per image, that is the ELBO with its KL term "
            f"weighted by β = {beta:.3g}. Its test negative ELBO ({r.results['test_negative_elbo'][-1]:.1f} nats) "
            f"is therefore reconstruction {r.results['test_bce'][-1]:.1f} plus KL {r.results['test_kld'][-1]:.1f}: "
            "the model was not trained to minimise it, and a plain ELBO-trained VAE scores far lower.")


def collapse_note(r: Run, figs: dict) -> str | None:
    """Where the run's test KL fell under one nat per image (z carries next to no information)."""
    klds = r.results["test_kld"]
    collapsed = [e + 1 for e, kld in enumerate(klds) if kld < 1.0]
    if not collapsed:
        return None
    beta = r.cfg.image_size / r.cfg.latent_channels
    why = (f" A KL weight β = {beta:.3g} above 1 pushes towards it." if beta > 1 else "")
    if collapsed[-1] == len(klds):
        return (f"- {r.name}'s KL term fell to {klds[-1]:.3f} nats per test image: posterior collapse. Its decoder "
                "ignores z and draws one average digit, so its reconstructions and prior samples do not look "
                f"like MNIST digits, which matches what the report says of its Figure 5.{why}")
    return (f"- {r.name}'s KL term was under 1 nat per test image in epoch{'s' if len(collapsed) > 1 else ''} "
            f"{epoch_ranges(collapsed)} (posterior collapse: the decoder ignored z and the test negative "
            f"ELBO rose to {max(r.results['test_negative_elbo'][e - 1] for e in collapsed):.1f} nats), "
            f"and out of it again by the end ({klds[-1]:.1f} nats at epoch {len(klds)}).{why} The report "
            "says its Model 2's Figure 5 does not look like MNIST: compare our figure of stored "
            f"reconstructions above, taken during epoch {len(klds)}"
            + (", the pass that came out of the collapse." if collapsed[-1] == len(klds) - 1 else ".")
            + (" Its ELBO-terms figure shows the KL term per update." if f"elbo_{r.tag}" in figs else ""))


def build(runs: list[Run], out: Path, data_root: Path, seeds: list[Run] = (), original: Path | None = None) -> Path:
    groups = group_seeds(runs, list(seeds))
    orig = load_original(original) if original is not None else None
    out.mkdir(parents=True, exist_ok=True)
    figs = draw_figures(runs, groups, orig, out, data_root)
    md = [
        "# Reproduction report: LSTM-encoder VAE for MNIST", "",
        "Built by `python -m report.build " + " ".join(str(r.dir) for r in runs)
        + (" --seeds " + " ".join(str(r.dir) for r in seeds) if seeds else "")
        + (f" --original {original}" if original is not None else "") + "` from those runs "
        "(`main.py` with " + ", ".join(f"{r.name}: `{json.dumps(r.train)}`" for r in runs) + "). "
        "Every number below comes from them; the report's numbers are copied from its Table 1.", "",
        "## Summary", "", *summary(runs, groups), "",
        "## Table 1: loss and KLD per epoch", "",
        "Last-batch values, as the report logs them, at the epochs it lists; our epoch means and "
        "test negative ELBO (nats per image) beside them"
        + ("; where a model ran with several seeds, mean ± sample standard deviation over them." if seeds else ".")
        + "", "", table1(groups), "",
        "## Table 2: the models layer by layer (torchinfo)", "", table2(runs), "",
        "## Figures", "", *figure_section(figs, bool(seeds)),
    ]
    if orig is not None:
        md += original_note(orig, groups), ""
    md += run_figures(runs, figs)
    md += ["## Where and why we differ from the report", "", *GENERAL_DIFFERENCES, *seed_notes(groups)]
    md += [objective_note(r) for r in runs]
    md += [note for note in (collapse_note(r, figs) for r in runs) if note is not None]
    md.append("")
    if (out / "comparison.md").exists():
        md += ["## Beside the peer VAEs", "",
               "[comparison.md](comparison.md) (built by `report/compare.py`) sets both models beside the other "
               "source documents' VAEs and pytorch/examples' baseline, trained in the same harness.", ""]
    path = out / "README.md"
    write_text(path, "\n".join(md))
    return path


def original_note(orig: dict, groups: list[list[Run]]) -> str:
    """The re-created original loop against our run of the same model and seed."""
    settings = orig["settings"]
    ours = next((r for g in groups for r in g if r.train["model"] == settings["model"]
                 and r.train["seed"] == settings["seed"]), None)
    n = len(orig["train_loss_history"])
    text = (f"The dotted red line is the report's original training loop re-created "
            f"(`benchmarks/original_run.py`, Model {settings['model']}, seed {settings['seed']}, {n} epochs): plain "
            "torch modules, a DataLoader, the same first weights and noise stream as our run of that seed. Its last "
            f"epoch: last-batch loss {orig['train_loss_history'][-1]:.4f}, KLD {orig['train_regularization_terms'][-1]:.4f}, "
            f"test negative ELBO {orig['test_negative_elbo'][-1]:.2f} nats")
    if ours is not None and ours.epochs >= n:
        text += (f"; our run at epoch {n}: {ours.results['train_loss_history'][n - 1]:.4f}, "
                 f"{ours.results['train_regularization_terms'][n - 1]:.4f}, "
                 f"{ours.results['test_negative_elbo'][n - 1]:.2f} nats")
    group = next((g for g in groups if g[0].train["model"] == settings["model"]), [])
    if len(group) > 1 and group[0].epochs >= n:
        losses = np.array([r.results["train_loss_history"][:n] for r in group])  # (seeds, epochs)
        inside = int(((losses.min(0) <= orig["train_loss_history"]) & (orig["train_loss_history"] <= losses.max(0))).sum())
        text += (f". Its last-batch loss lies within the range of our seeds {seed_list(group)} "
                 f"at {inside} of its {n} epochs")
    if settings["model"] == REPORT_TABLE1_MODEL and group:
        # The report against everything the original code's facts give: if it falls outside even
        # this range, the gap is the report's run, not our implementation.
        label = "the range of our seeds and the re-created loop together"
        losses = [r.results["train_loss_history"] for r in group] + [orig["train_loss_history"]]
        klds = [r.results["train_regularization_terms"] for r in group] + [orig["train_regularization_terms"]]
        text += (f". The report's Table 1 loss is {within_spread(losses, 0, label)}; its KLD is "
                 f"{within_spread(klds, 1, label)}")
    return text + "."


def seed_notes(groups: list[list[Run]]) -> list[str]:
    """Whether the report's Table 1 lies within our run-to-run spread."""
    notes = []
    for g in groups:
        if len(g) == 1:
            notes.append(f"- {g[0].name}: one seed ({g[0].train['seed']}); the report gives none, so run-to-run "
                         "spread is part of any difference.")
            continue
        if g[0].train["model"] != REPORT_TABLE1_MODEL:
            notes.append(f"- {g[0].name}, seeds {seed_list(g)}: the report's Table 1 logs Model {REPORT_TABLE1_MODEL} "
                         "(its best model) and gives no per-epoch values for this one, so only the spread is shown.")
            continue
        notes.append(f"- {g[0].name}, seeds {seed_list(g)}: the report's last-batch loss is "
                     f"{within_spread([r.results['train_loss_history'] for r in g], 0)}; its KLD is "
                     f"{within_spread([r.results['train_regularization_terms'] for r in g], 1)}.")
    return notes


def epoch_ranges(epochs: list[int]) -> str:
    """[1, 2, 3, 4, 45, 46] -> "1-4 and 45-46"."""
    runs, start = [], epochs[0]
    for prev, cur in zip(epochs, epochs[1:] + [None]):
        if cur != prev + 1:
            runs.append(f"{start}-{prev}" if prev > start else f"{start}")
            start = cur
    return ", ".join(runs[:-1]) + (" and " if len(runs) > 1 else "") + runs[-1]


@cli("build.py")
def main(argv=None) -> int:
    p = Parser(prog="build.py", description="Build report/README.md and its figures from run folders.")
    p.add_argument("runs", type=Path, nargs="+", help="folders written by main.py (Model 1 first)")
    p.add_argument("--out", type=Path, default=ROOT / "report", help="default: report/")
    p.add_argument("--data-root", type=Path, default=Path("./data"), help="MNIST, for the test-digit figures")
    p.add_argument("--seeds", type=Path, nargs="+", default=[], metavar="RUN",
                   help="more runs of the same models with other seeds: Table 1 and Figures 2-3 show their spread")
    p.add_argument("--original", type=Path, default=None, metavar="RUN",
                   help="a benchmarks/original_run.py folder: its trajectory joins Figures 2-3")
    args = p.parse_args(argv)
    path = build([Run(d) for d in args.runs], args.out, args.data_root, [Run(d) for d in args.seeds], args.original)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
