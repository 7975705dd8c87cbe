#!/usr/bin/python3
"""Golden numbers for diffusion4j's layer kinds (``io.github.diffusion4j.nn.Layer``), from PyTorch.

Each case is a small network around one layer kind, written here with PyTorch's own operations (``F.linear``,
``F.conv2d``, ``F.group_norm``, ``F.silu``, ``F.interpolate``, ``torch.softmax``, ...) and in Java by the
testkit's ``LayerCases`` with the ``NetworkBuilder``: the same parameter names, the same dense test weights
(``unet_reference.test_weights``: portable SplitMix64 draws), the same input. Layers whose input gradient is
not a parameter gradient get a 1x1 "pre" convolution in front, so that a wrong input gradient shows in the
pre layer's weight gradient. For each case the file holds the output, the loss ``mean((out - target)^2)`` and
the full gradient of every parameter; the dropout case is evaluated in training at step 1 with the portable
mask.

    python3 docs/layers_reference.py OUT.json
"""

import json
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F

from unet_reference import Noise, _flat

WEIGHT_SEED = 20251202
T = [0, 500, 999]
C, H, W = 4, 6, 6
DROPOUT_STREAM = 0x4C415945525F4452  # "LAYER_DR", LayerCases.DROPOUT_STREAM


def weights(layout, seed):
    """GoldenCases.testWeights: entry i is (2u - 1) * b, b = 1/sqrt(fan_in) (rank >= 2) or 0.5; names whose
    layer is norm1/norm2/norm/norm_out get 1 added to their weight."""
    out = {}
    root = Noise.seeded(seed)
    for i, (name, shape) in enumerate(layout):
        n = int(np.prod(shape))
        u = root.split(i).doubles(n)
        b = 1.0 / math.sqrt(int(np.prod(shape[1:]))) if len(shape) >= 2 else 0.5
        v = (2.0 * u - 1.0) * b
        if name.rsplit(".", 2)[-2] in ("norm1", "norm2", "norm", "norm_out") and name.endswith(".weight"):
            v = v + 1.0
        out[name] = torch.tensor(v.astype(np.float32).reshape(shape), requires_grad=True)
    return out


def conv(p, name, x, stride=1, pad=(0, 0, 0, 0)):
    """A convolution with explicit (top, left, bottom, right) padding; 2-D weights are 1x1 kernels."""
    w = p[name + ".weight"]
    if w.dim() == 2:
        w = w[:, :, None, None]
    top, left, bottom, right = pad
    if any(pad):
        x = F.pad(x, (left, right, top, bottom))
    return F.conv2d(x, w, p.get(name + ".bias"), stride=stride)


def linear(p, name, x):
    return F.linear(x, p[name + ".weight"], p[name + ".bias"])


def embedding(t, dim, flip, shift, precision):
    half = dim // 2
    tt = torch.tensor(t, dtype=torch.float64 if precision == "DOUBLE" else torch.float32)
    if precision == "DOUBLE":
        freq = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float64) / (half - shift))
    elif precision == "FLOAT32":
        freq = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / (half - shift))
    else:
        freq = torch.exp(torch.arange(half, dtype=torch.float32) * -(math.log(10000.0) / (half - shift)))
    a = tt[:, None] * freq[None, :]
    e = torch.cat([torch.sin(a), torch.cos(a)], dim=1)
    if flip:
        e = torch.cat([e[:, half:], e[:, :half]], dim=1)
    return e.float()


def attention(q, k, v, heads):
    n, c, h, w = q.shape
    d = c // heads
    q = q.reshape(n, heads, d, h * w)
    k = k.reshape(n, heads, d, h * w)
    v = v.reshape(n, heads, d, h * w)
    logits = torch.einsum("nhci,nhcj->nhij", q, k) / math.sqrt(d)
    wts = torch.softmax(logits, dim=-1)
    return torch.einsum("nhcj,nhij->nhci", v, wts).reshape(n, c, h, w)


def dropout_mask(p, step, index, shape):
    u = Noise.seeded(0).split(DROPOUT_STREAM).split(step).split(index).doubles(int(np.prod(shape)))
    keep = np.float32(1.0 / (1.0 - p))
    return torch.from_numpy(np.where(u < p, np.float32(0), keep).astype(np.float32).reshape(shape))


# name -> (layout [(param, shape)], forward(p, x, t) -> out); layouts are in the order the Java cases add layers
CASES = {
    "linear": ([("pre.weight", [C, C, 1, 1]), ("pre.bias", [C]), ("lin.weight", [C * H * W, C * H * W]),
                ("lin.bias", [C * H * W])],
               lambda p, x, t: linear(p, "lin", conv(p, "pre", x).reshape(x.shape[0], -1)).reshape(x.shape)),
    "conv3x3": ([("pre.weight", [C, C, 1, 1]), ("pre.bias", [C]), ("c.weight", [5, C, 3, 3]), ("c.bias", [5]),
                 ("post.weight", [C, 5, 1, 1]), ("post.bias", [C])],
                lambda p, x, t: conv(p, "post", conv(p, "c", conv(p, "pre", x), 1, (1, 1, 1, 1)))),
    "conv3x3_no_bias": ([("pre.weight", [C, C, 1, 1]), ("pre.bias", [C]), ("c.weight", [5, C, 3, 3]),
                         ("post.weight", [C, 5, 1, 1]), ("post.bias", [C])],
                        lambda p, x, t: conv(p, "post", conv(p, "c", conv(p, "pre", x), 1, (1, 1, 1, 1)))),
    "conv_stride2_right_bottom": ([("pre.weight", [C, C, 1, 1]), ("pre.bias", [C]), ("c.weight", [C, C, 3, 3]),
                                   ("c.bias", [C])],
                                  lambda p, x, t: F.interpolate(conv(p, "c", conv(p, "pre", x), 2, (0, 0, 1, 1)),
                                                                scale_factor=2.0, mode="nearest")),
    "conv_stride2_symmetric": ([("pre.weight", [C, C, 1, 1]), ("pre.bias", [C]), ("c.weight", [C, C, 3, 3]),
                                ("c.bias", [C])],
                               lambda p, x, t: F.interpolate(conv(p, "c", conv(p, "pre", x), 2, (1, 1, 1, 1)),
                                                             scale_factor=2.0, mode="nearest")),
    "conv1x1_linear_weight": ([("pre.weight", [C, C, 1, 1]), ("pre.bias", [C]), ("c.weight", [C, C]),
                               ("c.bias", [C])],
                              lambda p, x, t: conv(p, "c", conv(p, "pre", x))),
    "group_norm": ([("pre.weight", [C, C, 1, 1]), ("pre.bias", [C]), ("gn.norm.weight", [C]), ("gn.norm.bias", [C])],
                   lambda p, x, t: F.group_norm(conv(p, "pre", x), 2, p["gn.norm.weight"], p["gn.norm.bias"], 1e-5)),
    "group_norm_vector": ([("pre.weight", [C, C, 1, 1]), ("pre.bias", [C]), ("l.weight", [C, 8]), ("l.bias", [C]),
                           ("gn.norm.weight", [C]), ("gn.norm.bias", [C])],
                          lambda p, x, t: conv(p, "pre", x) + F.group_norm(
                              linear(p, "l", embedding(t, 8, False, 1.0, "DOUBLE")), 1, p["gn.norm.weight"],
                              p["gn.norm.bias"], 1e-6)[:, :, None, None]),
    "silu": ([("pre.weight", [C, C, 1, 1]), ("pre.bias", [C])], lambda p, x, t: F.silu(conv(p, "pre", x))),
    "relu": ([("pre.weight", [C, C, 1, 1]), ("pre.bias", [C])], lambda p, x, t: F.relu(conv(p, "pre", x))),
    "upsample": ([("pre.weight", [C, C, 3, 3]), ("pre.bias", [C])],
                 lambda p, x, t: F.interpolate(conv(p, "pre", x, 2, (1, 1, 1, 1)), scale_factor=2.0, mode="nearest")),
    "add_scaled": ([("a.weight", [C, C, 1, 1]), ("a.bias", [C]), ("b.weight", [C, C, 3, 3]), ("b.bias", [C])],
                   lambda p, x, t: (conv(p, "a", x) + conv(p, "b", x, 1, (1, 1, 1, 1))) * 0.7),
    "add_broadcast": ([("pre.weight", [C, C, 1, 1]), ("pre.bias", [C]), ("l.weight", [C, 1]), ("l.bias", [C])],
                      lambda p, x, t: conv(p, "pre", x) + linear(
                          p, "l", (torch.tensor(t, dtype=torch.float64)[:, None] / 1000.0).float())[:, :, None, None]),
    "concat": ([("a.weight", [2, C, 1, 1]), ("a.bias", [2]), ("b.weight", [3, C, 1, 1]), ("b.bias", [3]),
                ("post.weight", [C, 5, 1, 1]), ("post.bias", [C])],
               lambda p, x, t: conv(p, "post", torch.cat([conv(p, "a", x), conv(p, "b", x)], dim=1))),
    "slice_channels": ([("pre.weight", [2 * C, C, 1, 1]), ("pre.bias", [2 * C])],
                       lambda p, x, t: conv(p, "pre", x)[:, 2:2 + C]),
    "attention_one_head": ([("q.weight", [C, C, 1, 1]), ("q.bias", [C]), ("k.weight", [C, C, 1, 1]), ("k.bias", [C]),
                            ("v.weight", [C, C, 1, 1]), ("v.bias", [C])],
                           lambda p, x, t: attention(conv(p, "q", x), conv(p, "k", x), conv(p, "v", x), 1)),
    "attention_two_heads": ([("q.weight", [C, C, 1, 1]), ("q.bias", [C]), ("k.weight", [C, C, 1, 1]),
                             ("k.bias", [C]), ("v.weight", [C, C, 1, 1]), ("v.bias", [C])],
                            lambda p, x, t: attention(conv(p, "q", x), conv(p, "k", x), conv(p, "v", x), 2)),
    "dropout": ([("pre.weight", [C, C, 1, 1]), ("pre.bias", [C])],
                lambda p, x, t: conv(p, "pre", x) * dropout_mask(0.3, 1, 0, (len(t), C, H, W))),
    "embedding_ddpm": ([("pre.weight", [C, C, 1, 1]), ("pre.bias", [C]), ("l.weight", [C, 16]), ("l.bias", [C])],
                       lambda p, x, t: conv(p, "pre", x) + linear(
                           p, "l", embedding(t, 16, False, 1.0, "FLOAT32_DDPM"))[:, :, None, None]),
    "embedding_diffusers_flip": ([("pre.weight", [C, C, 1, 1]), ("pre.bias", [C]), ("l.weight", [C, 16]),
                                  ("l.bias", [C])],
                                 lambda p, x, t: conv(p, "pre", x) + linear(
                                     p, "l", embedding(t, 16, True, 0.0, "FLOAT32"))[:, :, None, None]),
    "embedding_double": ([("pre.weight", [C, C, 1, 1]), ("pre.bias", [C]), ("l.weight", [C, 16]), ("l.bias", [C])],
                         lambda p, x, t: conv(p, "pre", x) + linear(
                             p, "l", embedding(t, 16, False, 1.0, "DOUBLE"))[:, :, None, None]),
}


def main(out_path):
    n = len(T)
    j = np.arange(n * C * H * W)
    x = torch.from_numpy((((j * 37) % 101) / 50.0 - 1.0).astype(np.float32).reshape(n, C, H, W))
    y = torch.from_numpy((((j * 53) % 97) / 48.0 - 1.0).astype(np.float32).reshape(n, C, H, W))
    cases = []
    for name, (layout, forward) in CASES.items():
        p = weights(layout, WEIGHT_SEED)
        out = forward(p, x, T)
        loss = ((out - y) ** 2).mean()
        loss.backward()
        cases.append({"name": name, "output": _flat(out), "loss": float(loss),
                      "gradients": {k: _flat(v.grad) for k, v in p.items()}})
    with open(out_path, "w") as f:
        f.write('{"generator": "docs/layers_reference.py (torch ' + torch.__version__ + ')",\n')
        f.write(' "weight_seed": ' + str(WEIGHT_SEED) + ', "t": ' + json.dumps(T) + ', "image": ' + json.dumps([C, H, W]) + ',\n')
        f.write(' "cases": [\n')
        f.write(",\n".join("  " + json.dumps(c) for c in cases))
        f.write("\n ]\n}\n")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(sys.argv[1])
