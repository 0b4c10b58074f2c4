#!/usr/bin/env python3
"""The teacher's reference solution to an exercise (not given to students).

    python3 solution.py EXERCISE_DIR

fills in the student's starter.py with the formulas of CHECK-CONTRACT.md and
writes the answers to EXERCISE_DIR/answers/; `backprop-viz check` then says
every one matches. The app's tests compute the same in Rust
(`backprop_viz::check::exercise::solve`).
"""
import os
import sys

import numpy as np


def pad(a, p):
    return np.pad(a, ((0, 0), (0, 0), (p, p), (p, p)))


def conv_backward(x, D, F, padding, stride=1, dilation=1):
    k = F.shape[-1]
    N, C, h, w = x.shape
    _, _, ho, wo = D.shape
    xp = pad(x, padding)
    dF = np.zeros(F.shape)
    G = np.zeros(xp.shape)
    for a in range(k):
        for b in range(k):
            # The cells tap (a, b) reads: from dilation*a, stride apart.
            rows = slice(a * dilation, a * dilation + (ho - 1) * stride + 1, stride)
            cols = slice(b * dilation, b * dilation + (wo - 1) * stride + 1, stride)
            dF[:, :, a, b] = np.einsum('nchw,nohw->oc', xp[:, :, rows, cols], D)
            G[:, :, rows, cols] += np.einsum('oc,nohw->nchw', F[:, :, a, b], D)
    return dF, D.sum(axis=(0, 2, 3)), G[:, :, padding:padding + h, padding:padding + w]


def dense_backward(x, D, W):
    return D.T @ x, D.sum(axis=0), D @ W


def relu_backward(x, D):
    return D * (x > 0)


def maxpool_backward(x, D, s, t=None):
    t = s if t is None else t
    N, C, ho, wo = D.shape
    out = np.zeros(x.shape)
    for i in range(ho):
        for j in range(wo):
            # Each window's first maximum (row-major), for every n and c.
            win = x[:, :, t * i:t * i + s, t * j:t * j + s].reshape(N, C, s * s)
            first = win.argmax(-1)
            for n, c in np.ndindex(N, C):
                a, b = divmod(first[n, c], s)
                out[n, c, t * i + a, t * j + b] += D[n, c, i, j]
    return out


def avgpool_backward(x, D, s, t=None):
    t = s if t is None else t
    N, C, ho, wo = D.shape
    out = np.zeros(x.shape)
    for i in range(ho):
        for j in range(wo):
            out[:, :, t * i:t * i + s, t * j:t * j + s] += D[:, :, i, j, None, None] / (s * s)
    return out


def convtranspose_backward(x, D, F, padding, stride=1):
    k = F.shape[-1]
    N, I, h, w = x.shape
    Dp = pad(D, padding)
    dF = np.zeros(F.shape)
    below = np.zeros(x.shape)
    for u in range(k):
        for v in range(k):
            # The cells of D that tap (u, v) reached: from u, stride apart.
            rows = slice(u, u + (h - 1) * stride + 1, stride)
            cols = slice(v, v + (w - 1) * stride + 1, stride)
            dF[:, :, u, v] = np.einsum('nihw,nohw->io', x, Dp[:, :, rows, cols])
            below += np.einsum('io,nohw->nihw', F[:, :, u, v], Dp[:, :, rows, cols])
    return dF, D.sum(axis=(0, 2, 3)), below


def batchnorm_backward(x, D, gamma, eps):
    m = x.shape[0] * x.shape[2] * x.shape[3]
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    var = x.var(axis=(0, 2, 3), keepdims=True)
    xhat = (x - mean) / np.sqrt(var + eps)
    dbeta = D.sum(axis=(0, 2, 3))
    dgamma = (D * xhat).sum(axis=(0, 2, 3))
    scale = gamma[None, :, None, None] / np.sqrt(var + eps)
    below = scale * (D - dbeta[None, :, None, None] / m - xhat * dgamma[None, :, None, None] / m)
    return dgamma, dbeta, below


def flatten_backward(x, D):
    return D.reshape(x.shape)


if __name__ == "__main__":
    sys.path.insert(0, os.path.abspath(sys.argv[1]))
    import starter
    for f in (conv_backward, dense_backward, relu_backward, maxpool_backward, avgpool_backward,
              convtranspose_backward, batchnorm_backward, flatten_backward):
        setattr(starter, f.__name__, f)
    starter.main()
