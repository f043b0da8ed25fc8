"""The small MNIST classifier that judges whether generated digits show the asked class
(the script classifier.py trains it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from vae.cli import UserError
from vae.files import load_checkpoint


@dataclass(frozen=True)
class ClassifierConfig:
    channels: tuple[int, int] = (32, 64)
    kernel: int = 5
    image_size: int = 28
    classes: int = 10


class Classifier(nn.Module):
    def __init__(self, cfg: ClassifierConfig = ClassifierConfig()):
        super().__init__()
        self.cfg = cfg
        c1, c2 = cfg.channels
        pad = cfg.kernel // 2
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, cfg.kernel, padding=pad), nn.ReLU(), nn.MaxPool2d(2),  # (B, 32, 14, 14)
            nn.Conv2d(c1, c2, cfg.kernel, padding=pad), nn.ReLU(), nn.MaxPool2d(2),  # (B, 64, 7, 7)
            nn.Flatten(),
        )
        self.head = nn.Linear(c2 * (cfg.image_size // 4) ** 2, cfg.classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.cfg.image_size:  # 14x14 digits: enlarge as the eye would see them
            x = F.interpolate(x, size=self.cfg.image_size, mode="bilinear", align_corners=False)
        return self.head(self.features(x))  # (B, 10) logits


@torch.no_grad()
def predict(model: Classifier, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    model.eval()
    return torch.cat([model(x[i : i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])


def load_classifier(path: Path, device="cpu") -> Classifier:
    state = load_checkpoint(path, map_location=device)
    try:
        model = Classifier(ClassifierConfig(**{k: tuple(v) if isinstance(v, list) else v
                                                for k, v in state["config"].items()}))
        model.load_state_dict(state["model"])
    except (TypeError, RuntimeError) as e:
        raise UserError(f"{path} is not a classifier written by classifier.py ({str(e).splitlines()[0]})") from None
    return model.to(device).eval()
