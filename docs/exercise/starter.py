#!/usr/bin/env python3
"""Backprop by hand, one training step (see README.md).

Fill in the five functions marked YOUR CODE, then run

    python3 starter.py

It reads the step from npy/, calls your functions layer by layer, and
writes your answers to answers/ (LAYER.weight_grad.npy, LAYER.delta.npy…).
Check them with

    backprop-viz check --trace STEP.safetensors answers/*.npy
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name):
    return np.load(os.path.join(HERE, "npy", name + ".npy")).astype(np.float64)


def save(name, array):
    os.makedirs(os.path.join(HERE, "answers"), exist_ok=True)
    np.save(os.path.join(HERE, "answers", name + ".npy"), np.asarray(array, dtype=np.float64))


# ---- YOUR CODE ---------------------------------------------------------------

def conv_backward(x, D, F, padding, stride=1, dilation=1):
    """x [N,C,h,w]: the layer's input; D [N,O,ho,wo]: the delta from above;
    F [O,C,k,k]: the filters; zero padding `padding`; output cells `stride`
    apart, the filter's taps `dilation` apart (both 1 in the seed network).
    Returns dF [O,C,k,k], dB [O], D_below [N,C,h,w]."""
    raise NotImplementedError


def dense_backward(x, D, W):
    """x [N,I], D [N,O], W [O,I]. Returns dW [O,I], dB [O], D_below [N,I]."""
    raise NotImplementedError


def relu_backward(x, D):
    """x: the ReLU's input; D: the delta from above (same shape).
    Returns D_below."""
    raise NotImplementedError


def maxpool_backward(x, D, size, stride=None):
    """x [N,C,h,w]; windows size x size, their corners `stride` apart (None:
    `size`, side by side); D [N,C,ho,wo], one value per window. Returns
    D_below [N,C,h,w]. Where windows overlap, a cell adds up what each
    window sends it."""
    raise NotImplementedError


def avgpool_backward(x, D, size, stride=None):
    """As maxpool_backward, for average pooling: each window's delta is
    shared by its size*size cells."""
    raise NotImplementedError


def convtranspose_backward(x, D, F, padding, stride=1):
    """A transposed conv: x [N,I,h,w]; D [N,O,H,W]; F [I,O,k,k] (input
    channels first); in the forward pass input cell (a, b) reached output
    cell (stride*a + u - padding, stride*b + v - padding) through F[i,o,u,v].
    Returns dF [I,O,k,k], dB [O], D_below [N,I,h,w]."""
    raise NotImplementedError


def batchnorm_backward(x, D, gamma, eps):
    """Batch norm in training mode: x, D [N,C,h,w]; gamma [C]; each
    channel's mean and (biased) variance over its N*h*w values.
    Returns dgamma [C], dbeta [C], D_below [N,C,h,w]."""
    raise NotImplementedError


def flatten_backward(x, D):
    """x [N,C,h,w], D [N,C*h*w]. Returns D_below [N,C,h,w]."""
    raise NotImplementedError

# ------------------------------------------------------------------------------


def main():
    with open(os.path.join(HERE, "layers.json")) as f:
        layers = json.load(f)
    x = load("input")
    for layer in layers:
        name, kind = layer["name"], layer["kind"]
        D = load(name + ".out_grad")
        try:
            if kind == "conv":
                dF, dB, below = conv_backward(x, D, load(name + ".weight"), layer.get("padding", 0),
                                              layer.get("stride", 1), layer.get("dilation", 1))
                save(name + ".weight_grad", dF)
                save(name + ".bias_grad", dB)
                save(name + ".delta", below)
            elif kind == "dense":
                dW, dB, below = dense_backward(x, D, load(name + ".weight"))
                save(name + ".weight_grad", dW)
                save(name + ".bias_grad", dB)
                save(name + ".delta", below)
            elif kind == "relu":
                save(name + ".delta", relu_backward(x, D))
            elif kind == "maxpool":
                size = layer.get("size", 2)
                save(name + ".delta", maxpool_backward(x, D, size, layer.get("stride", size)))
            elif kind == "avgpool":
                size = layer.get("size", 2)
                save(name + ".delta", avgpool_backward(x, D, size, layer.get("stride", size)))
            elif kind == "convtranspose":
                dF, dB, below = convtranspose_backward(x, D, load(name + ".weight"),
                                                       layer.get("padding", 0), layer.get("stride", 1))
                save(name + ".weight_grad", dF)
                save(name + ".bias_grad", dB)
                save(name + ".delta", below)
            elif kind == "batchnorm":
                dG, dB, below = batchnorm_backward(x, D, load(name + ".weight"), layer.get("eps", 1e-5))
                save(name + ".weight_grad", dG)
                save(name + ".bias_grad", dB)
                save(name + ".delta", below)
            elif kind == "flatten":
                save(name + ".delta", flatten_backward(x, D))
            else:
                print(f"{name}: {kind} layers are not part of this starter")
                x = load(name + ".out")
                continue
            print(f"{name}: answers written")
        except NotImplementedError:
            print(f"{name}: not written yet ({kind}_backward)")
        x = load(name + ".out")
    print("Check: backprop-viz check --trace STEP.safetensors answers/*.npy")


if __name__ == "__main__":
    main()
