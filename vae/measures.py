"""Evaluation measures of a trained VAE: the importance-weighted bound, active units, and
the class-fitted latent Gaussians that per-class digits are drawn from."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from model import kl_per_element


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# Decoder rows per pass of the importance-weighted bound: the samples of one image batch go
# through the decoder in chunks of about this many images, so memory stays bounded whatever k is.
ROWS_PER_PASS = 1000


def log_weights(model, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor):
    """The log importance weights log p(x|z_i) + log p(z_i) - log q(z_i|x) of the draws
    z_i = mu + eps_i * std, (c, B), the decoder's logits of them (c*B, 1, H, W) and the draws;
    eps is (c, B, *latent_shape). p(x|z) is the Bernoulli of the logits, p(z) the model's prior."""
    c, b = eps.shape[0], x.shape[0]
    z = model.reparameterize(mu, logvar, eps)  # (c, B, *latent_shape), the model's own draw of q(z|x)
    targets = x.expand(c, *x.shape).flatten(0, 1)
    logits = model.decode_logits(z.flatten(0, 1), targets)  # (c*B, 1, H, W)
    log_px = -F.binary_cross_entropy_with_logits(logits, targets, reduction="none").flatten(1).sum(1).view(c, b)
    log_ratio = model.prior.log_ratio_elements(z, eps, logvar).flatten(2).sum(2)  # (c, B): log p(z) - log q(z|x)
    return log_px + log_ratio, logits, z


@torch.no_grad()
def iwae_nats(model, x: torch.Tensor, k: int, rows: int = ROWS_PER_PASS,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """The importance-weighted bound (Burda et al. 2016) in nats, one value per image (B,):

        -log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x),   z_i ~ q(z|x),

    with p(x|z) the Bernoulli of the decoder's logits (for grey-level x, the same BCE as
    `negative_elbo`: no normalised likelihood). k = 1 is a one-sample negative ELBO; the
    bound tightens towards -log p(x) as k grows. The k samples go through the decoder in
    chunks of about `rows` images, and their log-mean-exp is accumulated chunk by chunk.
    """
    mu, logvar = model.encode(x)  # (B, *latent_shape)
    b = x.shape[0]
    per_pass = max(1, rows // b)
    total = torch.full((b,), -math.inf, device=x.device, dtype=mu.dtype)
    for start in range(0, k, per_pass):
        c = min(per_pass, k - start)
        eps = torch.randn((c, *mu.shape), generator=generator, device=x.device, dtype=mu.dtype)
        total = torch.logaddexp(total, torch.logsumexp(log_weights(model, x, mu, logvar, eps)[0], 0))
    return -(total - math.log(k))


@torch.no_grad()
def active_units(model, x: torch.Tensor, batch_size: int = 500, threshold: float = 0.01) -> dict:
    """Latent dimensions in use over the images x: those whose KL(q(z|x) || N(0, 1)),
    averaged over x, exceeds `threshold` nats, and (Burda et al.'s count) those whose
    posterior mean varies over x by more than `threshold`."""
    model.eval()
    kl_sum, mus = 0, []
    for i in range(0, len(x), batch_size):
        mu, logvar = model.encode(x[i : i + batch_size])
        kl_sum = kl_sum + kl_per_element(mu, logvar).flatten(1).sum(0)  # (D,)
        mus.append(mu.flatten(1))
    kl = kl_sum / len(x)
    var = torch.cat(mus).var(0)
    return {"latent_dims": kl.numel(), "active_kl": int((kl > threshold).sum()), "active_cov": int((var > threshold).sum())}


@torch.no_grad()
def reconstruction_accuracy(model, judge, x: torch.Tensor, labels: torch.Tensor, generator: torch.Generator | None = None,
                            batch_size: int = 500) -> float:
    """The share of images x whose reconstruction the judge classifier reads as their label.
    Each is decoded from its posterior mean alone (`generate`): an autoregressive decoder
    draws its own pixels instead of reading x's, so the class has to pass through z."""
    from vae.classifier import predict

    model.eval()
    recon = torch.cat([model.generate(model.encode(x[i : i + batch_size])[0], generator)
                       for i in range(0, len(x), batch_size)])  # (N, 1, H, W) pixel probabilities
    return (predict(judge, recon) == labels.to(recon.device)).float().mean().item()


@torch.no_grad()
def class_latent_gaussians(model, x: torch.Tensor, labels: torch.Tensor, batch_size: int = 500,
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
def sample_classes(model, means, scales, per_class: int, generator: torch.Generator | None = None):
    """per_class decoded draws of each class's latent Gaussian (diagonal or full, as
    class_latent_gaussians made it): (10 * per_class, 1, H, W), class-major."""
    model.eval()
    eps = torch.randn(len(means), per_class, *means.shape[1:], generator=generator).to(means.device)
    if scales.shape == means.shape:  # diagonal
        z = means.unsqueeze(1) + eps * scales.unsqueeze(1)  # (10, per_class, *latent)
    else:  # full: L @ eps over the flattened latent
        z = means.unsqueeze(1) + (eps.flatten(2) @ scales.transpose(1, 2)).view_as(eps)
    return model.generate(z.flatten(0, 1), generator)


