#!/usr/bin/env python3
"""PyTorch on the same networks, for the README's speed comparison.

    python3 tools/torch_bench.py            # after: pip install torch numpy

Trains the five presets (`seed`, `lenet`, `strided`, `bn`, `updown`) with SGD at batch 64 on MNIST on 1 and 2 threads and
times single-image inference, the figures `backprop-viz bench` reports.
"""
import gzip
import json
import time

import numpy as np
import torch

torch.manual_seed(1)


def idx(path):
    with gzip.open(path) as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def net(c1, c2, hidden, strided=False, bn=False, updown=False):
    if updown:  # down by a stride-2 conv, back up by a transposed conv
        return torch.nn.Sequential(
            torch.nn.Conv2d(1, 4, 3, padding=1, stride=2), torch.nn.ReLU(),
            torch.nn.ConvTranspose2d(4, 1, 3, stride=2, padding=1, output_padding=1), torch.nn.ReLU(),
            torch.nn.MaxPool2d(4), torch.nn.Flatten(), torch.nn.Linear(49, 10))
    if bn:  # lenet with a batch norm after each conv
        return torch.nn.Sequential(
            torch.nn.Conv2d(1, c1, 3, padding=1), torch.nn.BatchNorm2d(c1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(c1, c2, 3, padding=1), torch.nn.BatchNorm2d(c2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(c2 * 49, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10))
    if strided:  # lenet's convs at stride 2 in place of pooling
        return torch.nn.Sequential(
            torch.nn.Conv2d(1, c1, 3, padding=1, stride=2), torch.nn.ReLU(),
            torch.nn.Conv2d(c1, c2, 3, padding=1, stride=2), torch.nn.ReLU(),
            torch.nn.Flatten(), torch.nn.Linear(c2 * 49, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10))
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, c1, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(c1, c2, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(c2 * 49, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10))


PRESETS = {"seed": (1, 1, 49), "lenet": (8, 16, 64), "strided": (8, 16, 64, True),
           "bn": (8, 16, 64, False, True), "updown": (0, 0, 0, False, False, True)}

images = torch.tensor(idx("data/mnist/train-images-idx3-ubyte.gz")[:20000], dtype=torch.uint8)
labels = torch.tensor(idx("data/mnist/train-labels-idx1-ubyte.gz")[:20000], dtype=torch.int64)
result = {"train_samples_per_second": {}, "infer_us_single": {}}
for name, shape in PRESETS.items():
    for threads in (1, 2):
        torch.set_num_threads(threads)
        model = net(*shape)
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        n = len(images)

        def batch(i):
            j = (i * 64) % (n - 64)
            return images[j:j + 64].float().div_(255).unsqueeze(1), labels[j:j + 64]

        for i in range(20):
            x, y = batch(i)
            opt.zero_grad(); torch.nn.functional.cross_entropy(model(x), y).backward(); opt.step()
        start, samples, i = time.perf_counter(), 0, 0
        while time.perf_counter() - start < 3.0:
            x, y = batch(i)
            opt.zero_grad(); torch.nn.functional.cross_entropy(model(x), y).backward(); opt.step()
            samples += 64; i += 1
        rate = samples / (time.perf_counter() - start)
        result["train_samples_per_second"][f"{name}@{threads}"] = rate
        print(f"{name} {threads} thread(s): {rate:.0f} samples/s")
    torch.set_num_threads(1)
    model.eval()
    x = images[:1].float().div(255).unsqueeze(1)
    times = []
    with torch.no_grad():
        for r in range(3100):
            t = time.perf_counter(); model(x); times.append(time.perf_counter() - t)
    us = sorted(times[100:])[1500] * 1e6
    result["infer_us_single"][name] = us
    print(f"{name} inference: {us:.1f} us")
print(json.dumps(result))
