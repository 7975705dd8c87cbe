"""Writes config.json and layout.json, the fixture of DiffusersFolderTest#everyKeyOfARealConfigIsRead.

Regenerate (PyTorch 1.13; from this folder; it imports docs/diffusers_reference.py, diffusers is not needed):

    python3 make_config.py

config.json is a UNet2DModel config.json as diffusers writes it (ConfigMixin.to_json_string: json.dumps with
indent=2 and sort_keys=True, then a newline), in which every key UNet2DModel takes and diffusion4j reads has a
value other than diffusers' default, so a key name misspelt in the reader (which then takes the default) shows.
The keys are those of the reference's UNET2D_DEFAULTS (diffusers' UNet2DModel.__init__ signature). layout.json is
the state-dict layout (names in order, shapes) of the reference UNet2DModel built from config.json.
"""
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = here
while not os.path.isfile(os.path.join(root, "docs", "diffusers_reference.py")):
    root = os.path.dirname(root)
sys.path.insert(0, os.path.join(root, "docs"))
import diffusers_reference as ref  # noqa: E402

config = {
    "_class_name": "UNet2DModel", "_diffusers_version": "0.21.4",
    "sample_size": [8, 12], "in_channels": 1, "out_channels": 1, "time_embedding_dim": 24, "freq_shift": 2,
    "flip_sin_to_cos": False, "down_block_types": ["AttnDownBlock2D", "DownBlock2D"], "mid_block_type": None,
    "up_block_types": ["UpBlock2D", "AttnUpBlock2D"], "block_out_channels": [8, 12], "layers_per_block": 1,
    "mid_block_scale_factor": 1.5, "downsample_padding": 0, "dropout": 0.25, "act_fn": "relu",
    "attention_head_dim": 2, "norm_num_groups": 4, "attn_norm_num_groups": 2, "norm_eps": 1e-4,
    "add_attention": False,
    # the values diffusion4j supports only as diffusers' defaults
    "center_input_sample": False, "time_embedding_type": "positional", "downsample_type": "conv",
    "upsample_type": "conv", "resnet_time_scale_shift": "default", "class_embed_type": None,
    "num_class_embeds": None, "num_train_timesteps": None,
}
assert set(config) - {"_class_name", "_diffusers_version"} == set(ref.UNET2D_DEFAULTS), "every key UNet2DModel takes"
model = ref.UNet2DModel(**config)
with open(os.path.join(here, "config.json"), "w") as f:
    f.write(json.dumps(config, indent=2, sort_keys=True) + "\n")
with open(os.path.join(here, "layout.json"), "w") as f:
    json.dump([[k, list(v.shape)] for k, v in model.state_dict().items()], f, separators=(",", ":"))
    f.write("\n")
