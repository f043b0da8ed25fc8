# The class test of report/lstm_decoder.md with the mean of several draws (an estimate of E[x|z]) instead of one:
#   PYTHONPATH=. python benchmarks/results/cpu_2026-11-27/recon_mean.py pretrained/lstm_vae.pt  (needs ~/runs/judge/classifier.pt)
import sys
from pathlib import Path

import torch
from vae.files import load_checkpoint, model_from_state, load_mnist
from vae.data import prepare_images, binarized_once
from vae.classifier import load_classifier, predict
torch.set_num_threads(2)
judge = load_classifier(Path.home() / 'runs/judge/classifier.pt')
imgs, labels = load_mnist('../shared/data', train=False, with_labels=True)
path = sys.argv[1]
st = load_checkpoint(path); m = model_from_state(st, path); m.eval()
x = binarized_once(prepare_images(imgs, m.cfg))[:1000]; y = labels[:1000]
g = torch.Generator().manual_seed(0)
with torch.no_grad():
    mu = m.encode(x)[0]
    draws = []
    for i in range(50):
        draws.append(m.decoder.generate(m._adapted(mu), g)[0])
        if i + 1 in (1, 5, 10, 20, 50):
            mean = torch.stack(draws).mean(0)
            print(i + 1, 'draws: mean image', (predict(judge, mean) == y).float().mean().item(), flush=True)
