#!/usr/bin/python3
"""Noise version 2 (BoxMuller.java, docs/noise.md) written independently with NumPy, for a golden file.

Every step is float32 arithmetic in the specified order (NumPy's float32 operations are IEEE 754 single
precision, rounded to nearest, without fused multiply-adds), so the values must equal diffusion4j's bit for
bit, on the scalar path and on the Vector API path.

    /usr/bin/python3 docs/noise_reference.py > diffusion-api/src/test/resources/noise/box_muller_v2.txt

Output: one line per stream, "key n v_0 ... v_{n-1}", the key as 16 hex digits and each value as the
8 hex digits of its float32 bits.
"""
import numpy as np

M64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
f32 = np.float32


def mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


L3, L5, L7, L9 = f32(1 / 3), f32(1 / 5), f32(1 / 7), f32(1 / 9)
LN2_HI, LN2_LO = f32(0.693145751953125), f32(1.42860677e-06)
PI4 = f32(np.pi / 2**23)
S3, S5, S7, S9 = f32(-1 / 6), f32(1 / 120), f32(-1 / 5040), f32(1 / 362880)
C2, C4, C6, C8, C10 = f32(-1 / 2), f32(1 / 24), f32(-1 / 720), f32(1 / 40320), f32(-1 / 3628800)
ONE, TWO, MINUS_TWO = f32(1), f32(2), f32(-2)


def bits_to_float(b):
    return np.array([b], dtype=np.uint32).view(np.float32)[0]


def float_to_bits(x):
    return int(np.array([x], dtype=np.float32).view(np.uint32)[0])


def pair(w):
    """The two normals (r cos theta, r sin theta) of one 64-bit word."""
    v = (w >> 40) + 1                       # [1, 2^24]
    e = v.bit_length() - 1                  # v = m 2^e, m in [1, 2)
    m = f32(v) / f32(2.0**e)                # exact: a power-of-two scaling
    if float_to_bits(m) > 0x3FB504F3:       # m > sqrt(2): halve it
        m = m / TWO
        e += 1
    s = (m - ONE) / (m + ONE)
    z = s * s
    p = (((L9 * z + L7) * z + L5) * z + L3) * z + ONE
    ef = f32(e - 24)
    ln = ef * LN2_HI + (ef * LN2_LO + s * TWO * p)
    r = np.sqrt(ln * MINUS_TWO)

    c = (w >> 16) & 0xFFFFFF
    q = c >> 22
    h = (c >> 21) & 1
    f = c & 0x1FFFFF
    g = (1 << 21) - f if h else f
    phi = f32(g) * PI4
    y = phi * phi
    sn = phi * ((((S9 * y + S7) * y + S5) * y + S3) * y + ONE)
    cs = ((((C10 * y + C8) * y + C6) * y + C4) * y + C2) * y + ONE
    c0, s0 = (sn, cs) if h else (cs, sn)
    C, S = [(c0, s0), (-s0, c0), (-c0, -s0), (s0, -c0)][q]
    return r * C, r * S


def normals(key, n):
    """The first n normals of the stream with this key: blocks of 8 words, 8 cosines then 8 sines."""
    out = []
    k = 0
    while len(out) < n:
        block = [pair(mix64((key + (k + l + 1) * GAMMA) & M64)) for l in range(8)]
        out += [b[0] for b in block] + [b[1] for b in block]
        k += 8
    return out[:n]


if __name__ == "__main__":
    with np.errstate(all="raise"):
        keys = [0, 1, 0x0123456789ABCDEF, 0xFFFFFFFFFFFFFFFF, 0x9E3779B97F4A7C15, 0x8000000000000000]
        keys += [mix64(i) for i in range(1, 11)]
        for i, key in enumerate(keys):
            n = [1, 2, 15, 16, 17, 75, 100, 333][i % 8]
            vals = normals(key, n)
            print(f"{key:016x} {n} " + " ".join(f"{float_to_bits(x):08x}" for x in vals))
