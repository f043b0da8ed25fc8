"""Seed 0's k = 5,000 over all 10,000 test images ran as two processes on copies of the checkpoint:
lane A computed batches 0-7299 (7300-9999 held a 0 sentinel), lane B batches 7300-9999 (0-7299 held
0). Each image batch is seeded by its start, so the halves are what one run gives. Each lane's mean
is over all 10,000 entries, so the sum of the two means is the mean of the real bounds; the
standard error follows from each lane's (unbiased) sd."""
import json
import math
from pathlib import Path
R = str(Path.home() / 'runs/lstmvae') + '/'
a = json.load(open(R + 'fb100_s0_a/evaluation_k5000.json'))
b = json.load(open(R + 'fb100_s0_b/evaluation_k5000.json'))
n = a['test_images']
assert n == b['test_images'] == 10000 and a['negative_elbo'] == b['negative_elbo']
mean = a['iwae_nats'] + b['iwae_nats']
sumsq = sum((e['iwae_se'] * math.sqrt(n)) ** 2 * (n - 1) + n * e['iwae_nats'] ** 2 for e in (a, b))
se = math.sqrt((sumsq - n * mean ** 2) / (n - 1)) / math.sqrt(n)
out = dict(a, checkpoint=R + 'fb100_s0/checkpoint.pt', iwae_nats=mean, iwae_se=se,
           iwae_seconds=a['iwae_seconds'] + b['iwae_seconds'],
           merged_from=['fb100_s0_a (batches 0-7299)', 'fb100_s0_b (batches 7300-9999)'])
json.dump(out, open(R + 'fb100_s0/evaluation_k5000.json', 'w'), indent=2)
print(mean, se, out['iwae_seconds'])
