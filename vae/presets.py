"""main.py --arch: each source's model and training settings, one entry per architecture,
and the model config that --arch or --encoder/--decoder with their options ask for.

Flags left unset take the entry's `training` values; composed VAEs (--encoder/--decoder)
train with the report's settings, so that the ablation changes the model alone.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass

from model import PRESETS as TABLE2
from vae.cli import UserError
from vae.config import TrainConfig
from vae.parts import MLPVAEConfig, ConvVAEConfig, compose
from vae.registry import DECODERS, ENCODERS, OBJECTIVES, PRIORS, all_options, option_values

REPORT_TRAINING = TrainConfig()  # 001's


def training(**changes) -> TrainConfig:
    """The report's training settings with `changes`."""
    return dataclasses.replace(REPORT_TRAINING, **changes)


# The LSTM VAE's part sizes, shared by its 50-epoch and long presets: a 20-d latent, LSTMs of 256.
LSTM_VAE_OPTIONS = dict(latent=20, lstm_hidden=256)
LSTM_VAE_SIZES = option_values(TABLE2[1], LSTM_VAE_OPTIONS)
# The long preset's: the same with a MADE of 256 hidden units inside each decoded row.
LSTM_VAE_LONG_SIZES = option_values(TABLE2[1], {**LSTM_VAE_OPTIONS, "row_hidden": 256})


@dataclass(frozen=True)
class Arch:
    model: object  # the model config (Model 1 for "lstm"; --model 2 picks Table 2's other)
    training: TrainConfig  # main.py's training flags left unset take these
    help: str


ARCHS = {
    "lstm": Arch(TABLE2[1], REPORT_TRAINING, "the report's (default)"),
    "conv": Arch(ConvVAEConfig(), training(epochs=1250, batch_size=128, lr=1e-4, betas=(0.9, 0.99), shuffle=True,
                                           patience=10), "002's"),
    "mlp": Arch(MLPVAEConfig(), training(epochs=30, batch_size=128, shuffle=True), "003's"),
    # 004 trained 19 epochs on 1000 images per class with a plateau schedule; we keep its
    # batch and rate on the full training set, without the schedule.
    "mlp14": Arch(MLPVAEConfig(image_size=14, binarize=True, hidden=(128,), latent=8, activation="tanh",
                               std_head=True),
                  training(epochs=19, batch_size=32, lr=2e-3, shuffle=True), "004's"),
    "examples": Arch(MLPVAEConfig(hidden=(400,), latent=20), training(epochs=10, batch_size=128, shuffle=True),
                     "pytorch/examples' baseline"),
    # The repaired LSTM VAE (report/ablation.md): one latent vector from the LSTM's last
    # state, a wider LSTM, an MLP decoder of two hidden layers, trained on the ELBO itself.
    "lstm-repaired": Arch(compose("lstm-vector", "mlp", option_values(TABLE2[1], dict(latent=20, lstm_hidden=256,
                                                                                    mlp_hidden=(512, 512)))),
                          REPORT_TRAINING, "the repaired LSTM VAE (report/ablation.md)"),
    # The LSTM VAE with an LSTM decoder (report/lstm_decoder.md): the repaired model's encoder,
    # a row LSTM with a masked in-row map as decoder, free bits 1.0 nats per latent dimension
    # against posterior collapse (0.25 gave as good a likelihood, but a KL of 6 nats that kept
    # the digit's class in 58 % of reconstructions; 1.0 keeps it in 94 %); on binarized MNIST,
    # the report's other settings.
    "lstm-vae": Arch(compose("lstm-vector", "lstm-masked", LSTM_VAE_SIZES, objective_options={"free_bits": 1.0}),
                     training(binarize="dynamic"), "the LSTM VAE with an LSTM decoder, binarized (report/lstm_decoder.md)"),
    # Issue 34's long preset, the field's way of training: the same parts with an in-row MADE
    # in the decoder (--row-hidden 256: each pixel depends nonlinearly on those before it in
    # its row, by the row's LSTM state; Germain et al. 2015), the preset's free bits 1.0 and
    # Burda et al.'s schedule, stages 0-5 (3^0 + ... + 3^5 = 364 epochs, the rate cut by
    # 10^(1/7) at each). Chosen from the paired pilots of report/lstm_decoder.md ("Toward 80
    # nats"): at epoch 121 it is 0.40 nats (paired) ahead of its own decoder alone with 92.7 %
    # of reconstructions keeping their class; the flow prior (--prior maf) bought likelihood
    # but kept the class near 70 %, and free bits 0.75 kept it for 85 % at epoch 40.
    # benchmarks/gpu_long.sh trains it, its decoder alone and it with the flow, with the same
    # flags written out.
    "lstm-vae-long": Arch(compose("lstm-vector", "lstm-masked", LSTM_VAE_LONG_SIZES,
                                  objective_options={"free_bits": 1.0}),
                          training(binarize="dynamic", lr_schedule="burda", epochs=364),
                          "lstm-vae with an in-row MADE in its decoder on Burda et al.'s 364 epochs "
                          "(report/lstm_decoder.md)"),
    # Burda, Grosse & Salakhutdinov (2016), "Importance Weighted Autoencoders": the VAE with
    # one stochastic layer, trained with k = 1 (their 86.76 nats). Two deterministic layers of
    # 200 tanh units each side, a 50-d latent; batch 20, Adam with epsilon 1e-4 (their paper's
    # beta1 0.9; their code's default is 0.99), their 8-stage schedule on dynamically
    # binarized MNIST. They trained on 59,600 images (400 held out) and set the decoder's
    # output bias to the training mean's logits; we train on all 60,000 from PyTorch's
    # initialisation.
    "burda-vae": Arch(MLPVAEConfig(hidden=(200, 200), latent=50, activation="tanh", objective="elbo"),
                      training(epochs=3280, batch_size=20, eps=1e-4, shuffle=True, binarize="dynamic",
                               lr_schedule="burda", record_every=150),
                      "Burda et al. (2016)'s 1-stochastic-layer VAE on binarized MNIST"),
}
COMPOSED_TRAINING = REPORT_TRAINING


def chosen_model(args: argparse.Namespace) -> tuple[str, object, TrainConfig]:
    """(--arch's name or "composed", the model config, the training preset) that the flags ask for."""
    composed = args.encoder is not None or args.decoder is not None
    if composed:
        args.encoder, args.decoder = args.encoder or "lstm", args.decoder or "report"
    report_parts = not composed and args.arch == "lstm" or composed and (
        ENCODERS[args.encoder].uses_report_sizes or DECODERS[args.decoder].uses_report_sizes)
    if composed and args.arch != "lstm":
        raise UserError("--encoder/--decoder compose a VAE of their own; leave --arch out")
    model = TrainConfig.model if args.model is None else args.model
    if model != TrainConfig.model and not report_parts:
        raise UserError("--model chooses between the report's two LSTM models; it needs --arch lstm or a report part")
    given = {name: getattr(args, name) for name in all_options() if getattr(args, name) is not None}
    if composed:
        objective, prior = args.objective or "elbo", args.prior or "normal"
        check_options_apply(given, args.encoder, args.decoder, objective, prior)
        try:
            cfg = compose(args.encoder, args.decoder, option_values(TABLE2[model], given), objective,
                          {o.name: given[o.name] for o in OBJECTIVES[objective].options if o.name in given}, prior)
        except ValueError as e:
            raise UserError(str(e)) from None
        return "composed", cfg, COMPOSED_TRAINING
    if args.prior is not None:
        given["prior"] = args.prior
    if given:
        one = len(given) == 1
        raise UserError(f"{flags(given)} {'shapes' if one else 'shape'} a composed VAE's parts, objective or prior; "
                        f"{'it needs' if one else 'they need'} --encoder or --decoder")
    cfg = TABLE2[model] if args.arch == "lstm" else ARCHS[args.arch].model
    if args.objective is not None:
        cfg = dataclasses.replace(cfg, objective=args.objective)
    if args.binarize == "dynamic" and cfg.binarize:
        raise UserError(f"--arch {args.arch} binarizes by its own threshold (004's); --binarize dynamic does not apply")
    return args.arch, cfg, ARCHS[args.arch].training


def flags(names) -> str:
    return ", ".join("--" + name.replace("_", "-") for name in sorted(names))


def check_options_apply(given: dict, encoder: str, decoder: str, objective: str, prior: str) -> None:
    """One line where an option is given that none of the chosen encoder, decoder, objective and prior reads."""
    chosen = (ENCODERS[encoder], DECODERS[decoder], OBJECTIVES[objective], PRIORS[prior])
    ignored = set(given) - {o.name for entry in chosen for o in entry.options}
    if ignored:
        raise UserError(f"{flags(ignored)} {'does' if len(ignored) == 1 else 'do'} not apply to --encoder {encoder} "
                        f"--decoder {decoder} --objective {objective} --prior {prior}")