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
    if getattr(cfg, "binarize", False):
        return (x > 128).float()  # 004's threshold on the 0..255 scale
    return x.div_(255)
