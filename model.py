"""The report's VAE: an LSTM encoder over the 28 image rows, a transpose-convolution decoder.

Sizes live in `VAEConfig`; every layer shape is derived from it. Importing this module
does nothing but define things.

Facts of the report's original code (they decide where the report's text is vague):
- mu and v come from two separate Linear(32, C) layers applied at every LSTM timestep,
  and v is used as a log-variance (std = exp(0.5 v)).
- z (B, 28, C) goes into the decoder by a plain reshape to (B, C, 28, 1), not a transpose.
- The training loss is BCE averaged over all pixels plus KL averaged over all latent
  elements (`training_loss`); the report's "regularization term" is that KL.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class VAEConfig:
    """Every size of the model. Defaults are the report's Model 1."""

    image_size: int = 28  # rows = LSTM sequence length, columns = LSTM input size
    lstm_hidden: int = 32  # h1
    lstm_layers: int = 1  # n
    latent_channels: int = 256  # h4 (Model 1) or h5 = 16 (Model 2)
    decoder_channels: tuple[int, ...] = (128, 64, 1)  # h3, h2, 1 (grey)
    kernel_size: int = 5
    stride: tuple[int, int] = (3, 1)  # (height, width), Table 2's s
    pool: tuple[int, int] = (3, 2)  # max-pool kernel = stride, Table 2's p
    dropout: float = 0.01  # Dropout2d after each block; 0 means no dropout layer

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "VAEConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown VAEConfig fields: {sorted(unknown)}")
        # tuples come back as lists from JSON
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


# Table 2's two models. Model 2: 32x16 fully connected layer and no dropout.
PRESETS = {
    1: VAEConfig(),
    2: VAEConfig(latent_channels=16, dropout=0.0),
}


def decoder_shapes(cfg: VAEConfig) -> list[tuple[tuple[int, int, int], tuple[int, int, int]]]:
    """(C, H, W) after each block's transpose convolution and after its pooling.

    For Model 1: (128, 86, 5) -> (128, 28, 2), (64, 86, 6) -> (64, 28, 3), (1, 86, 7) -> (1, 28, 3).
    """
    h, w = cfg.image_size, 1  # z reshaped to (C, 28, 1)
    shapes = []
    for c in cfg.decoder_channels:
        # transpose conv, no padding: (in - 1) * stride + kernel
        h = (h - 1) * cfg.stride[0] + cfg.kernel_size
        w = (w - 1) * cfg.stride[1] + cfg.kernel_size
        conv = (c, h, w)
        # max-pool, stride = kernel, floor
        h = (h - cfg.pool[0]) // cfg.pool[0] + 1
        w = (w - cfg.pool[1]) // cfg.pool[1] + 1
        shapes.append((conv, (c, h, w)))
    return shapes


class LossParts(NamedTuple):
    total: torch.Tensor
    bce: torch.Tensor
    kld: torch.Tensor


def _loss(recon, x, mu, logvar, per_image: bool) -> LossParts:
    # Grey levels in [0, 1] as BCE targets, as in the original.
    bce = F.binary_cross_entropy(recon, x, reduction="sum" if per_image else "mean")
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())  # KL(q || N(0, I)) per latent element
    kld = kl.sum() if per_image else kl.mean()
    if per_image:
        n = x.shape[0]
        bce, kld = bce / n, kld / n
    return LossParts(bce + kld, bce, kld)


def training_loss(recon, x, mu, logvar) -> LossParts:
    """The report's objective: BCE mean over all B*784 pixels + KL mean over all B*28*C latents.

    The 0.5 the report calls lambda is the KL formula's own factor, not an extra weight.
    """
    return _loss(recon, x, mu, logvar, per_image=False)


def negative_elbo(recon, x, mu, logvar) -> LossParts:
    """Evaluation measure: nats per image, BCE summed over 784 pixels + KL summed over latents,
    averaged over the images in the batch (pytorch/examples' "test set loss")."""
    return _loss(recon, x, mu, logvar, per_image=True)


class VAE(nn.Module):
    def __init__(self, cfg: VAEConfig = VAEConfig()):
        super().__init__()
        self.cfg = cfg
        self.lstm = nn.LSTM(cfg.image_size, cfg.lstm_hidden, cfg.lstm_layers, batch_first=True)
        self.fc_mu = nn.Linear(cfg.lstm_hidden, cfg.latent_channels)
        self.fc_logvar = nn.Linear(cfg.lstm_hidden, cfg.latent_channels)

        blocks = []
        in_ch = cfg.latent_channels
        for out_ch in cfg.decoder_channels:
            blocks.append(
                nn.Sequential(
                    nn.ConvTranspose2d(in_ch, out_ch, cfg.kernel_size, stride=cfg.stride),
                    nn.ReLU(),
                    nn.BatchNorm2d(out_ch),
                    nn.MaxPool2d(cfg.pool),
                    nn.Dropout2d(cfg.dropout) if cfg.dropout > 0 else nn.Identity(),
                )
            )
            in_ch = out_ch
        self.decoder = nn.Sequential(*blocks)
        last_w = decoder_shapes(cfg)[-1][1][2]  # 3 for both models
        self.fc_out = nn.Linear(last_w, cfg.image_size)  # Table 2's "Fully Connected(a19, 28)"

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        rows = x.reshape(x.shape[0], self.cfg.image_size, self.cfg.image_size)  # (B, 28, 28)
        h, _ = self.lstm(rows)  # (B, 28, 32), zero initial state
        h = F.relu(h)
        return self.fc_mu(h), self.fc_logvar(h)  # (B, 28, C) each

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std  # (B, 28, C)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        b = z.shape[0]
        # Plain reshape, not a transpose, as the original: (B, 28, C) -> (B, C, 28, 1).
        h = z.reshape(b, self.cfg.latent_channels, self.cfg.image_size, 1)
        h = self.decoder(h)  # (B, 1, 28, 3)
        return torch.sigmoid(self.fc_out(h))  # (B, 1, 28, 28)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decode n draws of z ~ N(0, I) of shape (28, C): true samples from the prior."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.cfg.image_size, self.cfg.latent_channels, generator=generator, device=device)
        return self.decode(z)  # (n, 1, 28, 28)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
