"""The report's original training loop, re-created for the benchmarks that measure ours
against it (benchmarks/train_step.py, benchmarks/original_run.py); main.py never runs it."""

from __future__ import annotations

import torch

from model import training_loss


def original_loop(model, opt, train_data, batch_size, steps, device, klds: list | None = None) -> list[float]:
    """The report's original training loop re-created, as far as its facts go: plain torch
    modules (the caller's), a DataLoader over train.data / 255 in order, gradients asked for
    the input images, every batch's reconstructions copied to the host and its loss read
    with .item(). Runs `steps` batches; returns their losses (and appends their KLDs to klds).
    benchmarks/train_step.py times it against ours; benchmarks/original_run.py trains with it."""
    # Its own generator: a DataLoader iterator otherwise draws a seed from the global RNG,
    # which would put the two loops' eps and dropout masks out of step.
    loader = torch.utils.data.DataLoader(train_data, batch_size=batch_size, shuffle=False, generator=torch.Generator())
    losses, recons = [], []
    for i, x in enumerate(loader):
        if i == steps:
            break
        x = x.view(-1, 1, 28, 28).to(device).requires_grad_()
        recon, mu, logvar = model(x)
        parts = training_loss(recon, x, mu, logvar)
        opt.zero_grad()
        parts.total.backward()
        opt.step()
        losses.append(parts.total.item())
        if klds is not None:
            klds.append(parts.kld.item())
        recons.append(recon.detach().cpu().numpy())
    return losses
