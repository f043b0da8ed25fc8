"""Command-line helpers the scripts share: one-line argument errors, bounded numbers,
the device, and the wrapper that turns a UserError into one line and exit status 2."""

from __future__ import annotations

import argparse
import functools
import math
import os
import sys
from pathlib import Path

import torch


class UserError(Exception):
    """A problem with the user's input, reported as one line without a traceback (see `cli`)."""


class Interrupted(UserError):
    """Ctrl-C, said in one line with what was kept; exit status 130, as a shell gives it."""


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line, without the usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _bounded(kind, low, what):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value >= low or (kind is float and not math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text}")
        return value

    return parse


positive_int = _bounded(int, 1, "at least 1")
non_negative_int = _bounded(int, 0, "at least 0")
non_negative_float = _bounded(float, 0.0, "a number of at least 0")


def unit_fraction(text):
    value = non_negative_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be below 1, got {text}")
    return value
positive_float = _bounded(float, 1e-300, "a positive number")


def with_default(help: str, default) -> str:
    """A flag's help ending in its default, written from the value itself, never by hand."""
    if default is None or isinstance(default, bool):
        return help
    shown = " ".join(map(str, default)) if isinstance(default, tuple) else str(default)
    return f"{help}; default {shown}"


def labelled_folders(items: list[str]) -> list[tuple[str, Path]]:
    """LABEL=FOLDER arguments as (label, folder) pairs; the folder may start with ~."""
    pairs = []
    for item in items:
        label, sep, folder = item.rpartition("=")
        if not sep or not label:
            raise UserError(f"{item!r} is not LABEL=FOLDER")
        pairs.append((label, Path(folder).expanduser()))
    return pairs


def pick_device(name: str) -> torch.device:
    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    if name == "auto":
        name = "cuda" if cuda else "mps" if mps else "cpu"
    if (name == "cuda" and not cuda) or (name == "mps" and not mps):
        raise UserError(f"--device {name} was asked for, but this machine has no {name.upper()} device that PyTorch can use")
    return torch.device(name)



def cli(prog: str):
    """Decorate a script's main(argv): a UserError becomes one line on stderr and exit status 2;
    a closed stdout pipe ends the script without a traceback."""

    def wrap(main):
        @functools.wraps(main)
        def run(argv=None) -> int:
            try:
                return main(argv)
            except Interrupted as e:
                print(f"\n{prog}: {e}", file=sys.stderr)
                return 130
            except UserError as e:
                print(f"{prog}: error: {e}", file=sys.stderr)
                return 2
            except BrokenPipeError:
                # the reader of stdout left (`| head`): stop quietly, as Python's docs advise, so
                # that the flush at exit does not fail a second time
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                return 1

        return run

    return wrap
