"""The helpers the scripts share; model.py at the root holds the report's model.

    registry, parts, presets   one entry per encoder, decoder and --arch; build_model
    fastconv                   the CPU kernel of the report's transpose convolutions
    data, files                MNIST as the models see it; checkpoints and model.pk, read safely
    training, measures         the training loop; the evaluation measures
    cli, plotting, samples, classifier   the scripts' command lines, figures, digits and judge

Importing the package does nothing but define it.
"""
