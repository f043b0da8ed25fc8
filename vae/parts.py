"""Every encoder and decoder, registered one entry each, and the VAEs built from them.

    lstm, report         the report's parts (model.py); report-fullrank lifts its rank-4 bound
    lstm-vector          the report's LSTM, its last hidden state -> one latent vector
    conv                 002's convolutional VAE, latent 15 (ConvVAEConfig)
    mlp                  fully connected parts: 003, 004 and pytorch/examples (MLPVAEConfig)
    ComposedConfig       any encoder with any decoder (main.py --encoder/--decoder)

Every part has the same interface: an encoder maps x to (mu, logvar) of shape
(B, *latent_shape); a decoder maps z (B, *latent_shape) to logits (B, 1, H, W).
`build_model(cfg)` builds any model: the report's, a peer's, or a composed one.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from model import LSTMEncoder, ReportDecoder, VAEBase, VAEConfig, decoder_shapes
from vae.cli import non_negative_int, positive_int, unit_fraction
from vae.fastconv import use_gemm_transpose_convs
from vae.objectives import Objective
from vae.priors import Normal
from vae.registry import (DECODERS, ENCODERS, OBJECTIVES, PRIORS, Option, Part, config_from_dict, entry,
                          option_values, register_config, register_part)

register_config(VAEConfig)


class LSTMVectorEncoder(LSTMEncoder):
    """"lstm-vector": the report's LSTM, but only its last hidden state -> one latent (C,).

    No ReLU here: the last hidden state is tanh-bounded in (-1, 1), and a ReLU would drop
    its negative half, which the report's per-row heads can spare and one vector cannot.
    """

    def __init__(self, cfg: VAEConfig):
        super().__init__(cfg)
        self.latent_shape = (cfg.latent_channels,)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.hidden(x)[:, -1]  # (B, H): the state after the last row
        return self.fc_mu(h), self.fc_logvar(h)  # (B, C) each


@register_config
@dataclass(frozen=True)
class ConvVAEConfig:
    """002's convolutional VAE. Its printed summary gives 1,234,143 parameters."""

    arch: ClassVar[str] = "conv"
    binarize: ClassVar[bool] = False  # grey levels as they are
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
    objective: str = "elbo-sum"


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


@register_config
@dataclass(frozen=True)
class MLPVAEConfig:
    """A fully connected VAE; the decoder mirrors the encoder's hidden sizes. Defaults: 003."""

    arch: ClassVar[str] = "mlp"
    image_size: int = 28  # 14 for 004: MNIST shrunk by 2x2 averaging (its cv2.resize)
    binarize: bool = False  # 004: pixel > 128 of 255 -> 1
    hidden: tuple[int, ...] = (400, 200)
    latent: int = 20
    activation: str = "relu"  # or "tanh" (004)
    # 004's second head is the standard deviation itself (its KL uses log(std**2)), not a log-variance.
    std_head: bool = False
    objective: str = "elbo-sum"


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


@register_config
@dataclass(frozen=True)
class LSTMDecoderConfig:
    """An LSTM over the image rows that predicts row t from z and the rows above it."""

    arch: ClassVar[str] = "lstm-decoder"
    binarize: ClassVar[bool] = False
    image_size: int = 28
    latent: int = 20
    hidden: int = 256
    # z enters every row through a projection this wide: a narrow one keeps the LSTM's input
    # small (the likelihood's cost at k = 5,000 is the decoder's, 5,000 times over).
    z_input: int = 32
    masked: bool = False  # also a strictly lower-triangular map inside each row: pixels in raster order
    # masked: also a MADE of this many hidden units inside each row, fed the row's LSTM state,
    # so that a pixel depends on the pixels before it nonlinearly and by context (0: the
    # linear map alone, which weighs pixel i for pixel j alike in every row and image)
    row_hidden: int = 0
    uses_latent: bool = True  # False: z is ignored, an autoregressive model alone (the baseline z must beat)
    row_dropout: float = 0.0  # in training, each row above is hidden with this chance (Bowman et al. 2016)
    objective: str = "elbo"


class LSTMDecoder(nn.Module):
    """z (B, latent) and x (B, 1, s, s) -> logits (B, 1, s, s) of p(x|z) = prod_t p(row_t | z, rows < t).

    z sets the LSTM's first hidden state and enters at every row; the input at row t is row
    t-1 (zeros at t = 0), so training reads the whole image at once (teacher forcing). The
    logits of row t come from the state after it; with `masked`, pixel j of a row also sees
    pixels 0..j-1 of the same row through a masked linear map (MADE's mask, Germain et al.
    2015), and with `row_hidden` through a MADE's hidden layer too, which also reads the
    row's LSTM state. `generate` draws an image row by row (and pixel by pixel when masked).
    """

    autoregressive = True

    def __init__(self, cfg: LSTMDecoderConfig):
        super().__init__()
        self.cfg = cfg
        s, h = cfg.image_size, cfg.hidden
        self.z_state = nn.Linear(cfg.latent, h)  # the first hidden state
        self.z_input = nn.Linear(cfg.latent, cfg.z_input)  # z at every row
        self.lstm = nn.LSTM(s + cfg.z_input, h, batch_first=True)
        self.fc_out = nn.Linear(h, s)
        if cfg.masked:
            self.in_row = nn.Parameter(torch.zeros(s, s))
            self.register_buffer("mask", torch.ones(s, s).tril(-1), persistent=False)  # j sees i < j
        if cfg.row_hidden:
            if not cfg.masked:
                raise ValueError("row_hidden is a MADE inside each row: it needs masked=True")
            # MADE's degrees: hidden unit u sees pixels 0..degree[u] of its row and feeds the
            # pixels after them; degrees cycle over 0..s-2 (a unit of degree s-1 would feed none)
            degree = torch.arange(cfg.row_hidden) % (s - 1)
            self.row_in = nn.Linear(s, cfg.row_hidden, bias=False)
            self.row_state = nn.Linear(h, cfg.row_hidden)
            self.row_out = nn.Linear(cfg.row_hidden, s, bias=False)
            self.register_buffer("made_in", (torch.arange(s) <= degree[:, None]).float(), persistent=False)  # (U, s)
            self.register_buffer("made_out", (degree < torch.arange(s)[:, None]).float(), persistent=False)  # (s, U)
        self.latent_shape = (cfg.latent,)

    def _start(self, z: torch.Tensor):
        """The z-input of every row (B, z_input) and the LSTM's first state."""
        if not self.cfg.uses_latent:
            z = torch.zeros_like(z)
        h0 = torch.tanh(self.z_state(z)).unsqueeze(0)  # (1, B, H)
        return self.z_input(z), (h0, torch.zeros_like(h0))

    def _in_row(self, rows: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """The logits' part from pixels < j of each row (..., s), given the rows (..., s) and
        the LSTM states that predict them (..., H)."""
        if not self.cfg.masked:
            return 0
        logits = rows @ (self.in_row * self.mask).t()  # (..., s)
        if self.cfg.row_hidden:
            hidden = torch.relu(self.row_state(h) + rows @ (self.row_in.weight * self.made_in).t())  # (..., U)
            logits = logits + hidden @ (self.row_out.weight * self.made_out).t()  # (..., s)
        return logits

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        b, s = z.shape[0], self.cfg.image_size
        rows = x.reshape(b, s, s)  # (B, s, s)
        above = torch.cat([rows.new_zeros(b, 1, s), rows[:, :-1]], 1)  # row t's input: row t-1
        if self.training and self.cfg.row_dropout > 0:
            keep = torch.rand(b, s, 1, device=rows.device) >= self.cfg.row_dropout
            above = above * keep
        z_in, state = self._start(z)
        h, _ = self.lstm(torch.cat([above, z_in.unsqueeze(1).expand(b, s, -1)], 2), state)  # (B, s, H)
        return (self.fc_out(h) + self._in_row(rows, h)).unsqueeze(1)  # (B, 1, s, s) logits

    @torch.no_grad()
    def generate(self, z: torch.Tensor, generator: torch.Generator | None = None):
        """(images, probabilities, logits), each (B, 1, s, s): binary pixels drawn row by row
        (pixel by pixel when masked), and each pixel's probability and logit as they were at
        the moment it was drawn, given the pixels drawn before it. For a decoder whose order
        is right, forward gives the same logits for the drawn image (tests/test_lstm_decoder.py)."""
        b, s = z.shape[0], self.cfg.image_size
        z_in, state = self._start(z)
        row = z.new_zeros(b, s)
        images, logits = [], []
        for _ in range(s):
            h, state = self.lstm(torch.cat([row, z_in], 1).unsqueeze(1), state)
            base = self.fc_out(h[:, 0])  # (B, s)
            u = torch.rand(b, s, generator=generator, device=generator.device if generator else z.device).to(z.device)
            if self.cfg.masked:
                row, row_logits = z.new_zeros(b, s), z.new_empty(b, s)
                for j in range(s):  # pixel j given pixels < j of this row (those after it are still 0)
                    row_logits[:, j] = base[:, j] + self._in_row(row, h[:, 0])[:, j]
                    row[:, j] = (u[:, j] < torch.sigmoid(row_logits[:, j])).to(z.dtype)
            else:
                row_logits = base
                row = (u < torch.sigmoid(base)).to(z.dtype)
            images.append(row)
            logits.append(row_logits)
        images, logits = (torch.stack(t, 1).unsqueeze(1) for t in (images, logits))
        return images, torch.sigmoid(logits), logits


# report-fullrank: the last transpose convolution makes 16 channels instead of 1, so each
# row's logits come from 16 x 3 = 48 features through Linear(48, 28), and the logit matrix
# can reach rank 28. The smallest change that lifts the bound (3K >= 28 needs K >= 10);
# 16 keeps powers of two. It adds 25,305 parameters to Model 1's decoder.
FULLRANK_CHANNELS = 16


# The options of the composed parts; a part lists those its sizes read.
LATENT = Option("latent", 20, "latent size of the vector-latent parts (lstm-vector, conv, mlp, the lstm decoders)",
                {"type": positive_int})
LSTM_HIDDEN = Option("lstm_hidden", None, "LSTM hidden size of the lstm encoders; default the report's, "
                     f"{VAEConfig.lstm_hidden}", {"type": positive_int})
MLP_HIDDEN = Option("mlp_hidden", (400,), "hidden sizes of the mlp parts, the decoder mirroring them (pytorch/examples')",
                    {"type": positive_int, "nargs": "+", "metavar": "N"})
DECODER_HIDDEN = Option("decoder_hidden", 256, "LSTM hidden size of the lstm decoders", {"type": positive_int})
DECODER_ALONE = Option("decoder_alone", False, "the lstm decoders ignore z: an autoregressive model alone, the "
                       "baseline a latent must beat", {"action": "store_true"})
ROW_HIDDEN = Option("row_hidden", 0, "lstm-masked: hidden units of a MADE inside each row, fed the row's LSTM "
                    "state (0: the in-row map is linear)", {"type": non_negative_int})
ROW_DROPOUT = Option("row_dropout", 0.0, "lstm decoders: in training, hide each row they read with this chance",
                     {"type": unit_fraction})


def _lstm_sizes(o) -> VAEConfig:
    return o.report if o.lstm_hidden is None else dataclasses.replace(o.report, lstm_hidden=o.lstm_hidden)


def _lstm_decoder_sizes(o, masked: bool) -> LSTMDecoderConfig:
    return LSTMDecoderConfig(latent=o.latent, hidden=o.decoder_hidden, masked=masked, uses_latent=not o.decoder_alone,
                             row_dropout=o.row_dropout, row_hidden=o.row_hidden if masked else 0)


def _fullrank_sizes(o) -> VAEConfig:
    return dataclasses.replace(o.report, decoder_channels=o.report.decoder_channels[:-1] + (FULLRANK_CHANNELS,))


def _mlp_sizes(o) -> MLPVAEConfig:
    return MLPVAEConfig(hidden=tuple(o.mlp_hidden), latent=o.latent)


LSTM_DECODER_OPTIONS = (LATENT, DECODER_HIDDEN, DECODER_ALONE, ROW_DROPOUT)
for table, part in (
    (ENCODERS, Part("lstm", VAEConfig, LSTMEncoder, _lstm_sizes, "the report's: per-row latents 28xC",
                    options=(LSTM_HIDDEN,), uses_report_sizes=True)),
    (ENCODERS, Part("lstm-vector", VAEConfig, LSTMVectorEncoder,
                    lambda o: dataclasses.replace(_lstm_sizes(o), latent_channels=o.latent),
                    "the report's LSTM, its last state -> one vector", options=(LSTM_HIDDEN, LATENT),
                    uses_report_sizes=True)),
    (ENCODERS, Part("conv", ConvVAEConfig, ConvEncoder, lambda o: ConvVAEConfig(latent=o.latent), "002's",
                    options=(LATENT,))),
    (ENCODERS, Part("mlp", MLPVAEConfig, MLPEncoder, _mlp_sizes, "pytorch/examples'", options=(MLP_HIDDEN, LATENT))),
    (DECODERS, Part("report", VAEConfig, ReportDecoder, lambda o: o.report, "the report's",
                    cpu_fast_path=True, uses_report_sizes=True)),
    (DECODERS, Part("report-fullrank", VAEConfig, ReportDecoder, _fullrank_sizes,
                    f"the report's, last block {FULLRANK_CHANNELS} channels: no rank-4 bound",
                    cpu_fast_path=True, uses_report_sizes=True)),
    (DECODERS, Part("conv", ConvVAEConfig, ConvDecoder, lambda o: ConvVAEConfig(latent=o.latent), "002's",
                    options=(LATENT,))),
    (DECODERS, Part("mlp", MLPVAEConfig, MLPDecoder, _mlp_sizes, "pytorch/examples' (mirrors --mlp-hidden)",
                    options=(MLP_HIDDEN, LATENT))),
    (DECODERS, Part("lstm", LSTMDecoderConfig, LSTMDecoder, lambda o: _lstm_decoder_sizes(o, masked=False),
                    "an LSTM over the rows, each row's pixels together given z and the rows above",
                    options=LSTM_DECODER_OPTIONS)),
    (DECODERS, Part("lstm-masked", LSTMDecoderConfig, LSTMDecoder, lambda o: _lstm_decoder_sizes(o, masked=True),
                    "the lstm decoder with a masked map inside each row: pixels in raster order",
                    options=LSTM_DECODER_OPTIONS + (ROW_HIDDEN,))),
):
    register_part(table, part)

# The parts of each whole-model config (the report's and the peers' own models).
OWN_PARTS = {VAEConfig: ("lstm", "report"), ConvVAEConfig: ("conv", "conv"), MLPVAEConfig: ("mlp", "mlp")}


@register_config
@dataclass(frozen=True)
class ComposedConfig:
    """An encoder of ENCODERS and a decoder of DECODERS, each with its own sizes.

    The latent is the encoder's. Where the decoder takes another shape (per-row (28, C)
    against one vector), a Linear adapter maps z to it; `compose` sizes vector parts
    alike, so that vector to vector needs none."""

    arch: ClassVar[str] = "composed"
    encoder: str
    decoder: str
    encoder_sizes: object
    decoder_sizes: object
    objective: str = "elbo"
    # The objective's option values, (name, value) for each of its options in their order:
    # the elbo objective's free bits and KL warm-up against posterior collapse (vae/objectives.py).
    objective_options: tuple[tuple[str, object], ...] = ()
    # p(z) (vae/priors.py) and its option values, as the objective's
    prior: str = "normal"
    prior_options: tuple[tuple[str, object], ...] = ()

    def __post_init__(self):
        objective = entry("objective", self.objective)
        objective(**dict(self.objective_options))  # refuses options it has not
        prior = entry("prior", self.prior)
        unknown = set(dict(self.prior_options)) - {o.name for o in prior.options}
        if unknown:
            raise ValueError(f"prior {self.prior!r} has no option {sorted(unknown)}")
        if self.prior != Normal.name and not objective.any_prior:
            raise ValueError(f"the {self.objective} objective takes N(0, I) as the prior, not {self.prior}")
        for kind, name, sizes in (("encoder", self.encoder, self.encoder_sizes),
                                  ("decoder", self.decoder, self.decoder_sizes)):
            if not isinstance(sizes, entry(kind, name).config):
                raise ValueError(f"{kind} {name!r} takes {entry(kind, name).config.__name__} sizes, "
                                 f"not {type(sizes).__name__}")
        if self.encoder_sizes.image_size != self.decoder_sizes.image_size:
            raise ValueError("encoder and decoder must have the same image_size")
        if self.decoder == "report-fullrank":
            channels, rows, width = decoder_shapes(self.decoder_sizes)[-1][1]
            if channels * width < rows:
                raise ValueError(f"report-fullrank needs at least {rows} features per row, has {channels * width}")

    @staticmethod
    def upgrade(d: dict) -> dict:
        """A dict written before objective_options, with free_bits and kl_warmup as fields of their own."""
        legacy = {k: d.pop(k) for k in ("free_bits", "kl_warmup") if k in d}
        objective = OBJECTIVES.get(d.get("objective", "elbo"))
        if "objective_options" not in d and objective is not None:
            known = {o.name for o in objective.options}
            d["objective_options"] = tuple(objective(**{k: v for k, v in legacy.items() if k in known}).values.items())
        return d

    @property
    def image_size(self) -> int:
        return self.encoder_sizes.image_size

    @property
    def binarize(self) -> bool:
        return self.encoder_sizes.binarize


def adapter(enc_shape: tuple[int, ...], dec_shape: tuple[int, ...]) -> nn.Module | None:
    """None where the shapes agree, else Linear(prod(enc_shape), prod(dec_shape)) reshaped."""
    if tuple(enc_shape) == tuple(dec_shape):
        return None
    return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(enc_shape), math.prod(dec_shape)), nn.Unflatten(1, dec_shape))


def compose(encoder: str, decoder: str, options=None, objective: str = "elbo",
            objective_options: dict | None = None, prior: str = Normal.name) -> ComposedConfig:
    """The ComposedConfig of main.py's --encoder/--decoder/--objective: each part sized by its
    entry from `options` (registry.option_values; default: every option's default, Model 1),
    the objective with its option values (all of its options, in their order)."""
    options = option_values(VAEConfig()) if options is None else options
    values = entry("objective", objective)(**(objective_options or {})).values
    prior_values = tuple((o.name, getattr(options, o.name)) for o in entry("prior", prior).options)
    return ComposedConfig(encoder, decoder, entry("encoder", encoder).sizes(options),
                          entry("decoder", decoder).sizes(options), objective, tuple(values.items()), prior,
                          prior_values)


def objective_of(cfg) -> Objective:
    """The training objective of a model config, with a composed model's option values."""
    return OBJECTIVES[cfg.objective](**dict(cfg.objective_options if isinstance(cfg, ComposedConfig) else ()))


def part_names(cfg) -> tuple[str, str]:
    """(encoder, decoder) registry names of any model config."""
    if isinstance(cfg, ComposedConfig):
        return cfg.encoder, cfg.decoder
    if type(cfg) not in OWN_PARTS:
        raise ValueError(f"no model for a {type(cfg).__name__}")
    return OWN_PARTS[type(cfg)]


def build_model(cfg, device: torch.device | str = "cpu") -> VAEBase:
    """The model of `cfg`, on `device`. On CPU the parts registered with a fast path take
    fastconv's transpose-convolution kernel; on CUDA cuDNN's own kernels are faster
    (benchmarks/README.md)."""
    device = torch.device(device)
    enc_name, dec_name = part_names(cfg)
    enc_sizes, dec_sizes = (cfg.encoder_sizes, cfg.decoder_sizes) if isinstance(cfg, ComposedConfig) else (cfg, cfg)
    encoder, decoder = ENCODERS[enc_name].build(enc_sizes), DECODERS[dec_name].build(dec_sizes)
    prior = PRIORS[cfg.prior](encoder.latent_shape, **dict(cfg.prior_options)) if isinstance(cfg, ComposedConfig) \
        else None
    model = VAEBase(cfg, encoder, decoder, adapter(encoder.latent_shape, decoder.latent_shape), prior)
    if device.type == "cpu":
        for part, module in ((ENCODERS[enc_name], encoder), (DECODERS[dec_name], decoder)):
            if part.cpu_fast_path:
                use_gemm_transpose_convs(module)
    return model.to(device)


def model_config(d: dict):
    """A checkpoint's model config, checked to name a model build_model can make."""
    cfg = config_from_dict(d)
    part_names(cfg)
    return cfg
