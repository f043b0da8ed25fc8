"""The importance-weighted bound's cost for the long preset's decoder (the in-row MADE) against
--arch lstm-vae's, side by side in one process: k = 100 on the first 100 test images, one
thread, each model twice, alternating; scaled to k = 5,000 per image.

    python benchmarks/results/cpu_2026-12-06/made/eval_cost.py LONG_CHECKPOINT --data-root data
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the checkout's root
import torch  # noqa: E402

from vae.data import binarized_once, prepare_images  # noqa: E402
from vae.files import load_checkpoint, load_mnist, model_from_state  # noqa: E402
from vae.measures import iwae_nats  # noqa: E402

K, IMAGES, ROWS, TARGET_K = 100, 100, 1000, 5000


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("long_checkpoint", type=Path, help="a checkpoint of --arch lstm-vae-long")
    p.add_argument("--short", type=Path, default=Path("pretrained/lstm_vae.pt"), help="--arch lstm-vae's weights")
    p.add_argument("--data-root", type=Path, default=Path("data"))
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    models = {}
    for name, path in (("lstm-vae", args.short), ("lstm-vae-long", args.long_checkpoint)):
        model = model_from_state(load_checkpoint(path, map_location="cpu"), path, torch.device("cpu"))
        models[name] = model.eval()
    x = binarized_once(prepare_images(load_mnist(args.data_root, train=False), model.cfg))[:IMAGES]
    for _ in range(2):
        for name, model in models.items():
            t = time.perf_counter()
            iwae_nats(model, x, K, ROWS, torch.Generator().manual_seed(0))
            s = time.perf_counter() - t
            print(f"{name}: {s:.2f} s for {IMAGES} images at k = {K}: {s * TARGET_K / K / IMAGES:.2f} s per image "
                  f"at k = {TARGET_K}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
