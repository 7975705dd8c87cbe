"""Writes checkpoint_v4.pt and checkpoint_v4.json, the fixture of TorchCheckpointTest#readsProtocol4AsTorchSaveWritesIt.

Regenerate (PyTorch 1.13, numpy; from this folder):

    python3 make_checkpoint_v4.py

checkpoint_v4.pt is what ``torch.save(..., pickle_protocol=4)`` writes (zip format): a Lightning-style root dict
{'state_dict': ..., 'ema': ..., 'epoch': 3} whose pickle uses the opcodes protocol 2 does not (FRAME, MEMOIZE,
SHORT_BINUNICODE, STACK_GLOBAL) and, past 256 memo entries, LONG_BINGET. Its tensors: 40 views of one storage at
growing offsets, a dimension of 200 (BININT1 above 127), an expanded tensor (stride 0), half-precision subnormals,
infinities and NaN, a bfloat16 tensor and a float64 one. checkpoint_v4.json holds, for each state dict and name,
the shape and the float32 bit patterns of the values (tensor.float(), so NaN and infinities are exact).
"""
import collections
import json
import os

import torch

here = os.path.dirname(os.path.abspath(__file__))
rows = torch.arange(80, dtype=torch.float32).reshape(40, 2) / 4 - 3
sd = collections.OrderedDict()
for i in range(40):
    sd[f"many.{i:02d}"] = rows[i]  # storage offset 2 * i in one shared storage
sd["wide"] = (torch.arange(200, dtype=torch.float32) / 64 - 1).to(torch.float16)  # size 200: BININT1 0xc8
sd["expanded"] = torch.tensor([0.5, -1.5, 2.0]).expand(2, 3)  # stride (0, 1)
sd["half.special"] = torch.tensor([2.0 ** -24, -(2.0 ** -20), 2.0 ** -14, float("inf"), float("-inf"),
                                   float("nan"), -0.0], dtype=torch.float16)
sd["bf16"] = torch.tensor([-3.140625, 1e-20, 3e38], dtype=torch.bfloat16)
sd["f64"] = torch.tensor([[1.0 / 3, -2e-3], [1e30, 7.0]], dtype=torch.float64).t()  # stride (1, 2)
ema = collections.OrderedDict((k, v * 2) for k, v in list(sd.items())[:3])
torch.save({"state_dict": sd, "ema": ema, "epoch": 3}, os.path.join(here, "checkpoint_v4.pt"), pickle_protocol=4)


def bits(t):
    return [int(b) for b in t.float().contiguous().reshape(-1).view(torch.int32)]


expected = {name: {k: {"shape": list(v.shape), "bits": bits(v)} for k, v in d.items()}
            for name, d in (("state_dict", sd), ("ema", ema))}
with open(os.path.join(here, "checkpoint_v4.json"), "w") as f:
    json.dump(expected, f, separators=(",", ":"))
    f.write("\n")
