#!/usr/bin/python3
"""The reference definition of diffusion4j's U-Net (``model.kind: unet``), in plain PyTorch.

This module IS the specification that ``io.github.diffusion4j.model.UNetSpec`` and every backend follow
(see ``docs/unet.md``): its ``state_dict()`` names, order and layouts are the names, order and layouts of a
diffusion4j checkpoint's ``model.safetensors``; its ``forward`` (in eval mode) is the function a backend
computes; ``initial_weights`` is the portable initialisation every backend starts from.

It runs with PyTorch 1.13 or later and NumPy, nothing else (Debian: ``apt install python3-torch``)::

    python3 docs/unet_reference.py names                         # the default config's state dict
    python3 docs/unet_reference.py names '{"base_channels": 8, "channel_mult": [1, 2], "groups": 4,
                                           "image_shape": [1, 8, 8]}'
    python3 docs/unet_reference.py predict CHECKPOINT_DIR_OR_SAFETENSORS X.npy T.npy OUT.npy
    python3 docs/unet_reference.py exchange IN.json OUT.json     # what the Java tests use
    python3 docs/unet_reference.py golden OUT.json               # regenerates the tests' golden file
    python3 docs/unet_reference.py bench STEPS THREADS [TRAIN_WARMUP_S]   # training speed, for comparison

``predict`` loads a diffusion4j ``model.safetensors`` (or a checkpoint directory holding one): the
architecture follows from the tensor names and shapes except ``groups``, read from the checkpoint's
``config.yaml`` (``model.groups``, if PyYAML is installed) or given as ``--config '{"groups": 8}'``.

Architecture (Ho et al. 2020, the DDPM U-Net, in the module names of its PyTorch port by P. Esser, as
in ``ldm/modules/diffusionmodules/model.py``), with these deliberate choices:

- attention only in the middle (``mid.attn_1``), single head, one fused 1x1 ``qkv`` convolution whose
  output channels are ``[q; k; v]`` (rows ``0..C-1``, ``C..2C-1``, ``2C..3C-1``);
- GroupNorm with ``eps = 1e-5`` (PyTorch's default), affine;
- downsampling ``Conv2d(C, C, 3, stride=2, padding=1)`` (symmetric padding);
- upsampling nearest x2 then ``Conv2d(C, C, 3, padding=1)``;
- the timestep embedding is computed in float64 from the integer timestep and rounded to float32.
"""

import json
import math
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

GROUP_NORM_EPS = 1e-5

DEFAULT_CONFIG = {
    "image_shape": [1, 32, 32],
    "base_channels": 32,
    "channel_mult": [1, 2, 2],
    "num_res_blocks": 1,
    "attention": True,
    "groups": 8,
    "dropout": 0.0,
}


# ------------------------------------------------------------------------------------------ the network


def timestep_embedding(timesteps, dim):
    """Ho et al.'s sinusoidal embedding of integer timesteps, shape [N, dim], float32.

    half = dim / 2; freq_i = exp(-(ln(10000) * i) / (half - 1)), i = 0 .. half-1;
    emb = [sin(t * freq_0), ..., sin(t * freq_{half-1}), cos(t * freq_0), ..., cos(t * freq_{half-1})],
    all in float64, then rounded to float32.
    """
    half = dim // 2
    i = np.arange(half, dtype=np.float64)
    freq = np.exp(-(math.log(10000.0) * i) / (half - 1))
    args = np.asarray(timesteps, dtype=np.float64)[:, None] * freq[None, :]
    emb = np.concatenate([np.sin(args), np.cos(args)], axis=1)
    return torch.from_numpy(emb.astype(np.float32))


def silu(x):
    return x * torch.sigmoid(x)


class ResnetBlock(nn.Module):
    """h = conv1(silu(norm1(x))) + temb_proj(silu(temb)); h = conv2(dropout(silu(norm2(h))));
    return shortcut(x) + h, where shortcut is nin_shortcut (1x1) if in != out, else the identity."""

    def __init__(self, in_channels, out_channels, temb_channels, groups, dropout):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.norm1 = nn.GroupNorm(groups, in_channels, eps=GROUP_NORM_EPS)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, 1, 1)
        self.temb_proj = nn.Linear(temb_channels, out_channels)
        self.norm2 = nn.GroupNorm(groups, out_channels, eps=GROUP_NORM_EPS)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1)
        if in_channels != out_channels:
            self.nin_shortcut = nn.Conv2d(in_channels, out_channels, 1, 1, 0)

    def forward(self, x, temb_act, mask=None):
        h = self.conv1(silu(self.norm1(x)))
        h = h + self.temb_proj(temb_act)[:, :, None, None]
        h = silu(self.norm2(h))
        # training: diffusion4j multiplies by a portable mask (UNetSpec.dropoutMask), passed in here
        h = h * mask if mask is not None else self.dropout(h)
        h = self.conv2(h)
        if self.in_channels != self.out_channels:
            x = self.nin_shortcut(x)
        return x + h


class AttnBlock(nn.Module):
    """Single-head self-attention over the H*W positions, with a residual connection."""

    def __init__(self, channels, groups):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels, eps=GROUP_NORM_EPS)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1, 1, 0)
        self.proj_out = nn.Conv2d(channels, channels, 1, 1, 0)

    def forward(self, x):
        n, c, hh, ww = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(n, 3, c, hh * ww).unbind(1)  # each [n, c, hw]
        w = torch.bmm(q.transpose(1, 2), k) * (c ** -0.5)  # [n, hw (query), hw (key)]
        w = torch.softmax(w, dim=2)
        h = torch.bmm(v, w.transpose(1, 2)).reshape(n, c, hh, ww)  # h[:, :, i] = sum_j w[i, j] v[:, :, j]
        return x + self.proj_out(h)


class Downsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, 2, 1)

    def forward(self, x):
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, 1, 1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class UNet(nn.Module):
    """The DDPM U-Net; ``forward(x, t)`` takes x [N, C, H, W] float32 and integer timesteps t [N]."""

    def __init__(self, image_shape=(1, 32, 32), base_channels=32, channel_mult=(1, 2, 2), num_res_blocks=1,
                 attention=True, groups=8, dropout=0.0):
        super().__init__()
        c_img = image_shape[0]
        ch = base_channels
        temb_ch = 4 * ch
        self.base_channels = ch
        self.num_resolutions = len(channel_mult)
        self.num_res_blocks = num_res_blocks
        self.attention = attention

        self.temb = nn.Module()
        self.temb.dense = nn.ModuleList([nn.Linear(ch, temb_ch), nn.Linear(temb_ch, temb_ch)])

        self.conv_in = nn.Conv2d(c_img, ch, 3, 1, 1)
        in_ch_mult = (1,) + tuple(channel_mult)
        self.down = nn.ModuleList()
        block_in = ch
        for i_level in range(self.num_resolutions):
            block = nn.ModuleList()
            block_in = ch * in_ch_mult[i_level]
            block_out = ch * channel_mult[i_level]
            for _ in range(num_res_blocks):
                block.append(ResnetBlock(block_in, block_out, temb_ch, groups, dropout))
                block_in = block_out
            down = nn.Module()
            down.block = block
            if i_level != self.num_resolutions - 1:
                down.downsample = Downsample(block_in)
            self.down.append(down)

        self.mid = nn.Module()
        self.mid.block_1 = ResnetBlock(block_in, block_in, temb_ch, groups, dropout)
        if attention:
            self.mid.attn_1 = AttnBlock(block_in, groups)
        self.mid.block_2 = ResnetBlock(block_in, block_in, temb_ch, groups, dropout)

        self.up = nn.ModuleList()
        for i_level in reversed(range(self.num_resolutions)):
            block = nn.ModuleList()
            block_out = ch * channel_mult[i_level]
            skip_in = ch * channel_mult[i_level]
            for i_block in range(num_res_blocks + 1):
                if i_block == num_res_blocks:
                    skip_in = ch * in_ch_mult[i_level]
                block.append(ResnetBlock(block_in + skip_in, block_out, temb_ch, groups, dropout))
                block_in = block_out
            up = nn.Module()
            up.block = block
            if i_level != 0:
                up.upsample = Upsample(block_in)
            self.up.insert(0, up)

        self.norm_out = nn.GroupNorm(groups, block_in, eps=GROUP_NORM_EPS)
        self.conv_out = nn.Conv2d(block_in, c_img, 3, 1, 1)

    def res_blocks(self):
        """The ResnetBlocks in state-dict order (the order that numbers their dropout masks)."""
        return [m for m in self.modules() if isinstance(m, ResnetBlock)]

    def forward(self, x, timesteps, masks=None):
        """masks: None (eval, or torch's own dropout in train mode), or one mask per ResnetBlock in
        state-dict order, each shaped like that block's conv2 input."""
        index = {id(b): i for i, b in enumerate(self.res_blocks())}

        def rb(block, h):
            return block(h, temb_act, None if masks is None else masks[index[id(block)]])

        temb = timestep_embedding(timesteps, self.base_channels)
        temb = self.temb.dense[1](silu(self.temb.dense[0](temb)))
        temb_act = silu(temb)  # every block's temb_proj takes silu(temb)

        hs = [self.conv_in(x)]
        for i_level in range(self.num_resolutions):
            for i_block in range(self.num_res_blocks):
                hs.append(rb(self.down[i_level].block[i_block], hs[-1]))
            if i_level != self.num_resolutions - 1:
                hs.append(self.down[i_level].downsample(hs[-1]))

        h = rb(self.mid.block_1, hs[-1])
        if self.attention:
            h = self.mid.attn_1(h)
        h = rb(self.mid.block_2, h)

        for i_level in reversed(range(self.num_resolutions)):
            for i_block in range(self.num_res_blocks + 1):
                h = rb(self.up[i_level].block[i_block], torch.cat([h, hs.pop()], dim=1))
            if i_level != 0:
                h = self.up[i_level].upsample(h)

        return self.conv_out(silu(self.norm_out(h)))


def build(config):
    c = dict(DEFAULT_CONFIG)
    c.update(config)
    return UNet(tuple(c["image_shape"]), c["base_channels"], tuple(c["channel_mult"]), c["num_res_blocks"],
                c["attention"], c["groups"], c["dropout"])


# ------------------------------------------------------------------ portable random numbers (random.Noise)

MASK64 = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15
SEED_SALT = 0x6A09E667F3BCC909
SPLIT_SALT = 0xBB67AE8584CAA73B
INIT_STREAM = 0x554E45545F494E49  # "UNET_INI", UNetSpec.INIT_STREAM
DROPOUT_STREAM = 0x554E45545F44524F  # "UNET_DRO", UNetSpec.DROPOUT_STREAM


def _mix64(z):
    z &= MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


class Noise:
    """The uniform part of io.github.diffusion4j.random.Noise (SplitMix64): seeded, split, nextDouble."""

    def __init__(self, key):
        self.key = key & MASK64

    @staticmethod
    def seeded(seed):
        return Noise(_mix64((seed & MASK64) ^ SEED_SALT))

    def split(self, index):
        return Noise(_mix64(self.key ^ _mix64((index & MASK64) * GOLDEN_GAMMA + SPLIT_SALT)))

    def doubles(self, n):
        """The first n values of nextDouble(): (mix64(key + i * GAMMA) >>> 11) * 2^-53, i = 1..n."""
        # vectorised SplitMix64 in uint64 arithmetic (wraps modulo 2^64 like Java's long)
        with np.errstate(over="ignore"):
            z = np.uint64(self.key) + np.arange(1, n + 1, dtype=np.uint64) * np.uint64(GOLDEN_GAMMA)
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
        return (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


ZERO_INIT_SUFFIXES = (".conv2.weight", ".conv2.bias", ".proj_out.weight", ".proj_out.bias")


def initial_weights(model, seed):
    """UNetSpec.initialWeights(seed): entry i of the state dict (0-based, in order) is
    - zeros: every bias, and the weights of conv2 (each ResnetBlock), proj_out and conv_out (as in DDPM);
    - ones: GroupNorm weights (names of norm layers: norm1, norm2, norm, norm_out);
    - otherwise (conv and linear weights) (2u - 1) * (1 / sqrt(fan_in)), fan_in = product of shape[1:], u the
      row-major sequence of nextDouble() of Noise.seeded(seed).split(INIT_STREAM).split(i), rounded to float32.
    """
    out = {}
    stream = Noise.seeded(seed).split(INIT_STREAM)
    for i, (name, p) in enumerate(model.state_dict().items()):
        shape = tuple(p.shape)
        if _is_norm(name):
            v = np.ones(shape) if name.endswith(".weight") else np.zeros(shape)
        elif name.endswith(".bias") or name.endswith(ZERO_INIT_SUFFIXES) or name.startswith("conv_out."):
            v = np.zeros(shape)
        else:
            fan_in = int(np.prod(shape[1:]))
            u = stream.split(i).doubles(int(np.prod(shape)))
            v = ((2.0 * u - 1.0) * (1.0 / math.sqrt(fan_in))).reshape(shape)
        out[name] = torch.from_numpy(v.astype(np.float32))
    return out


def _is_norm(name):
    layer = name.rsplit(".", 2)[-2]
    return layer in ("norm1", "norm2", "norm", "norm_out")


def dropout_mask(seed, step, block, shape, p):
    """UNetSpec.dropoutMask: element j (row-major over [N, C, H, W]) of ResnetBlock number `block` (state-dict
    order) at optimiser step `step` (1-based, Adam's t) is 0 if u_j < p else 1 / (1 - p) (rounded to float32),
    u the nextDouble() sequence of Noise.seeded(seed).split(DROPOUT_STREAM).split(step).split(block)."""
    u = Noise.seeded(seed).split(DROPOUT_STREAM).split(step).split(block).doubles(int(np.prod(shape)))
    keep = np.float32(1.0 / (1.0 - p))
    return torch.from_numpy(np.where(u < p, np.float32(0), keep).astype(np.float32).reshape(shape))


def test_weights(model, seed):
    """Dense weights for tests (no zeros, so every path carries signal): entry i is (2u - 1) * b with u from
    Noise.seeded(seed).split(i), b = 1/sqrt(fan_in) for tensors of rank >= 2 and 0.5 for vectors; GroupNorm
    weights get 1 added. The Java tests build the same weights (UNetTestWeights)."""
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


# ------------------------------------------------------------------------------------------- file formats


def read_safetensors(path):
    """A diffusion4j model.safetensors (F32 entries) as a dict of float32 tensors, in file order."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n).decode("utf-8"))
        data = f.read()
    out = {}
    entries = sorted(((k, v) for k, v in header.items() if k != "__metadata__"),
                     key=lambda kv: kv[1]["data_offsets"][0])
    for name, e in entries:
        if e["dtype"] != "F32":
            raise ValueError(f"{path}: {name}: dtype {e['dtype']}, expected F32")
        a, b = e["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4").astype(np.float32)
                                     .reshape(e["shape"]).copy())
    return out


def _flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def _tensor(entry):
    return torch.tensor(entry["data"], dtype=torch.float32).reshape(entry["shape"])


def exchange(in_path, out_path):
    """Reads {config, state_dict: {name: {shape, data}}, x: {shape, data}, t: [...], target?, masks?} and
    writes {names, shapes, output, loss?, gradients?: {name: {shape, data}}} (gradients of mean((out-target)^2))."""
    with open(in_path) as f:
        req = json.load(f)
    model = build(req["config"])
    sd = {k: _tensor(v) for k, v in req["state_dict"].items()}
    model.load_state_dict(sd, strict=True)
    model.eval()
    x = _tensor(req["x"])
    t = np.asarray(req["t"], dtype=np.int64)
    masks = [_tensor(m) for m in req["masks"]] if req.get("masks") else None
    out = model(x, t, masks)
    res = {"names": list(model.state_dict().keys()),
           "shapes": [list(v.shape) for v in model.state_dict().values()],
           "output": {"shape": list(out.shape), "data": _flat(out)}}
    if "target" in req:
        loss = ((out - _tensor(req["target"])) ** 2).mean()
        loss.backward()
        res["loss"] = float(loss)
        res["gradients"] = {n: {"shape": list(p.shape), "data": _flat(p.grad)} for n, p in model.named_parameters()}
    with open(out_path, "w") as f:
        json.dump(res, f)


GOLDEN_CASES = [
    {"name": "tiny", "config": {"image_shape": [1, 8, 8], "base_channels": 8, "channel_mult": [1, 2],
                                "num_res_blocks": 1, "attention": True, "groups": 4}, "t": [0, 737]},
    {"name": "deeper", "config": {"image_shape": [3, 8, 8], "base_channels": 8, "channel_mult": [1, 1, 2],
                                  "num_res_blocks": 2, "attention": False, "groups": 2}, "t": [999, 31]},
]
GOLDEN_WEIGHT_SEED = 20240601
GOLDEN_INIT_SEED = 42


def golden(out_path):
    """The tests' golden file: for each case, the state-dict layout, the first values of
    initial_weights(42), and the output and loss gradients for test_weights(20240601) on a fixed input."""
    cases = []
    for case in GOLDEN_CASES:
        model = build(case["config"])
        sd = model.state_dict()
        init = initial_weights(model, GOLDEN_INIT_SEED)
        model.load_state_dict(test_weights(model, GOLDEN_WEIGHT_SEED))
        model.eval()
        c, h, w = case["config"]["image_shape"]
        n = len(case["t"])
        # a fixed, exactly representable input: x = ((j * 37) mod 101) / 50 - 1, target = ((j * 53) mod 97) / 48 - 1
        j = np.arange(n * c * h * w)
        x = torch.from_numpy((((j * 37) % 101) / 50.0 - 1.0).astype(np.float32).reshape(n, c, h, w))
        y = torch.from_numpy((((j * 53) % 97) / 48.0 - 1.0).astype(np.float32).reshape(n, c, h, w))
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
    doc = {"generator": "docs/unet_reference.py golden (torch " + torch.__version__ + ")",
           "weight_seed": GOLDEN_WEIGHT_SEED, "init_seed": GOLDEN_INIT_SEED,
           "input": "x_j = ((j * 37) mod 101) / 50 - 1, target_j = ((j * 53) mod 97) / 48 - 1, j row-major",
           "cases": cases}
    with open(out_path, "w") as f:  # one line per value that is a list of numbers or a state-dict entry
        f.write("{\n")
        head = [k for k in doc if k != "cases"]
        for k in head:
            f.write(f" {json.dumps(k)}: {json.dumps(doc[k])},\n")
        f.write(' "cases": [\n')
        for ci, case in enumerate(doc["cases"]):
            f.write("  {\n")
            keys = [k for k in case if k != "entries"]
            for k in keys:
                f.write(f"   {json.dumps(k)}: {json.dumps(case[k])},\n")
            f.write('   "entries": [\n')
            f.write(",\n".join("    " + json.dumps(e) for e in case["entries"]))
            f.write("\n   ]\n  }" + ("," if ci + 1 < len(doc["cases"]) else "") + "\n")
        f.write(" ]\n}\n")


def steps_per_second(step, steps, warmup):
    """Steps per second of ``steps`` calls of ``step()`` after calls for ``warmup`` seconds (at least one): the
    training figure of the bench functions here and in ddpm_reference.py, warmed up as `diffusion bench`'s Java
    side (``--train-warmup``)."""
    import time
    warm_end = time.perf_counter() + warmup
    step()
    while time.perf_counter() < warm_end:
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps / (time.perf_counter() - start)


def ddim_seconds(model, shape, ddim_steps, gen, reps=3):
    """The median seconds of ``reps`` deterministic DDIM samplings of a batch of ``shape`` in ``ddim_steps`` steps,
    after one unmeasured: linear betas 1e-4..0.02 over 1,000 timesteps, a trailing plan, the final alpha one (as the
    Java side's DdimSampler); the model takes (x, numpy timesteps). Shared by the U-Net's and the DDPM model's
    benches."""
    import time
    abar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
    plan = [round(1000 - 1000 * i / ddim_steps) - 1 for i in range(ddim_steps)]  # trailing: 999, 799, ...
    batch = shape[0]

    def ddim():
        z = torch.randn(*shape, generator=gen)
        with torch.no_grad():
            for i, t_i in enumerate(plan):
                eps = model(z, np.full(batch, t_i))
                a = abar[t_i].item()
                a_prev = abar[plan[i + 1]].item() if i + 1 < len(plan) else 1.0
                x0 = (z - math.sqrt(1 - a) * eps) / math.sqrt(a)
                z = math.sqrt(a_prev) * x0 + math.sqrt(1 - a_prev) * eps
        return z

    ddim()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        ddim()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def bench(steps, threads, batch=64, ddim_steps=5, train_warmup=0.0):
    """Training steps/s of this module with torch.optim.Adam on random data (the default config), seconds per
    forward pass without gradients, and seconds per deterministic DDIM sampling of a batch in ``ddim_steps``
    steps (linear betas 1e-4..0.02 over 1,000 timesteps, a trailing plan, as the Java side's DdimSampler):
    the reference for the backends' benchmarks."""
    import time
    torch.set_num_threads(threads)
    model = build({})
    model.load_state_dict(test_weights(model, 1))
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    gen = torch.Generator().manual_seed(0)
    c, h, w = DEFAULT_CONFIG["image_shape"]
    x = torch.randn(batch, c, h, w, generator=gen)
    y = torch.randn(batch, c, h, w, generator=gen)
    t = np.arange(batch) * 997 % 1000

    def step():
        opt.zero_grad()
        loss = ((model(x, t) - y) ** 2).mean()
        loss.backward()
        opt.step()

    train = steps_per_second(step, steps, train_warmup)
    with torch.no_grad():
        model(x, t)
        start = time.perf_counter()
        for _ in range(steps):
            model(x, t)
        forward = (time.perf_counter() - start) / steps
    ddim_s = ddim_seconds(model, x.shape, ddim_steps, gen)
    print(f"torch {torch.__version__} threads {threads} batch {batch}: {train:.3f} steps/s, "
          f"{forward:.3f} s per forward pass, {ddim_s:.3f} s per DDIM-{ddim_steps}")
    # the line `diffusion bench --workload unet` reads
    print(json.dumps({"unet_train_steps_per_s": round(train, 4), "unet_forward_s": round(forward, 5),
                      "unet_ddim_s": round(ddim_s, 5)}))


def infer_config(sd):
    """The architecture a state dict implies: everything but `groups` (and `dropout`) is in the shapes."""
    ch, c_img = sd["conv_in.weight"].shape[:2]
    levels = 1 + max(int(k.split(".")[1]) for k in sd if k.startswith("down."))
    blocks = 1 + max(int(k.split(".")[3]) for k in sd if k.startswith("down.0.block."))
    mult = [int(sd[f"down.{i}.block.0.conv1.weight"].shape[0]) // int(ch) for i in range(levels)]
    return {"image_shape": [int(c_img), 0, 0], "base_channels": int(ch), "channel_mult": mult,
            "num_res_blocks": blocks, "attention": "mid.attn_1.qkv.weight" in sd}


def _model_config_yaml(directory):
    """model.groups and model.dropout from a checkpoint's config.yaml (needs PyYAML), or {}."""
    import os
    path = os.path.join(directory, "config.yaml")
    try:
        import yaml
    except ImportError:
        return {}
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        model = (yaml.safe_load(f) or {}).get("model") or {}
    return {k: model[k] for k in ("groups", "dropout") if k in model}


def main(argv):
    if len(argv) >= 1 and argv[0] == "names":
        model = build(json.loads(argv[1]) if len(argv) > 1 else {})
        total = 0
        for name, p in model.state_dict().items():
            print(f"{name} {list(p.shape)}")
            total += p.numel()
        print(f"# {total} parameters")
    elif len(argv) >= 5 and argv[0] == "predict":
        path, given = argv[1], {}
        if "--config" in argv:
            given = json.loads(argv[argv.index("--config") + 1])
        if not path.endswith(".safetensors"):
            given = {**_model_config_yaml(path), **given}
            path = path + "/model.safetensors"
        sd = read_safetensors(path)
        config = {**infer_config(sd), **given}
        if "groups" not in given:
            print(f"note: model.groups not given (no config.yaml or --config); assuming {DEFAULT_CONFIG['groups']}",
                  file=sys.stderr)
        model = build(config)
        model.load_state_dict(sd, strict=True)
        model.eval()
        x = torch.from_numpy(np.load(argv[2]).astype(np.float32))
        t = np.load(argv[3]).astype(np.int64)
        with torch.no_grad():
            np.save(argv[4], model(x, t).numpy())
    elif len(argv) == 3 and argv[0] == "exchange":
        exchange(argv[1], argv[2])
    elif len(argv) == 2 and argv[0] == "golden":
        golden(argv[1])
    elif len(argv) in (3, 4) and argv[0] == "bench":
        bench(int(argv[1]), int(argv[2]), train_warmup=float(argv[3]) if len(argv) == 4 else 0.0)
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(main(sys.argv[1:]))
