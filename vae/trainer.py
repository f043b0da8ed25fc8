"""The trainer: one main.py run from its first epoch (or its checkpoint) to model.pk.

It owns what the report's original loop did inline and what a long run needs beside it:
the data order, the epoch loop, each epoch's test evaluation, checkpoint and resume, the
guard against a diverged loss, the lock on the out-dir, and the time line at the end. The
step itself (eager or a CUDA graph) is vae.training.TrainStep's business.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from pathlib import Path

import torch

from vae.cli import Interrupted, UserError
from vae.config import RunConfig, check_resumable
from vae.data import binarized_once
from vae.device import peak_memory
from vae.parts import objective_of
from vae.schedules import schedule
from vae.files import (CHECKPOINT, CONFIG_JSON, EPOCH1_CHECKPOINT, FIGURE1, MODEL_PK, check_free_space,
                       load_checkpoint, run_lock, save_checkpoint, save_results, write_text)
from vae.training import (HISTORY_KEYS, TrainingDiverged, TrainStep, batch_sizes, evaluate,
                          grouped_steps, rng_state, set_capturable, set_rng_state, stop_early,
                          train_epoch, weights_finite)


class Clock:
    """Seconds spent in named phases of one run, for the time line at its end."""

    def __init__(self):
        self.began = time.perf_counter()
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def phase(self, name: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0


def epoch_record(trained, test: dict, train_s: float, eval_s: float, n: int, batch_size: int, every: int) -> dict:
    """One epoch's history values by key (HISTORY_KEYS), from train_epoch's result and the
    test evaluation; Table 1 logs the last batch's loss and KLD."""
    mean_loss, mean_kld, parts, steps = trained
    recorded = grouped_steps(steps, every)
    return {
        "train_loss_history": parts.total.item(), "train_regularization_terms": parts.kld.item(),
        "train_loss_epoch_mean": mean_loss, "train_kld_epoch_mean": mean_kld,
        "test_negative_elbo": test["negative_elbo"], "test_bce": test["bce"], "test_kld": test["kld"],
        "epoch_seconds": train_s, "eval_seconds": eval_s,
        "train_bce_epoch_mean": (steps[:, 0] * steps.new_tensor(batch_sizes(n, batch_size))).sum().item() / n,
        "step_bce": recorded[:, 0].tolist(), "step_kld": recorded[:, 1].tolist(),
    }


def record_epoch(history: dict, record: dict) -> None:
    """Append one epoch's record to the history, key by key."""
    if set(record) != set(HISTORY_KEYS):
        raise ValueError(f"an epoch record must hold exactly {HISTORY_KEYS}")
    for key in HISTORY_KEYS:
        history[key].append(record[key])


def time_split(total: float, phases: dict, history: dict, epochs: int) -> str:
    """Where the run's time went (Python's start-up and imports not counted), to compare
    machines: this call's training passes and test evaluations, the timed phases, the rest."""
    train_s, eval_s = (sum(history[k][-epochs:]) for k in ("epoch_seconds", "eval_seconds"))
    parts = {"training": train_s, "test evaluations": eval_s, **phases}
    rest = total - sum(parts.values())
    return f"{total:.1f} s in main(): " + ", ".join(f"{k} {v:.1f} s" for k, v in parts.items()) + f", other {rest:.1f} s"


class Trainer:
    """Trains one run's model into `out`: `with trainer.session(...)`, then `fit`."""

    def __init__(self, run: RunConfig, out: Path, progress: bool = False):
        self.run, self.cfg, self.out, self.progress = run, run.train, Path(out), progress
        self.device = torch.device(self.cfg.device)
        self.clock = Clock()
        self.state: dict | None = None  # the checkpoint resumed from
        self.history = {key: [] for key in HISTORY_KEYS}
        self.start = 0  # the first epoch to train, 0-based

    # ------------------------------------------------------------ the run's folder

    @contextlib.contextmanager
    def session(self, resume: bool, overwrite: bool):
        """Hold the out-dir's lock; load the checkpoint to resume (checked against this run),
        or refuse to train over an earlier run; Ctrl-C becomes one line and exit status 130."""
        out = self.out
        try:
            with run_lock(out):  # creates the folder
                self.state = self._previous_state(resume, overwrite)
                with self.clock.phase("device start-up"):
                    torch.empty(1, device=self.device)  # a GPU's context is made here, at its first tensor
                yield self
        except KeyboardInterrupt:
            raise Interrupted(f"interrupted; finished epochs are in {out / CHECKPOINT}: continue with --resume") from None

    def _previous_state(self, resume: bool, overwrite: bool) -> dict | None:
        path = self.out / CHECKPOINT
        if resume:
            if not path.is_file():
                raise UserError(f"--resume: no {CHECKPOINT} in {self.out} to continue from")
            state = load_checkpoint(path, map_location=self.device)
            check_resumable(self.run, state)
            return state
        if path.exists() and not overwrite:
            raise UserError(f"{self.out} already holds a run ({CHECKPOINT}): continue it with --resume, or start "
                            "afresh with --overwrite")
        return None

    def finished(self) -> bool:
        """Whether the checkpoint resumed from has trained every epoch asked (said in one line)."""
        if self.state is None or self.state["epoch"] != self.cfg.epochs:
            return False
        print(f"{self.out / CHECKPOINT} has already trained all {self.cfg.epochs} epochs and written {MODEL_PK}; "
              "pass a larger --epochs to go on")
        return True

    # ------------------------------------------------------------ the loop

    def fit(self, model, opt, train_x: torch.Tensor, test_x: torch.Tensor) -> None:
        """Train from the first epoch not yet trained to the last (or an early stop); the last
        epoch writes model.pk, then its checkpoint."""
        cfg, n = self.cfg, train_x.shape[0]
        check_free_space(self.out, n, self.run.model.image_size, model)
        shuffle_gen = torch.Generator().manual_seed(cfg.seed)
        self._restore(model, opt, shuffle_gen)
        write_text(self.out / CONFIG_JSON, json.dumps(self.run.to_dict(), indent=2) + "\n")
        if stop_early(self.history["test_negative_elbo"], cfg.patience):
            print(f"{self.out / CHECKPOINT} had already stopped early after epoch {self.start}")
            return
        step = TrainStep(model, opt, train_x, cfg.batch_size, objective_of(self.run.model), cfg.bf16, cfg.cuda_graph,
                         binarize=cfg.binarize == "dynamic")
        for epoch in range(self.start, cfg.epochs):
            if self._epoch(step, shuffle_gen, train_x, test_x, epoch):
                break

    def _restore(self, model, opt, shuffle_gen) -> None:
        """Weights, optimizer, history and random state from the checkpoint, when resuming."""
        if self.state is None:
            return
        model.load_state_dict(self.state["model"])
        opt.load_state_dict(self.state["optimizer"])
        set_capturable(opt, self.cfg.cuda_graph)
        self.history = self.state["history"]
        set_rng_state(self.state["rng"], shuffle_gen, self.device)
        self.start = self.state["epoch"]
        print(f"resuming {self.out / CHECKPOINT} after epoch {self.start}")

    def _epoch(self, step: TrainStep, shuffle_gen, train_x, test_x, epoch: int) -> bool:
        """Train, evaluate, record and checkpoint 0-based `epoch`; True when the run ends with it."""
        cfg, n = self.cfg, train_x.shape[0]
        last = epoch == cfg.epochs - 1
        order = torch.randperm(n, generator=shuffle_gen).to(self.device) if cfg.shuffle else \
            torch.arange(n, device=self.device)
        # Reconstructions of the last epoch trained; with early stopping any epoch may be the last.
        recon = torch.empty_like(train_x) if last or cfg.patience else None
        step.set_lr(schedule(cfg.lr_schedule).lr(cfg.lr, epoch, cfg.epochs))
        step.set_kl_weight(step.objective.kl_weight(epoch))
        t0 = time.perf_counter()
        try:
            trained = train_epoch(step, order, recon, self.progress)
        except TrainingDiverged as e:
            raise UserError(self._diverged(epoch, e.step, math.ceil(n / cfg.batch_size))) from None
        train_s = time.perf_counter() - t0
        test, eval_s = self._evaluate(step.model, test_x, epoch)
        record_epoch(self.history, epoch_record(trained, test, train_s, eval_s, n, cfg.batch_size, cfg.record_every))
        h = self.history
        print(f"Epoch:{epoch + 1}/{cfg.epochs}, Train_Loss:{h['train_loss_history'][-1]}, "
              f"Train_Reg_Term:{h['train_regularization_terms'][-1]} | mean loss {h['train_loss_epoch_mean'][-1]:.4f} "
              f"KLD {h['train_kld_epoch_mean'][-1]:.4f} | test -ELBO {test['negative_elbo']:.2f} nats | "
              f"{train_s:.1f} s + eval {eval_s:.1f} s", flush=True)
        stopping = not last and stop_early(h["test_negative_elbo"], cfg.patience)
        self._save(step.model, step.opt, shuffle_gen, epoch, (train_x, recon) if last or stopping else None)
        if stopping:
            print(f"no better test negative ELBO in {cfg.patience} epochs: stopped early after epoch {epoch + 1}")
        if last or stopping:
            print(f"wrote {self.out / MODEL_PK}, {self.out / CHECKPOINT} and {self.out / FIGURE1}")
            print(peak_memory(self.device))
            print(time_split(time.perf_counter() - self.clock.began, self.clock.seconds, h, epoch + 1 - self.start))
        return last or stopping

    def _evaluate(self, model, test_x: torch.Tensor, epoch: int) -> tuple[dict, float]:
        """The test set's ELBO terms after an epoch, and the seconds they took; one clear line
        where the weights or the test loss are no longer finite."""
        if not weights_finite(model):  # the epoch's last update can break them after a finite loss
            raise UserError(self._diverged(epoch, None, None))
        t0 = time.perf_counter()
        test = evaluate(model, test_x, self.cfg.eval_batch_size)
        eval_s = time.perf_counter() - t0
        if not math.isfinite(test["negative_elbo"]):
            raise UserError(self._diverged(epoch, None, None))
        return test, eval_s

    def _diverged(self, epoch: int, step: int | None, steps: int | None) -> str:
        where = f"epoch {epoch + 1}, step {step + 1} of {steps}" if step is not None else f"epoch {epoch + 1}"
        kept = f"{self.out / CHECKPOINT} still holds epoch {epoch}" if epoch > 0 else "this run wrote no checkpoint"
        return (f"training diverged: the loss became NaN or infinite at {where}; {kept}. "
                f"Try a smaller --lr (this run: {self.cfg.lr:g})")

    # ------------------------------------------------------------ files

    def _save(self, model, opt, shuffle_gen, epoch: int, results=None) -> None:
        """Checkpoint the epoch just trained (0-based `epoch`); with results = (train_x, recon),
        write model.pk first."""
        config = self.run.to_dict()
        state = {
            "model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch + 1,
            "config": config["model"], "train_config": config["train"], "history": self.history,
            "rng": rng_state(shuffle_gen, self.device),
        }
        if results is not None:
            # model.pk first: the checkpoint says this epoch is done only once model.pk is
            # written, so a failed write (a full disk) is redone by --resume, not lost.
            try:
                self._write_results(model, *results)
            except UserError as e:
                raise UserError(f"{e}; {self.out / CHECKPOINT} still holds epoch {epoch}: free some space, then "
                                f"--resume redoes epoch {epoch + 1} and writes {MODEL_PK}") from None
        with self.clock.phase("checkpoints"):
            save_checkpoint(self.out / CHECKPOINT, state)
            weights = {k: state[k] for k in ("model", "epoch", "config", "train_config")}
            if epoch == 0:
                save_checkpoint(self.out / EPOCH1_CHECKPOINT, weights)
            stage = schedule(self.cfg.lr_schedule).stage_ending(epoch)
            if stage is not None:  # for the test nats after each stage
                save_checkpoint(self.out / f"checkpoint_{stage}.pt", weights)

    def _write_results(self, model, train_x: torch.Tensor, recon: torch.Tensor) -> None:
        """The training-set evaluation, then model.pk (the original's pickle of reconstructions and losses)."""
        with self.clock.phase("training-set evaluation"):
            if self.cfg.binarize == "dynamic":
                train_x = binarized_once(train_x, self.cfg.test_binarization_seed)
            train_eval = evaluate(model, train_x, self.cfg.eval_batch_size)  # once, at the end: the training set's nats
        print(f"training set negative ELBO {train_eval['negative_elbo']:.2f} nats "
              f"({self.clock.seconds['training-set evaluation']:.1f} s)")
        n, s = train_x.shape[0], self.run.model.image_size
        results = {
            # The original's three keys, same shapes and dtypes.
            "train_reconstruction_images": recon.reshape(n, s, s).cpu().numpy(),
            **self.history,
            "train_negative_elbo": train_eval["negative_elbo"],
            "config": self.run.to_dict(),
            "seed": self.cfg.seed,
        }
        with self.clock.phase(MODEL_PK):
            save_results(self.out / MODEL_PK, results)
