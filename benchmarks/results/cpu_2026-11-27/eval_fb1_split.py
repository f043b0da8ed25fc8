"""Before eval_fb1_queue.sh: seed 0's k = 5,000 over all 10,000 test images, split in two lanes.
Copies of the checkpoint in fb100_s0_a and fb100_s0_b, each with a .partial.pt whose other half is
marked done with a 0 sentinel; evaluate.py then computes only the NaN batches. The first 600
images (done in session 15, in fb100_s0's partial) go to lane A. eval_fb1_merge.py joins the lanes."""
import math
import shutil
from pathlib import Path

import torch

R = Path.home() / "runs/lstmvae"
SPLIT = 7300
p = torch.load(R / "fb100_s0/evaluation_k5000.partial.pt", weights_only=True)
for lane in ("fb100_s0_a", "fb100_s0_b"):
    (R / lane).mkdir(exist_ok=True)
    shutil.copy(R / "fb100_s0/checkpoint.pt", R / lane / "checkpoint.pt")
a = p["nats"].clone()
a[SPLIT:] = 0.0  # sentinel: lane B computes these
b = torch.zeros_like(p["nats"])
b[SPLIT:] = math.nan
torch.save({"settings": p["settings"], "nats": a, "seconds": p["seconds"]}, R / "fb100_s0_a/evaluation_k5000.partial.pt")
torch.save({"settings": p["settings"], "nats": b, "seconds": 0.0}, R / "fb100_s0_b/evaluation_k5000.partial.pt")
