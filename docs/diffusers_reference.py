#!/usr/bin/python3
"""A reference for diffusers' ``UNet2DModel`` and the DDPM pipelines, in plain PyTorch (no diffusers needed).

diffusion4j loads diffusers folders (``model.kind: unet2d``, ``UNet2DSpec``) and exports its own DDPM U-Nets to
them. diffusers itself cannot be installed here, so this module re-implements, from diffusers' source (v0.40,
``src/diffusers/models/unets/unet_2d.py``, ``unet_2d_blocks.py``, ``resnet.py``, ``embeddings.py``,
``attention_processor.py``, ``downsampling.py``, ``upsampling.py``, ``modeling_utils.py``,
``schedulers/scheduling_ddim.py``), exactly the parts the published DDPM models use, with diffusers' class and
parameter names and its module registration order (so ``state_dict()`` has diffusers' names *and order*):

- ``UNet2DModel`` built from a ``config.json`` with diffusers' defaults for absent keys (``from_config``);
- the blocks ``DownBlock2D``, ``AttnDownBlock2D``, ``UNetMidBlock2D``, ``UpBlock2D``, ``AttnUpBlock2D``,
  ``ResnetBlock2D`` (``time_embedding_norm="default"``), ``Attention`` with ``_from_deprecated_attn_block``
  (``group_norm``, ``to_q``, ``to_k``, ``to_v``, ``to_out.0``; the classic ``AttnProcessor``: baddbmm with
  ``alpha = head_dim ** -0.5``, softmax in float32), ``Downsample2D`` (``padding=0`` pads right and bottom),
  ``Upsample2D`` (nearest x2 then a 3x3 convolution), ``Timesteps`` / ``get_timestep_embedding`` in float32,
  ``TimestepEmbedding``;
- loading a folder as ``UNet2DModel.from_pretrained`` does: ``config.json`` then the weights, with the deprecated
  attention names (``query``, ``key``, ``value``, ``proj_attn``) renamed (``_fix_state_dict_keys_on_load``) and a
  strict key check;
- the conversion of the DDPM authors' state dict (``ddpm_reference.Model``, ermongroup/ddim's layout) to diffusers'
  names, after ``scripts/convert_ddpm_original_checkpoint_to_diffusers.py``, to the current attention names;
- ``DDIMScheduler.step`` (eta 0) as diffusers computes it (float32 ``alphas_cumprod``, ``leading`` spacing).

Usage (PyTorch 1.13 or later and NumPy)::

    python3 docs/diffusers_reference.py names CONFIG_JSON           # state-dict names, shapes and order
    python3 docs/diffusers_reference.py golden OUT.json             # the tests' golden file (diffusers_golden.json)
    python3 docs/diffusers_reference.py check DIR                   # load a diffusers folder as from_pretrained does
    python3 docs/diffusers_reference.py convert CKPT CONFIG_JSON OUT_DIR   # the authors' state dict -> a folder
    python3 docs/diffusers_reference.py fixtures TORCH_DIR MICRO_DIR  # small files for the Java reader tests
    python3 docs/diffusers_reference.py bench DIR STEPS THREADS     # seconds per image, DDIM-STEPS, batch 1
    python3 docs/diffusers_reference.py random NAME OUT_DIR         # a published folder's layout, random weights

The five published DDPM folders (google/ddpm-cifar10-32, ddpm-celebahq-256, ddpm-church-256, ddpm-bedroom-256,
ddpm-cat-256) share two ``config.json``s, ``GOOGLE_CONFIGS`` below (their hub files were written by diffusers
0.0.4; cited in docs/diffusers.md).
"""

import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddpm_reference  # noqa: E402
from unet_reference import Noise, _flat  # noqa: E402

# ------------------------------------------------------------------------------------------ configurations

# UNet2DModel.__init__'s defaults (diffusers v0.40, unet_2d.py)
UNET2D_DEFAULTS = {
    "sample_size": None, "in_channels": 3, "out_channels": 3, "center_input_sample": False,
    "time_embedding_type": "positional", "time_embedding_dim": None, "freq_shift": 0, "flip_sin_to_cos": True,
    "down_block_types": ["DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"],
    "mid_block_type": "UNetMidBlock2D",
    "up_block_types": ["AttnUpBlock2D", "AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"],
    "block_out_channels": [224, 448, 672, 896], "layers_per_block": 2, "mid_block_scale_factor": 1,
    "downsample_padding": 1, "downsample_type": "conv", "upsample_type": "conv", "dropout": 0.0, "act_fn": "silu",
    "attention_head_dim": 8, "norm_num_groups": 32, "attn_norm_num_groups": None, "norm_eps": 1e-5,
    "resnet_time_scale_shift": "default", "add_attention": True, "class_embed_type": None, "num_class_embeds": None,
    "num_train_timesteps": None,
}

_COMMON = {"_class_name": "UNet2DModel", "_diffusers_version": "0.0.4", "act_fn": "silu", "attention_head_dim": None,
           "center_input_sample": False, "downsample_padding": 0, "flip_sin_to_cos": False, "freq_shift": 1,
           "in_channels": 3, "layers_per_block": 2, "mid_block_scale_factor": 1, "norm_eps": 1e-06,
           "norm_num_groups": 32, "out_channels": 3, "time_embedding_type": "positional"}
CIFAR10_CONFIG = dict(_COMMON, block_out_channels=[128, 256, 256, 256], sample_size=32,
                      down_block_types=["DownBlock2D", "AttnDownBlock2D", "DownBlock2D", "DownBlock2D"],
                      up_block_types=["UpBlock2D", "UpBlock2D", "AttnUpBlock2D", "UpBlock2D"])
LSUN256_CONFIG = dict(_COMMON, block_out_channels=[128, 128, 256, 256, 512, 512], sample_size=256,
                      down_block_types=["DownBlock2D"] * 4 + ["AttnDownBlock2D", "DownBlock2D"],
                      up_block_types=["UpBlock2D", "AttnUpBlock2D"] + ["UpBlock2D"] * 4)
_SCHEDULER = {"_class_name": "DDPMScheduler", "_diffusers_version": "0.1.1", "beta_end": 0.02,
              "beta_schedule": "linear", "beta_start": 0.0001, "clip_sample": True, "num_train_timesteps": 1000,
              "trained_betas": None}
GOOGLE_CONFIGS = {
    "ddpm-cifar10-32": (CIFAR10_CONFIG, dict(_SCHEDULER, variance_type="fixed_large")),
    "ddpm-celebahq-256": (LSUN256_CONFIG, dict(_SCHEDULER, variance_type="fixed_small")),
    "ddpm-church-256": (LSUN256_CONFIG, dict(_SCHEDULER, variance_type="fixed_small")),
    "ddpm-bedroom-256": (LSUN256_CONFIG, dict(_SCHEDULER, variance_type="fixed_small")),
    "ddpm-cat-256": (LSUN256_CONFIG, dict(_SCHEDULER, variance_type="fixed_small")),
}
MODEL_INDEX = {"_class_name": "DDPMPipeline", "_diffusers_version": "0.1.1",
               "scheduler": ["diffusers", "DDPMScheduler"], "unet": ["diffusers", "UNet2DModel"]}


def from_config(config):
    """The init kwargs diffusers' ConfigMixin.from_config passes: defaults for absent keys, private keys
    (``_class_name``, ``_diffusers_version``, ...) dropped, unknown keys ignored."""
    c = dict(UNET2D_DEFAULTS)
    for k, v in config.items():
        if k in UNET2D_DEFAULTS:
            c[k] = v
    return c


# ------------------------------------------------------------------------------------------ the blocks


def get_timestep_embedding(timesteps, embedding_dim, flip_sin_to_cos=False, downscale_freq_shift=1, scale=1,
                           max_period=10000):
    half_dim = embedding_dim // 2
    exponent = -math.log(max_period) * torch.arange(start=0, end=half_dim, dtype=torch.float32)
    exponent = exponent / (half_dim - downscale_freq_shift)
    emb = torch.exp(exponent)
    emb = timesteps[:, None].float() * emb[None, :]
    emb = scale * emb
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[:, half_dim:], emb[:, :half_dim]], dim=-1)
    if embedding_dim % 2 == 1:
        emb = F.pad(emb, (0, 1, 0, 0))
    return emb


def get_activation(name):
    return {"swish": nn.SiLU, "silu": nn.SiLU, "relu": nn.ReLU}[name.lower()]()


class Timesteps(nn.Module):
    def __init__(self, num_channels, flip_sin_to_cos, downscale_freq_shift):
        super().__init__()
        self.num_channels, self.flip_sin_to_cos, self.downscale_freq_shift = num_channels, flip_sin_to_cos, downscale_freq_shift

    def forward(self, timesteps):
        return get_timestep_embedding(timesteps, self.num_channels, self.flip_sin_to_cos, self.downscale_freq_shift)


class TimestepEmbedding(nn.Module):
    def __init__(self, in_channels, time_embed_dim):
        super().__init__()
        self.linear_1 = nn.Linear(in_channels, time_embed_dim)
        self.act = nn.SiLU()
        self.linear_2 = nn.Linear(time_embed_dim, time_embed_dim)

    def forward(self, sample):
        return self.linear_2(self.act(self.linear_1(sample)))


class ResnetBlock2D(nn.Module):
    def __init__(self, in_channels, out_channels, temb_channels, eps, groups, dropout, non_linearity,
                 output_scale_factor=1.0):
        super().__init__()
        self.output_scale_factor = output_scale_factor
        self.norm1 = nn.GroupNorm(num_groups=groups, num_channels=in_channels, eps=eps, affine=True)
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=1, padding=1)
        self.time_emb_proj = nn.Linear(temb_channels, out_channels)
        self.norm2 = nn.GroupNorm(num_groups=groups, num_channels=out_channels, eps=eps, affine=True)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, stride=1, padding=1)
        self.nonlinearity = get_activation(non_linearity)
        self.conv_shortcut = None
        if in_channels != out_channels:
            self.conv_shortcut = nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=1, padding=0, bias=True)

    def forward(self, input_tensor, temb):
        h = self.conv1(self.nonlinearity(self.norm1(input_tensor)))
        temb = self.time_emb_proj(self.nonlinearity(temb))[:, :, None, None]
        h = self.norm2(h + temb)
        h = self.conv2(self.dropout(self.nonlinearity(h)))
        if self.conv_shortcut is not None:
            input_tensor = self.conv_shortcut(input_tensor)
        return (input_tensor + h) / self.output_scale_factor


class Attention(nn.Module):
    """diffusers' Attention as the U-Net blocks build it (self-attention, residual, group_norm, bias)."""

    def __init__(self, query_dim, heads, dim_head, rescale_output_factor, eps, norm_num_groups):
        super().__init__()
        self.inner_dim = dim_head * heads
        self.rescale_output_factor = rescale_output_factor
        self.scale = dim_head ** -0.5
        self.heads = heads
        self._from_deprecated_attn_block = True
        self.group_norm = nn.GroupNorm(num_channels=query_dim, num_groups=norm_num_groups, eps=eps, affine=True)
        self.to_q = nn.Linear(query_dim, self.inner_dim, bias=True)
        self.to_k = nn.Linear(query_dim, self.inner_dim, bias=True)
        self.to_v = nn.Linear(query_dim, self.inner_dim, bias=True)
        self.to_out = nn.ModuleList([nn.Linear(self.inner_dim, query_dim, bias=True), nn.Dropout(0.0)])

    def head_to_batch_dim(self, t):
        b, s, d = t.shape
        return t.reshape(b, s, self.heads, d // self.heads).permute(0, 2, 1, 3).reshape(b * self.heads, s, d // self.heads)

    def batch_to_head_dim(self, t):
        bh, s, d = t.shape
        return t.reshape(bh // self.heads, self.heads, s, d).permute(0, 2, 1, 3).reshape(bh // self.heads, s, d * self.heads)

    def forward(self, hidden_states):  # AttnProcessor.__call__
        residual = hidden_states
        b, c, h, w = hidden_states.shape
        hidden_states = hidden_states.view(b, c, h * w).transpose(1, 2)
        hidden_states = self.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)
        query = self.head_to_batch_dim(self.to_q(hidden_states))
        key = self.head_to_batch_dim(self.to_k(hidden_states))
        value = self.head_to_batch_dim(self.to_v(hidden_states))
        scores = torch.baddbmm(torch.empty(query.shape[0], query.shape[1], key.shape[1], dtype=query.dtype),
                               query, key.transpose(-1, -2), beta=0, alpha=self.scale)
        probs = scores.float().softmax(dim=-1).to(query.dtype)
        hidden_states = self.batch_to_head_dim(torch.bmm(probs, value))
        hidden_states = self.to_out[1](self.to_out[0](hidden_states))
        hidden_states = hidden_states.transpose(-1, -2).reshape(b, c, h, w)
        return (hidden_states + residual) / self.rescale_output_factor


class Downsample2D(nn.Module):
    def __init__(self, channels, padding):
        super().__init__()
        self.padding = padding
        self.conv = nn.Conv2d(channels, channels, kernel_size=3, stride=2, padding=padding)  # name="op"

    def forward(self, x):
        if self.padding == 0:
            x = F.pad(x, (0, 1, 0, 1), mode="constant", value=0)
        return self.conv(x)


class Upsample2D(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, kernel_size=3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


def _heads(channels, head_dim):
    return channels // head_dim, head_dim


class DownBlock(nn.Module):
    """DownBlock2D (attention=False) and AttnDownBlock2D (True), with their registration orders."""

    def __init__(self, attention, num_layers, in_channels, out_channels, temb, eps, act, groups, dropout, head_dim,
                 add_downsample, downsample_padding):
        super().__init__()
        resnets, attentions = [], []
        for i in range(num_layers):
            resnets.append(ResnetBlock2D(in_channels if i == 0 else out_channels, out_channels, temb, eps, groups,
                                         dropout, act))
            if attention:
                heads, d = _heads(out_channels, head_dim if head_dim is not None else out_channels)
                attentions.append(Attention(out_channels, heads, d, 1.0, eps, groups))
        if attention:
            self.attentions = nn.ModuleList(attentions)
        self.resnets = nn.ModuleList(resnets)
        self.downsamplers = nn.ModuleList([Downsample2D(out_channels, downsample_padding)]) if add_downsample else None
        self.attention = attention

    def forward(self, h, temb):
        out = ()
        for i, resnet in enumerate(self.resnets):
            h = resnet(h, temb)
            if self.attention:
                h = self.attentions[i](h)
            out += (h,)
        if self.downsamplers is not None:
            h = self.downsamplers[0](h)
            out += (h,)
        return h, out


class UNetMidBlock2D(nn.Module):
    def __init__(self, in_channels, temb, dropout, eps, act, output_scale_factor, head_dim, groups, attn_groups,
                 add_attention):
        super().__init__()
        self.add_attention = add_attention
        if attn_groups is None:
            attn_groups = groups
        resnets = [ResnetBlock2D(in_channels, in_channels, temb, eps, groups, dropout, act, output_scale_factor)]
        attentions = []
        if head_dim is None:
            head_dim = in_channels
        if add_attention:
            attentions.append(Attention(in_channels, in_channels // head_dim, head_dim, output_scale_factor, eps,
                                        attn_groups))
        else:
            attentions.append(None)
        resnets.append(ResnetBlock2D(in_channels, in_channels, temb, eps, groups, dropout, act, output_scale_factor))
        self.attentions = nn.ModuleList(attentions)
        self.resnets = nn.ModuleList(resnets)

    def forward(self, h, temb):
        h = self.resnets[0](h, temb)
        if self.attentions[0] is not None:
            h = self.attentions[0](h)
        return self.resnets[1](h, temb)


class UpBlock(nn.Module):
    """UpBlock2D and AttnUpBlock2D."""

    def __init__(self, attention, num_layers, in_channels, prev_output_channel, out_channels, temb, eps, act, groups,
                 dropout, head_dim, add_upsample):
        super().__init__()
        resnets, attentions = [], []
        for i in range(num_layers):
            res_skip = in_channels if i == num_layers - 1 else out_channels
            resnet_in = prev_output_channel if i == 0 else out_channels
            resnets.append(ResnetBlock2D(resnet_in + res_skip, out_channels, temb, eps, groups, dropout, act))
            if attention:
                heads, d = _heads(out_channels, head_dim if head_dim is not None else out_channels)
                attentions.append(Attention(out_channels, heads, d, 1.0, eps, groups))
        if attention:
            self.attentions = nn.ModuleList(attentions)
        self.resnets = nn.ModuleList(resnets)
        self.upsamplers = nn.ModuleList([Upsample2D(out_channels)]) if add_upsample else None
        self.attention = attention

    def forward(self, h, res, temb):
        for i, resnet in enumerate(self.resnets):
            h = torch.cat([h, res[-1]], dim=1)
            res = res[:-1]
            h = resnet(h, temb)
            if self.attention:
                h = self.attentions[i](h)
        if self.upsamplers is not None:
            h = self.upsamplers[0](h)
        return h


SUPPORTED_FIXED = {"center_input_sample": False, "time_embedding_type": "positional", "downsample_type": "conv",
                   "upsample_type": "conv", "resnet_time_scale_shift": "default", "class_embed_type": None,
                   "num_class_embeds": None}


class UNet2DModel(nn.Module):
    """diffusers' UNet2DModel for the supported values (the others raise, as diffusion4j's loader does)."""

    def __init__(self, **config):
        super().__init__()
        c = from_config(config)
        for k, v in SUPPORTED_FIXED.items():
            if c[k] != v:
                raise ValueError(f"{k}={c[k]!r} is not supported by this reference")
        self.config = c
        boc = c["block_out_channels"]
        self.sample_size = c["sample_size"]
        time_embed_dim = c["time_embedding_dim"] or boc[0] * 4
        self.conv_in = nn.Conv2d(c["in_channels"], boc[0], kernel_size=3, padding=(1, 1))
        self.time_proj = Timesteps(boc[0], c["flip_sin_to_cos"], c["freq_shift"])
        self.time_embedding = TimestepEmbedding(boc[0], time_embed_dim)
        self.class_embedding = None
        self.down_blocks = nn.ModuleList([])
        self.mid_block = None                      # a plain attribute until the module is assigned below,
        self.up_blocks = nn.ModuleList([])         # so mid_block registers after up_blocks (state-dict order)
        head = c["attention_head_dim"]
        output_channel = boc[0]
        for i, t in enumerate(c["down_block_types"]):
            t = t[7:] if t.startswith("UNetRes") else t
            input_channel, output_channel = output_channel, boc[i]
            self.down_blocks.append(DownBlock(
                {"DownBlock2D": False, "AttnDownBlock2D": True}[t], c["layers_per_block"], input_channel,
                output_channel, time_embed_dim, c["norm_eps"], c["act_fn"], c["norm_num_groups"], c["dropout"],
                head if head is not None else output_channel, i != len(boc) - 1, c["downsample_padding"]))
        if c["mid_block_type"] is not None:
            self.mid_block = UNetMidBlock2D(boc[-1], time_embed_dim, c["dropout"], c["norm_eps"], c["act_fn"],
                                            c["mid_block_scale_factor"], head if head is not None else boc[-1],
                                            c["norm_num_groups"], c["attn_norm_num_groups"], c["add_attention"])
        rev = list(reversed(boc))
        output_channel = rev[0]
        for i, t in enumerate(c["up_block_types"]):
            t = t[7:] if t.startswith("UNetRes") else t
            prev_output_channel, output_channel = output_channel, rev[i]
            input_channel = rev[min(i + 1, len(boc) - 1)]
            self.up_blocks.append(UpBlock(
                {"UpBlock2D": False, "AttnUpBlock2D": True}[t], c["layers_per_block"] + 1, input_channel,
                prev_output_channel, output_channel, time_embed_dim, c["norm_eps"], c["act_fn"],
                c["norm_num_groups"], c["dropout"], head if head is not None else output_channel, i != len(boc) - 1))
        self.conv_norm_out = nn.GroupNorm(num_channels=boc[0], num_groups=c["norm_num_groups"], eps=c["norm_eps"])
        self.conv_act = nn.SiLU()
        self.conv_out = nn.Conv2d(boc[0], c["out_channels"], kernel_size=3, padding=1)

    def forward(self, sample, timestep):
        timesteps = torch.as_tensor(timestep, dtype=torch.long)
        if timesteps.dim() == 0:
            timesteps = timesteps[None]
        timesteps = timesteps * torch.ones(sample.shape[0], dtype=timesteps.dtype)
        emb = self.time_embedding(self.time_proj(timesteps).to(dtype=sample.dtype))
        sample = self.conv_in(sample)
        res = (sample,)
        for block in self.down_blocks:
            sample, r = block(sample, emb)
            res += r
        if self.mid_block is not None:
            sample = self.mid_block(sample, emb)
        for block in self.up_blocks:
            r = res[-len(block.resnets):]
            res = res[:-len(block.resnets)]
            sample = block(sample, r, emb)
        return self.conv_out(self.conv_act(self.conv_norm_out(sample)))


DEPRECATED_ATTENTION_NAMES = {"query": "to_q", "key": "to_k", "value": "to_v", "proj_attn": "to_out.0"}


def fix_state_dict_keys_on_load(model, state_dict):
    """ModelMixin._fix_state_dict_keys_on_load: the deprecated attention names of every Attention block."""
    paths = [name for name, m in model.named_modules() if getattr(m, "_from_deprecated_attn_block", False)]
    for path in paths:
        for old, new in DEPRECATED_ATTENTION_NAMES.items():
            for suffix in ("weight", "bias"):
                if f"{path}.{old}.{suffix}" in state_dict:
                    state_dict[f"{path}.{new}.{suffix}"] = state_dict.pop(f"{path}.{old}.{suffix}")
    return state_dict


# ------------------------------------------------------------------------------------------ files


_DTYPES = {"F32": ("<f4", 4), "F16": ("<f2", 2), "F64": ("<f8", 8)}


def read_safetensors(path):
    """A safetensors file as a dict of float32 tensors (F32, F16, F64, BF16), in file order."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n).decode("utf-8"))
        data = f.read()
    out = {}
    for name, e in sorted(((k, v) for k, v in header.items() if k != "__metadata__"),
                          key=lambda kv: kv[1]["data_offsets"][0]):
        a, b = e["data_offsets"]
        if e["dtype"] == "BF16":
            raw = np.frombuffer(data[a:b], dtype="<u2").astype(np.uint32) << 16
            v = raw.view(np.float32)
        else:
            v = np.frombuffer(data[a:b], dtype=_DTYPES[e["dtype"]][0]).astype(np.float32)
        out[name] = torch.from_numpy(v.reshape(e["shape"]).copy())
    return out


def write_safetensors(path, tensors, metadata=None):
    """safetensors.torch.save_file for float32 tensors: sorted names, compact header padded to 8 bytes."""
    header, offset, blobs = {}, 0, []
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        b = tensors[name].detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def locate(folder):
    """(config.json, weights file, scheduler_config.json or None) of a pipeline folder (unet/, scheduler/) or a
    flat model folder."""
    for unet, sched in ((os.path.join(folder, "unet"), os.path.join(folder, "scheduler")), (folder, folder)):
        cfg = os.path.join(unet, "config.json")
        if os.path.isfile(cfg):
            for w in ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin"):
                if os.path.isfile(os.path.join(unet, w)):
                    s = os.path.join(sched, "scheduler_config.json")
                    return cfg, os.path.join(unet, w), s if os.path.isfile(s) else None
    raise FileNotFoundError(f"{folder}: no config.json with diffusion_pytorch_model.* (in the folder or unet/)")


def load_folder(folder):
    """UNet2DModel.from_pretrained(folder) (or the unet of a DDPMPipeline folder): the model in eval mode and
    the scheduler config (or None). Strict: every weight must be used and present."""
    cfg_path, weights, sched = locate(folder)
    with open(cfg_path) as f:
        config = json.load(f)
    model = UNet2DModel(**config)
    sd = read_safetensors(weights) if weights.endswith(".safetensors") else torch.load(weights, map_location="cpu")
    sd = fix_state_dict_keys_on_load(model, dict(sd))
    model.load_state_dict(sd, strict=True)
    model.eval()
    scheduler = None
    if sched:
        with open(sched) as f:
            scheduler = json.load(f)
    return model, scheduler


def write_folder(folder, config, state_dict, scheduler, legacy_names=False):
    """A DDPMPipeline folder: model_index.json, unet/config.json, unet/diffusion_pytorch_model.safetensors,
    scheduler/scheduler_config.json (legacy_names: the deprecated attention names, as old hub folders)."""
    os.makedirs(os.path.join(folder, "unet"), exist_ok=True)
    os.makedirs(os.path.join(folder, "scheduler"), exist_ok=True)
    sd = dict(state_dict)
    if legacy_names:
        back = {v: k for k, v in DEPRECATED_ATTENTION_NAMES.items()}
        for name in list(sd):
            for new, old in back.items():
                if f".{new}." in name and ".attentions." in name:
                    sd[name.replace(f".{new}.", f".{old}.")] = sd.pop(name)
    with open(os.path.join(folder, "model_index.json"), "w") as f:
        json.dump(MODEL_INDEX, f, indent=2, sort_keys=True)
    with open(os.path.join(folder, "unet", "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    write_safetensors(os.path.join(folder, "unet", "diffusion_pytorch_model.safetensors"), sd, {"format": "pt"})
    with open(os.path.join(folder, "scheduler", "scheduler_config.json"), "w") as f:
        json.dump(scheduler, f, indent=2, sort_keys=True)


# ------------------------------------------------------------------------------------------ the authors' layout


def _renew_resnet(name):
    return name.replace("block.", "resnets.").replace("nin_shortcut", "conv_shortcut").replace("temb_proj", "time_emb_proj")


def _renew_attention(name, in_mid):
    if not in_mid:
        name = name.replace("attn", "attentions")
    name = name.replace(".k.", ".to_k.").replace(".v.", ".to_v.").replace(".q.", ".to_q.")
    return name.replace("proj_out", "to_out.0").replace("norm", "group_norm")


def convert_ddpm(checkpoint, layers_per_block):
    """The authors' state dict (ddpm_reference.Model names) under diffusers' current names, following
    convert_ddpm_checkpoint of diffusers' scripts/convert_ddpm_original_checkpoint_to_diffusers.py (its
    downsample key fixed to the authors' ``downsample.conv``; attention names straight to to_q/to_k/to_v/to_out.0,
    which is what diffusers' loader turns the script's query/key/value/proj_attn into). Returns {new: tensor} and
    the list of (old, new) pairs."""
    new, pairs = {}, []

    def put(old, name, squeeze=False):
        v = checkpoint[old]
        new[name] = v.reshape(v.shape[0], v.shape[1]) if squeeze and v.dim() == 4 else v
        pairs.append((old, name))

    for a, b in (("temb.dense.0", "time_embedding.linear_1"), ("temb.dense.1", "time_embedding.linear_2"),
                 ("norm_out", "conv_norm_out"), ("conv_in", "conv_in"), ("conv_out", "conv_out")):
        for s in ("weight", "bias"):
            put(f"{a}.{s}", f"{b}.{s}")
    levels = len({k.split(".")[1] for k in checkpoint if k.startswith("down.")})
    for key in checkpoint:
        parts = key.split(".")
        if parts[0] == "down":
            i = parts[1]
            if parts[2] == "downsample":
                put(key, f"down_blocks.{i}.downsamplers.0.conv.{parts[-1]}")
            elif parts[2] == "block":
                put(key, _renew_resnet(key).replace("down.", "down_blocks."))
            else:
                put(key, _renew_attention(key, False).replace("down.", "down_blocks."), squeeze=True)
        elif parts[0] == "up":
            block_id = levels - 1 - int(parts[1])
            if parts[2] == "upsample":
                put(key, f"up_blocks.{block_id}.upsamplers.0.conv.{parts[-1]}")
            elif parts[2] == "block":
                put(key, _renew_resnet(key).replace(f"up.{parts[1]}.", f"up_blocks.{block_id}."))
            else:
                put(key, _renew_attention(key, False).replace(f"up.{parts[1]}.", f"up_blocks.{block_id}."), squeeze=True)
        elif key.startswith("mid.block_"):
            put(key, _renew_resnet(key).replace("mid.block_1", "mid_block.resnets.0").replace("mid.block_2", "mid_block.resnets.1"))
        elif key.startswith("mid.attn_1"):
            put(key, _renew_attention(key, True).replace("mid.attn_1", "mid_block.attentions.0"), squeeze=True)
    assert len(new) == len(checkpoint), "every entry maps once"
    return new, pairs


def ddpm_config_for(cfg):
    """The authors' Model config of a DDPM-style UNet2DModel config (published models only)."""
    boc = cfg["block_out_channels"]
    ch = boc[0]
    size = cfg["sample_size"]
    attn = [size >> i for i, t in enumerate(cfg["down_block_types"]) if t == "AttnDownBlock2D"]
    return {"image_size": size, "in_channels": cfg["in_channels"], "ch": ch, "ch_mult": [c // ch for c in boc],
            "num_res_blocks": cfg["layers_per_block"], "attn_resolutions": attn, "dropout": 0.0}


# ------------------------------------------------------------------------------------------ weights and noise


# GoldenCases.testWeights (GroupNorm weights, in either naming, get 1 added)
test_weights = ddpm_reference.test_weights


def gaussian(seed, n):
    """Box-Muller over the portable uniforms (the Java tests' DiffusersContractTest.gaussian): z_j =
    sqrt(-2 ln(1 - u_2j)) cos(2 pi u_2j+1), u = Noise.seeded(seed).doubles(2n), rounded to float32."""
    u = Noise.seeded(seed).doubles(2 * n)
    z = np.sqrt(-2.0 * np.log(1.0 - u[0::2])) * np.cos(2.0 * math.pi * u[1::2])
    return z.astype(np.float32)


def golden_input(n):
    j = np.arange(n)
    return (((j * 37) % 101) / 50.0 - 1.0).astype(np.float32)


# ------------------------------------------------------------------------------------------ DDIM


def ddim(model, scheduler, x, steps):
    """DDIMScheduler.from_config(scheduler) with eta 0 (set_alpha_to_one, steps_offset and timestep_spacing
    taking DDIMScheduler's defaults when absent), as diffusers' DDIMPipeline runs it: returns the final sample."""
    t_total = scheduler.get("num_train_timesteps", 1000)
    assert scheduler.get("beta_schedule", "linear") == "linear"
    betas = torch.linspace(scheduler.get("beta_start", 0.0001), scheduler.get("beta_end", 0.02), t_total,
                           dtype=torch.float32)
    alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
    final_alpha = torch.tensor(1.0) if scheduler.get("set_alpha_to_one", True) else alphas_cumprod[0]
    assert scheduler.get("timestep_spacing", "leading") == "leading"
    ratio = t_total // steps
    timesteps = (np.arange(0, steps) * ratio).round()[::-1].copy().astype(np.int64) + scheduler.get("steps_offset", 0)
    clip, rng = scheduler.get("clip_sample", True), scheduler.get("clip_sample_range", 1.0)
    with torch.no_grad():
        for t in timesteps:
            eps = model(x, int(t))
            prev = int(t) - ratio
            a_t = alphas_cumprod[t]
            a_prev = alphas_cumprod[prev] if prev >= 0 else final_alpha
            x0 = (x - (1 - a_t) ** 0.5 * eps) / a_t ** 0.5
            if clip:
                x0 = x0.clamp(-rng, rng)
            x = a_prev ** 0.5 * x0 + (1 - a_prev) ** 0.5 * eps
    return x, [int(t) for t in timesteps]


# ------------------------------------------------------------------------------------------ golden


WEIGHT_SEED = 20251202
NOISE_SEED = 7
# the five published configs; the 256x256 ones at 32x32 (the six levels run at 32 .. 1 pixels), CIFAR-10 at 16x16;
# attention stays on the same levels (diffusers places it by block type, not resolution)
GOLDEN_CASES = [
    {"name": "mini", "base": None, "size": 8, "t": [0, 999], "config": {
        "_class_name": "UNet2DModel", "block_out_channels": [32, 64], "layers_per_block": 1,
        "down_block_types": ["DownBlock2D", "AttnDownBlock2D"], "up_block_types": ["AttnUpBlock2D", "UpBlock2D"],
        "attention_head_dim": 16, "norm_num_groups": 8, "norm_eps": 1e-6, "downsample_padding": 0,
        "flip_sin_to_cos": False, "freq_shift": 1, "mid_block_scale_factor": 1.4142135623730951, "sample_size": 8}},
    # diffusers' defaults where the published models differ: cosines first, no shift, padding 1, one head over all
    # channels, relu, a time embedding width of its own, the middle attention's own groups, a UNetRes-prefixed type,
    # a non-square image
    {"name": "mini-defaults", "base": None, "size": [8, 16], "t": [5, 640], "config": {
        "_class_name": "UNet2DModel", "block_out_channels": [16, 32], "layers_per_block": 2,
        "down_block_types": ["AttnDownBlock2D", "UNetResDownBlock2D"], "up_block_types": ["UpBlock2D", "AttnUpBlock2D"],
        "attention_head_dim": None, "norm_num_groups": 8, "attn_norm_num_groups": 4, "act_fn": "relu",
        "time_embedding_dim": 48, "sample_size": [8, 16]}},
    # no middle block, attention_head_dim absent (diffusers' default of 8), dropout (training only)
    {"name": "mini-nomid", "base": None, "size": 8, "t": [999], "config": {
        "_class_name": "UNet2DModel", "block_out_channels": [16, 16], "layers_per_block": 1,
        "down_block_types": ["AttnDownBlock2D", "AttnDownBlock2D"], "up_block_types": ["AttnUpBlock2D", "AttnUpBlock2D"],
        "mid_block_type": None, "norm_num_groups": 4, "dropout": 0.1, "sample_size": 8}},
    # the values whose effect the cases above leave below the tolerance or do not reach: a norm_eps large enough to
    # move every GroupNorm (1e-6 and 1e-5 differ by a few 1e-6 of the output), a middle block without attention
    # (its scale factor on the residual blocks only), the "swish" spelling, one input channel, a fractional shift,
    # three residual blocks per level, a tall image
    {"name": "mini-variants", "base": None, "size": [16, 8], "t": [3, 777], "config": {
        "_class_name": "UNet2DModel", "in_channels": 1, "out_channels": 1, "block_out_channels": [8, 16],
        "layers_per_block": 3, "down_block_types": ["AttnDownBlock2D", "DownBlock2D"],
        "up_block_types": ["UpBlock2D", "AttnUpBlock2D"], "attention_head_dim": 4, "norm_num_groups": 4,
        "norm_eps": 0.5, "act_fn": "swish", "add_attention": False, "mid_block_scale_factor": 0.5,
        "freq_shift": 0.5, "time_embedding_dim": 24, "sample_size": [16, 8]}},
    # an attention_head_dim that does not divide the channels: channels // head_dim heads of head_dim each, so the
    # attention's inner width (to_q's outputs, to_out.0's inputs) is below the channels (12: one head of 8; 20 in the
    # middle: two heads of 8)
    {"name": "mini-heads", "base": None, "size": 8, "t": [100], "config": {
        "_class_name": "UNet2DModel", "block_out_channels": [12, 20], "layers_per_block": 1,
        "down_block_types": ["AttnDownBlock2D", "DownBlock2D"], "up_block_types": ["UpBlock2D", "AttnUpBlock2D"],
        "attention_head_dim": 8, "norm_num_groups": 4, "sample_size": 8}},
    {"name": "ddpm-cifar10-32", "base": "ddpm-cifar10-32", "size": 16, "t": [17, 999]},
    {"name": "ddpm-celebahq-256", "base": "ddpm-celebahq-256", "size": 32, "t": [500]},
    {"name": "ddpm-church-256", "base": "ddpm-church-256", "size": 32, "t": [999]},
    {"name": "ddpm-bedroom-256", "base": "ddpm-bedroom-256", "size": 32, "t": [3]},
    {"name": "ddpm-cat-256", "base": "ddpm-cat-256", "size": 32, "t": [250]},
]


def _case_config(case):
    if case["base"] is None:
        return dict(case["config"])
    return dict(GOOGLE_CONFIGS[case["base"]][0], sample_size=case["size"])


def _digest(t):
    v = t.detach().reshape(-1).double()
    idx = list(range(0, v.numel(), max(1, v.numel() // 256)))
    return {"n": v.numel(), "sum": float(v.sum()), "l2": float(v.norm()), "max_abs": float(v.abs().max()),
            "index": idx, "values": [float(v[i]) for i in idx]}


def _short(value):
    """Floats to 9 significant digits (every float32 value round-trips), recursively."""
    if isinstance(value, float):
        return float("%.9g" % value)
    if isinstance(value, dict):
        return {k: _short(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_short(v) for v in value]
    return value


def _compact(value):
    return json.dumps(_short(value))


def golden(out_path):
    doc = {"generator": "docs/diffusers_reference.py golden (torch " + torch.__version__ + ")",
           "weight_seed": WEIGHT_SEED, "input": "x_j = ((j * 37) mod 101) / 50 - 1, j row-major",
           "google_configs": {k: {"unet": v[0], "scheduler": v[1]} for k, v in GOOGLE_CONFIGS.items()},
           "cases": [], "ddpm_names": {}, "ddim": None, "full_size": None}
    torch.manual_seed(0)
    for case in GOLDEN_CASES:
        config = _case_config(case)
        model = UNet2DModel(**config)
        model.load_state_dict(test_weights(model, WEIGHT_SEED))
        model.eval()
        c = config.get("in_channels", 3)
        h, w = (case["size"], case["size"]) if isinstance(case["size"], int) else case["size"]
        n = len(case["t"])
        x = torch.from_numpy(golden_input(n * c * h * w).reshape(n, c, h, w))
        with torch.no_grad():
            out = model(x, torch.as_tensor(case["t"]))
        sd = model.state_dict()
        entry = {"name": case["name"], "config": config, "t": case["t"],
                 "layout": [[k, list(v.shape)] for k, v in sd.items()], "output": _flat(out)}
        if case["base"] is not None:
            # the authors' Model with the same function: convert its weights and compare (at t = 0 and 1 the two
            # float32 orders of the embedding's frequencies give the same numbers; at 999 they differ by an ulp)
            dcfg = ddpm_config_for(config)
            authors = ddpm_reference.build(dcfg)
            authors.load_state_dict(ddpm_reference.test_weights(authors, WEIGHT_SEED))
            authors.eval()
            converted, pairs = convert_ddpm(authors.state_dict(), config["layers_per_block"])
            twin = UNet2DModel(**config)
            twin.load_state_dict(converted, strict=True)
            twin.eval()
            with torch.no_grad():
                xs = x[:1].repeat(2, 1, 1, 1)
                a = authors(xs, np.asarray([0, 1]))
                b = twin(xs, torch.as_tensor([0, 1]))
                rel = float((a - b).abs().max() / a.abs().max())
                a9 = authors(xs[:1], np.asarray([999]))
                b9 = twin(xs[:1], torch.as_tensor([999]))
                rel999 = float((a9 - b9).abs().max() / a9.abs().max())
            assert rel < 1e-5, f"{case['name']}: the authors' model and its conversion differ by {rel}"
            entry["authors"] = {"config": dcfg, "max_rel_t01": rel, "max_rel_t999": rel999}
            key = "cifar10" if len(config["block_out_channels"]) == 4 else "lsun256"
            doc["ddpm_names"].setdefault(key, {"config": dcfg, "pairs": [list(p) for p in pairs]})
            print(f"{case['name']}: authors vs converted {rel:.2e} (t=0,1), {rel999:.2e} (t=999)", file=sys.stderr)
        doc["cases"].append(entry)
        print(f"{case['name']}: {sum(v.numel() for v in sd.values())} parameters, |out| max "
              f"{float(out.abs().max()):.3f}", file=sys.stderr)
    # DDIM-10 with the CIFAR-10 model at full size and its published scheduler config
    config, sched = GOOGLE_CONFIGS["ddpm-cifar10-32"]
    model = UNet2DModel(**config)
    model.load_state_dict(test_weights(model, WEIGHT_SEED))
    model.eval()
    x = torch.from_numpy(gaussian(NOISE_SEED, 3 * 32 * 32).reshape(1, 3, 32, 32))
    final, plan = ddim(model, sched, x, 10)
    doc["ddim"] = {"model": "ddpm-cifar10-32", "steps": 10, "noise_seed": NOISE_SEED, "timesteps": plan,
                   "noise": "Box-Muller of Noise.seeded(noise_seed) uniforms (docs/diffusers_reference.py gaussian)",
                   "output": _flat(final)}
    print(f"ddim: |x0| max {float(final.abs().max()):.3f}", file=sys.stderr)
    # one full-size 256x256 forward pass, as a digest
    config = GOOGLE_CONFIGS["ddpm-church-256"][0]
    model = UNet2DModel(**config)
    model.load_state_dict(test_weights(model, WEIGHT_SEED))
    model.eval()
    x = torch.from_numpy(golden_input(3 * 256 * 256).reshape(1, 3, 256, 256))
    start = time.perf_counter()
    with torch.no_grad():
        out = model(x, torch.as_tensor([421]))
    doc["full_size"] = {"model": "ddpm-church-256", "t": [421], "digest": _digest(out)}
    print(f"full size: {time.perf_counter() - start:.1f} s", file=sys.stderr)
    seen = {}
    for case in doc["cases"]:  # a layout repeated by a later case with the same config is written once
        key = json.dumps(case["layout"])
        if key in seen:
            case["layout"] = seen[key]
        else:
            seen[key] = case["name"]
    with open(out_path, "w") as f:
        f.write("{\n")
        keys = list(doc)
        for i, k in enumerate(keys):
            sep = "," if i + 1 < len(keys) else ""
            if k == "cases":
                f.write(' "cases": [\n')
                f.write(",\n".join("  " + _compact(e) for e in doc["cases"]))
                f.write("\n ]" + sep + "\n")
            else:
                f.write(f" {json.dumps(k)}: {_compact(doc[k])}{sep}\n")
        f.write("}\n")


# ------------------------------------------------------------------------------------------ commands


def names(config):
    model = UNet2DModel(**config)
    total = 0
    for name, p in model.state_dict().items():
        print(f"{name} {list(p.shape)}")
        total += p.numel()
    print(f"# {total} parameters")


def check(folder, against=None):
    """Loads a folder as UNet2DModel.from_pretrained would and prints its output for the golden input at t = 0
    and 999 (as JSON); with a second folder, also the largest relative difference between the two."""
    model, sched = load_folder(folder)
    s = model.sample_size if isinstance(model.sample_size, int) else model.sample_size[0]
    c = model.config["in_channels"]
    x = torch.from_numpy(golden_input(2 * c * s * s).reshape(2, c, s, s))
    with torch.no_grad():
        out = model(x, torch.as_tensor([0, 999]))
    res = {"folder": folder, "parameters": sum(v.numel() for v in model.state_dict().values()),
           "scheduler": sched, "output_head": _flat(out.reshape(-1)[:8])}
    if against:
        other, _ = load_folder(against)
        with torch.no_grad():
            o2 = other(x, torch.as_tensor([0, 999]))
        res["max_rel_difference"] = float((out - o2).abs().max() / out.abs().max())
    print(json.dumps(res))


def convert(ckpt, config_path, out_dir):
    """The authors' checkpoint (a torch.save of Model's state dict, or ermongroup/ddim's [model, optimizer, epoch,
    step, ema] list) to a DDPMPipeline folder."""
    with open(config_path) as f:
        config = json.load(f)
    states = torch.load(ckpt, map_location="cpu")
    if isinstance(states, list):
        states = states[-1] if isinstance(states[-1], dict) and "conv_in.weight" in {k.replace("module.", "", 1) for k in states[-1]} else states[0]
    sd = {k[7:] if k.startswith("module.") else k: v for k, v in states.items()}
    new, _ = convert_ddpm(sd, config["layers_per_block"])
    write_folder(out_dir, config, new, dict(_SCHEDULER, variance_type="fixed_large"))


def fixtures(out_dir):
    """Small files for the Java reader tests: a state dict saved by torch.save in the zip format and the legacy
    format, with float32, float64, float16 and bfloat16 tensors, a non-contiguous view, a shared storage and a
    DDIM-style list [model, optimizer, epoch, step, ema]."""
    os.makedirs(out_dir, exist_ok=True)
    base = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4) / 8 - 1
    sd = {"a.weight": base, "a.bias": torch.tensor([0.5, -0.25, 1e-3], dtype=torch.float64),
          "b.half": torch.tensor([1.5, -2.0, 65504.0], dtype=torch.float16),
          "b.bf16": torch.tensor([3.140625, -0.0078125], dtype=torch.bfloat16),
          "c.view": base[1, :, 1:3].t(), "c.scalar": torch.tensor(2.5), "c.shared": base[0, 1]}
    ordered = __import__("collections").OrderedDict(sd)
    ordered._metadata = {"": {"version": 1}}
    torch.save(ordered, os.path.join(out_dir, "state_dict_zip.pt"))
    torch.save(ordered, os.path.join(out_dir, "state_dict_legacy.pt"), _use_new_zipfile_serialization=False)
    model = {"module.conv.weight": base[0], "module.conv.bias": torch.zeros(3)}
    ema = {"module.conv.weight": base[1], "module.conv.bias": torch.ones(3)}
    optimizer = {"state": {0: {"step": 10, "exp_avg": torch.zeros(3, 4), "exp_avg_sq": torch.ones(3)}},
                 "param_groups": [{"lr": 2e-4, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
                                   "amsgrad": False, "params": [0, 1]}]}
    torch.save([model, optimizer, 7, 123456, ema], os.path.join(out_dir, "ddim_list.pth"))
    expected = {k: {"shape": list(v.shape), "values": [float(x) for x in v.float().reshape(-1)]} for k, v in sd.items()}
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


MICRO_CONFIG = {"_class_name": "UNet2DModel", "_diffusers_version": "0.0.4", "block_out_channels": [8, 8],
                "layers_per_block": 1, "down_block_types": ["DownBlock2D", "AttnDownBlock2D"],
                "up_block_types": ["AttnUpBlock2D", "UpBlock2D"], "attention_head_dim": 4, "norm_num_groups": 4,
                "norm_eps": 1e-06, "downsample_padding": 0, "flip_sin_to_cos": False, "freq_shift": 1,
                "sample_size": 8, "act_fn": "silu"}


def micro_folder(out_dir):
    """A model folder as old hub folders are: config.json, diffusion_pytorch_model.bin (torch.save, zip format) with
    the deprecated attention names, scheduler_config.json; and expected.json, the output for the golden input."""
    os.makedirs(out_dir, exist_ok=True)
    model = UNet2DModel(**MICRO_CONFIG)
    model.load_state_dict(test_weights(model, WEIGHT_SEED))
    model.eval()
    sd = __import__("collections").OrderedDict()
    for name, v in model.state_dict().items():
        for new, old in (("to_q", "query"), ("to_k", "key"), ("to_v", "value"), ("to_out.0", "proj_attn")):
            if f".attentions." in name and f".{new}." in name:
                name = name.replace(f".{new}.", f".{old}.")
        sd[name] = v.clone()
    torch.save(sd, os.path.join(out_dir, "diffusion_pytorch_model.bin"))
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(MICRO_CONFIG, f, indent=2, sort_keys=True)
    with open(os.path.join(out_dir, "scheduler_config.json"), "w") as f:
        json.dump(dict(_SCHEDULER, variance_type="fixed_small"), f, indent=2, sort_keys=True)
    x = torch.from_numpy(golden_input(2 * 3 * 8 * 8).reshape(2, 3, 8, 8))
    with torch.no_grad():
        out = model(x, torch.as_tensor([0, 999]))
    loaded, _ = load_folder(out_dir)
    with torch.no_grad():
        again = loaded(x, torch.as_tensor([0, 999]))
    assert torch.equal(out, again), "the folder loads back as from_pretrained would"
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        f.write(_compact({"t": [0, 999], "input": "x_j = ((j * 37) mod 101) / 50 - 1", "output": _flat(out)}) + "\n")


def bench(folder, steps, threads):
    """Seconds per image of DDIM-steps sampling (batch 1) with the folder's model, and its parameter count."""
    torch.set_num_threads(threads)
    model, sched = load_folder(folder)
    s = model.sample_size if isinstance(model.sample_size, int) else model.sample_size[0]
    x = torch.from_numpy(gaussian(1, 3 * s * s).reshape(1, 3, s, s))
    ddim(model, sched or {}, x, 2)  # warm-up
    start = time.perf_counter()
    ddim(model, sched or {}, x, steps)
    seconds = time.perf_counter() - start
    print(json.dumps({"torch": torch.__version__, "threads": threads, "steps": steps, "image": [3, s, s],
                      "seconds_per_image": seconds}))


def random_folder(name, folder):
    """A DDPMPipeline folder with the layout and configs of one of GOOGLE_CONFIGS (e.g. ddpm-cifar10-32) and
    PyTorch's default random initialisation (seed 0): the same shapes, names, order and cost as the published
    weights, for timing and memory measurements on a machine that cannot reach the hub."""
    config, sched = GOOGLE_CONFIGS[name]
    torch.manual_seed(0)
    model = UNet2DModel(**config)
    write_folder(folder, config, model.state_dict(), sched)
    print(json.dumps({"folder": folder, "parameters": sum(p.numel() for p in model.parameters())}))


def main(argv):
    if len(argv) == 2 and argv[0] == "names":
        names(json.loads(argv[1]))
    elif len(argv) == 2 and argv[0] == "golden":
        golden(argv[1])
    elif len(argv) in (2, 3) and argv[0] == "check":
        check(argv[1], argv[2] if len(argv) == 3 else None)
    elif len(argv) == 4 and argv[0] == "convert":
        convert(argv[1], argv[2], argv[3])
    elif len(argv) == 3 and argv[0] == "fixtures":
        fixtures(argv[1])
        micro_folder(argv[2])
    elif len(argv) == 3 and argv[0] == "random":
        random_folder(argv[1], argv[2])
    elif len(argv) == 4 and argv[0] == "bench":
        bench(argv[1], int(argv[2]), int(argv[3]))
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(main(sys.argv[1:]))
