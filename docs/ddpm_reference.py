#!/usr/bin/python3
"""The reference for diffusion4j's DDPM U-Net family (``model.kind: ddpm``), in plain PyTorch.

Written from the DDPM authors' model as ported to PyTorch in ermongroup/ddim ``models/diffusion.py``
(``Model``, ``ResnetBlock``, ``AttnBlock``, ``Downsample``, ``Upsample``, ``get_timestep_embedding``; the
layout of pesser/pytorch_diffusion), so that its ``state_dict()`` has exactly the names, order and shapes of
the published checkpoints (CIFAR-10, CelebA, LSUN church/bedroom, CelebA-HQ). Points that matter:

- GroupNorm with 32 groups and eps 1e-6; SiLU ("swish") everywhere;
- the timestep embedding in float32 as the authors compute it: ``exp(arange(half) * -(ln 10000 / (half - 1)))``,
  ``[sin, cos]``;
- downsampling pads right and bottom by one and runs a 3x3 stride-2 convolution without padding;
- attention (separate 1x1 ``q``, ``k``, ``v``, ``proj_out``) after every residual block of a level whose
  resolution is in ``attn_resolutions``, on the way down and up, and always in the middle;
- the up path has ``num_res_blocks + 1`` blocks per level.

Usage (PyTorch 1.13 or later and NumPy; Debian: ``apt install python3-torch``)::

    python3 docs/ddpm_reference.py names '{"ch": 128, "ch_mult": [1, 2, 2, 2], "attn_resolutions": [16]}'
    python3 docs/ddpm_reference.py golden OUT.json    # regenerates the tests' golden file
    python3 docs/ddpm_reference.py bench CONFIG_JSON BATCH THREADS [STEPS [DDIM_STEPS [TRAIN_WARMUP_S]]]
"""

import json
import math
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from unet_reference import Noise, _flat, ddim_seconds, steps_per_second

GROUPS = 32
EPS = 1e-6
INIT_STREAM = 0x4444504D5F494E49  # "DDPM_INI", DdpmUNetSpec.INIT_STREAM

DEFAULT = {"image_size": 32, "in_channels": 3, "ch": 128, "ch_mult": [1, 2, 2, 2], "num_res_blocks": 2,
           "attn_resolutions": [16], "dropout": 0.1}


def embedding(t, dim):
    half = dim // 2
    step = math.log(10000) / (half - 1)
    freq = torch.exp(torch.arange(half, dtype=torch.float32) * -step)
    args = torch.as_tensor(t).float()[:, None] * freq[None, :]
    out = torch.cat([torch.sin(args), torch.cos(args)], dim=1)
    return F.pad(out, (0, 1, 0, 0)) if dim % 2 else out


def swish(x):
    return x * torch.sigmoid(x)


def norm(c):
    return nn.GroupNorm(GROUPS, c, eps=EPS, affine=True)


class ResnetBlock(nn.Module):
    def __init__(self, cin, cout, temb, dropout):
        super().__init__()
        self.norm1 = norm(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.temb_proj = nn.Linear(temb, cout)
        self.norm2 = norm(cout)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        if cin != cout:
            self.nin_shortcut = nn.Conv2d(cin, cout, 1, 1, 0)

    def forward(self, x, temb):
        h = self.conv1(swish(self.norm1(x)))
        h = h + self.temb_proj(swish(temb))[:, :, None, None]
        h = self.conv2(self.dropout(swish(self.norm2(h))))
        return (self.nin_shortcut(x) if hasattr(self, "nin_shortcut") else x) + h


class AttnBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm = norm(c)
        self.q = nn.Conv2d(c, c, 1)
        self.k = nn.Conv2d(c, c, 1)
        self.v = nn.Conv2d(c, c, 1)
        self.proj_out = nn.Conv2d(c, c, 1)

    def forward(self, x):
        h = self.norm(x)
        q, k, v = self.q(h), self.k(h), self.v(h)
        b, c, hh, ww = q.shape
        w = torch.bmm(q.reshape(b, c, hh * ww).permute(0, 2, 1), k.reshape(b, c, hh * ww)) * (int(c) ** -0.5)
        w = torch.softmax(w, dim=2)                                   # [b, query, key]
        h = torch.bmm(v.reshape(b, c, hh * ww), w.permute(0, 2, 1))   # [b, c, query]
        return x + self.proj_out(h.reshape(b, c, hh, ww))


class Downsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 2, 0)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 1, 1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Model(nn.Module):
    def __init__(self, image_size, in_channels, ch, ch_mult, num_res_blocks, attn_resolutions, dropout):
        super().__init__()
        self.ch, self.levels, self.blocks = ch, len(ch_mult), num_res_blocks
        temb = 4 * ch
        self.temb = nn.Module()
        self.temb.dense = nn.ModuleList([nn.Linear(ch, temb), nn.Linear(temb, temb)])
        self.conv_in = nn.Conv2d(in_channels, ch, 3, 1, 1)
        res = image_size
        in_mult = (1,) + tuple(ch_mult)
        self.down = nn.ModuleList()
        block_in = ch
        for i in range(self.levels):
            level = nn.Module()
            level.block, level.attn = nn.ModuleList(), nn.ModuleList()
            block_in, block_out = ch * in_mult[i], ch * ch_mult[i]
            for _ in range(num_res_blocks):
                level.block.append(ResnetBlock(block_in, block_out, temb, dropout))
                block_in = block_out
                if res in attn_resolutions:
                    level.attn.append(AttnBlock(block_in))
            if i != self.levels - 1:
                level.downsample = Downsample(block_in)
                res //= 2
            self.down.append(level)
        self.mid = nn.Module()
        self.mid.block_1 = ResnetBlock(block_in, block_in, temb, dropout)
        self.mid.attn_1 = AttnBlock(block_in)
        self.mid.block_2 = ResnetBlock(block_in, block_in, temb, dropout)
        self.up = nn.ModuleList()
        for i in reversed(range(self.levels)):
            level = nn.Module()
            level.block, level.attn = nn.ModuleList(), nn.ModuleList()
            block_out = ch * ch_mult[i]
            skip_in = ch * ch_mult[i]
            for j in range(num_res_blocks + 1):
                if j == num_res_blocks:
                    skip_in = ch * in_mult[i]
                level.block.append(ResnetBlock(block_in + skip_in, block_out, temb, dropout))
                block_in = block_out
                if res in attn_resolutions:
                    level.attn.append(AttnBlock(block_in))
            if i != 0:
                level.upsample = Upsample(block_in)
                res *= 2
            self.up.insert(0, level)
        self.norm_out = norm(block_in)
        self.conv_out = nn.Conv2d(block_in, in_channels, 3, 1, 1)

    def forward(self, x, t):
        temb = self.temb.dense[1](swish(self.temb.dense[0](embedding(t, self.ch))))
        hs = [self.conv_in(x)]
        for i in range(self.levels):
            for j in range(self.blocks):
                h = self.down[i].block[j](hs[-1], temb)
                if len(self.down[i].attn) > 0:
                    h = self.down[i].attn[j](h)
                hs.append(h)
            if i != self.levels - 1:
                hs.append(self.down[i].downsample(hs[-1]))
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(hs[-1], temb)), temb)
        for i in reversed(range(self.levels)):
            for j in range(self.blocks + 1):
                h = self.up[i].block[j](torch.cat([h, hs.pop()], dim=1), temb)
                if len(self.up[i].attn) > 0:
                    h = self.up[i].attn[j](h)
            if i != 0:
                h = self.up[i].upsample(h)
        return self.conv_out(swish(self.norm_out(h)))


def build(config):
    c = dict(DEFAULT)
    c.update(config)
    return Model(c["image_size"], c["in_channels"], c["ch"], c["ch_mult"], c["num_res_blocks"],
                 c["attn_resolutions"], c["dropout"])


def _is_norm(name):
    # the authors' names, and diffusers' (group_norm, conv_norm_out) for docs/diffusers_reference.py
    return name.rsplit(".", 2)[-2] in ("norm1", "norm2", "norm", "norm_out", "group_norm", "conv_norm_out")


def initial_weights(model, seed):
    """DdpmUNetSpec.initialWeights(seed)."""
    out = {}
    stream = Noise.seeded(seed).split(INIT_STREAM)
    for i, (name, p) in enumerate(model.state_dict().items()):
        shape = tuple(p.shape)
        zero = name.endswith((".bias", ".conv2.weight", ".proj_out.weight")) or name == "conv_out.weight"
        if _is_norm(name):
            v = np.ones(shape) if name.endswith(".weight") else np.zeros(shape)
        elif zero:
            v = np.zeros(shape)
        else:
            u = stream.split(i).doubles(int(np.prod(shape)))
            v = ((2.0 * u - 1.0) / math.sqrt(int(np.prod(shape[1:])))).reshape(shape)
        out[name] = torch.from_numpy(v.astype(np.float32))
    return out


def test_weights(model, seed):
    """Dense weights for tests, as unet_reference.test_weights and the Java TestWeights: entry i is
    (2u - 1) * b, u from Noise.seeded(seed).split(i), b = 1/sqrt(fan_in) for rank >= 2 and 0.5 for vectors;
    GroupNorm weights get 1 added."""
    out = {}
    root = Noise.seeded(seed)
    for i, (name, p) in enumerate(model.state_dict().items()):
        shape = tuple(p.shape)
        u = root.split(i).doubles(int(np.prod(shape)))
        b = 1.0 / math.sqrt(int(np.prod(shape[1:]))) if len(shape) >= 2 else 0.5
        v = (2.0 * u - 1.0) * b
        if _is_norm(name) and name.endswith(".weight"):
            v = v + 1.0
        out[name] = torch.from_numpy(v.astype(np.float32).reshape(shape))
    return out


# The published shapes, at reduced spatial sizes with the attention resolutions scaled alike (the same
# levels have attention), plus a miniature that the plain-Java reference backend runs too.
GOLDEN_CASES = [
    {"name": "mini", "config": {"image_size": 8, "in_channels": 3, "ch": 32, "ch_mult": [1, 2],
                                "num_res_blocks": 1, "attn_resolutions": [4], "dropout": 0.0}, "t": [0, 999]},
    {"name": "cifar10", "config": {"image_size": 16, "in_channels": 3, "ch": 128, "ch_mult": [1, 2, 2, 2],
                                   "num_res_blocks": 2, "attn_resolutions": [8], "dropout": 0.1}, "t": [17, 999]},
    {"name": "celeba", "config": {"image_size": 16, "in_channels": 3, "ch": 128, "ch_mult": [1, 2, 2, 2, 4],
                                  "num_res_blocks": 2, "attn_resolutions": [4], "dropout": 0.1}, "t": [500, 3]},
    {"name": "lsun256", "config": {"image_size": 32, "in_channels": 3, "ch": 128, "ch_mult": [1, 1, 2, 2, 4, 4],
                                   "num_res_blocks": 2, "attn_resolutions": [2], "dropout": 0.0}, "t": [999]},
]
WEIGHT_SEED = 20251201
INIT_SEED = 42


def golden(out_path):
    cases = []
    for case in GOLDEN_CASES:
        model = build(case["config"])
        sd = model.state_dict()
        init = initial_weights(model, INIT_SEED)
        model.load_state_dict(test_weights(model, WEIGHT_SEED))
        model.eval()
        c, s = case["config"]["in_channels"], case["config"]["image_size"]
        n = len(case["t"])
        j = np.arange(n * c * s * s)
        x = torch.from_numpy((((j * 37) % 101) / 50.0 - 1.0).astype(np.float32).reshape(n, c, s, s))
        y = torch.from_numpy((((j * 53) % 97) / 48.0 - 1.0).astype(np.float32).reshape(n, c, s, s))
        out = model(x, np.asarray(case["t"]))
        loss = ((out - y) ** 2).mean()
        loss.backward()
        params = dict(model.named_parameters())
        entries = []
        for name, p in sd.items():
            g = params[name].grad.detach().reshape(-1).double()
            entries.append({"name": name, "shape": list(p.shape),
                            "init_head": _flat(init[name].reshape(-1)[:4]),
                            "init_sum": float(init[name].double().sum()),
                            "grad_head": [float(v) for v in g[:4]],
                            "grad_l2": float(g.norm())})
        cases.append({"name": case["name"], "config": case["config"], "t": case["t"],
                      "output": _flat(out), "loss": float(loss), "entries": entries})
        print(f"{case['name']}: {sum(p.numel() for p in sd.values())} parameters, loss {float(loss):.6f}",
              file=sys.stderr)
    doc = {"generator": "docs/ddpm_reference.py golden (torch " + torch.__version__ + ")",
           "weight_seed": WEIGHT_SEED, "init_seed": INIT_SEED,
           "input": "x_j = ((j * 37) mod 101) / 50 - 1, target_j = ((j * 53) mod 97) / 48 - 1, j row-major",
           "cases": cases}
    with open(out_path, "w") as f:
        f.write("{\n")
        for k in [k for k in doc if k != "cases"]:
            f.write(f" {json.dumps(k)}: {json.dumps(doc[k])},\n")
        f.write(' "cases": [\n')
        for ci, case in enumerate(cases):
            f.write("  {\n")
            for k in [k for k in case if k != "entries"]:
                f.write(f"   {json.dumps(k)}: {json.dumps(case[k])},\n")
            f.write('   "entries": [\n')
            f.write(",\n".join("    " + json.dumps(e) for e in case["entries"]))
            f.write("\n   ]\n  }" + ("," if ci + 1 < len(cases) else "") + "\n")
        f.write(" ]\n}\n")


def bench(config, batch, threads, steps=3, ddim_steps=5, train_warmup=0.0):
    """Training steps/s (Adam, mean squared error against a random target, dropout on), seconds per forward
    pass without gradients, and seconds per DDIM sampling of the batch in ``ddim_steps`` steps
    (``unet_reference.ddim_seconds``) for a config, random weights; first ``train_warmup`` seconds of training (at
    least one step, ``unet_reference.steps_per_second``) and one unmeasured forward pass. The reference of
    `diffusion bench --workload ddpm`."""
    import time
    torch.set_num_threads(threads)
    model = build(config)
    model.load_state_dict(test_weights(model, 1))
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    c, s = model.conv_in.in_channels, config.get("image_size", DEFAULT["image_size"])
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, c, s, s, generator=gen)
    y = torch.randn(batch, c, s, s, generator=gen)
    t = np.arange(batch) * 997 % 1000

    def step():
        opt.zero_grad()
        loss = ((model(x, t) - y) ** 2).mean()
        loss.backward()
        opt.step()

    model.train()
    train = steps_per_second(step, steps, train_warmup)
    with torch.no_grad():
        model.eval()
        model(x, t)
        start = time.perf_counter()
        for _ in range(steps):
            model(x, t)
        fwd = (time.perf_counter() - start) / steps
    ddim_s = ddim_seconds(model, x.shape, ddim_steps, gen)
    # the line `diffusion bench --workload ddpm` reads
    print(json.dumps({"torch": torch.__version__, "threads": threads, "batch": batch,
                      "unet_train_steps_per_s": round(train, 4), "unet_forward_s": round(fwd, 5),
                      "unet_ddim_s": round(ddim_s, 5)}))


def main(argv):
    if len(argv) >= 1 and argv[0] == "names":
        model = build(json.loads(argv[1]) if len(argv) > 1 else {})
        total = 0
        for name, p in model.state_dict().items():
            print(f"{name} {list(p.shape)}")
            total += p.numel()
        print(f"# {total} parameters")
    elif len(argv) == 2 and argv[0] == "golden":
        golden(argv[1])
    elif len(argv) in (4, 5, 6, 7) and argv[0] == "bench":
        bench(json.loads(argv[1]), int(argv[2]), int(argv[3]), *(int(a) for a in argv[4:6]),
              *(float(a) for a in argv[6:]))
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(main(sys.argv[1:]))
