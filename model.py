"""The report's VAE: an LSTM reads the 28 image rows, a stack of transpose convolutions draws them.

    VAEConfig        every size (Table 2); PRESETS[1], PRESETS[2] are Model 1 and Model 2
    LSTMEncoder      x (B, 1, 28, 28) -> mu, logvar (B, 28, C): one latent row per image row
    ReportDecoder    z (B, 28, C) -> logits (B, 1, 28, 28): three transpose-conv blocks, then
                     Table 2's "Fully Connected(a19, 28)" on each row
    VAE              encode(x) -> (mu, logvar), reparameterize, decode(z), forward -> (recon, mu, logvar)
    training_loss    the report's training objective; negative_elbo the evaluation measure (nats per image)

This file holds the report's model and its loss alone. The peers' parts, the registry
that joins any encoder to any decoder, and `build_model` (which also swaps in the CPU
transpose-convolution kernel) are in the package `vae/`. Importing this module does
nothing but define things.

Facts of the report's original code (they decide where the report's text is vague):
- mu and v come from two separate Linear(32, C) layers applied at every LSTM timestep,
  and v is used as a log-variance (std = exp(0.5 v)).
- z (B, 28, C) goes into the decoder by a plain reshape to (B, C, 28, 1), not a transpose.
- The training loss is BCE averaged over all pixels plus KL averaged over all latent
  elements (`training_loss`, objective "report"); the report's "regularization term" is that KL.

The decoder's last stage maps each row's 3 features to 28 logits with one shared
Linear(3, 28), so every image's logit matrix is H(z) W^T + 1 b^T: rank at most 4, built
from the same three column profiles (report/ablation.md measures what that costs).
`decoder_channels[-1] > 1` ("report-fullrank") widens that last map to remove the bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class VAEConfig:
    """Every size of the report's model. Defaults are its Model 1."""

    arch: ClassVar[str] = "lstm"  # the name a saved config carries
    binarize: ClassVar[bool] = False  # the grey levels as they are (/ 255), as the original

    image_size: int = 28  # rows = LSTM sequence length, columns = LSTM input size
    lstm_hidden: int = 32  # h1
    lstm_layers: int = 1  # n
    latent_channels: int = 256  # h4 (Model 1) or h5 = 16 (Model 2)
    decoder_channels: tuple[int, ...] = (128, 64, 1)  # h3, h2, 1 (grey)
    kernel_size: int = 5
    stride: tuple[int, int] = (3, 1)  # (height, width), Table 2's s
    pool: tuple[int, int] = (3, 2)  # max-pool kernel = stride, Table 2's p
    dropout: float = 0.01  # Dropout2d after each block; 0 means no dropout layer
    objective: str = "report"  # the training loss: training_loss below (other names: vae/objectives.py)


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


class LSTMEncoder(nn.Module):
    """The report's encoder: LSTM over the rows, ReLU, then mu and logvar at every timestep."""

    def __init__(self, cfg: VAEConfig):
        super().__init__()
        self.cfg = cfg
        self.lstm = nn.LSTM(cfg.image_size, cfg.lstm_hidden, cfg.lstm_layers, batch_first=True)
        self.fc_mu = nn.Linear(cfg.lstm_hidden, cfg.latent_channels)
        self.fc_logvar = nn.Linear(cfg.lstm_hidden, cfg.latent_channels)
        self.latent_shape = (cfg.image_size, cfg.latent_channels)

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(x.shape[0], self.cfg.image_size, self.cfg.image_size)  # (B, 28, 28)
        # The LSTM stays fp32 under --bf16: oneDNN has no bf16 LSTM on CPUs without bf16
        # instructions, and it is a small share of the FLOPs.
        with torch.autocast(x.device.type, enabled=False):
            h, _ = self.lstm(rows.to(self.lstm.weight_ih_l0.dtype))  # (B, 28, H), zero initial state
        return h

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = F.relu(self.hidden(x))
        return self.fc_mu(h), self.fc_logvar(h)  # (B, 28, C) each


class ReportDecoder(nn.Module):
    """The report's decoder, returning logits: z (B, 28, C) -> (B, 1, 28, 28)."""

    def __init__(self, cfg: VAEConfig):
        super().__init__()
        self.cfg = cfg
        blocks, in_ch = [], cfg.latent_channels
        for out_ch in cfg.decoder_channels:
            blocks.append(nn.Sequential(
                nn.ConvTranspose2d(in_ch, out_ch, cfg.kernel_size, stride=cfg.stride),
                nn.ReLU(),
                nn.BatchNorm2d(out_ch),
                nn.MaxPool2d(cfg.pool),
                nn.Dropout2d(cfg.dropout) if cfg.dropout > 0 else nn.Identity(),
            ))
            in_ch = out_ch
        self.blocks = nn.Sequential(*blocks)
        channels, _, width = decoder_shapes(cfg)[-1][1]  # (1, 28, 3) for both models
        # Table 2's "Fully Connected(a19, 28)": one Linear(3, 28) on every row. With more
        # than one last channel, each row's channels x columns features go in together.
        self.fc_out = nn.Linear(channels * width, cfg.image_size)
        self.latent_shape = (cfg.image_size, cfg.latent_channels)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        b, rows = z.shape[0], self.cfg.image_size
        # Plain reshape, not a transpose, as the original: (B, 28, C) -> (B, C, 28, 1).
        h = self.blocks(z.reshape(b, self.cfg.latent_channels, rows, 1))  # (B, K, 28, 3)
        h = h.permute(0, 2, 1, 3).reshape(b, rows, -1)  # (B, 28, K*3): each row's features
        return self.fc_out(h).unsqueeze(1)  # (B, 1, 28, 28) logits


class StandardNormal(nn.Module):
    """The prior p(z) = N(0, I): the report's, and every model's unless a composed one takes
    another (vae/priors.py). A prior gives, per latent element, the KL of q(z|x) to it and
    the log ratio log p(z) - log q(z|x) at draws z = mu + eps * std; and draws of z."""

    def kl_elements(self, z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        return kl_per_element(mu, logvar)  # in closed form: the draw z is not needed

    def log_ratio_elements(self, z: torch.Tensor, eps: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        return -0.5 * z.pow(2) + 0.5 * eps.pow(2) + 0.5 * logvar  # the log(2 pi) terms cancel

    def sample(self, n: int, shape: tuple[int, ...], generator: torch.Generator | None, device) -> torch.Tensor:
        return torch.randn(n, *shape, generator=generator, device=device)


class VAEBase(nn.Module):
    """The VAE around any encoder x -> (mu, logvar) and decoder z -> logits, with an
    optional adapter between them and z = mu + eps * std in between. `latent_shape` is
    z's shape per image (the encoder's). The peers and composed models reuse it.

    An autoregressive decoder (`decoder.autoregressive`, vae/parts.py) also reads the image
    whose likelihood it gives (teacher forcing), and draws new images pixel by pixel."""

    def __init__(self, cfg, encoder: nn.Module, decoder: nn.Module, adapter: nn.Module | None = None,
                 prior: nn.Module | None = None):
        super().__init__()
        self.cfg = cfg
        self.encoder = encoder
        if adapter is not None:
            self.adapter = adapter
        self.decoder = decoder
        self.prior = StandardNormal() if prior is None else prior
        self.latent_shape = tuple(encoder.latent_shape)

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor | None = None) -> torch.Tensor:
        """z = mu + eps * std, a draw of N(mu, exp(logvar)): std = exp(0.5 logvar). eps is a
        fresh N(0, I) draw of mu's shape, or the caller's (the k-sample estimator's (k, B, ...))."""
        std = torch.exp(0.5 * logvar)
        if eps is None:
            eps = torch.randn_like(std)
        return mu + eps * std

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(x)

    def _adapted(self, z: torch.Tensor) -> torch.Tensor:
        adapter = getattr(self, "adapter", None)
        return z if adapter is None else adapter(z)

    def decode_logits(self, z: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of p(x|z), (B, 1, H, W); an autoregressive decoder needs the image x."""
        if getattr(self.decoder, "autoregressive", False):
            return self.decoder(self._adapted(z), x)
        return self.decoder(self._adapted(z))

    def decode(self, z: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        """Pixel probabilities (B, 1, H, W) of p(x|z)."""
        return torch.sigmoid(self.decode_logits(z, x))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar)
        return self.decode(z, x), mu, logvar

    @torch.no_grad()
    def generate(self, z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Pixel probabilities (B, 1, H, W) of new images from z alone; an autoregressive
        decoder gives each pixel's, given the pixels it drew before it."""
        if getattr(self.decoder, "autoregressive", False):
            return self.decoder.generate(self._adapted(z), generator)[1]
        return self.decode(z)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decode n draws of z from the prior (N(0, I) unless another): true samples, (n, 1, H, W)."""
        device = next(self.parameters()).device
        z = self.prior.sample(n, self.latent_shape, generator, device)
        return self.generate(z, generator)


class VAE(VAEBase):
    """The report's model: LSTMEncoder -> per-row latents (28, C) -> ReportDecoder."""

    def __init__(self, cfg: VAEConfig = VAEConfig()):
        super().__init__(cfg, LSTMEncoder(cfg), ReportDecoder(cfg))


class LossParts(NamedTuple):
    total: torch.Tensor
    bce: torch.Tensor
    kld: torch.Tensor


def kl_per_element(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, 1)) of every latent element. The 0.5 the report calls
    lambda is this formula's own factor, not an extra weight."""
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())


def negative_elbo(recon, x, mu, logvar, kl: torch.Tensor | None = None) -> LossParts:
    """The evaluation measure: nats per image, BCE summed over the pixels + KL summed over
    the latents, averaged over the images (pytorch/examples' "test set loss"). Grey levels
    in [0, 1] (or binarized pixels) are the BCE targets, as every source has them. `kl`:
    the KL per latent element where the prior is not N(0, I) (model.prior.kl_elements)."""
    n = x.shape[0]
    bce = F.binary_cross_entropy(recon, x, reduction="sum") / n
    kld = (kl_per_element(mu, logvar) if kl is None else kl).sum() / n
    return LossParts(bce + kld, bce, kld)


def training_loss(recon, x, mu, logvar) -> LossParts:
    """The report's training objective (its original code's): BCE averaged over all B*784
    pixels + KL averaged over all B*28*C latent elements. The other objectives a run can train
    with (--objective) are in vae/objectives.py."""
    bce = F.binary_cross_entropy(recon, x, reduction="mean")
    kld = kl_per_element(mu, logvar).mean()
    return LossParts(bce + kld, bce, kld)
