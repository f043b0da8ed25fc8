"""Wait for gpu/jobs.sh until a deadline, then pack its results into at most 8 files of < 16 MiB
under OUT: slim checkpoints (no optimizer or RNG state), JSONs, partial evaluations, logs.
    python gpu/waitpack.py WORK_DIR OUT SECONDS [--wait-suite]"""
import io, sys, tarfile, time
from pathlib import Path

import torch

work, out, seconds = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
flag = "SUITEDONE" if "--wait-suite" in sys.argv else "ALLDONE"
t0 = time.time()
while time.time() - t0 < seconds and not (work / flag).exists():
    time.sleep(3)
print(f"packing after {time.time() - t0:.0f} s; done: {(work / 'ALLDONE').exists()}", flush=True)

KEEP = ("model", "epoch", "config", "train_config", "history")
LIMIT = 15 * 2**20
items = []  # (archive name, bytes)
for f in sorted(work.rglob("*")):
    if not f.is_file():
        continue
    rel = str(f.relative_to(work))
    if f.name.startswith("checkpoint"):
        if f.name != "checkpoint.pt" or rel.startswith(("runs/repaired", "runs/time_")):
            continue  # carried here, or only timed
        try:
            state = torch.load(f, map_location="cpu", weights_only=True)
        except Exception as e:  # a checkpoint being written: skip it, say so
            print("skipped", rel, type(e).__name__)
            continue
        buf = io.BytesIO()
        torch.save({k: state[k] for k in KEEP if k in state}, buf)
        items.append((rel, buf.getvalue()))
    elif f.suffix in (".json", ".txt", ".log", ".png") or f.name.endswith(".partial.pt"):
        if f.stat().st_size < 4 * 2**20:
            items.append((rel, f.read_bytes()))
out.mkdir(parents=True, exist_ok=True)
packs, size = [[]], 0
for rel, data in sorted(items, key=lambda i: -len(i[1])):
    for pack in packs:
        if sum(len(d) for _, d in pack) + len(data) <= LIMIT:
            pack.append((rel, data))
            break
    else:
        packs.append([(rel, data)])
for i, pack in enumerate(packs[:8]):
    with tarfile.open(out / f"pack{i}.tar", "w") as tar:
        for rel, data in pack:
            info = tarfile.TarInfo(rel); info.size = len(data); info.mtime = time.time()
            tar.addfile(info, io.BytesIO(data))
print(f"{len(items)} files in {len(packs)} packs" + (" (over 8: some left out)" if len(packs) > 8 else ""))
for f in sorted((work / "logs").glob("*.log")):
    lines = f.read_text(errors="replace").splitlines()
    print(f"== {f.name}: " + (lines[-1][:300] if lines else ""))
