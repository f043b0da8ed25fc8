"""One run's configuration, frozen: the model's config and every training setting.

main.py builds a `RunConfig` once, from the --arch preset and the flags; checkpoint.pt,
config.json and model.pk all carry its dict, and --resume compares it field by field. Each
training setting is one `TrainConfig` field below, holding its default (the report's value),
its flag's help, and whether a resumed run may change it.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field

from model import PRESETS
from vae.cli import UserError, non_negative_int, positive_float, positive_int, with_default
from vae.data import BINARIZATIONS, TEST_BINARIZATION_SEED
from vae.parts import model_config
from vae.registry import SCHEDULES, config_to_dict, named
import vae.schedules  # noqa: F401  (fills SCHEDULES)

# The evaluation batch by device: batches of 100 leave a GPU waiting on kernel launches, and
# 2000 images fit any CUDA card (benchmarks/README.md); the CPU keeps 100, so its runs draw
# the same noise as before, bit for bit.
EVAL_BATCH = {"cpu": 100, "cuda": 2000}


def setting(default, help: str | None = None, *, may_change: bool = False, **flag):
    """A TrainConfig field: its default; with `help`, the --flag that sets it (argparse's `flag`
    keywords); `may_change`: a resumed run may take another value (how a run runs, not what it learns)."""
    return field(default=default, metadata={"help": help, "may_change": may_change, "flag": flag})


@dataclass(frozen=True)
class TrainConfig:
    """Every training setting of a run. Defaults are the report's (001); an --arch preset
    replaces some, the flags replace any. The last fields are filled in by main.py."""

    arch: str = setting("lstm")  # the --arch preset, or "composed"
    epochs: int = setting(50, "passes over the training images", may_change=True, type=positive_int)
    batch_size: int = setting(100, "images per step", type=positive_int)
    lr: float = setting(1e-3, "Adam's learning rate", type=positive_float)
    betas: tuple[float, float] = setting((0.9, 0.999), "Adam's betas (PyTorch's, which the report used)",
                                         type=positive_float, nargs=2, metavar=("B1", "B2"))
    eps: float = setting(1e-8, "Adam's epsilon (PyTorch's)", type=positive_float)
    # 002 stops after 10 epochs without a better test negative ELBO
    patience: int | None = setting(None, "stop after this many epochs without a better test negative ELBO "
                                   "(default: never; conv: 10; 0: never)", type=non_negative_int)
    model: int = setting(1, "Table 2: 1 = 32x256 FC + dropout, 2 = 32x16 FC, no dropout; for --arch lstm and for the "
                         "report's parts of a composed VAE", type=int, choices=sorted(PRESETS))
    seed: int = setting(0, "seeds initialisation, noise, dropout, shuffling and Figure 1", type=int)
    shuffle: bool = setting(False, "shuffle batches each epoch (default: no, as the report's original; the peers "
                            "shuffle)", action=argparse.BooleanOptionalAction)  # a bool's help says it
    limit: int | None = setting(None, "use only the first N training images (and at most N test images), for quick "
                                "runs", type=positive_int)
    binarize: str = setting("none", "none = grey levels as BCE targets (the report's); dynamic = every "
                            "training batch binarized afresh (u <= x, u uniform, from the run's seeded generator), the "
                            f"test set once with seed {TEST_BINARIZATION_SEED}: the VAE literature's benchmark",
                            choices=BINARIZATIONS)
    test_binarization_seed: int | None = setting(None)  # TEST_BINARIZATION_SEED under --binarize dynamic
    lr_schedule: str = setting("constant", named(SCHEDULES), choices=sorted(SCHEDULES))
    record_every: int = setting(1, "average this many steps into one entry of the per-step ELBO terms (1: every "
                                "step)", type=positive_int)
    bf16: bool = setting(False, "forward pass in bfloat16 autocast (AMP on CUDA); fast only where the hardware has "
                         "bf16", may_change=True, action="store_true")
    eval_batch_size: int | None = setting(None, "batch size of the test- and training-set evaluations (it changes "
                                          f"only which noise they draw); default {EVAL_BATCH['cpu']}, on CUDA "
                                          f"{EVAL_BATCH['cuda']}",
                                          may_change=True, type=positive_int)
    data_root: str = setting("data", may_change=True)
    device: str = setting("cpu", may_change=True)
    cuda_graph: bool = setting(False, may_change=True)  # each full batch's step replayed from a CUDA graph
    reuse_freed_memory: bool = setting(False, may_change=True)  # glibc told to keep freed memory (vae/device.py)
    deterministic: bool = setting(False, "on CUDA, PyTorch's reproducibility settings (deterministic algorithms, no "
                                  "cuDNN autotuning, a fixed cuBLAS workspace): bit-identical reruns on one GPU, "
                                  "somewhat slower. CPU runs are deterministic already", may_change=True,
                                  action="store_true")
    threads: int = setting(1, may_change=True)  # CPU timings depend on it
    machine: str = setting("", may_change=True)
    command: str = setting("", may_change=True)

    def __post_init__(self):
        if not all(b < 1 for b in self.betas):
            raise UserError(f"--betas must each be below 1, got {' '.join(map(str, self.betas))}")

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig setting that has help; left unset, it is None (the preset decides)."""
    for f in dataclasses.fields(TrainConfig):
        if f.metadata["help"] is not None:
            parser.add_argument(flag_name(f.name), default=None, help=with_default(f.metadata["help"], f.default),
                                **f.metadata["flag"])


def training_settings(preset: TrainConfig, args: argparse.Namespace, **facts) -> TrainConfig:
    """The preset with the flags the user set, and the facts of this machine (device, ...)."""
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
             if f.metadata["help"] is not None and getattr(args, f.name) is not None}
    if "betas" in given:
        given["betas"] = tuple(given["betas"])
    if given.get("patience") == 0:
        given["patience"] = None  # --patience 0: never stop early, whatever the preset
    cfg = dataclasses.replace(preset, **{**given, **facts})
    if cfg.binarize == "dynamic" and cfg.test_binarization_seed is None:
        cfg = dataclasses.replace(cfg, test_binarization_seed=TEST_BINARIZATION_SEED)
    return cfg


@dataclass(frozen=True)
class RunConfig:
    """What one run trains (`model`: model.VAEConfig, a peer's or a ComposedConfig) and how (`train`)."""

    model: object
    train: TrainConfig

    def to_dict(self) -> dict:
        """config.json's content; checkpoint.pt keeps the same two dicts as "train_config" and "config"."""
        return {"train": self.train.to_dict(), "model": config_to_dict(self.model)}


def check_resumable(run: RunConfig, state: dict) -> None:
    """One line where a checkpoint's run differs from this one in a field a resumed run must share."""
    saved, now = state.get("train_config", {}), run.train.to_dict()
    for f in dataclasses.fields(TrainConfig):
        if not f.metadata["may_change"] and saved.get(f.name) != now[f.name]:
            flag = flag_name(f.name)
            raise UserError(f"--resume: the checkpoint was trained with {flag} {saved.get(f.name)}, not "
                            f"{now[f.name]}; pass the same {flag}, or start afresh with --overwrite")
    try:
        same = model_config(state["config"]) == run.model
    except (ValueError, TypeError):
        same = False
    if not same:
        raise UserError("--resume: the checkpoint holds another model than these flags ask for (--encoder, --decoder, "
                        "--objective and the parts' options); pass the same flags, or start afresh with --overwrite")
    if state["epoch"] > run.train.epochs:
        raise UserError(f"--resume: the checkpoint has already trained {state['epoch']} epochs, more than --epochs "
                        f"{run.train.epochs}")
