"""Regenerate the example images in docs/images/ used by the plotting docs.

Run from the repository root:  PYTHONPATH=src python docs/make_plot_images.py
The data are synthetic (four Gaussian blobs of different sizes and spreads), so
the script needs nothing but densumap's own dependencies.
"""
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")

from densumap import plot  # noqa: E402

OUT = Path(__file__).resolve().parent / "images"


def blobs(n, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0], [6.0, 1.0], [2.0, 7.0], [9.0, 8.0]])
    scales = np.array([1.0, 0.4, 1.6, 0.7])
    y = rng.choice(4, size=n, p=[0.4, 0.3, 0.2, 0.1])
    X = centers[y] + rng.normal(size=(n, 2)) * scales[y, None]
    return X.astype(np.float32), np.array(["a", "b", "c", "d"])[y]


def main():
    OUT.mkdir(exist_ok=True)
    # 50,000 points in 500 x 500 pixels: more than width * height / 10, so drawn
    # by density aggregation.
    X, y = blobs(50_000)
    ax = plot.points(X, labels=y, width=500, height=500)
    ax.figure.savefig(OUT / "points_labels_50k.png")
    # A small set is drawn as a scatter plot.
    X, y = blobs(500, seed=1)
    ax = plot.points(X, values=X[:, 0] + X[:, 1], theme="viridis", width=400, height=400)
    ax.figure.savefig(OUT / "points_values_500.png")


if __name__ == "__main__":
    main()
