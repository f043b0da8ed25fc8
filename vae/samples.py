"""Digits from a checkpoint: true samples from the prior, and digits of an asked class."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from vae.cli import UserError
from vae.files import load_model

PER_CLASS = 5
COVARIANCES = ("diagonal", "full")  # of the class Gaussians the per-class digits are drawn from
FULL_COV_MAX = 256  # a full covariance needs many more images per class than dimensions


def check_covariance(model, covariance: str) -> None:
    """One clear line where a full covariance is asked of a latent too large to fit one."""
    dims = math.prod(model.latent_shape)
    if covariance == "full" and dims > FULL_COV_MAX:
        raise UserError(f"--class-covariance full needs a latent of at most {FULL_COV_MAX} dimensions; this model's "
                        f"has {dims}")


def prior_samples(checkpoint: Path, n: int, seed: int) -> np.ndarray:
    """Decode n draws of z from the prior (N(0, I) unless the model has a flow prior), with the
    model rebuilt from the checkpoint alone."""
    images = load_model(checkpoint).sample(n, generator=torch.Generator().manual_seed(seed))
    return images.squeeze(1).numpy()  # (n, s, s)


def class_digits(model, data_root: Path, binarization: str, per_class: int, seed: int, limit: int | None = None,
                 covariance: str = "diagonal", device: torch.device | str = "cpu"):
    """per_class digits of each class 0-9, decoded from a Gaussian (diagonal or full covariance)
    fitted to that class's encoded training means (vae.measures.class_latent_gaussians), the
    training images binarized as the model saw them. Returns (digits (10*per_class, 1, s, s),
    asked labels), class-major."""
    from vae.data import images_as_trained
    from vae.files import load_mnist
    from vae.measures import class_latent_gaussians, sample_classes

    check_covariance(model, covariance)
    images, labels = load_mnist(data_root, train=True, with_labels=True)
    x = images_as_trained(images[:limit], model.cfg, binarization, device)
    means, scales = class_latent_gaussians(model, x, labels[:limit].to(device), full=covariance == "full")
    digits = sample_classes(model, means, scales, per_class, torch.Generator().manual_seed(seed))
    return digits, torch.arange(len(means), device=digits.device).repeat_interleave(per_class)


def digits_per_class(checkpoint: Path, data_root: Path, per_class: int, seed: int, limit: int | None = None,
                     covariance: str = "diagonal"):
    """class_digits of the model rebuilt from a checkpoint alone, as numpy images (10*per_class, s, s)."""
    from vae.files import load_checkpoint, model_from_state

    state = load_checkpoint(checkpoint)
    model = model_from_state(state, checkpoint)
    digits, asked = class_digits(model, data_root, state.get("train_config", {}).get("binarize", "none"), per_class,
                                 seed, limit, covariance)
    return digits.squeeze(1).numpy(), asked
