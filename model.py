"""The report's VAE: an LSTM reads the 28 image rows, a stack of transpose convolutions draws them.

    VAEConfig        every size (Table 2); PRESETS[1], PRESETS[2] are Model 1 and Model 2
    LSTMEncoder      x (B, 1, 28, 28) -> mu, logvar (B, 28, C): one latent row per image row
    ReportDecoder    z (B, 28, C) -> logits (B, 1, 28, 28): three transpose-conv blocks, then
                     Table 2's "Fully Connected(a19, 28)" on each row
    VAE              encode(x) -> (mu, logvar), reparameterize, decode(z), forward -> (recon, mu, logvar)
    training_loss    the training objective; negative_elbo the evaluation measure (nats per image)

The peers' encoders and decoders, and models composed of any encoder and decoder, are in
parts.py; `parts.build_model(cfg)` builds any of them. Importing this module does nothing
but define things.

Facts of the report's original code (they decide where the report's text is vague):
- mu and v come from two separate Linear(32, C) layers applied at every LSTM timestep,
  and v is used as a log-variance (std = exp(0.5 v)).
- z (B, 28, C) goes into the decoder by a plain reshape to (B, C, 28, 1), not a transpose.
- The training loss is BCE averaged over all pixels plus KL averaged over all latent
  elements (`training_loss`); the report's "regularization term" is that KL.

The decoder's last stage maps each row's 3 features to 28 logits with one shared
Linear(3, 28), so every image's logit matrix is H(z) W^T + 1 b^T: rank at most 4, built
from the same three column profiles (report/ablation.md measures what that costs).
`decoder_channels[-1] > 1` ("report-fullrank") widens that last map to remove the bound.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn


class _Config:
    """to_dict / from_dict shared by the configs; the dict carries the architecture's name."""

    arch: ClassVar[str]

    def to_dict(self) -> dict:
        return {"arch": self.arch, **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls, d: dict):
        d = dict(d)
        arch = d.pop("arch", cls.arch)  # checkpoints of the first release hold no "arch": LSTM
        if arch != cls.arch:
            raise ValueError(f"config is for arch {arch!r}, not {cls.arch!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown {cls.__name__} fields: {sorted(unknown)}")
        return cls(**{k: _tuples(v) for k, v in d.items()})


def _tuples(v):
    # JSON and pickles may hand tuples back as lists
    return tuple(_tuples(i) for i in v) if isinstance(v, (list, tuple)) else v


@dataclass(frozen=True)
class VAEConfig(_Config):
    """Every size of the report's model. Defaults are its Model 1."""

    arch: ClassVar[str] = "lstm"

    image_size: int = 28  # rows = LSTM sequence length, columns = LSTM input size
    lstm_hidden: int = 32  # h1
    lstm_layers: int = 1  # n
    latent_channels: int = 256  # h4 (Model 1) or h5 = 16 (Model 2)
    decoder_channels: tuple[int, ...] = (128, 64, 1)  # h3, h2, 1 (grey)
    kernel_size: int = 5
    stride: tuple[int, int] = (3, 1)  # (height, width), Table 2's s
    pool: tuple[int, int] = (3, 2)  # max-pool kernel = stride, Table 2's p
    dropout: float = 0.01  # Dropout2d after each block; 0 means no dropout layer
    reduction: str = "mean"  # training loss: means over pixels and latents (the original's)


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


class ReportDecoder(nn.Module):
    """The report's decoder, returning logits: z (B, 28, C) -> (B, 1, 28, 28).

    fast=True computes the transpose convolutions with GemmConvTranspose2d (same
    parameters, same state_dict, same math; faster on CPU)."""

    def __init__(self, cfg: VAEConfig, fast: bool = True):
        super().__init__()
        self.cfg = cfg
        conv = GemmConvTranspose2d if fast else nn.ConvTranspose2d
        blocks, in_ch = [], cfg.latent_channels
        for out_ch in cfg.decoder_channels:
            blocks.append(nn.Sequential(
                conv(in_ch, out_ch, cfg.kernel_size, stride=cfg.stride),
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


class VAEBase(nn.Module):
    """What every architecture shares: an encoder x -> (mu, logvar), a decoder z -> logits,
    an optional adapter between them, and z = mu + eps * std in between. `latent_shape` is
    z's shape per image (the encoder's).

    Checkpoints written before the parts existed name the layers flat (lstm.*, fc_out.*);
    `LEGACY_PREFIXES` maps them, so old checkpoints load unchanged."""

    LEGACY_PREFIXES: ClassVar[dict[str, str]] = {}

    def __init__(self, cfg: _Config, encoder: nn.Module, decoder: nn.Module, adapter: nn.Module | None = None):
        super().__init__()
        self.cfg = cfg
        self.encoder = encoder
        if adapter is not None:
            self.adapter = adapter
        self.decoder = decoder
        self.latent_shape = tuple(encoder.latent_shape)
        self._register_load_state_dict_pre_hook(self._upgrade_legacy_keys)

    def _upgrade_legacy_keys(self, state_dict, prefix, *args):
        keys = [k[len(prefix):] for k in state_dict if k.startswith(prefix)]
        if not any(_is_legacy_key(k) for k in keys):
            return
        for key in keys:
            for old, new in self.LEGACY_PREFIXES.items():
                if key.startswith(old):
                    state_dict[prefix + new + key[len(old):]] = state_dict.pop(prefix + key)
                    break

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(x)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        adapter = getattr(self, "adapter", None)
        return self.decoder(z if adapter is None else adapter(z))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel probabilities (B, 1, H, W)."""
        return torch.sigmoid(self.decode_logits(z))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decode n draws of z ~ N(0, I): true samples from the prior, (n, 1, H, W)."""
        device = next(self.parameters()).device
        z = torch.randn(n, *self.latent_shape, generator=generator, device=device)
        return self.decode(z)


def _is_legacy_key(key: str) -> bool:
    # New keys always go through a part: encoder.<name>., decoder.<name>., adapter.
    return not key.startswith(("encoder.", "decoder.", "adapter.")) or re.match(r"(encoder|decoder)\.\d", key) is not None


class VAE(VAEBase):
    """The report's model: LSTMEncoder -> per-row latents (28, C) -> ReportDecoder."""

    LEGACY_PREFIXES = {"lstm.": "encoder.lstm.", "fc_mu.": "encoder.fc_mu.", "fc_logvar.": "encoder.fc_logvar.",
                       "decoder.": "decoder.blocks.", "fc_out.": "decoder.fc_out."}

    def __init__(self, cfg: VAEConfig = VAEConfig(), fast: bool = True):
        super().__init__(cfg, LSTMEncoder(cfg), ReportDecoder(cfg, fast))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


class LossParts(NamedTuple):
    total: torch.Tensor
    bce: torch.Tensor
    kld: torch.Tensor


REDUCTIONS = ("mean", "sum", "per_image")


def vae_loss(recon, x, mu, logvar, reduction: str) -> LossParts:
    """BCE + KL(q(z|x) || N(0, I)), reduced over the batch in one of three ways:

    mean       BCE averaged over all pixels + KL averaged over all latent elements (001)
    sum        both summed over the whole batch (002, 003, 004, pytorch/examples)
    per_image  both summed per image, averaged over images: nats per image
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    # Grey levels in [0, 1] (or binarized pixels) as BCE targets, as every source does.
    bce = F.binary_cross_entropy(recon, x, reduction="mean" if reduction == "mean" else "sum")
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())  # per latent element
    kld = kl.mean() if reduction == "mean" else kl.sum()
    if reduction == "per_image":
        n = x.shape[0]
        bce, kld = bce / n, kld / n
    return LossParts(bce + kld, bce, kld)


# --objective: the report's mean-reduced loss, or the ELBO itself (nats per image).
OBJECTIVES = {"report": "mean", "elbo": "per_image"}


def training_loss(recon, x, mu, logvar, reduction: str = "mean") -> LossParts:
    """The training objective: the report's is reduction="mean" (BCE mean over all B*784
    pixels + KL mean over all B*28*C latents); the peers sum over the batch.

    The 0.5 the report calls lambda is the KL formula's own factor, not an extra weight.
    """
    return vae_loss(recon, x, mu, logvar, reduction)


def negative_elbo(recon, x, mu, logvar) -> LossParts:
    """Evaluation measure: nats per image, BCE summed over the pixels + KL summed over latents,
    averaged over the images in the batch (pytorch/examples' "test set loss")."""
    return vae_loss(recon, x, mu, logvar, "per_image")


def per_image_nats(parts: LossParts, reduction: str, x: torch.Tensor, mu: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(BCE, KL) of a training loss as nats per image, whatever its reduction (no extra pass)."""
    n = x.shape[0]
    if reduction == "mean":
        return parts.bce * x[0].numel(), parts.kld * mu[0].numel()
    if reduction == "sum":
        return parts.bce / n, parts.kld / n
    return parts.bce, parts.kld


@torch.no_grad()
def iwae_nats(model: VAEBase, x: torch.Tensor, k: int) -> torch.Tensor:
    """Importance-weighted bound (Burda et al.) as nats per image, one value per image (B,).

    -log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x), z_i ~ q(z|x), with p(x|z) the same
    grey-level Bernoulli (BCE summed over pixels) as `negative_elbo`. k = 1 is a
    one-sample estimate of the negative ELBO; it tightens as k grows.
    """
    mu, logvar = model.encode(x)  # (B, *latent_shape)
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


def prepare_images(images: torch.Tensor, cfg: _Config) -> torch.Tensor:
    """uint8 MNIST (N, 28, 28) on any device -> the model's input (N, 1, s, s) in [0, 1]."""
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


@torch.no_grad()
def active_units(model: VAEBase, x: torch.Tensor, batch_size: int = 500, threshold: float = 0.01) -> dict:
    """Latent dimensions in use over the images x: those whose KL(q(z|x) || N(0, 1)),
    averaged over x, exceeds `threshold` nats, and (Burda et al.'s count) those whose
    posterior mean varies over x by more than `threshold`."""
    model.eval()
    kl_sum, mus = 0, []
    for i in range(0, len(x), batch_size):
        mu, logvar = model.encode(x[i : i + batch_size])
        kl_sum = kl_sum + (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).flatten(1).sum(0)  # (D,)
        mus.append(mu.flatten(1))
    kl = kl_sum / len(x)
    var = torch.cat(mus).var(0)
    return {"latent_dims": kl.numel(), "active_kl": int((kl > threshold).sum()), "active_cov": int((var > threshold).sum())}


@torch.no_grad()
def class_latent_gaussians(model: VAEBase, x: torch.Tensor, labels: torch.Tensor, batch_size: int = 500,
                           full: bool = False):
    """Per class c, a Gaussian in latent space fitted to the encoded means mu(x) of class c's
    images: class c's region.

    Returns (means, scales): means (10, *latent_shape); scales the standard deviations
    (10, *latent_shape) of a diagonal Gaussian, or with full=True the Cholesky factors
    (10, D, D) of a full covariance over the flattened latent (D dimensions; only for
    small vector latents). Decoding draws from it gives digits of the asked class; draws
    from N(0, I) carry no class (002's "per digit" images).
    """
    model.eval()
    mus = torch.cat([model.encode(x[i : i + batch_size])[0] for i in range(0, len(x), batch_size)])
    classes = range(int(labels.max()) + 1)
    means = torch.stack([mus[labels == c].mean(0) for c in classes])
    if not full:
        return means, torch.stack([mus[labels == c].std(0) for c in classes])
    flat = mus.flatten(1)  # (N, D)
    eye = torch.eye(flat.shape[1], device=flat.device, dtype=flat.dtype)
    # a small ridge keeps the factor defined where a dimension is switched off
    scales = torch.stack([torch.linalg.cholesky(torch.cov(flat[labels == c].T) + 1e-6 * eye) for c in classes])
    return means, scales


@torch.no_grad()
def sample_classes(model: VAEBase, means, scales, per_class: int, generator: torch.Generator | None = None):
    """per_class decoded draws of each class's latent Gaussian (diagonal or full, as
    class_latent_gaussians made it): (10 * per_class, 1, H, W), class-major."""
    model.eval()
    eps = torch.randn(len(means), per_class, *means.shape[1:], generator=generator).to(means.device)
    if scales.shape == means.shape:  # diagonal
        z = means.unsqueeze(1) + eps * scales.unsqueeze(1)  # (10, per_class, *latent)
    else:  # full: L @ eps over the flattened latent
        z = means.unsqueeze(1) + (eps.flatten(2) @ scales.transpose(1, 2)).view_as(eps)
    return model.decode(z.flatten(0, 1))


# ---- Speed: the report's transpose convolutions as one matrix product each (CPU). ----


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
        gw = x2.t().to(gy.dtype) @ gy if ctx.needs_input_grad[1] else None  # x2 is bf16 under autocast
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
