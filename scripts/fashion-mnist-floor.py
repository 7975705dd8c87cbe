#!/usr/bin/env python3
"""The real-vs-real floor of the pixel-space Frechet distance on Fashion-MNIST (docs/fashion-mnist.md,
docs/data.md): three disjoint slices of 1,000 training images against (a) the first 1,000 test images, the
evaluation set of configs/fashion-mnist.yaml (idx), and (b) the 1,000 test images configs/fashion-mnist-folder.yaml
evaluates on (the class folders' sorted files, every 10th: `ByteImages.spread`). Values in [0, 1], unbiased
covariances, as `eval.FrechetDistance`. Needs numpy and scipy; reads data/fashion-mnist/*.gz.

    python3 scripts/fashion-mnist-floor.py [IDX_DIR]
"""
import gzip
import sys

import numpy as np
from scipy import linalg


def idx(f, off):
    return np.frombuffer(gzip.open(f).read(), np.uint8, offset=off)


d = (sys.argv[1] if len(sys.argv) > 1 else 'data/fashion-mnist').rstrip('/') + '/'
tr=idx(d+'train-images-idx3-ubyte.gz',16).reshape(-1,784)/255.0
te=idx(d+'t10k-images-idx3-ubyte.gz',16).reshape(-1,784)/255.0
tl=idx(d+'t10k-labels-idx1-ubyte.gz',8)
order=sorted(range(10000), key=lambda i:(tl[i], i))
ev=te[[order[(i*10000)//1000] for i in range(1000)]]
first=te[:1000]


def fd(a, b):
    m1,m2=a.mean(0),b.mean(0); s1=np.cov(a,rowvar=False); s2=np.cov(b,rowvar=False)
    c=linalg.sqrtm(s1@s2).real
    return ((m1-m2)**2).sum()+np.trace(s1)+np.trace(s2)-2*np.trace(c)


for k in range(3):
    t=tr[k*1000:(k+1)*1000]
    print(k, 'folder eval set %.2f'%fd(t,ev), 'first 1000 test %.2f'%fd(t,first))
