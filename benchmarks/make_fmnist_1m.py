"""A real-data million-point set: Fashion-MNIST augmented to 1,000,000 images, in 50 PCA dimensions.

Usage::

    python benchmarks/make_fmnist_1m.py [--data ../shared/data/fashion-mnist] [--out /tmp/fmnist_aug_1m.npz]

Recipe (deterministic; the same file on every machine):

1. The 70,000 Fashion-MNIST images (train + test), pixels scaled to [0, 1].
2. 15 copies of each image: copy 0 is the image itself; copy ``c`` (1-14) shifts every
   image by ``(dx, dy)``, each drawn uniformly from -2..2 pixels (zero fill at the
   border), then adds Gaussian pixel noise of standard deviation 0.05 and clips to
   [0, 1]; copy ``c`` draws from ``numpy.random.default_rng(c)``.
3. Projection on the top 50 principal axes of the 70,000 original images (eigenvectors
   of their float64 covariance: no randomness), after centring on their mean.
4. The 1,050,000 rows in the order of ``default_rng(0).permutation``, the first
   1,000,000 kept, so that any prefix (the first 200,000 rows, say) is a random sample
   of the same family. Labels follow the rows.

Writes ``X`` (float32, 1,000,000 x 50) and ``y`` (uint8) to a ``.npz`` (about 200 MB),
read by ``benchmarks/_worker.py --npz``. Takes about a minute.
"""
import argparse
import time

import numpy as np

from _common import DEFAULT_DATA
from densumap.datasets import load_fashion_mnist

N_COPIES = 15
N_KEEP = 1_000_000
N_DIM = 50
MAX_SHIFT = 2
NOISE = 0.05


def shifted(images, dx, dy):
    """Each image (n, 28, 28) moved by its own (dx, dy) pixels, zero fill."""
    out = np.zeros_like(images)
    for sx in range(-MAX_SHIFT, MAX_SHIFT + 1):
        for sy in range(-MAX_SHIFT, MAX_SHIFT + 1):
            sel = np.flatnonzero((dx == sx) & (dy == sy))
            if sel.size == 0:
                continue
            src = images[sel]
            dst = np.zeros_like(src)
            r0, r1 = max(sy, 0), 28 + min(sy, 0)
            c0, c1 = max(sx, 0), 28 + min(sx, 0)
            dst[:, r0:r1, c0:c1] = src[:, r0 - sy:r1 - sy, c0 - sx:c1 - sx]
            out[sel] = dst
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(DEFAULT_DATA), help="Fashion-MNIST directory")
    p.add_argument("--out", default="/tmp/fmnist_aug_1m.npz")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    X, y = load_fashion_mnist(args.data)
    images = (np.asarray(X, dtype=np.float32) / np.float32(255.0)).reshape(-1, 28, 28)
    flat = images.reshape(len(images), -1).astype(np.float64)
    mean = flat.mean(axis=0)
    cov = np.cov(flat, rowvar=False)
    vals, vecs = np.linalg.eigh(cov)
    axes = vecs[:, ::-1][:, :N_DIM]
    # Fix each axis' sign (eigh may return either): largest |loading| positive.
    axes *= np.sign(axes[np.abs(axes).argmax(axis=0), np.arange(N_DIM)])
    axes32, mean32 = axes.astype(np.float32), mean.astype(np.float32)
    del flat, cov
    n = len(images)
    proj = np.empty((N_COPIES * n, N_DIM), dtype=np.float32)
    for c in range(N_COPIES):
        if c == 0:
            batch = images
        else:
            rng = np.random.default_rng(c)
            dx = rng.integers(-MAX_SHIFT, MAX_SHIFT + 1, size=n)
            dy = rng.integers(-MAX_SHIFT, MAX_SHIFT + 1, size=n)
            batch = shifted(images, dx, dy)
            batch += rng.normal(0.0, NOISE, size=batch.shape).astype(np.float32)
            np.clip(batch, 0.0, 1.0, out=batch)
        proj[c * n:(c + 1) * n] = (batch.reshape(n, -1) - mean32) @ axes32
    order = np.random.default_rng(0).permutation(N_COPIES * n)[:N_KEEP]
    labels = np.tile(np.asarray(y, dtype=np.uint8), N_COPIES)
    np.savez(args.out, X=np.ascontiguousarray(proj[order]), y=labels[order])
    print(f"wrote {args.out}: {N_KEEP} x {N_DIM} in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
