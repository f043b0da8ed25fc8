"""The peers' encoders and decoders, and VAEs that join any encoder to any decoder.

    conv           ConvVAEConfig   002's convolutional VAE, latent 15
    mlp            MLPVAEConfig    003's 784-400-200-20
    mlp14          MLPVAEConfig    004's 14x14 binarized MNIST, 196-128-8
    examples       MLPVAEConfig    pytorch/examples' 784-400-20
    composed       ComposedConfig  any encoder of ENCODERS with any decoder of DECODERS (main.py --encoder/--decoder)
    lstm-repaired  ComposedConfig  the repaired LSTM VAE of report/ablation.md

Every part has the same interface: an encoder maps x to (mu, logvar) of shape
(B, *latent_shape); a decoder maps z (B, *latent_shape) to logits (B, 1, H, W).
`build_model(cfg)` builds any architecture, the report's (model.VAE) included.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from model import LSTMEncoder, LSTMVectorEncoder, ReportDecoder, VAE, VAEBase, VAEConfig, _Config, decoder_shapes


@dataclass(frozen=True)
class ConvVAEConfig(_Config):
    """002's convolutional VAE. Its printed summary gives 1,234,143 parameters."""

    arch: ClassVar[str] = "conv"
    image_size: int = 28
    encoder_channels: tuple[int, ...] = (32, 64, 128, 256)  # Conv2d k4 s2 p1 each: 28 -> 14 -> 7 -> 3 -> 1
    encoder_kernel: int = 4
    latent: int = 15
    # (out channels, kernel, stride, padding) per ConvTranspose2d: 1 -> 3 -> 7 -> 14 -> 28.
    # Its text gives the last layer as k3 s1 p0, which would make 16x16 and 289 parameters;
    # its summary (28x28, 513 = 32*16 + 1 parameters) says k4 s2 p1, as the issue does.
    decoder: tuple[tuple[int, int, int, int], ...] = ((128, 3, 1, 0), (64, 5, 2, 1), (32, 4, 2, 1), (1, 4, 2, 1))
    # The document sums BCE-with-logits; sigmoid then BCE is the same function except where
    # float32 saturates (log clamped at -100), and keeps decode() returning probabilities.
    reduction: str = "sum"


class ConvEncoder(nn.Module):
    def __init__(self, cfg: ConvVAEConfig):
        super().__init__()
        layers, in_ch, size = [], 1, cfg.image_size
        for out_ch in cfg.encoder_channels:
            layers += [nn.Conv2d(in_ch, out_ch, cfg.encoder_kernel, stride=2, padding=1), nn.ReLU()]
            in_ch, size = out_ch, (size + 2 - cfg.encoder_kernel) // 2 + 1
        if size != 1:
            raise ValueError(f"the encoder must end at 1x1, got {size}x{size}")
        self.net = nn.Sequential(*layers, nn.Flatten())
        self.fc_stats = nn.Linear(in_ch, 2 * cfg.latent)  # mu and logvar side by side
        self.latent_shape = (cfg.latent,)

    def forward(self, x):
        mu, logvar = self.fc_stats(self.net(x)).chunk(2, dim=1)  # (B, 15) each
        return mu, logvar


class ConvDecoder(nn.Module):
    def __init__(self, cfg: ConvVAEConfig):
        super().__init__()
        in_ch = cfg.encoder_channels[-1]
        self.fc = nn.Linear(cfg.latent, in_ch)
        layers = [nn.Unflatten(1, (in_ch, 1, 1)), nn.ReLU()]
        for i, (out_ch, k, s, p) in enumerate(cfg.decoder):
            layers.append(nn.ConvTranspose2d(in_ch, out_ch, k, stride=s, padding=p))
            if i < len(cfg.decoder) - 1:
                layers.append(nn.ReLU())
            in_ch = out_ch
        self.net = nn.Sequential(*layers)
        self.latent_shape = (cfg.latent,)

    def forward(self, z):
        return self.net(self.fc(z))  # (B, 1, 28, 28) logits


class ConvVAE(VAEBase):
    LEGACY_PREFIXES = {"encoder.": "encoder.net.", "fc_stats.": "encoder.fc_stats.",
                       "fc_decode.": "decoder.fc.", "decoder.": "decoder.net."}

    def __init__(self, cfg: ConvVAEConfig = ConvVAEConfig()):
        super().__init__(cfg, ConvEncoder(cfg), ConvDecoder(cfg))


@dataclass(frozen=True)
class MLPVAEConfig(_Config):
    """A fully connected VAE; the decoder mirrors the encoder's hidden sizes. Defaults: 003."""

    arch: ClassVar[str] = "mlp"
    image_size: int = 28  # 14 for 004: MNIST shrunk by 2x2 averaging (its cv2.resize)
    binarize: bool = False  # 004: pixel > 128 of 255 -> 1
    hidden: tuple[int, ...] = (400, 200)
    latent: int = 20
    activation: str = "relu"  # or "tanh" (004)
    # 004's second head is the standard deviation itself (its KL uses log(std**2)), not a log-variance.
    std_head: bool = False
    reduction: str = "sum"


def _stack(sizes, activation: str) -> nn.Sequential:
    act = {"relu": nn.ReLU, "tanh": nn.Tanh}[activation]
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), act()]
    return nn.Sequential(*layers)


class MLPEncoder(nn.Module):
    def __init__(self, cfg: MLPVAEConfig):
        super().__init__()
        self.std_head = cfg.std_head
        self.net = _stack((cfg.image_size**2, *cfg.hidden), cfg.activation)
        self.fc_mu = nn.Linear(cfg.hidden[-1], cfg.latent)
        self.fc_var = nn.Linear(cfg.hidden[-1], cfg.latent)  # logvar, or std when std_head
        self.latent_shape = (cfg.latent,)

    def forward(self, x):
        h = self.net(x.flatten(1))  # (B, hidden[-1])
        v = self.fc_var(h)
        logvar = torch.log(v.pow(2)) if self.std_head else v  # (B, latent)
        return self.fc_mu(h), logvar


class MLPDecoder(nn.Module):
    def __init__(self, cfg: MLPVAEConfig):
        super().__init__()
        self.size = cfg.image_size
        self.net = _stack((cfg.latent, *reversed(cfg.hidden)), cfg.activation)
        self.fc_out = nn.Linear(cfg.hidden[0], cfg.image_size**2)
        self.latent_shape = (cfg.latent,)

    def forward(self, z):
        return self.fc_out(self.net(z)).view(-1, 1, self.size, self.size)  # (B, 1, s, s) logits


class MLPVAE(VAEBase):
    LEGACY_PREFIXES = {"encoder.": "encoder.net.", "fc_mu.": "encoder.fc_mu.", "fc_var.": "encoder.fc_var.",
                       "decoder.": "decoder.net.", "fc_out.": "decoder.fc_out."}

    def __init__(self, cfg: MLPVAEConfig = MLPVAEConfig()):
        super().__init__(cfg, MLPEncoder(cfg), MLPDecoder(cfg))


# ---- Any encoder with any decoder (issue 11's ablation). ----

# name -> (the config class its sizes come from, the part)
ENCODERS = {
    "lstm": (VAEConfig, LSTMEncoder),  # the report's: per-row latents (28, C)
    "lstm-vector": (VAEConfig, LSTMVectorEncoder),  # the report's LSTM, last hidden state -> (C,)
    "conv": (ConvVAEConfig, ConvEncoder),
    "mlp": (MLPVAEConfig, MLPEncoder),
}
DECODERS = {
    "report": (VAEConfig, ReportDecoder),
    "report-fullrank": (VAEConfig, ReportDecoder),  # last block widened: see compose()
    "conv": (ConvVAEConfig, ConvDecoder),
    "mlp": (MLPVAEConfig, MLPDecoder),
}
# report-fullrank: the last transpose convolution makes 16 channels instead of 1, so each
# row's logits come from 16 x 3 = 48 features through Linear(48, 28), and the logit matrix
# can reach rank 28. The smallest change that lifts the bound (3K >= 28 needs K >= 10);
# 16 keeps powers of two. It adds 25,305 parameters to Model 1's decoder.
FULLRANK_CHANNELS = 16
# Sizes of a vector-latent MLP part: pytorch/examples' (784-400-20), the anchor row's.
MLP_PART_HIDDEN = (400,)


@dataclass(frozen=True)
class ComposedConfig(_Config):
    """An encoder of ENCODERS and a decoder of DECODERS, each with its source's sizes.

    The latent is the encoder's. Where the decoder takes another shape (per-row (28, C)
    against one vector), a Linear adapter maps z to it; `compose` sizes vector parts
    alike, so that vector to vector needs none."""

    arch: ClassVar[str] = "composed"
    encoder: str
    decoder: str
    encoder_sizes: _Config
    decoder_sizes: _Config
    reduction: str = "per_image"  # --objective elbo

    def __post_init__(self):
        for kind, name, sizes, table in (("encoder", self.encoder, self.encoder_sizes, ENCODERS),
                                         ("decoder", self.decoder, self.decoder_sizes, DECODERS)):
            if name not in table:
                raise ValueError(f"unknown {kind} {name!r}: choose from {sorted(table)}")
            if not isinstance(sizes, table[name][0]):
                raise ValueError(f"{kind} {name!r} takes {table[name][0].__name__} sizes, not {type(sizes).__name__}")
        if self.encoder_sizes.image_size != self.decoder_sizes.image_size:
            raise ValueError("encoder and decoder must have the same image_size")
        if self.decoder == "report-fullrank":
            channels, rows, width = decoder_shapes(self.decoder_sizes)[-1][1]
            if channels * width < rows:
                raise ValueError(f"report-fullrank needs at least {rows} features per row, has {channels * width}")

    @property
    def image_size(self) -> int:
        return self.encoder_sizes.image_size

    @property
    def binarize(self) -> bool:
        return getattr(self.encoder_sizes, "binarize", False)

    def to_dict(self) -> dict:
        return {"arch": self.arch, "encoder": self.encoder, "decoder": self.decoder,
                "encoder_sizes": self.encoder_sizes.to_dict(), "decoder_sizes": self.decoder_sizes.to_dict(),
                "reduction": self.reduction}

    @classmethod
    def from_dict(cls, d: dict):
        d = dict(d)
        if d.pop("arch", cls.arch) != cls.arch:
            raise ValueError(f"config is not for arch {cls.arch!r}")
        try:
            d["encoder_sizes"] = config_from_dict(d["encoder_sizes"])
            d["decoder_sizes"] = config_from_dict(d["decoder_sizes"])
            return cls(**d)
        except (KeyError, TypeError) as e:
            raise ValueError(f"incomplete or unknown ComposedConfig fields ({e})") from None


def adapter(enc_shape: tuple[int, ...], dec_shape: tuple[int, ...]) -> nn.Module | None:
    """None where the shapes agree, else Linear(prod(enc_shape), prod(dec_shape)) reshaped."""
    if tuple(enc_shape) == tuple(dec_shape):
        return None
    return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(enc_shape), math.prod(dec_shape)), nn.Unflatten(1, dec_shape))


class ComposedVAE(VAEBase):
    def __init__(self, cfg: ComposedConfig, fast: bool = True):
        enc = ENCODERS[cfg.encoder][1](cfg.encoder_sizes)
        dec_cls = DECODERS[cfg.decoder][1]
        dec = dec_cls(cfg.decoder_sizes, fast) if dec_cls is ReportDecoder else dec_cls(cfg.decoder_sizes)
        super().__init__(cfg, enc, dec, adapter(enc.latent_shape, dec.latent_shape))


def compose(encoder: str, decoder: str, report: VAEConfig = VAEConfig(), latent: int = 20,
            lstm_hidden: int | None = None, mlp_hidden: tuple[int, ...] = MLP_PART_HIDDEN,
            objective_reduction: str = "per_image") -> ComposedConfig:
    """The ComposedConfig of main.py's --encoder/--decoder: report parts take the report's
    sizes (`report`, Model 1 or 2), vector parts a latent of `latent`; `lstm_hidden`
    widens the LSTM of either LSTM encoder, `mlp_hidden` sizes the MLP parts (the decoder
    mirrors them)."""
    lstm = report if lstm_hidden is None else dataclasses.replace(report, lstm_hidden=lstm_hidden)
    vector = {
        "conv": ConvVAEConfig(latent=latent),
        "mlp": MLPVAEConfig(hidden=tuple(mlp_hidden), latent=latent),
    }
    encoders = {"lstm": lstm, "lstm-vector": dataclasses.replace(lstm, latent_channels=latent), **vector}
    fullrank = report.decoder_channels[:-1] + (FULLRANK_CHANNELS,)
    decoders = {"report": report, "report-fullrank": dataclasses.replace(report, decoder_channels=fullrank), **vector}
    for kind, name, table in (("encoder", encoder, encoders), ("decoder", decoder, decoders)):
        if name not in table:
            raise ValueError(f"unknown {kind} {name!r}: choose from {sorted(table)}")
    return ComposedConfig(encoder, decoder, encoders[encoder], decoders[decoder], objective_reduction)


# Each source's sizes. "lstm" is the report's Model 1; Model 2 is model.PRESETS[2].
ARCH_PRESETS = {
    "lstm": VAEConfig(),
    "conv": ConvVAEConfig(),
    "mlp": MLPVAEConfig(),
    "mlp14": MLPVAEConfig(image_size=14, binarize=True, hidden=(128,), latent=8, activation="tanh", std_head=True),
    "examples": MLPVAEConfig(hidden=(400,), latent=20),
    # The repaired LSTM VAE (report/ablation.md): one latent vector from the LSTM's last
    # state, a wider LSTM, an MLP decoder of two hidden layers, trained on the ELBO itself.
    "lstm-repaired": compose("lstm-vector", "mlp", latent=20, lstm_hidden=256, mlp_hidden=(512, 512)),
}
_MODELS = {VAEConfig: VAE, ConvVAEConfig: ConvVAE, MLPVAEConfig: MLPVAE, ComposedConfig: ComposedVAE}


def config_from_dict(d: dict) -> _Config:
    """Any architecture's config from its to_dict() (a checkpoint's "config")."""
    if not isinstance(d, dict):
        raise ValueError(f"a model config must be a dict, not {type(d).__name__}")
    arch = d.get("arch", "lstm")
    for cls in _MODELS:
        if cls.arch == arch:
            return cls.from_dict(d)
    raise ValueError(f"unknown architecture {arch!r}")


def build_model(cfg: _Config, device: torch.device | str = "cpu") -> VAEBase:
    """The model of `cfg`, on `device`. The report's transpose convolutions take the GEMM
    path on CPU only: on CUDA cuDNN's own kernels ran its training step 1.24x faster
    (H100, benchmarks/train_step.py --device cuda)."""
    device = torch.device(device)
    fast = device.type == "cpu"
    cls = _MODELS[type(cfg)]
    model = cls(cfg, fast) if cls in (VAE, ComposedVAE) else cls(cfg)
    return model.to(device)
