"""Issue 34: a VAE against its decoder alone on the same test images, image by image.

evaluate.py's JSON keeps each bound's mean and its spread over images; two runs measured on
the same images are paired, and the error of their difference is the spread of the per-image
differences, much smaller. This computes both per-image bounds with evaluate.py's own code
(the same binarization and the same seeded generator per batch, so each mean is the one
evaluate.py prints) and writes the paired difference as JSON. Run from the checkout's root:

    python benchmarks/results/cpu_2026-12-06/made/paired.py VAE_CKPT ALONE_CKPT --data-root data \
        --k 1000 --limit 2000 --out made/paired.json

The decoder alone is scored at k = 1: its KL is 0.02 nats, so its −ELBO is its likelihood.
With --vae-per-image, the VAE's bounds are the ones eval_lanes.py kept (per_image_k<K>.pt,
all 10,000 images at k = 5,000: the issue's measure) instead of computed afresh.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the checkout's root
import torch  # noqa: E402

import evaluate  # noqa: E402


def per_image(checkpoint: Path, k: int, data_root: str, limit: int) -> torch.Tensor:
    """evaluate.py's per-image importance-weighted bounds (nats) of one checkpoint."""
    args = evaluate.build_parser().parse_args(["--checkpoint", str(checkpoint), "--data-root", data_root,
                                               "--k", str(k), "--limit", str(limit), "--device", "cpu",
                                               "--no-progress"])
    state = evaluate.load_checkpoint(checkpoint, map_location="cpu")
    model = evaluate.model_from_state(state, checkpoint, torch.device("cpu"))
    x, _, _ = evaluate.test_images(args, state, model.cfg, torch.device("cpu"))
    torch.manual_seed(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        nats, _ = evaluate.importance_bounds(model, x, args, Path(tmp) / "partial.pt", {"k": k})
    return nats


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("vae", type=Path, help="the VAE's checkpoint")
    parser.add_argument("alone", type=Path, help="its decoder alone's checkpoint (scored at k = 1)")
    parser.add_argument("--data-root", default="data")
    parser.add_argument("--k", type=int, default=1000, help="the VAE's importance samples (default 1000)")
    parser.add_argument("--limit", type=int, default=2000, help="the first N test images (default 2000)")
    parser.add_argument("--out", type=Path, required=True, help="the JSON to write")
    parser.add_argument("--vae-per-image", type=Path, default=None,
                        help="eval_lanes.py's per_image_k<K>.pt of the VAE: its bounds, k and image count")
    args = parser.parse_args(argv)
    if args.vae_per_image is None:
        vae = per_image(args.vae, args.k, args.data_root, args.limit)
    else:
        saved = evaluate.load_checkpoint(args.vae_per_image, require=("nats", "settings"))
        vae, args.k, args.limit = saved["nats"], saved["settings"]["k"], len(saved["nats"])
    alone = per_image(args.alone, 1, args.data_root, args.limit)
    diff = vae - alone
    result = {"vae": str(args.vae), "alone": str(args.alone), "k": args.k, "test_images": args.limit,
              "vae_nats": vae.mean().item(), "alone_nats": alone.mean().item(),
              "difference": diff.mean().item(), "paired_se": (diff.std() / math.sqrt(len(diff))).item(),
              "images_vae_ahead": int((diff < 0).sum())}
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"{args.limit} images: VAE {result['vae_nats']:.2f} (k = {args.k}), decoder alone "
          f"{result['alone_nats']:.2f}: difference {result['difference']:+.2f} ± {result['paired_se']:.2f} (paired se)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
