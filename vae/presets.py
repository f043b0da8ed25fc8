"""main.py --arch: each source's model and training settings, one entry per architecture.

Flags left unset take the entry's `training` values; composed VAEs (--encoder/--decoder)
train with the report's settings, so that the ablation changes the model alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from model import PRESETS as TABLE2
from vae.parts import MLPVAEConfig, ConvVAEConfig, compose
from vae.registry import Sizes

# patience: early stopping on the test negative ELBO (002 stops after 10 epochs without improvement).
REPORT_TRAINING = dict(epochs=50, batch_size=100, lr=1e-3, betas=(0.9, 0.999), shuffle=False, patience=None)  # 001


@dataclass(frozen=True)
class Arch:
    model: object  # the model config (Model 1 for "lstm"; --model 2 picks Table 2's other)
    training: dict  # main.py's training flags left unset take these
    help: str


ARCHS = {
    "lstm": Arch(TABLE2[1], REPORT_TRAINING, "the report's (default)"),
    "conv": Arch(ConvVAEConfig(), dict(epochs=1250, batch_size=128, lr=1e-4, betas=(0.9, 0.99), shuffle=True,
                                       patience=10), "002's"),
    "mlp": Arch(MLPVAEConfig(), dict(epochs=30, batch_size=128, lr=1e-3, betas=(0.9, 0.999), shuffle=True,
                                     patience=None), "003's"),
    # 004 trained 19 epochs on 1000 images per class with a plateau schedule; we keep its
    # batch and rate on the full training set, without the schedule.
    "mlp14": Arch(MLPVAEConfig(image_size=14, binarize=True, hidden=(128,), latent=8, activation="tanh",
                               std_head=True),
                  dict(epochs=19, batch_size=32, lr=2e-3, betas=(0.9, 0.999), shuffle=True, patience=None), "004's"),
    "examples": Arch(MLPVAEConfig(hidden=(400,), latent=20),
                     dict(epochs=10, batch_size=128, lr=1e-3, betas=(0.9, 0.999), shuffle=True, patience=None),
                     "pytorch/examples' baseline"),
    # The repaired LSTM VAE (report/ablation.md): one latent vector from the LSTM's last
    # state, a wider LSTM, an MLP decoder of two hidden layers, trained on the ELBO itself.
    "lstm-repaired": Arch(compose("lstm-vector", "mlp", Sizes(TABLE2[1], latent=20, lstm_hidden=256,
                                                                mlp_hidden=(512, 512))),
                          REPORT_TRAINING, "the repaired LSTM VAE (report/ablation.md)"),
}
COMPOSED_TRAINING = REPORT_TRAINING
