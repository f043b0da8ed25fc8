"""Digits from a checkpoint: true samples from the prior, and digits of an asked class."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from vaeio import load_model

PER_CLASS = 5


def prior_samples(checkpoint: Path, n: int, seed: int) -> np.ndarray:
    """Decode n draws of z ~ N(0, I) with the model rebuilt from the checkpoint alone."""
    images = load_model(checkpoint).sample(n, generator=torch.Generator().manual_seed(seed))
    return images.squeeze(1).numpy()  # (n, s, s)


def digits_per_class(checkpoint: Path, data_root: Path, per_class: int, seed: int, limit: int | None = None):
    """per_class digits of each class 0-9, decoded from a Gaussian fitted to that class's encoded
    training means (model.class_latent_gaussians). Returns (images (10*per_class, s, s), asked labels)."""
    from model import class_latent_gaussians, prepare_images, sample_classes
    from vaeio import load_mnist

    model = load_model(checkpoint)
    images, labels = load_mnist(data_root, train=True, with_labels=True)
    x = prepare_images(images[:limit], model.cfg)
    means, stds = class_latent_gaussians(model, x, labels[:limit])
    out = sample_classes(model, means, stds, per_class, torch.Generator().manual_seed(seed))
    asked = torch.arange(len(means)).repeat_interleave(per_class)
    return out.squeeze(1).numpy(), asked
