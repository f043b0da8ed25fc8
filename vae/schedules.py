"""The learning-rate schedules (main.py --lr-schedule), one class each, registered by name once.

A schedule gives the learning rate of each epoch from the base rate (--lr) and the run's
length, and may name a stage that ends with an epoch: the trainer keeps
checkpoint_<stage>.pt then, to measure the test nats after each stage.
"""

from __future__ import annotations

import math
from typing import ClassVar

from vae.registry import SCHEDULES, register_schedule


class Schedule:
    name: ClassVar[str]
    help: ClassVar[str]

    def lr(self, base: float, epoch: int, epochs: int) -> float:
        """The learning rate of 0-based `epoch` of a run of `epochs`."""
        raise NotImplementedError

    def stage_ending(self, epoch: int) -> str | None:
        """The name of the stage that 0-based `epoch` ends, if any."""
        return None


@register_schedule
class Constant(Schedule):
    name = "constant"
    help = "--lr throughout (the report's)"

    def lr(self, base: float, epoch: int, epochs: int) -> float:
        return base


def burda_stage(epoch: int) -> int:
    """The stage of 0-based `epoch` in Burda et al.'s schedule: 0 | 1-3 | 4-12 | 13-39 | ..."""
    stage, end = 0, 1
    while epoch >= end:
        stage += 1
        end += 3**stage
    return stage


@register_schedule
class Burda(Schedule):
    """Burda, Grosse & Salakhutdinov (2016), "Importance Weighted Autoencoders": stage i = 0, 1, ...
    of 3^i passes at lr * 10^(-i/7). They ran stages 0-7, 3,280 passes; their code rounds the
    factor to 0.1."""

    name = "burda"
    help = ("Burda et al. (2016)'s stages i = 0, 1, ... of 3^i epochs at lr * 10^(-i/7), keeping "
            "checkpoint_stage<i>.pt at each stage's end (stages 0-5: 364 epochs)")

    def lr(self, base: float, epoch: int, epochs: int) -> float:
        return base * 10 ** (-burda_stage(epoch) / 7)

    def stage_ending(self, epoch: int) -> str | None:
        stage = burda_stage(epoch)
        return f"stage{stage}" if burda_stage(epoch + 1) != stage else None


@register_schedule
class Cosine(Schedule):
    """Loshchilov & Hutter (2017), "SGDR", without restarts: one half cosine from --lr down to 0
    over --epochs, a step per epoch. The curve follows --epochs, so a run resumed with more
    epochs continues on the longer curve."""

    name = "cosine"
    help = "lr * (1 + cos(pi * epoch / epochs)) / 2: a half cosine from --lr to 0 over --epochs"

    def lr(self, base: float, epoch: int, epochs: int) -> float:
        return base * (1 + math.cos(math.pi * epoch / epochs)) / 2


def schedule(name: str) -> Schedule:
    """The registered schedule `name`; ValueError naming the choices."""
    if name not in SCHEDULES:
        raise ValueError(f"lr schedule must be one of {sorted(SCHEDULES)}, got {name!r}")
    return SCHEDULES[name]()
