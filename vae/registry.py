"""The registries: one entry per encoder or decoder (`Part`), per training objective, per
config class; the command-line options the entries declare; and the conversion of any config
to and from the plain dict a checkpoint carries.

Adding a part is one `register_part(Part(...))` beside its class (and `register_config`
on a config class of its own, if it brings one); an objective is one `register_objective`
(vae/objectives.py), a prior one `register_prior` (vae/priors.py), a learning-rate
schedule one `register_schedule` (vae/schedules.py). main.py's --encoder,
--decoder, --objective and --prior choices, their help, the flags of their options, the
composed model and the CPU fast path all follow from the entries.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable

from torch import nn

CONFIGS: dict[str, type] = {}  # a config dict's "arch" -> its config class
ENCODERS: dict[str, "Part"] = {}
DECODERS: dict[str, "Part"] = {}
OBJECTIVES: dict[str, type] = {}  # --objective's name -> its vae.objectives.Objective class
PRIORS: dict[str, type] = {}  # --prior's name -> its vae.priors class
SCHEDULES: dict[str, type] = {}  # --lr-schedule's name -> its vae.schedules class


@dataclass(frozen=True)
class Option:
    """A command-line option of the parts or objectives that list it: --NAME (dashes for
    underscores), its value `default` when left out. Parts that share an option list the same one."""

    name: str
    default: object
    help: str
    flag: dict = field(default_factory=dict)  # argparse's keywords: type, nargs, action, metavar


@dataclass(frozen=True)
class Part:
    """An encoder (x -> mu, logvar of shape (B, *latent_shape)) or a decoder (z -> logits
    (B, 1, H, W)), and how to size and build it."""

    name: str
    config: type  # the config class its sizes come from
    build: Callable[[object], nn.Module]  # config -> module
    sizes: Callable[[SimpleNamespace], object]  # the option values (and `report`, Table 2's model) -> config
    help: str
    options: tuple[Option, ...] = ()  # the options its sizes read
    cpu_fast_path: bool = False  # its nn.ConvTranspose2d layers take fastconv's kernel on CPU
    uses_report_sizes: bool = False  # --model (Table 2) sizes it


def entry(kind: str, name: str):
    """The registered encoder, decoder, objective or prior `name`; ValueError naming the choices."""
    table = {"encoder": ENCODERS, "decoder": DECODERS, "objective": OBJECTIVES, "prior": PRIORS}[kind]
    if name not in table:
        raise ValueError(f"unknown {kind} {name!r}: choose from {sorted(table)}")
    return table[name]


def all_options() -> dict[str, Option]:
    """Every option an encoder, decoder, objective or prior declares, by name; one name, one option."""
    found: dict[str, Option] = {}
    entries = [*ENCODERS.values(), *DECODERS.values(), *OBJECTIVES.values(), *PRIORS.values()]
    for entry in entries:
        for option in entry.options:
            if found.setdefault(option.name, option) is not option:
                raise ValueError(f"two different options named {option.name!r}")
    return found


def option_values(report, given: dict | None = None) -> SimpleNamespace:
    """The value of every option (those `given`, else its default), and `report`: the Table 2
    model whose sizes the report's parts take."""
    given = given or {}
    unknown = set(given) - set(all_options())
    if unknown:
        raise ValueError(f"unknown options {sorted(unknown)}")
    return SimpleNamespace(report=report, **{name: given.get(name, o.default) for name, o in all_options().items()})


def named(table: dict) -> str:
    """'name = help, ...' of a registry, for --help."""
    return ", ".join(f"{name} = {entry.help}" for name, entry in sorted(table.items()))


def register_config(cls: type) -> type:
    """Class decorator: a config class, found again by its `arch` when a checkpoint is read."""
    if CONFIGS.get(cls.arch, cls) is not cls:
        raise ValueError(f"two config classes for arch {cls.arch!r}")
    CONFIGS[cls.arch] = cls
    return cls


def register_objective(cls: type) -> type:
    """Class decorator: a training objective, found by its `name` (main.py --objective)."""
    if cls.name in OBJECTIVES:
        raise ValueError(f"an objective named {cls.name!r} is registered already")
    OBJECTIVES[cls.name] = cls
    return cls


def register_prior(cls: type) -> type:
    """Class decorator: a prior p(z), found by its `name` (main.py --prior)."""
    if cls.name in PRIORS:
        raise ValueError(f"a prior named {cls.name!r} is registered already")
    PRIORS[cls.name] = cls
    return cls


def register_schedule(cls: type) -> type:
    """Class decorator: a learning-rate schedule, found by its `name` (main.py --lr-schedule)."""
    if cls.name in SCHEDULES:
        raise ValueError(f"a schedule named {cls.name!r} is registered already")
    SCHEDULES[cls.name] = cls
    return cls


def register_part(table: dict[str, Part], part: Part) -> Part:
    """Add an encoder (table=ENCODERS) or decoder (table=DECODERS)."""
    if part.name in table:
        raise ValueError(f"a part named {part.name!r} is registered already")
    table[part.name] = part
    return part


def config_to_dict(cfg) -> dict:
    """A config as plain data, naming its class by `arch`; nested configs nest."""
    out = {"arch": cfg.arch}
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        out[f.name] = config_to_dict(value) if dataclasses.is_dataclass(value) else value
    return out


def config_from_dict(d: dict):
    """Any registered config from its config_to_dict() (a checkpoint's "config")."""
    if not isinstance(d, dict):
        raise ValueError(f"a model config must be a dict, not {type(d).__name__}")
    d = dict(d)
    arch = d.pop("arch", None)
    if arch not in CONFIGS:
        raise ValueError(f"unknown architecture {arch!r}")
    cls = CONFIGS[arch]
    if hasattr(cls, "upgrade"):  # a config class whose fields changed reads its older dicts
        d = cls.upgrade(d)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise ValueError(f"unknown {cls.__name__} fields: {sorted(unknown)}")
    values = {k: config_from_dict(v) if isinstance(v, dict) else _tuples(v) for k, v in d.items()}
    try:
        return cls(**values)
    except TypeError as e:
        raise ValueError(f"incomplete {cls.__name__} ({e})") from None


def _tuples(v):
    # JSON and pickles hand tuples back as lists
    return tuple(_tuples(i) for i in v) if isinstance(v, (list, tuple)) else v
