"""Issue 34's measure, evaluate.py's k = 5,000 bound on all 10,000 test images, computed by
several processes side by side (one per core) instead of one: about 4-5 hours of one core for
the long preset, so two lanes halve the wait. Each image batch has its own seeded generator in
evaluate.py, so the lanes' per-image bounds are exactly what one run gives.

    python .../eval_lanes.py lane  RUN_DIR I N --data-root DATA [--k 5000]   # lane I of N (0, 1, ...)
    python .../eval_lanes.py merge RUN_DIR N   --data-root DATA [--k 5000]

`lane` computes the I-th of N contiguous blocks of image batches into RUN_DIR/lanes_k<K>/,
saving as it goes (run it again to continue). `merge` joins the lanes, keeps the per-image
bounds in RUN_DIR/per_image_k<K>.pt (for paired comparisons: paired.py --vae-per-image), hands
them to evaluate.py as its .partial.pt and lets evaluate.py finish as usual: it writes
RUN_DIR/evaluation_k<K>.json, the same file a single `evaluate.py --k K` writes, with the lanes'
seconds summed. Run from the checkout's root, one thread per process (OMP_NUM_THREADS=1).
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the checkout's root
import torch  # noqa: E402

import evaluate  # noqa: E402
from vae.files import save_checkpoint  # noqa: E402

SENTINEL = 0.0  # another lane's images: counted as done by evaluate.importance_bounds


def eval_flags(run_dir: Path, k: int, data_root: str, limit: int | None) -> list[str]:
    """evaluate.py's own flags for the run's checkpoint.pt, at its defaults otherwise."""
    return (["--checkpoint", str(run_dir / "checkpoint.pt"), "--data-root", data_root, "--k", str(k), "--device", "cpu",
             "--no-progress"] + ([] if limit is None else ["--limit", str(limit)]))


def block(n_images: int, batch: int, lane: int, lanes: int) -> slice:
    """Lane `lane`'s contiguous run of whole image batches."""
    batches = math.ceil(n_images / batch)
    first, last = (batches * lane) // lanes, (batches * (lane + 1)) // lanes
    return slice(first * batch, min(last * batch, n_images))


def lane_file(run_dir: Path, k: int, lane: int, lanes: int, suffix: str = ".pt") -> Path:
    """A lane's bounds: RUN_DIR/lanes_k<K>/lane<I>of<N>.pt (.partial.pt while it runs)."""
    return run_dir / f"lanes_k{k}" / f"lane{lane}of{lanes}{suffix}"


def run_lane(run_dir: Path, lane: int, lanes: int, k: int, data_root: str, limit: int | None) -> None:
    args = evaluate.build_parser().parse_args(eval_flags(run_dir, k, data_root, limit))
    state = evaluate.load_checkpoint(args.checkpoint, map_location="cpu")
    model = evaluate.model_from_state(state, args.checkpoint, torch.device("cpu"))
    x, binarize, seed = evaluate.test_images(args, state, model.cfg, torch.device("cpu"))
    settings = evaluate.bound_settings(args, len(x), binarize, seed)
    partial, done = lane_file(run_dir, k, lane, lanes, ".partial.pt"), lane_file(run_dir, k, lane, lanes)
    if done.is_file():
        print(f"{done} is there: lane {lane} of {lanes} done")
        return
    done.parent.mkdir(exist_ok=True)
    span = block(len(x), args.batch_size, lane, lanes)
    if not partial.is_file():
        nats = torch.full((len(x),), SENTINEL, dtype=torch.float64)
        nats[span] = math.nan
        save_checkpoint(partial, {"settings": settings, "nats": nats, "seconds": 0.0})
    print(f"lane {lane} of {lanes}: test images {span.start}-{span.stop - 1} (the others count as done below)")
    torch.manual_seed(args.seed)
    nats, seconds = evaluate.importance_bounds(model, x, args, partial, settings)
    save_checkpoint(done, {"settings": settings, "nats": nats, "seconds": seconds, "lane": lane, "lanes": lanes})
    partial.unlink()
    part = nats[span]
    print(f"lane {lane} of {lanes}: {len(part)} images, mean {part.mean():.2f} nats, {seconds:.0f} s")


def merge(run_dir: Path, lanes: int, k: int, data_root: str, limit: int | None) -> None:
    flags = eval_flags(run_dir, k, data_root, limit)
    args = evaluate.build_parser().parse_args(flags)
    parts = [evaluate.load_checkpoint(lane_file(run_dir, k, i, lanes), require=("nats", "settings")) for i in range(lanes)]
    settings = parts[0]["settings"]
    if any(p["settings"] != settings for p in parts):
        raise SystemExit("the lanes were computed with different settings")
    nats = torch.full_like(parts[0]["nats"], math.nan)
    for i, p in enumerate(parts):
        span = block(len(nats), args.batch_size, i, lanes)
        nats[span] = p["nats"][span]
    if nats.isnan().any():
        raise SystemExit(f"{int(nats.isnan().sum())} images have no bound")
    seconds = sum(p["seconds"] for p in parts)
    save_checkpoint(run_dir / f"per_image_k{k}.pt", {"settings": settings, "nats": nats, "seconds": seconds})
    save_checkpoint(evaluate.partial_path(args), {"settings": settings, "nats": nats, "seconds": seconds})
    evaluate.main(flags)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="step", required=True)
    lane = sub.add_parser("lane", help="compute one lane")
    lane.add_argument("run_dir", type=Path)
    lane.add_argument("lane", type=int)
    lane.add_argument("lanes", type=int)
    join = sub.add_parser("merge", help="join the lanes and write evaluation_k<K>.json")
    join.add_argument("run_dir", type=Path)
    join.add_argument("lanes", type=int)
    for q in (lane, join):
        q.add_argument("--data-root", default="data")
        q.add_argument("--k", type=int, default=5000)
        q.add_argument("--limit", type=int, default=None, help="the first N test images (a rehearsal)")
    args = p.parse_args(argv)
    if args.step == "lane":
        if not 0 <= args.lane < args.lanes:
            p.error(f"lane {args.lane} is not one of 0..{args.lanes - 1}")
        run_lane(args.run_dir, args.lane, args.lanes, args.k, args.data_root, args.limit)
    else:
        merge(args.run_dir, args.lanes, args.k, args.data_root, args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
