"""MNIST as a model sees it: uint8 images -> float input, shrunk or binarized as the config asks."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def prepare_images(images: torch.Tensor, cfg, device: torch.device | str | None = None) -> torch.Tensor:
    """uint8 MNIST (N, 28, 28) -> the model's input (N, 1, s, s) in [0, 1], on `device` (default:
    where the images are). For the report's model, the original's data / 255."""
    if device is not None:
        images = images.to(device)  # uint8 moves a quarter of the bytes that float would
    x = images.float().unsqueeze(1)  # (N, 1, 28, 28), 0..255
    size = cfg.image_size
    if size != x.shape[-1]:
        factor = x.shape[-1] // size
        if factor * size != x.shape[-1]:
            raise ValueError(f"image_size {size} must divide {x.shape[-1]}")
        x = F.avg_pool2d(x, factor)  # = cv2.resize's bilinear for an exact 2x shrink
    if cfg.binarize:
        return (x > 128).float()  # 004's threshold on the 0..255 scale
    return x.div_(255)


# --binarize: "none" keeps grey levels (the report's); "dynamic" draws every training batch
# afresh as u <= x, u ~ U(0, 1), and the test set once with a fixed seed (Burda et al. 2016).
BINARIZATIONS = ("none", "dynamic")
TEST_BINARIZATION_SEED = 123  # Burda et al.'s code binarizes its test set with seed 123


def binarize(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Pixels in [0, 1] -> 0 or 1, each 1 with probability x: u <= x with u uniform. Draws from
    `generator` (on x's device), else from torch's global generator, the run's seeded one."""
    u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return (u <= x).to(x.dtype)


def binarized_once(x: torch.Tensor, seed: int = TEST_BINARIZATION_SEED) -> torch.Tensor:
    """x binarized with its own CPU generator: the same pixels on every device and run."""
    return binarize(x.cpu(), torch.Generator().manual_seed(seed)).to(x.device)


def images_as_trained(images: torch.Tensor, cfg, binarization: str, device: torch.device | str | None = None):
    """Training images as the model saw them, for encoding (class-fitted latent Gaussians):
    a model trained with --binarize dynamic saw binary images, so they are binarized once."""
    x = prepare_images(images, cfg, device)
    return binarized_once(x, TEST_BINARIZATION_SEED) if binarization == "dynamic" else x
