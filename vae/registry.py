"""The registries: one entry per encoder or decoder (`Part`), one per config class, and the
conversion of any config to and from the plain dict a checkpoint carries.

Adding a part is one `register_part(Part(...))` beside its class (and `register_config`
on a config class of its own, if it brings one); main.py's --encoder/--decoder choices,
their help, the composed model and the CPU fast path all follow from the entry.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

from torch import nn

CONFIGS: dict[str, type] = {}  # a config dict's "arch" -> its config class
ENCODERS: dict[str, "Part"] = {}
DECODERS: dict[str, "Part"] = {}


@dataclass(frozen=True)
class Sizes:
    """The flags that size a composed VAE's parts (main.py --model, --latent, --lstm-hidden,
    --mlp-hidden); each part's `sizes` turns them into its config."""

    report: object  # a model.VAEConfig: Model 1 or 2
    latent: int = 20
    lstm_hidden: int | None = None
    mlp_hidden: tuple[int, ...] = (400,)
    decoder_hidden: int = 256  # the lstm decoders' LSTM width
    decoder_alone: bool = False  # the lstm decoders ignore z
    row_dropout: float = 0.0  # the lstm decoders' dropout of the rows they read


@dataclass(frozen=True)
class Part:
    """An encoder (x -> mu, logvar of shape (B, *latent_shape)) or a decoder (z -> logits
    (B, 1, H, W)), and how to size and build it."""

    name: str
    config: type  # the config class its sizes come from
    build: Callable[[object], nn.Module]  # config -> module
    sizes: Callable[[Sizes], object]  # the composing flags -> config (the default sizes)
    help: str
    cpu_fast_path: bool = False  # its nn.ConvTranspose2d layers take fastconv's kernel on CPU
    uses_report_sizes: bool = False  # --model (Table 2) sizes it


def register_config(cls: type) -> type:
    """Class decorator: a config class, found again by its `arch` when a checkpoint is read."""
    if CONFIGS.get(cls.arch, cls) is not cls:
        raise ValueError(f"two config classes for arch {cls.arch!r}")
    CONFIGS[cls.arch] = cls
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
