"""The training loop's pieces: one step (eager or a CUDA graph), one epoch, the test-set
evaluation, and RNG state for exact resumes."""

from __future__ import annotations

import math

import torch
from tqdm import tqdm

from model import LossParts, negative_elbo
from vae.data import binarize
from vae.objectives import Objective, Report, elbo_pass

# Per-epoch history, in checkpoint.pt and model.pk. The first two are the original's keys.
HISTORY_KEYS = (
    "train_loss_history",  # last batch's loss, as Table 1
    "train_regularization_terms",  # last batch's KLD, as Table 1
    "train_loss_epoch_mean",
    "train_kld_epoch_mean",
    "test_negative_elbo",  # nats per image
    "test_bce",  # nats per image
    "test_kld",  # nats per image
    "epoch_seconds",  # training pass only
    "eval_seconds",
    "train_bce_epoch_mean",  # nats per image, measured during the training pass
    "step_bce",  # one list per epoch: every step's BCE in nats per image (the ELBO's first term)
    "step_kld",  # one list per epoch: every step's KL in nats per image
)


def rng_state(shuffle_gen: torch.Generator, device: torch.device) -> dict:
    state = {"torch": torch.get_rng_state(), "shuffle": shuffle_gen.get_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict, shuffle_gen: torch.Generator, device: torch.device) -> None:
    # The checkpoint is loaded onto the training device; RNG states must be CPU byte tensors.
    torch.set_rng_state(state["torch"].cpu())
    shuffle_gen.set_state(state["shuffle"].cpu())
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"].cpu(), device)


class TrainingDiverged(Exception):
    """The training loss became NaN or infinite; `step` is the first such step of the epoch."""

    def __init__(self, step: int):
        super().__init__(f"non-finite loss at step {step}")
        self.step = step


def weights_finite(model: torch.nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


class TrainStep:
    """One optimisation step on the batch data[idx]: eager, or replayed from a CUDA graph.

    At batch 100 a GPU step is bound by kernel launches; replaying the whole step (forward,
    backward, Adam) as one CUDA graph launches it once, with the same losses
    (benchmarks/README.md gives the speed-up). The graph is captured after WARMUP eager steps on a side
    stream, as PyTorch's CUDA-graph docs ask, and reused for every full batch of the run;
    a short last batch runs eagerly. Its outputs are static buffers: use them before the
    next call. Gradients are zeroed, never set to None, so the graph's buffers stay put.
    """

    WARMUP = 3

    def __init__(self, model, opt, data, batch_size, objective: Objective | None = None, bf16=False, graph=False,
                 binarize=False):
        self.model, self.opt, self.data = model, opt, data
        self.batch_size, self.bf16 = batch_size, bf16
        self.objective = objective or Report()  # the report's unless another is given
        self.binarize = binarize  # draw each batch's binary pixels afresh (--binarize dynamic)
        self.kl_weight = 1.0
        self.use_graph = graph
        self._forget_graph()

    def set_lr(self, lr: float) -> None:
        """The learning rate of the steps to come (a graph captured with another one is captured anew)."""
        if any(group["lr"] != lr for group in self.opt.param_groups):
            for group in self.opt.param_groups:
                group["lr"] = lr
            self._forget_graph()

    def set_kl_weight(self, weight: float) -> None:
        """The KL's weight in the steps to come (KL warm-up); a graph holds the one it was captured with."""
        if weight != self.kl_weight:
            self.kl_weight = weight
            self._forget_graph()

    def _forget_graph(self) -> None:
        """Capture anew at the next full batch: a graph holds the learning rate it was captured with."""
        self.graph, self.static_idx, self.static_out = None, None, None
        self.warmed = 0

    def _step(self, idx):
        x = self.data[idx]  # (B, 1, 28, 28)
        if self.binarize:
            x = binarize(x)  # from the global generator: seeded, saved with the run, graph-safe
        with torch.autocast(self.data.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            recon, mu, logvar, extra = self.objective.forward(self.model, x)
        # BCE is unsafe under autocast: the loss in the data's precision (a no-op without --bf16)
        recon, mu, logvar = recon.to(x.dtype), mu.to(x.dtype), logvar.to(x.dtype)
        # A diverged model makes NaN pixels, which BCE refuses with an error (on CUDA a device
        # assert that ends the process). Give BCE a number and mark the step's BCE as NaN
        # instead, so train_epoch stops there with one line. Finite values pass unchanged.
        broken = torch.isnan(recon).any()
        parts = self.objective.loss(recon.nan_to_num(nan=0.5), x, mu, logvar, self.kl_weight, extra)
        self.opt.zero_grad(set_to_none=not self.use_graph)
        parts.total.backward()
        self.opt.step()
        parts = LossParts(*(t.detach() for t in parts))
        nats = torch.stack(self.objective.per_image(parts, x, mu))  # (2,): BCE, KL per image
        return recon.detach(), parts, torch.where(broken, torch.full_like(nats, math.nan), nats)

    def __call__(self, idx):
        """(reconstructions, LossParts, the step's BCE and KL in nats per image) of batch data[idx]."""
        if not self.use_graph or idx.numel() != self.batch_size:
            return self._step(idx)
        if self.graph is None and self.warmed < self.WARMUP:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                out = self._step(idx)
            torch.cuda.current_stream().wait_stream(side)
            self.warmed += 1
            return out
        if self.graph is None:
            self.static_idx = idx.clone()
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph):  # records the step; the replay below runs it
                self.static_out = self._step(self.static_idx)
        self.static_idx.copy_(idx)
        self.graph.replay()
        return self.static_out


def set_capturable(opt: torch.optim.Optimizer, on: bool) -> None:
    """Adam inside a CUDA graph keeps its step counts on the GPU (capturable=True). A
    checkpoint carries its run's setting; this sets the one this run needs."""
    for group in opt.param_groups:
        group["capturable"] = on
        for p in group["params"]:
            state = opt.state.get(p, {})
            if "step" in state:
                state["step"] = state["step"].to(p.device if on else "cpu", torch.float32)


CHECK_EVERY = 50  # steps between non-finite checks on a GPU


def train_epoch(step: TrainStep, order: torch.Tensor, recon_out: torch.Tensor | None = None, progress: bool = False):
    """One pass over step.data in `order`, minimising the step's training objective.

    Returns (epoch-mean loss, epoch-mean KLD, last batch LossParts, steps): the means in
    the objective's units, steps (n_batches, 2) every step's BCE and KL in nats per image.
    recon_out, if given, receives every image's reconstruction, in data order. Everything
    stays on the device: no per-batch host sync, except for the progress bar's occasional refresh.
    """
    step.model.train()
    data, batch_size = step.data, step.batch_size
    n = data.shape[0]
    n_batches = math.ceil(n / batch_size)
    loss_sum = torch.zeros((), device=data.device)
    kld_sum = torch.zeros((), device=data.device)
    steps = torch.empty(n_batches, 2, device=data.device)
    bar = tqdm(range(n_batches), leave=False, disable=not progress, unit="batch", dynamic_ncols=True)
    checked = 0  # steps[:checked] are known to be finite
    for i in bar:
        idx = order[i * batch_size : (i + 1) * batch_size]
        recon, parts, nats = step(idx)
        # Epoch means weigh each batch by its images, so a short last batch counts fairly;
        # a batch sum already carries its images.
        weight = 1 if step.objective.sums_batch else idx.numel()
        loss_sum += parts.total * weight
        kld_sum += parts.kld * weight
        steps[i] = nats
        if recon_out is not None:
            recon_out[idx] = recon  # kept in data order
        # On CPU the check costs nothing; on a GPU it would wait for every step, so there it
        # runs every CHECK_EVERY steps over the steps since the last check.
        if data.device.type == "cpu" or i % CHECK_EVERY == 0 or i == n_batches - 1:
            bad = (~torch.isfinite(steps[checked : i + 1])).any(1)
            if bad.any():
                raise TrainingDiverged(checked + int(bad.nonzero()[0]))
            checked = i + 1
        if progress and (i % 50 == 0 or i == n_batches - 1):
            bar.set_postfix(loss=f"{parts.total.item():.4f}", kld=f"{parts.kld.item():.4f}")
    parts = LossParts(*(t.clone() for t in parts))  # a graph's buffers change at its next replay
    return (loss_sum / n).item(), (kld_sum / n).item(), parts, steps.cpu()


@torch.no_grad()
def evaluate(model, data, batch_size) -> dict:
    """Negative ELBO in nats per image, and its two parts, over `data` with the model in eval mode."""
    model.eval()
    totals = torch.zeros(3, device=data.device)
    for start in range(0, data.shape[0], batch_size):
        x = data[start : start + batch_size]
        recon, mu, logvar, kl = elbo_pass(model, x)
        totals += torch.stack(tuple(negative_elbo(recon, x, mu, logvar, kl))) * x.shape[0]
    nelbo, bce, kld = (totals / data.shape[0]).tolist()
    return {"negative_elbo": nelbo, "bce": bce, "kld": kld}


def batch_sizes(n: int, batch_size: int) -> list[int]:
    return [min(batch_size, n - start) for start in range(0, n, batch_size)]


def stop_early(test_nelbo: list, patience: int | None) -> bool:
    """True when the last `patience` epochs brought no better test negative ELBO than before them."""
    if patience is None or len(test_nelbo) <= patience:
        return False
    return min(test_nelbo[-patience:]) >= min(test_nelbo[:-patience])


def grouped_steps(steps: torch.Tensor, every: int) -> torch.Tensor:
    """(n_batches, 2) step terms -> means over consecutive groups of `every` steps (the last
    group may be shorter), so that long runs of small batches keep a bounded history."""
    if every == 1:
        return steps
    return torch.stack([g.mean(0) for g in steps.split(every)])
