"""The training objectives (main.py --objective), one class each, registered by name once.

An objective turns a batch's reconstructions and posterior into the loss that is minimised
(`loss`), and says what that loss's two terms are in nats per image, whatever its reduction
(`per_image`). Its options are declared on the class (their flags follow) and their values
held by the instance. The evaluation measure is always model.negative_elbo.
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
import torch.nn.functional as F

from model import LossParts, negative_elbo, training_loss
from vae.cli import non_negative_float, non_negative_int, positive_int
from vae.measures import log_weights
from vae.registry import Option, register_objective


def elbo_pass(model, x: torch.Tensor):
    """One draw z of q(z|x) through the model: (reconstructions, mu, logvar, the KL to the
    model's prior per latent element), the KL from the values in x's precision."""
    mu, logvar = model.encode(x)
    z = model.reparameterize(mu, logvar)
    recon = model.decode(z, x)
    kl = model.prior.kl_elements(*(t.to(x.dtype) for t in (z, mu, logvar)))
    return recon, mu, logvar, kl


class Objective:
    """A training objective with its options' values (each option's default unless given)."""

    name: ClassVar[str]
    help: ClassVar[str]
    options: ClassVar[tuple[Option, ...]] = ()
    sums_batch: ClassVar[bool] = False  # the loss is a sum over the batch's images, not a mean
    any_prior: ClassVar[bool] = True  # its KL is the model prior's (False: N(0, I)'s closed form)

    def __init__(self, **values):
        defaults = {o.name: o.default for o in self.options}
        unknown = set(values) - set(defaults)
        if unknown:
            raise ValueError(f"objective {self.name!r} has no option {sorted(unknown)}")
        self.values = {**defaults, **values}

    def forward(self, model, x: torch.Tensor):
        """The batch's pass through the model: (reconstructions, mu, logvar, what else `loss`
        needs: here the KL to the model's prior per latent element)."""
        return elbo_pass(model, x)

    def loss(self, recon, x, mu, logvar, kl_weight: float = 1.0, extra=None) -> LossParts:
        """The loss to minimise and its BCE and KL terms, in the objective's own units."""
        raise NotImplementedError

    def per_image(self, parts: LossParts, x: torch.Tensor, mu: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(BCE, KL) of a loss as nats per image (no extra pass)."""
        return parts.bce, parts.kld

    def kl_weight(self, epoch: int) -> float:
        """The KL's weight in 0-based `epoch` (KL warm-up); 1 unless an option says otherwise."""
        return 1.0


@register_objective
class Report(Objective):
    name = "report"
    help = "BCE averaged over all B*784 pixels + KL averaged over all B*28*C latents (001)"
    any_prior = False

    def forward(self, model, x):
        recon, mu, logvar = model(x)  # the original's pass; its KL is N(0, I)'s closed form
        return recon, mu, logvar, None

    def loss(self, recon, x, mu, logvar, kl_weight=1.0, extra=None):
        return training_loss(recon, x, mu, logvar)

    def per_image(self, parts, x, mu):
        return parts.bce * x[0].numel(), parts.kld * mu[0].numel()  # means over pixels and over latent elements


FREE_BITS = Option("free_bits", 0.0, "elbo objective: each latent dimension's KL counts at least this many nats",
                   {"type": non_negative_float})
KL_WARMUP = Option("kl_warmup", 0, "elbo objective: the KL's weight rises linearly to 1 over this many epochs",
                   {"type": non_negative_int})


def shaped_kl(parts: LossParts, kl: torch.Tensor, free_bits: float, weight: float) -> LossParts:
    """The elbo objective with its KL term shaped against posterior collapse: each latent
    dimension's KL, averaged over the batch, counts at least `free_bits` nats (Kingma et al.
    2016), and the term is weighted by `weight` (KL warm-up, Bowman et al. 2016). `bce` and
    `kld` stay the ELBO's own terms. `kl`: the KL per latent element (B, *latent_shape)."""
    kl = kl.flatten(1).mean(0)  # (D,): nats per latent dimension
    term = kl.clamp(min=free_bits).sum() if free_bits else parts.kld
    return LossParts(parts.bce + weight * term, parts.bce, parts.kld)


@register_objective
class ELBO(Objective):
    name = "elbo"
    help = "BCE and KL summed per image, averaged over the batch: the negative ELBO, nats per image"
    options = (FREE_BITS, KL_WARMUP)

    def loss(self, recon, x, mu, logvar, kl_weight=1.0, extra=None):
        parts = negative_elbo(recon, x, mu, logvar, extra)
        free_bits = self.values["free_bits"]
        if free_bits or kl_weight != 1:
            parts = shaped_kl(parts, extra, free_bits, kl_weight)
        return parts

    def kl_weight(self, epoch):
        warmup = self.values["kl_warmup"]  # rises linearly to 1 at epoch warmup - 1
        return 1.0 if not warmup else min(1.0, (epoch + 1) / warmup)


@register_objective
class ELBOSum(Objective):
    name = "elbo-sum"
    help = "BCE and KL summed over the whole batch (002, 003, 004, pytorch/examples)"
    sums_batch = True

    def loss(self, recon, x, mu, logvar, kl_weight=1.0, extra=None):
        bce = F.binary_cross_entropy(recon, x, reduction="sum")
        kld = extra.sum()
        return LossParts(bce + kld, bce, kld)

    def per_image(self, parts, x, mu):
        return parts.bce / x.shape[0], parts.kld / x.shape[0]


IWAE_K = Option("iwae_k", 5, "iwae objective: importance samples per image", {"type": positive_int})


@register_objective
class IWAE(Objective):
    """Burda et al. (2016)'s importance-weighted bound as the loss: k draws of q(z|x) per
    image, one encoder pass, the k decodes in one batch. The BCE and KL it reports are the
    first draw's BCE and KL, the ELBO's terms, for the history."""

    name = "iwae"
    help = "the importance-weighted bound of --iwae-k samples (Burda et al. 2016), nats per image"
    options = (IWAE_K,)

    def forward(self, model, x):
        mu, logvar = model.encode(x)
        eps = torch.randn((self.values["iwae_k"], *mu.shape), device=x.device, dtype=mu.dtype)
        log_w, logits, z = log_weights(model, x, mu, logvar, eps)  # (k, B)
        kl = model.prior.kl_elements(*(t.to(x.dtype) for t in (z[0], mu, logvar)))  # the first draw's
        return torch.sigmoid(logits[: x.shape[0]]), mu, logvar, (log_w, kl)

    def loss(self, recon, x, mu, logvar, kl_weight=1.0, extra=None):
        log_w, kl = extra
        log_w = log_w.to(x.dtype)  # (k, B); under --bf16 the loss is still summed in x's precision
        bound = -(torch.logsumexp(log_w, 0) - math.log(log_w.shape[0])).mean()
        elbo = negative_elbo(recon, x, mu, logvar, kl)  # the first draw's terms, for the history
        return LossParts(bound, elbo.bce, elbo.kld)
