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
import math
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


@torch.no_grad()
def iwae_nats(model: "VAE", x: torch.Tensor, k: int) -> torch.Tensor:
    """Importance-weighted bound (Burda et al.) as nats per image, one value per image (B,).

    -log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x), z_i ~ q(z|x), with p(x|z) the same
    grey-level Bernoulli (BCE summed over pixels) as `negative_elbo`. k = 1 is a
    one-sample estimate of the negative ELBO; it tightens as k grows.
    """
    mu, logvar = model.encode(x)  # (B, 28, C)
    std = torch.exp(0.5 * logvar)
    log_w = []
    for _ in range(k):
        eps = torch.randn_like(std)
        z = mu + eps * std
        recon = model.decode(z)
        log_px = -F.binary_cross_entropy(recon, x, reduction="none").flatten(1).sum(1)
        # log N(z; 0, I) - log N(z; mu, std^2); the log(2 pi) terms cancel
        log_ratio = (-0.5 * z.pow(2) + 0.5 * eps.pow(2) + 0.5 * logvar).flatten(1).sum(1)
        log_w.append(log_px + log_ratio)
    log_w = torch.stack(log_w)  # (k, B)
    return -(torch.logsumexp(log_w, 0) - math.log(k))


class _RowOverlapAdd(torch.autograd.Function):
    """out = overlap-add over rows of (x2 @ w2): input row i's kernel row k lands on output row s*i + k.

    x2 (B*H, K) and w2 (K, KH*N) give y (B, H, KH, N); out is (B, (H-1)*s + KH, N) with
    bias (N,) added. The backward of the overlap-add is a gather of row windows, which
    `Tensor.unfold` gives as a view, so both directions are one matrix product each.
    """

    @staticmethod
    def forward(ctx, x2, w2, bias, batch, rows, kh, stride):
        n = bias.numel()
        y = (x2 @ w2).view(batch, rows, kh, n)
        # Output padded to whole strides, so that row s*m + r is the plain view [m, r].
        q = -(-kh // stride)
        out = bias.expand(batch, (rows + q - 1) * stride, n).contiguous()
        phases = out.view(batch, rows + q - 1, stride, n)
        for a in range(q):
            r = min(stride, kh - a * stride)
            phases[:, a : a + rows, :r] += y[:, :, a * stride : a * stride + r]
        ctx.save_for_backward(x2, w2)
        ctx.dims = (batch, rows, kh, stride, n)
        return out[:, : (rows - 1) * stride + kh]

    @staticmethod
    def backward(ctx, grad):
        x2, w2 = ctx.saved_tensors
        batch, rows, kh, stride, n = ctx.dims
        gy = grad.unfold(1, kh, stride).transpose(2, 3).reshape(batch * rows, kh * n)  # (B*H, KH*N)
        gx = gy @ w2.t() if ctx.needs_input_grad[0] else None
        gw = x2.t() @ gy if ctx.needs_input_grad[1] else None
        gb = grad.sum((0, 1)) if ctx.needs_input_grad[2] else None
        return gx, gw, gb, None, None, None, None


class GemmConvTranspose2d(nn.ConvTranspose2d):
    """nn.ConvTranspose2d (same parameters and state_dict) computed as one matrix product.

    The decoder's inputs are 1 to 3 columns wide, for which the library kernels are slow
    on the CPU. Input column j feeds output columns s_w*j .. s_w*j + KW - 1, so the
    columns are unrolled into the product's inner dimension with one zero-padded copy
    of the kernel each; only the rows then overlap. Returns channels-last memory, which
    the following ReLU, BatchNorm and pooling keep.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.padding != (0, 0) or self.output_padding != (0, 0) or self.dilation != (1, 1) or self.groups != 1:
            raise ValueError("GemmConvTranspose2d supports no padding, dilation or groups")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, cin, h, w = x.shape
        _, cout, kh, kw = self.weight.shape
        sh, sw = self.stride
        wo = (w - 1) * sw + kw
        taps = self.weight.permute(0, 2, 3, 1)  # (Cin, KH, KW, Cout)
        unrolled = torch.stack([F.pad(taps, (0, 0, j * sw, wo - kw - j * sw)) for j in range(w)])  # (W, Cin, KH, Wo, Cout)
        x2 = x.permute(0, 2, 3, 1).reshape(b * h, w * cin)  # (B*H, W*Cin), free when x is channels-last
        out = _RowOverlapAdd.apply(x2, unrolled.reshape(w * cin, kh * wo * cout), self.bias.repeat(wo), b, h, kh, sh)
        return out.view(b, -1, wo, cout).permute(0, 3, 1, 2)  # (B, Cout, Ho, Wo), channels-last


class VAE(nn.Module):
    def __init__(self, cfg: VAEConfig = VAEConfig(), fast: bool = True):
        """fast=True computes the transpose convolutions with GemmConvTranspose2d; fast=False
        with the plain torch module. Same parameters, same state_dict, same math."""
        super().__init__()
        self.cfg = cfg
        self.lstm = nn.LSTM(cfg.image_size, cfg.lstm_hidden, cfg.lstm_layers, batch_first=True)
        self.fc_mu = nn.Linear(cfg.lstm_hidden, cfg.latent_channels)
        self.fc_logvar = nn.Linear(cfg.lstm_hidden, cfg.latent_channels)

        blocks = []
        in_ch = cfg.latent_channels
        conv = GemmConvTranspose2d if fast else nn.ConvTranspose2d
        for out_ch in cfg.decoder_channels:
            blocks.append(
                nn.Sequential(
                    conv(in_ch, out_ch, cfg.kernel_size, stride=cfg.stride),
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
