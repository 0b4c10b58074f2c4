#!/usr/bin/env python3
"""Independent check of backprop-viz's numbers with PyTorch's autograd.

    backprop-viz trace --preset seed --batch 8 --out /tmp/t.safetensors
    python3 tools/torch_check.py /tmp/t.safetensors [--fixture tests/fixtures/torch_seed.safetensors]

Rebuilds the network from the trace's `layers` metadata as an nn.Sequential,
loads the weights the trace says were used, runs forward and backward on the
trace's batch, and compares every output, delta and gradient. With
--fixture it also writes PyTorch's own numbers in the trace format, which
tests/torch_reference.rs replays in CI (where PyTorch is not installed).
Needs: pip install torch safetensors numpy.
"""
import argparse
import json
import sys

import torch
from safetensors import safe_open
from safetensors.torch import save_file


def build(layers):
    mods = []
    for spec in layers:
        k = spec["kind"]
        if k == "conv":
            mods.append(torch.nn.Conv2d(spec["in_channels"], spec["out_channels"], spec["kernel"],
                                        padding=spec.get("padding", 0), stride=spec.get("stride", 1),
                                        dilation=spec.get("dilation", 1)))
        elif k == "convtranspose":
            mods.append(torch.nn.ConvTranspose2d(spec["in_channels"], spec["out_channels"], spec["kernel"],
                                                 padding=spec.get("padding", 0), stride=spec.get("stride", 1),
                                                 output_padding=spec.get("output_padding", 0)))
        elif k == "batchnorm":
            # Training mode (the default): the batch's own statistics.
            mods.append(torch.nn.BatchNorm2d(spec["channels"], eps=spec.get("eps", 1e-5)))
        elif k == "relu":
            mods.append(torch.nn.ReLU())
        elif k == "sigmoid":
            mods.append(torch.nn.Sigmoid())
        elif k == "tanh":
            mods.append(torch.nn.Tanh())
        elif k == "maxpool":
            size = spec.get("size", 2)
            mods.append(torch.nn.MaxPool2d(size, stride=spec.get("stride", size)))
        elif k == "avgpool":
            size = spec.get("size", 2)
            mods.append(torch.nn.AvgPool2d(size, stride=spec.get("stride", size)))
        elif k == "flatten":
            mods.append(torch.nn.Flatten())
        elif k == "dense":
            mods.append(torch.nn.Linear(spec["in"], spec["out"]))
        else:
            raise SystemExit(f"unknown layer kind {k}")
    return mods


# The layers with a weight and a bias (batch norm's are γ and β).
WITH_PARAMS = ("conv", "convtranspose", "batchnorm", "dense")


def terms_scale(key, v, out_grad):
    """The size a tensor's rounding is measured against: its largest value;
    for a bias gradient (a sum over the batch and the map of the delta) at
    least its largest sum of |delta|, since a sum of thousands of terms that
    cancel (a conv's bias before batch norm, whose true gradient is 0) is
    left with rounding noise of that order."""
    scale = v.abs().max().item()
    if key.endswith(".bias_grad") and out_grad is not None:
        dims = [d for d in range(out_grad.dim()) if d != 1]
        scale = max(scale, out_grad.abs().sum(dim=dims).max().item())
    return scale


def step(mods, x, labels):
    """Forward and backward through `mods`: every layer's input (its .grad
    the delta it hands down), the logits and the loss."""
    acts = []
    a = x.requires_grad_(True)
    for m in mods:
        a.retain_grad()
        acts.append(a)
        a = m(a)
        a.retain_grad()
    loss = torch.nn.functional.cross_entropy(a, labels)
    loss.backward()
    return acts, a, loss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("--fixture")
    args = ap.parse_args()
    torch.set_default_dtype(torch.float32)

    with safe_open(args.trace, "pt") as f:
        meta = f.metadata()
        t = {k: f.get_tensor(k) for k in f.keys()}
    layers = json.loads(meta["layers"])
    mods = build(layers)
    with torch.no_grad():
        for spec, m in zip(layers, mods):
            if spec["kind"] in WITH_PARAMS:
                m.weight.copy_(t[spec["name"] + ".weight"])
                m.bias.copy_(t[spec["name"] + ".bias"])

    labels = t["labels"]
    acts, logits, loss = step(mods, t["input"].clone(), labels)

    ours = {"loss": t["loss"].reshape(-1)[0].item()}
    theirs = {"loss": loss.item()}
    out = {"input": t["input"], "labels": labels, "loss": loss.detach().reshape(1),
           "logits.delta": logits.grad.detach()}
    worst = 0.0
    for i, (spec, m) in enumerate(zip(layers, mods)):
        n = spec["name"]
        out_t = acts[i + 1] if i + 1 < len(acts) else logits
        pairs = {f"{n}.out": out_t.detach(), f"{n}.delta": acts[i].grad.detach()}
        if spec["kind"] in WITH_PARAMS:
            pairs[f"{n}.weight"] = m.weight.detach()
            pairs[f"{n}.bias"] = m.bias.detach()
            pairs[f"{n}.weight_grad"] = m.weight.grad.detach()
            pairs[f"{n}.bias_grad"] = m.bias.grad.detach()
        for k, v in pairs.items():
            out[k] = v.contiguous()
            diff = (t[k] - v).abs().max().item()
            scale = terms_scale(k, v, out_t.grad)
            rel = diff / scale if scale > 0 else diff
            worst = max(worst, rel)
            print(f"{k:24s} shape {tuple(v.shape)!s:18s} max|diff| {diff:.3e}  scale {scale:.3e}  rel {rel:.2e}")
    # The same step in float64: our float32 numbers against exact autograd.
    mods64 = build(layers)
    with torch.no_grad():
        for spec, m, m32 in zip(layers, mods64, mods):
            if spec["kind"] in WITH_PARAMS:
                m.weight.copy_(m32.weight)
                m.bias.copy_(m32.bias)
    mods64 = [m.double() for m in mods64]
    acts64, a, _ = step(mods64, t["input"].double(), labels)
    worst64 = 0.0
    for i, (spec, m) in enumerate(zip(layers, mods64)):
        n = spec["name"]
        out_t = acts64[i + 1] if i + 1 < len(acts64) else a
        pairs = {f"{n}.out": out_t, f"{n}.delta": acts64[i].grad}
        if spec["kind"] in WITH_PARAMS:
            pairs[f"{n}.weight_grad"] = m.weight.grad
            pairs[f"{n}.bias_grad"] = m.bias.grad
        for k, v in pairs.items():
            v = v.detach()
            scale = terms_scale(k, v, out_t.grad)
            diff = (t[k].double() - v).abs().max().item()
            worst64 = max(worst64, diff / scale if scale > 0 else diff)
    print(f"worst relative difference from float64 autograd: {worst64:.2e}")
    worst = max(worst, worst64)
    d = (t["logits.delta"] - logits.grad).abs().max().item()
    print(f"{'logits.delta':24s} max|diff| {d:.3e}")
    print(f"loss: ours {ours['loss']:.8f} torch {theirs['loss']:.8f}")
    print(f"worst relative difference: {worst:.2e}")
    if args.fixture:
        save_file({k: v.clone().contiguous() for k, v in out.items()}, args.fixture,
                  metadata={"format": "backprop-viz-trace", "version": "1", "layers": meta["layers"]})
        print(f"wrote {args.fixture}")
    sys.exit(0 if worst < 1e-4 else 1)


if __name__ == "__main__":
    main()
