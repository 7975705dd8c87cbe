#!/usr/bin/python3
# Copied into the repository from the team's shared reference folder (shared/reference/torch_timing.py,
# outside the clone) so that the benchmarks find it here: benchmarks/reference/torch_timing.py. One change
# (2026-12-05): --sampling-warmup SECONDS, sampling before each sampler is timed, as `diffusion bench` does on
# the Java side; its default 0 times the samplers as the shared script does.
"""Times the tutorial's workload in PyTorch, for side-by-side benchmarks.

Needs Debian's PyTorch:  apt-get install -y python3-torch   (then run with /usr/bin/python3)

Workload (the tutorial's config): images 3x5x5, MLP Linear(76,128)-ReLU-Linear(128,75) with the
step scaled to [0,1] concatenated first, Adam lr 1e-3, MSE on the noise, batch 128, T=100 linear
betas 1e-4..0.02. Prints one JSON object:
  train_steps_per_s   training steps per second (data already in memory, shuffled batches)
  ddpm_s              seconds to sample --n-samples images with all T steps (Algorithm 2)
  ddim_s              seconds to sample --n-samples images with --ddim-steps deterministic DDIM steps
Use --threads 1 (default) and compare against a run of the Java side with one thread too.
"""
import argparse, json, os, time

p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=1)
p.add_argument("--train-steps", type=int, default=4000)
p.add_argument("--n-samples", type=int, default=1000)
p.add_argument("--ddim-steps", type=int, default=20)
p.add_argument("--reps", type=int, default=3)
p.add_argument("--sampling-warmup", type=float, default=0.0)
a = p.parse_args()
os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))
import torch as t
import torch.nn.functional as F
from torch import nn

t.set_num_threads(a.threads)
t.manual_seed(0)
C, H, W, T, D, B = 3, 5, 5, 100, 128, 128
K = C * H * W


def gradients(n):
    corners = t.randint(0, 255, (2, n, C), dtype=t.float32)
    x, y = t.meshgrid(t.linspace(0, W / (W + H), W), t.linspace(0, H / (W + H), H), indexing="xy")
    grid = (x + y) / (x + y)[-1, -1]
    g = corners[0][:, :, None, None] + grid[None, None] * (corners[1] - corners[0])[:, :, None, None]
    return g / 255 * 2 - 1


betas = t.linspace(1e-4, 0.02, T)
alphas = 1 - betas
abar = t.cumprod(alphas, 0)
model = nn.Sequential(nn.Linear(K + 1, D), nn.ReLU(), nn.Linear(D, K))
opt = t.optim.Adam(model.parameters(), lr=1e-3)
data = gradients(50000)


def predict(x, steps):
    return model(t.cat((steps[:, None] / T, x.reshape(len(x), K)), -1)).reshape(x.shape)


def train(n):
    perm = t.randperm(len(data))
    for i in range(n):
        idx = perm[(i * B) % (len(data) - B):][:B]
        x0 = data[idx]
        steps = t.randint(0, T, (B,))
        noise = t.randn_like(x0)
        ab = abar[steps][:, None, None, None]
        loss = F.mse_loss(predict(ab.sqrt() * x0 + (1 - ab).sqrt() * noise, steps.float()), noise)
        opt.zero_grad()
        loss.backward()
        opt.step()


@t.inference_mode()
def ddpm(n):
    x = t.randn(n, C, H, W)
    for k in reversed(range(T)):
        eps = predict(x, t.full((n,), float(k)))
        x = (x - betas[k] / (1 - abar[k]).sqrt() * eps) / alphas[k].sqrt()
        if k > 0:
            x = x + betas[k].sqrt() * t.randn_like(x)
    return x


@t.inference_mode()
def ddim(n, s):
    ks = [round(T - i * T / s) - 1 for i in range(s)]
    x = t.randn(n, C, H, W)
    for j, k in enumerate(ks):
        eps = predict(x, t.full((n,), float(k)))
        x0 = (x - (1 - abar[k]).sqrt() * eps) / abar[k].sqrt()
        ap = abar[ks[j + 1]] if j + 1 < len(ks) else t.tensor(1.0)
        x = ap.sqrt() * x0 + (1 - ap).sqrt() * eps
    return x


def best(f, warmup=0.0):
    end = time.perf_counter() + warmup
    while time.perf_counter() < end:
        f()
    times = []
    for _ in range(a.reps):
        s = time.perf_counter(); f(); times.append(time.perf_counter() - s)
    return sorted(times)[len(times) // 2]


train(200)  # warm-up
tr = best(lambda: train(a.train_steps))
out = dict(torch=t.__version__, threads=a.threads,
           train_steps_per_s=a.train_steps / tr,
           ddpm_s=best(lambda: ddpm(a.n_samples), a.sampling_warmup),
           ddim_s=best(lambda: ddim(a.n_samples, a.ddim_steps), a.sampling_warmup),
           n_samples=a.n_samples, ddim_steps=a.ddim_steps)
print(json.dumps(out))
