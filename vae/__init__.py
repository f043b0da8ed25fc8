"""The helpers the scripts share; model.py at the root holds the report's model.

    config, trainer            one run's frozen configuration; the trainer that runs it
    registry, parts, objectives, priors, presets   one entry per encoder, decoder, objective, prior, --arch
    training, device           the step and the epoch; the machine's settings
    fastconv                   the CPU kernel of the report's transpose convolutions
    data, files                MNIST as the models see it; checkpoints and model.pk, read safely
    measures                   the evaluation measures
    cli, plotting, samples, classifier   the scripts' command lines, figures, digits and judge
    original                   the report's original loop, for the benchmarks

Importing the package does nothing but define it.
"""
