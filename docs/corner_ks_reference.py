"""The corner KS statistics of docs/quality.md, in PyTorch: the reference for io.github.diffusion4j.eval.CornerUniformity.

In the tutorial's colour gradients the top-left and bottom-right pixel of each channel are the two random corner
colours, uniform on [0, 1] (k / 255 for k in 0..254). Two Kolmogorov-Smirnov statistics against Uniform(0, 1) score
how uniform a model's corners are:

  corner_ks_mean    the mean of one test per corner and channel (six tests of N values for RGB): the reference
                    definition, what a per-corner comparison with PyTorch reports;
  corner_ks_pooled  one test over all 2 N C corner values pooled.

They differ: the mean has the higher floor (each test sees N values, not 2 N C), and the pooled test cannot see
corners that are each far from uniform but together spread out. Run:

    /usr/bin/python3 docs/corner_ks_reference.py            # the hand example of CornerUniformityTest, and floors
"""
import torch as t


def ks_uniform(x: t.Tensor) -> float:
    """One-sample KS statistic D = max_i max(i/n - x_(i), x_(i) - (i-1)/n) against Uniform(0, 1), x clamped."""
    x, _ = t.sort(x.double().nan_to_num(1.0).clamp(0, 1).flatten())
    n = x.numel()
    i = t.arange(1, n + 1, dtype=t.float64)
    return float(t.maximum(i / n - x, x - (i - 1) / n).max())


def corners(images: t.Tensor) -> t.Tensor:
    """[N, C, H, W] -> [2, N, C]: the top-left and bottom-right pixel of every image and channel."""
    return t.stack([images[:, :, 0, 0], images[:, :, -1, -1]])


def corner_ks_mean(images: t.Tensor) -> float:
    c = corners(images)
    return sum(ks_uniform(c[s, :, k]) for s in range(2) for k in range(c.shape[2])) / (2 * c.shape[2])


def corner_ks_pooled(images: t.Tensor) -> float:
    return ks_uniform(corners(images))


def gradient_images(n: int, shape, gen: t.Generator) -> t.Tensor:
    """The tutorial's gradient_images (corners 0..254, the ramp x + y normalised), in [0, 1]."""
    c, h, w = shape
    cs = t.randint(0, 255, (2, n, c), generator=gen, dtype=t.float32)
    x, y = t.meshgrid(t.linspace(0, w / (w + h), w), t.linspace(0, h / (w + h), h), indexing="xy")
    grid = (x + y) / (x + y)[-1, -1]
    return (cs[0][:, :, None, None] + grid[None, None] * (cs[1] - cs[0])[:, :, None, None]) / 255


if __name__ == "__main__":
    # CornerUniformityTest.theMeanOfPerCornerTestsDiffersFromThePooledTestByHand: 0.525 and 0.25
    hand = t.tensor([[[[0.1, 0.5], [0.5, 0.8]], [[0.25, 0.5], [0.5, 0.75]]],
                     [[[0.2, 0.5], [0.5, 0.9]], [[0.75, 0.5], [0.5, 0.25]]]])
    print(f"hand example: mean {corner_ks_mean(hand):.6f}  pooled {corner_ks_pooled(hand):.6f}")
    # the floors: real images against Uniform(0, 1), averaged over seeds
    for n in (1000, 2000):
        m, p = [], []
        for seed in range(20):
            x = gradient_images(n, (3, 5, 5), t.Generator().manual_seed(seed))
            m.append(corner_ks_mean(x))
            p.append(corner_ks_pooled(x))
        print(f"real images, N = {n}: corner_ks_mean {sum(m) / len(m):.4f}  corner_ks_pooled {sum(p) / len(p):.4f}"
              f"  (20 seeds)")
