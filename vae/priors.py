"""The priors p(z) a composed model can take (main.py --prior), one class each, registered by
name once: "normal", N(0, I) (model.StandardNormal, every model's by default), and "maf", an
autoregressive flow over the latent (VLAE's autoregressive prior: Chen et al. 2017, "Variational
Lossy Autoencoder"; the flow of Papamakarios et al. 2017, "Masked Autoregressive Flow").

A prior gives, per latent element, the KL of q(z|x) to it and the log ratio
log p(z) - log q(z|x) at draws z = mu + eps * std (model.StandardNormal's interface); the
flow's are estimates at the draw, N(0, I)'s are in closed form.
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import nn

from model import StandardNormal
from vae.cli import positive_int
from vae.registry import Option, register_prior

LOG_2PI = math.log(2 * math.pi)


@register_prior
class Normal(StandardNormal):
    name: ClassVar[str] = "normal"
    help: ClassVar[str] = "N(0, I), the report's and the default"
    options: ClassVar[tuple[Option, ...]] = ()

    def __init__(self, latent_shape: tuple[int, ...] = ()):
        super().__init__()


class MADE(nn.Module):
    """A masked two-layer network (Germain et al. 2015) from z (N, D) to (shift, log-scale),
    each (N, D): output d sees z_0 .. z_{d-1} only. The last layer starts at zero, so a flow
    of them starts as the identity."""

    def __init__(self, dims: int, hidden: int):
        super().__init__()
        self.fc_in, self.fc_out = nn.Linear(dims, hidden), nn.Linear(hidden, 2 * dims)
        nn.init.zeros_(self.fc_out.weight)
        nn.init.zeros_(self.fc_out.bias)
        degree_in = torch.arange(dims)
        degree_hidden = torch.arange(hidden) % max(1, dims - 1)  # hidden unit k sees inputs 0..degree
        self.register_buffer("mask_in", (degree_hidden[:, None] >= degree_in[None, :]).float(), persistent=False)
        degree_out = torch.arange(dims).repeat(2)
        self.register_buffer("mask_out", (degree_out[:, None] > degree_hidden[None, :]).float(), persistent=False)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.relu(nn.functional.linear(z, self.fc_in.weight * self.mask_in, self.fc_in.bias))
        shift, log_scale = nn.functional.linear(h, self.fc_out.weight * self.mask_out, self.fc_out.bias).chunk(2, -1)
        return shift, torch.tanh(log_scale)  # a bounded scale keeps the flow's steps tame


PRIOR_LAYERS = Option("prior_layers", 2, "maf prior: autoregressive layers, the order reversed between them",
                      {"type": positive_int})
PRIOR_HIDDEN = Option("prior_hidden", 128, "maf prior: hidden units of each layer's masked network",
                      {"type": positive_int})


@register_prior
class MAF(nn.Module):
    """p(z): z, flattened to D elements, is taken by `layers` masked autoregressive steps
    u = (z - shift(z_<d)) * exp(-log_scale(z_<d)) (the order reversed between steps) to
    u ~ N(0, I): log p(z) = log N(u; 0, I) - sum of the log-scales. A draw inverts the steps,
    one element after the other."""

    name: ClassVar[str] = "maf"
    help: ClassVar[str] = "an autoregressive flow over z (Chen et al. 2017's prior): --prior-layers, --prior-hidden"
    options: ClassVar[tuple[Option, ...]] = (PRIOR_LAYERS, PRIOR_HIDDEN)

    def __init__(self, latent_shape: tuple[int, ...], prior_layers: int = 2, prior_hidden: int = 128):
        super().__init__()
        self.dims = math.prod(latent_shape)
        self.layers = nn.ModuleList(MADE(self.dims, prior_hidden) for _ in range(prior_layers))

    def log_prob_elements(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z) per element, (..., *latent_shape): N(u; 0, 1)'s log-density of the element's
        last value, less each step's log-scale of it; their sum over the latent is log p(z)."""
        flat = z.reshape(-1, self.dims)  # (N, D)
        order = torch.arange(self.dims, device=z.device)  # element j of h is z's element order[j]
        elements = torch.zeros_like(flat)
        h = flat
        for i, made in enumerate(self.layers):
            if i:
                h, order = h.flip(-1), order.flip(0)
            shift, log_scale = made(h)
            elements = elements.index_add(1, order, -log_scale)
            h = (h - shift) * torch.exp(-log_scale)
        elements = elements.index_add(1, order, -0.5 * h.pow(2) - 0.5 * LOG_2PI)
        return elements.view(z.shape)

    def kl_elements(self, z, mu, logvar):
        log_q = -0.5 * (z - mu).pow(2) / logvar.exp() - 0.5 * logvar - 0.5 * LOG_2PI
        return log_q - self.log_prob_elements(z)  # an estimate at the draw z

    def log_ratio_elements(self, z, eps, logvar):
        return self.log_prob_elements(z) + 0.5 * eps.pow(2) + 0.5 * logvar + 0.5 * LOG_2PI

    @torch.no_grad()
    def sample(self, n: int, shape: tuple[int, ...], generator: torch.Generator | None, device) -> torch.Tensor:
        dtype = self.layers[0].fc_in.weight.dtype
        h = torch.randn(n, self.dims, generator=generator, device=device, dtype=dtype)  # u
        for i in reversed(range(len(self.layers))):
            u, h = h, torch.zeros_like(h)
            for d in range(self.dims):  # element d needs the elements before it, drawn first
                shift, log_scale = self.layers[i](h)
                h[:, d] = u[:, d] * torch.exp(log_scale[:, d]) + shift[:, d]
            if i:
                h = h.flip(-1)
        return h.view(n, *shape)
