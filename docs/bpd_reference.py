#!/usr/bin/python3
"""The reference for diffusion4j's variational bound in bits per dimension (``diffusion eval --bpd``,
``io.github.diffusion4j.eval.VariationalBound``), written from the DDPM authors' code and checked against it.

The definitions follow hojonathanho/diffusion, ``diffusion_tf/diffusion_utils_2.py`` (``normal_kl``,
``GaussianDiffusion2.q_posterior_mean_variance``, ``p_mean_variance``, ``_vb_terms_bpd``, ``_prior_bpd``,
``calc_bpd_loop``) and ``diffusion_tf/utils.py`` (``approx_standard_normal_cdf``,
``discretized_gaussian_log_likelihood``), re-expressed in NumPy float64 (the authors compute in float32 with
float64 schedule constants). Two things are diffusion4j's own and are reproduced here exactly:

- the noise: ``eps`` of image ``i`` at timestep ``t`` is the portable normal stream
  ``Noise.seeded(seed).split(NOISE_STREAM).split(t).split(i)`` (SplitMix64 + a 256-layer ziggurat, ported
  below from ``io.github.diffusion4j.random``), where the authors draw ``tf.random_normal``;
- the estimate from K < T timesteps per image (``TimestepStrata``): one uniform draw from each of K strata
  (``{0}``, then geometrically growing strata of ``[1, T)``), each term weighted by its stratum's size.

Extensions beyond the authors' code, marked where they occur: v-prediction (Salimans and Ho 2022), and the
SDK's schedules (``squaredcos_cap_v2``). x_t is rounded to float32 once; the model and the posterior both
see that value.

It runs with PyTorch 1.13 or later and NumPy::

    python3 docs/bpd_reference.py golden DIR      # regenerates the tests' golden file and weights in DIR
    python3 docs/bpd_reference.py normals SEED N  # the first N portable normals of Noise.seeded(SEED)
    python3 docs/bpd_reference.py crosscheck REPO # this re-expression against the authors' own functions

``crosscheck`` takes a checkout of https://github.com/hojonathanho/diffusion (tested at commit 1e0dceb), lifts
``normal_kl``, ``GaussianDiffusion2``, ``approx_standard_normal_cdf``, ``discretized_gaussian_log_likelihood``
and ``meanflat`` out of its sources unchanged and runs them on a NumPy stand-in for TensorFlow 1 (float64), on
every term of the golden cases: it exits 0 when they agree with the functions here to 1e-9 (relative to
max(1, |term|)).

The golden file (``bpd_golden.json``) and the three MLP checkpoints it uses (``mlp-*.safetensors``, state-dict
names of the tutorial's ``nn.Sequential``) live in ``diffusion-testkit/src/main/resources/io/github/diffusion4j/
testkit/bpd/``; ``VariationalBoundContractTest`` holds every backend to them.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unet_reference import MASK64, GOLDEN_GAMMA, Noise, _mix64  # noqa: E402  (the uniform part of the port)

NOISE_STREAM = 0x564C425F4E4F4953  # "VLB_NOIS", VariationalBound.NOISE_STREAM
TIMESTEP_STREAM = 0x564C425F54494D45  # "VLB_TIME", VariationalBound.TIMESTEP_STREAM

# ----------------------------------------------------------------------------- portable normals (ziggurat)

_LAYERS = 256
_R = 3.6541528853610088
_V = 0.00492867323399


def _tables():
    x = [0.0] * (_LAYERS + 1)
    f = math.exp(-0.5 * _R * _R)
    x[0] = _V / f
    x[1] = _R
    for i in range(2, _LAYERS):
        x[i] = math.sqrt(-2.0 * math.log(_V / x[i - 1] + f))
        f = math.exp(-0.5 * x[i] * x[i])
    x[_LAYERS] = 0.0
    ratio = [x[i + 1] / x[i] for i in range(_LAYERS)]
    w = [x[i] * 2.0 ** -52 for i in range(_LAYERS)]
    k = [math.ceil(r * 2.0 ** 52) for r in ratio]
    return x, w, k


_X, _W, _K = _tables()


class Generator:
    """io.github.diffusion4j.random.RandomGenerator: SplitMix64 words, nextDouble, nextInt and ziggurat
    normals (Marsaglia and Tsang, Doornik's formulation: the low 8 bits pick the layer, the high 53 a signed
    uniform)."""

    def __init__(self, key):
        self.state = key & MASK64

    def next_long(self):
        self.state = (self.state + GOLDEN_GAMMA) & MASK64
        return _mix64(self.state)

    def next_double(self):
        return (self.next_long() >> 11) * 2.0 ** -53

    def next_int(self, bound):
        u = self.next_long() >> 1
        r = u % bound
        while u - r + (bound - 1) >= 2 ** 63:  # Java's signed overflow test
            u = self.next_long() >> 1
            r = u % bound
        return r

    def next_gaussian(self):
        while True:
            bits = self.next_long()
            i = bits & 0xFF
            j = (bits >> 11) - (1 << 52)
            if abs(j) < _K[i]:
                return j * _W[i]
            u = j * 2.0 ** -52
            if i == 0:
                return self._tail(u < 0)
            x = u * _X[i]
            x2 = x * x
            f0 = math.exp(-0.5 * (_X[i] * _X[i] - x2))
            f1 = math.exp(-0.5 * (_X[i + 1] * _X[i + 1] - x2))
            if f1 + self.next_double() * (f0 - f1) < 1.0:
                return x

    def _tail(self, negative):
        while True:
            x = -math.log(1.0 - self.next_double()) / _R
            y = -math.log(1.0 - self.next_double())
            if not y + y < x * x:
                return -(_R + x) if negative else _R + x


def normals(noise, n):
    """The first n float32 normals of a Noise stream (Noise.normals)."""
    g = Generator(noise.key)
    return np.array([g.next_gaussian() for _ in range(n)], dtype=np.float32)


# ----------------------------------------------------------------------------- schedules

def betas_for(schedule, T, beta_start=1e-4, beta_end=0.02):
    if schedule == "linear":
        return np.linspace(beta_start, beta_end, T, dtype=np.float64)
    if schedule == "squaredcos_cap_v2":  # Nichol and Dhariwal eq. 17 (an SDK schedule; not in the authors' code)
        def abar(t):
            return math.cos((t + 0.008) / 1.008 * math.pi / 2.0) ** 2
        return np.array([min(1.0 - abar((i + 1) / T) / abar(i / T), 0.999) for i in range(T)], dtype=np.float64)
    raise ValueError(schedule)


# ----------------------------------------------------------------------------- the authors' definitions

def normal_kl(mean1, logvar1, mean2, logvar2):
    """diffusion_utils_2.normal_kl."""
    return 0.5 * (-1.0 + logvar2 - logvar1 + np.exp(logvar1 - logvar2) + (mean1 - mean2) ** 2 * np.exp(-logvar2))


def approx_standard_normal_cdf(x):
    """utils.approx_standard_normal_cdf."""
    return 0.5 * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * np.power(x, 3))))


def discretized_gaussian_log_likelihood(x, *, means, log_scales):
    """utils.discretized_gaussian_log_likelihood: data are integers [0, 255] rescaled to [-1, 1]."""
    centered_x = x - means
    inv_stdv = np.exp(-log_scales)
    cdf_plus = approx_standard_normal_cdf(inv_stdv * (centered_x + 1. / 255.))
    cdf_min = approx_standard_normal_cdf(inv_stdv * (centered_x - 1. / 255.))
    log_cdf_plus = np.log(np.maximum(cdf_plus, 1e-12))
    log_one_minus_cdf_min = np.log(np.maximum(1. - cdf_min, 1e-12))
    cdf_delta = cdf_plus - cdf_min
    return np.where(x < -0.999, log_cdf_plus,
                    np.where(x > 0.999, log_one_minus_cdf_min, np.log(np.maximum(cdf_delta, 1e-12))))


def meanflat(x):
    return x.reshape(x.shape[0], -1).mean(axis=1)


class GaussianDiffusion2:
    """The parts of the authors' GaussianDiffusion2 the bound needs, in float64. model_mean_type is 'eps',
    'xstart' or 'v' (the last an extension); model_var_type 'fixedsmall' or 'fixedlarge'."""

    def __init__(self, *, betas, model_mean_type, model_var_type):
        self.model_mean_type = model_mean_type
        self.model_var_type = model_var_type
        self.betas = betas = betas.astype(np.float64)
        assert (betas > 0).all() and (betas <= 1).all()
        self.num_timesteps = int(betas.shape[0])
        alphas = 1. - betas
        self.alphas_cumprod = np.cumprod(alphas, axis=0)
        self.alphas_cumprod_prev = np.append(1., self.alphas_cumprod[:-1])
        self.sqrt_alphas_cumprod = np.sqrt(self.alphas_cumprod)
        self.sqrt_one_minus_alphas_cumprod = np.sqrt(1. - self.alphas_cumprod)
        self.log_one_minus_alphas_cumprod = np.log(1. - self.alphas_cumprod)
        self.sqrt_recip_alphas_cumprod = np.sqrt(1. / self.alphas_cumprod)
        self.sqrt_recipm1_alphas_cumprod = np.sqrt(1. / self.alphas_cumprod - 1)
        self.posterior_variance = betas * (1. - self.alphas_cumprod_prev) / (1. - self.alphas_cumprod)
        self.posterior_log_variance_clipped = np.log(np.append(self.posterior_variance[1], self.posterior_variance[1:]))
        self.posterior_mean_coef1 = betas * np.sqrt(self.alphas_cumprod_prev) / (1. - self.alphas_cumprod)
        self.posterior_mean_coef2 = (1. - self.alphas_cumprod_prev) * np.sqrt(alphas) / (1. - self.alphas_cumprod)

    @staticmethod
    def _extract(a, t, x_shape):
        return np.asarray(a)[t].reshape([t.shape[0]] + [1] * (len(x_shape) - 1))

    def q_mean_variance(self, x_start, t):
        mean = self._extract(self.sqrt_alphas_cumprod, t, x_start.shape) * x_start
        log_variance = self._extract(self.log_one_minus_alphas_cumprod, t, x_start.shape)
        return mean, log_variance

    def q_sample(self, x_start, t, noise):
        """x_t, rounded to float32 (what the model sees; diffusion4j uses that value throughout)."""
        x = (self._extract(self.sqrt_alphas_cumprod, t, x_start.shape) * x_start
             + self._extract(self.sqrt_one_minus_alphas_cumprod, t, x_start.shape) * noise)
        return x.astype(np.float32).astype(np.float64)

    def q_posterior_mean_variance(self, x_start, x_t, t):
        mean = (self._extract(self.posterior_mean_coef1, t, x_t.shape) * x_start
                + self._extract(self.posterior_mean_coef2, t, x_t.shape) * x_t)
        return mean, self._extract(self.posterior_log_variance_clipped, t, x_t.shape)

    def p_mean_variance(self, denoise_fn, *, x, t, clip_denoised):
        model_output = denoise_fn(x, t)
        log_variance = {
            # for fixedlarge, the initial (log-)variance is set like so to get a better decoder log likelihood
            'fixedlarge': np.log(np.append(self.posterior_variance[1], self.betas[1:])),
            'fixedsmall': self.posterior_log_variance_clipped,
        }[self.model_var_type]
        model_log_variance = self._extract(log_variance, t, x.shape) * np.ones(x.shape)

        def maybe_clip(x_):
            return np.clip(x_, -1., 1.) if clip_denoised else x_

        if self.model_mean_type == 'xstart':
            pred_xstart = maybe_clip(model_output)
        elif self.model_mean_type == 'eps':
            pred_xstart = maybe_clip(self._extract(self.sqrt_recip_alphas_cumprod, t, x.shape) * x
                                     - self._extract(self.sqrt_recipm1_alphas_cumprod, t, x.shape) * model_output)
        elif self.model_mean_type == 'v':  # extension: x0 = sqrt(abar) x_t - sqrt(1 - abar) v
            pred_xstart = maybe_clip(self._extract(self.sqrt_alphas_cumprod, t, x.shape) * x
                                     - self._extract(self.sqrt_one_minus_alphas_cumprod, t, x.shape) * model_output)
        else:
            raise NotImplementedError(self.model_mean_type)
        model_mean, _ = self.q_posterior_mean_variance(x_start=pred_xstart, x_t=x, t=t)
        return model_mean, model_log_variance, pred_xstart

    def vb_terms_bpd(self, denoise_fn, x_start, x_t, t, *, clip_denoised):
        """_vb_terms_bpd: the decoder NLL where t == 0, the KL elsewhere, per item; and the predicted x0."""
        true_mean, true_log_variance_clipped = self.q_posterior_mean_variance(x_start=x_start, x_t=x_t, t=t)
        model_mean, model_log_variance, pred_xstart = self.p_mean_variance(
            denoise_fn, x=x_t, t=t, clip_denoised=clip_denoised)
        kl = meanflat(normal_kl(true_mean, true_log_variance_clipped, model_mean, model_log_variance)) / np.log(2.)
        decoder_nll = meanflat(-discretized_gaussian_log_likelihood(
            x_start, means=model_mean, log_scales=0.5 * model_log_variance)) / np.log(2.)
        return np.where(t == 0, decoder_nll, kl), pred_xstart

    def prior_bpd(self, x_start):
        """_prior_bpd."""
        t = np.full([x_start.shape[0]], self.num_timesteps - 1)
        qt_mean, qt_log_variance = self.q_mean_variance(x_start, t)
        return meanflat(normal_kl(qt_mean, qt_log_variance, 0., 0.)) / np.log(2.)


# ----------------------------------------------------------------------------- diffusion4j's loop

def strata_bounds(T, K):
    """TimestepStrata.of(T, K): {0}, then K - 1 geometrically growing strata over [1, T)."""
    m = K - 1
    b = [0, 1] + [0] * (K - 1)
    for j in range(1, m):
        g = math.floor(T ** (j / m) + 0.5)  # Java's Math.round
        b[j + 1] = min(max(g, b[j] + 1), T - (m - j))
    b[K] = T
    return b


def calc_bpd(diffusion, denoise_fn, levels, *, seed, clip_denoised, K=0, batch=4):
    """calc_bpd_loop over all images with diffusion4j's noise and (K > 0) its stratified estimate."""
    T = diffusion.num_timesteps
    K = K or T
    b = strata_bounds(T, K)
    n = levels.shape[0]
    x_start = levels.astype(np.float64) / 127.5 - 1.0
    noise_root = Noise.seeded(seed).split(NOISE_STREAM)
    time_root = Noise.seeded(seed).split(TIMESTEP_STREAM)
    d = int(np.prod(levels.shape[1:]))
    term_sum = np.zeros(T)
    mse_sum = np.zeros(T)
    count = np.zeros(T, dtype=np.int64)
    totals = diffusion.prior_bpd(x_start)
    prior = totals.copy()
    decoder = np.zeros(n)
    drawn = np.zeros((n, K), dtype=np.int64)
    for i in range(n):
        g = Generator(time_root.split(i).key)
        drawn[i] = [b[j] + g.next_int(b[j + 1] - b[j]) for j in range(K)]
    for j in reversed(range(K)):
        t = drawn[:, j]
        eps = np.stack([normals(noise_root.split(int(t[i])).split(i), d) for i in range(n)])
        eps = eps.astype(np.float64).reshape(x_start.shape)
        x_t = diffusion.q_sample(x_start, t, eps)
        terms, pred_xstart = diffusion.vb_terms_bpd(denoise_fn, x_start, x_t, t, clip_denoised=clip_denoised)
        mse = meanflat((pred_xstart - x_start) ** 2)
        totals = totals + (b[j + 1] - b[j]) * terms
        if j == 0:
            decoder = terms
        np.add.at(term_sum, t, terms)
        np.add.at(mse_sum, t, mse)
        np.add.at(count, t, 1)
    with np.errstate(invalid="ignore"):
        return {"terms": term_sum / count, "x0_mse": mse_sum / count, "counts": count, "prior": prior,
                "decoder": decoder, "totals": totals}


# ----------------------------------------------------------------------------- the tutorial's MLP

class Mlp(torch.nn.Module):
    """The tutorial's noise predictor (MlpSpec): input [t / T, flatten(x_t)], Linear, ReLU, Linear."""

    def __init__(self, k, hidden, T):
        super().__init__()
        self.T = T
        self.model = torch.nn.Sequential(torch.nn.Linear(k + 1, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, k))

    def forward(self, x, t):
        tt = torch.tensor(np.asarray([np.float32(int(v) / self.T) for v in t]), dtype=torch.float32)[:, None]
        return self.model(torch.cat([tt, x.reshape(x.shape[0], -1)], dim=1)).reshape(x.shape)


def denoiser(model):
    def fn(x, t):
        with torch.no_grad():
            out = model(torch.from_numpy(x.astype(np.float32)), t)
        return out.numpy().astype(np.float64)
    return fn


def gradient_images(n, shape, gen):
    """The tutorial's gradient_images (corners 0..254, the ramp x + y normalised), in [0, 1]."""
    c, h, w = shape
    corners = torch.randint(0, 255, (2, n, c), generator=gen, dtype=torch.float32)
    x, y = torch.meshgrid(torch.linspace(0, w / (w + h), w), torch.linspace(0, h / (w + h), h), indexing="xy")
    grid = (x + y) / (x + y)[-1, -1]
    return (corners[0][:, :, None, None] + grid[None, None] * (corners[1] - corners[0])[:, :, None, None]) / 255


def train(prediction, schedule, shape, hidden, T, steps, seed):
    """A briefly trained MLP (so the terms have realistic sizes): Adam on the tutorial's gradients."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = Mlp(int(np.prod(shape)), hidden, T)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    abar = torch.tensor(np.cumprod(1.0 - betas_for(schedule, T)), dtype=torch.float32)
    for _ in range(steps):
        x0 = gradient_images(128, shape, gen) * 2 - 1
        t = torch.randint(0, T, (128,), generator=gen)
        eps = torch.randn(x0.shape, generator=gen)
        a = abar[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
        target = {"epsilon": eps, "sample": x0, "v_prediction": a.sqrt() * eps - (1 - a).sqrt() * x0}[prediction]
        loss = ((model(xt, t.numpy()) - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def write_safetensors(path, state_dict):
    """A safetensors file of F32 tensors in state-dict order (the safetensors package is not needed)."""
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for name, v in state_dict.items():
        b = v.detach().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ----------------------------------------------------------------------------- the golden file

SHAPE = (3, 5, 5)
HIDDEN = 16
T_GOLDEN = 100
MODELS = {  # weights file: (prediction type, training schedule, torch seed)
    "mlp-epsilon.safetensors": ("epsilon", "linear", 11),
    "mlp-sample.safetensors": ("sample", "squaredcos_cap_v2", 12),
    "mlp-v.safetensors": ("v_prediction", "squaredcos_cap_v2", 13),
}
CASES = [  # name, weights, schedule, variance, clip, K (0 = all T), seed
    ("epsilon-linear-fixed_large-clip", "mlp-epsilon.safetensors", "linear", "fixed_large", True, 0, 7),
    ("epsilon-linear-fixed_small-noclip-k8", "mlp-epsilon.safetensors", "linear", "fixed_small", False, 8, 8),
    ("sample-cosine-fixed_small-clip", "mlp-sample.safetensors", "squaredcos_cap_v2", "fixed_small", True, 0, 9),
    ("sample-cosine-fixed_large-noclip", "mlp-sample.safetensors", "squaredcos_cap_v2", "fixed_large", False, 0, 10),
    ("v-cosine-fixed_small-clip", "mlp-v.safetensors", "squaredcos_cap_v2", "fixed_small", True, 0, 11),
    ("v-linear-fixed_large-noclip-k12", "mlp-v.safetensors", "linear", "fixed_large", False, 12, 12),
]
MEAN_TYPES = {"epsilon": "eps", "sample": "xstart", "v_prediction": "v"}


def golden_images():
    """Six tutorial gradients rounded to 8 bits, and one image of only the extreme levels 0 and 255 (the
    decoder's edge bins)."""
    gen = torch.Generator().manual_seed(5)
    g = np.rint(gradient_images(6, SHAPE, gen).numpy().astype(np.float64) * 255).astype(np.int64)
    j = np.arange(int(np.prod(SHAPE)))
    extreme = np.where((j * 7) % 3 == 0, 0, 255).reshape(SHAPE)
    return np.concatenate([g, extreme[None]], axis=0)


def golden(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    models = {}
    for file, (prediction, schedule, seed) in MODELS.items():
        m = train(prediction, schedule, SHAPE, HIDDEN, T_GOLDEN, 400, seed)
        m.eval()
        write_safetensors(os.path.join(out_dir, file), m.state_dict())
        models[file] = (prediction, m)
    levels = golden_images()
    cases = []
    for name, file, schedule, variance, clip, K, seed in CASES:
        prediction, model = models[file]
        diffusion = GaussianDiffusion2(betas=betas_for(schedule, T_GOLDEN), model_mean_type=MEAN_TYPES[prediction],
                                       model_var_type=variance.replace("_", ""))
        r = calc_bpd(diffusion, denoiser(model), levels, seed=seed, clip_denoised=clip, K=K)

        def floats(a):
            return [None if not np.isfinite(v) else float(v) for v in a]
        cases.append({"name": name, "weights": file, "prediction_type": prediction, "beta_schedule": schedule,
                      "beta_start": 1e-4, "beta_end": 0.02, "num_train_timesteps": T_GOLDEN,
                      "variance_type": variance, "clip_denoised": clip, "timesteps": K, "seed": seed,
                      "terms": floats(r["terms"]), "counts": [int(c) for c in r["counts"]],
                      "x0_mse": floats(r["x0_mse"]), "prior_bpd": floats(r["prior"]),
                      "decoder_bpd": floats(r["decoder"]), "total_bpd": floats(r["totals"])})
    check = Noise.seeded(7).split(NOISE_STREAM).split(99).split(6)
    doc = {"generator": "docs/bpd_reference.py golden (torch " + torch.__version__ + ", numpy " + np.__version__ + ")",
           "image_shape": list(SHAPE), "hidden": HIDDEN,
           "levels": [[int(v) for v in img.reshape(-1)] for img in levels],
           "noise_check": {"stream": "Noise.seeded(7).split(NOISE_STREAM).split(99).split(6)",
                           "first": [float(v) for v in normals(check, 8)]},
           "cases": cases}
    with open(os.path.join(out_dir, "bpd_golden.json"), "w") as f:  # one line per list-valued entry
        f.write("{\n")
        for k in [k for k in doc if k != "cases"]:
            f.write(f" {json.dumps(k)}: {json.dumps(doc[k])},\n")
        f.write(' "cases": [\n')
        for ci, case in enumerate(cases):
            f.write("  {\n" + ",\n".join(f"   {json.dumps(k)}: {json.dumps(v)}" for k, v in case.items()))
            f.write("\n  }" + ("," if ci + 1 < len(cases) else "") + "\n")
        f.write(" ]\n}\n")
    for c in cases:
        print(f"{c['name']:40s} total {np.mean(c['total_bpd']):.5f} bits/dim  prior {np.mean(c['prior_bpd']):.6f}"
              f"  decoder {np.mean(c['decoder_bpd']):.5f}")


# ----------------------------------------------------------------------------- the authors' code itself

class _Shape(tuple):
    """A TensorFlow 1 static shape: compares equal to a list of the same numbers, has as_list()."""

    def __eq__(self, other):
        return tuple(self) == tuple(other)

    def __ne__(self, other):
        return not self == other

    __hash__ = tuple.__hash__

    def as_list(self):
        return list(self)


class _Tensor(np.ndarray):
    """A float64 NumPy array that looks enough like a TensorFlow 1 tensor for the authors' functions."""

    @property
    def shape(self):
        return _Shape(np.ndarray.shape.__get__(self))


def _t(x):
    return np.asarray(x).view(_Tensor)


def _tf_shim():
    """The part of tensorflow.compat.v1 that normal_kl, GaussianDiffusion2 (its bound), approx_standard_normal_cdf,
    discretized_gaussian_log_likelihood and meanflat use, in NumPy; float32 is mapped to float64, so the
    comparison with the float64 re-expression above is exact up to rounding."""
    import types
    tf = types.SimpleNamespace()
    tf.float32 = np.float64
    tf.int32 = np.int64
    tf.exp = lambda x: _t(np.exp(x))
    tf.log = lambda x: _t(np.log(x))
    tf.tanh = lambda x: _t(np.tanh(x))
    tf.pow = lambda x, y: _t(np.power(x, y))
    tf.maximum = lambda x, y: _t(np.maximum(x, y))
    tf.squared_difference = lambda x, y: _t((np.asarray(x) - np.asarray(y)) ** 2)
    tf.where = lambda c, x, y: _t(np.where(c, x, y))
    tf.equal = lambda x, y: np.equal(x, y)
    tf.gather = lambda a, i: _t(np.asarray(a)[np.asarray(i)])
    tf.convert_to_tensor = lambda a, dtype=None: _t(np.asarray(a, dtype=np.float64))
    tf.reshape = lambda x, s: _t(np.reshape(x, s))
    tf.ones = lambda s: _t(np.ones(s))
    tf.fill = lambda s, v: _t(np.full(s, v))
    tf.constant = lambda v, dtype=None: v
    tf.clip_by_value = lambda x, lo, hi: _t(np.clip(x, lo, hi))
    tf.reduce_mean = lambda x, axis=None: _t(np.mean(x, axis=tuple(axis) if axis is not None else None))

    def random_normal(*args, **kwargs):  # a default argument of the sampling loops; the bound passes its noise
        raise AssertionError("the cross-check gives the authors' functions their noise")
    tf.random_normal = random_normal
    return tf


def authors_functions(repo):
    """normal_kl, GaussianDiffusion2, approx_standard_normal_cdf, discretized_gaussian_log_likelihood and
    meanflat, their source taken from a checkout of hojonathanho/diffusion and run on the NumPy stand-in."""
    import ast
    import types

    def defs(path, names):
        with open(os.path.join(repo, "diffusion_tf", path)) as f:
            tree = ast.parse(f.read())
        body = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name in names]
        missing = set(names) - {n.name for n in body}
        if missing:
            raise ValueError(f"{path}: no {sorted(missing)}")
        return ast.Module(body=body, type_ignores=[])

    tf = _tf_shim()
    ns_nn = {"tf": tf, "np": np}
    exec(compile(defs("nn.py", ["meanflat"]), "nn.py", "exec"), ns_nn)
    ns_utils = {"tf": tf, "np": np}
    exec(compile(defs("utils.py", ["approx_standard_normal_cdf", "discretized_gaussian_log_likelihood"]),
                 "utils.py", "exec"), ns_utils)
    ns = {"tf": tf, "np": np, "nn": types.SimpleNamespace(**ns_nn), "utils": types.SimpleNamespace(**ns_utils)}
    exec(compile(defs("diffusion_utils_2.py", ["normal_kl", "GaussianDiffusion2"]), "diffusion_utils_2.py", "exec"), ns)
    return ns["GaussianDiffusion2"], ns_utils["discretized_gaussian_log_likelihood"]


def crosscheck(repo):
    """This file's re-expression against the authors' own functions (through the NumPy stand-in for
    TensorFlow), term by term, on the golden cases' models, images and noise: the largest difference."""
    authors_diffusion, authors_dgll = authors_functions(repo)
    models = {file: (prediction, train(prediction, schedule, SHAPE, HIDDEN, T_GOLDEN, 400, seed))
              for file, (prediction, schedule, seed) in MODELS.items()}
    x_start = golden_images().astype(np.float64) / 127.5 - 1.0
    worst = 0.0
    for name, file, schedule, variance, clip, _, seed in CASES:
        prediction, model = models[file]
        betas = betas_for(schedule, T_GOLDEN)
        mine = GaussianDiffusion2(betas=betas, model_mean_type=MEAN_TYPES[prediction],
                                  model_var_type=variance.replace("_", ""))
        # the authors have no v-prediction: feed them the equivalent epsilon, eps = sqrt(abar) v + sqrt(1 - abar) x_t
        theirs = authors_diffusion(betas=betas, model_mean_type="eps" if prediction == "v_prediction"
                                   else MEAN_TYPES[prediction], model_var_type=variance.replace("_", ""), loss_type="kl")
        fn = denoiser(model)

        def their_fn(x, t):
            out = fn(np.asarray(x), np.asarray(t))
            if prediction == "v_prediction":
                a = mine.alphas_cumprod[np.asarray(t)][:, None, None, None]
                out = np.sqrt(a) * out + np.sqrt(1 - a) * np.asarray(x)
            return _t(out)

        root = Noise.seeded(seed).split(NOISE_STREAM)
        d = int(np.prod(SHAPE))
        case_worst = abs(mine.prior_bpd(x_start) - np.asarray(theirs._prior_bpd(_t(x_start)))).max()
        for step in range(T_GOLDEN):
            t = np.full(x_start.shape[0], step)
            eps = np.stack([normals(root.split(step).split(i), d) for i in range(x_start.shape[0])])
            x_t = mine.q_sample(x_start, t, eps.astype(np.float64).reshape(x_start.shape))
            a, _ = mine.vb_terms_bpd(fn, x_start, x_t, t, clip_denoised=clip)
            b = theirs._vb_terms_bpd(their_fn, _t(x_start), _t(x_t), _t(t), clip_denoised=clip, return_pred_xstart=False)
            case_worst = max(case_worst, (np.abs(a - np.asarray(b)) / np.maximum(1.0, np.abs(a))).max())
        print(f"{name:40s} max |reference - authors| / max(1, |term|) = {case_worst:.3g}")
        worst = max(worst, case_worst)
    # the decoder's masses over the 256 levels sum to 1 in the authors' function too
    levels = _t(np.arange(256, dtype=np.float64) / 127.5 - 1.0)
    for mean, log_scale in [(0.0, -3.0), (0.7, -5.0), (-1.0, -1.0)]:
        p = np.exp(np.asarray(authors_dgll(levels, means=_t(np.full(256, mean)), log_scales=_t(np.full(256, log_scale)))))
        print(f"authors' decoder, mean {mean}, log scale {log_scale}: sum of the 256 masses - 1 = {p.sum() - 1:.3g}")
    return worst


def main(argv):
    if len(argv) == 2 and argv[0] == "golden":
        golden(argv[1])
    elif len(argv) == 2 and argv[0] == "crosscheck":
        return 0 if crosscheck(argv[1]) < 1e-9 else 1
    elif len(argv) == 3 and argv[0] == "normals":
        print(" ".join(repr(float(v)) for v in normals(Noise.seeded(int(argv[1])), int(argv[2]))))
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
