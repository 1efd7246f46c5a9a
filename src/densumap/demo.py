"""The built-in demo behind ``densumap demo``: UMAP and DensMAP on scikit-learn's digits.

:func:`run_demo` fits both models on the 1,797 8x8 digit images that ship with
scikit-learn (nothing is downloaded), measures each embedding, draws them side by
side and returns the figures as a :class:`DemoResult`; :func:`format_report` turns
that into the text the command prints.
"""
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .persist import atomic_path

__all__ = ["DemoResult", "knn_accuracy", "density_correlation", "run_demo", "format_report"]

KNN_NEIGHBORS = 10
KNN_FOLDS = 5
TRUST_NEIGHBORS = 15


class DemoResult(NamedTuple):
    """What :func:`run_demo` measured; each dict maps "UMAP" / "DensMAP" to a value."""

    n_samples: int
    n_features: int
    seed: int
    fit_seconds: dict
    knn_accuracy: dict
    trustworthiness: dict
    density_correlation: dict
    path: object


def knn_accuracy(embedding, labels, n_neighbors=KNN_NEIGHBORS, folds=KNN_FOLDS):
    """Mean accuracy of a k-nearest-neighbour classifier on the embedding.

    Parameters
    ----------
    embedding : ndarray of shape (n_samples, n_components)
    labels : ndarray of shape (n_samples,)
    n_neighbors : int, default=10
    folds : int, default=5
        Stratified cross-validation folds.

    Returns
    -------
    accuracy : float in [0, 1]
    """
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    clf = KNeighborsClassifier(n_neighbors=n_neighbors)
    return float(np.mean(cross_val_score(clf, embedding, labels, cv=folds)))


def density_correlation(rad_orig, rad_emb):
    """Pearson correlation of the log local radii in input and embedding space.

    Parameters
    ----------
    rad_orig, rad_emb : ndarray of shape (n_samples,)
        ``rad_orig_`` and ``rad_emb_`` of a model fitted with ``output_dens=True``.

    Returns
    -------
    r : float
        NaN when fewer than 3 finite pairs remain or either side is constant.
    """
    a = np.asarray(rad_orig, dtype=np.float64)
    b = np.asarray(rad_emb, dtype=np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:
        return float("nan")
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def run_demo(path="densumap_demo.png", seed=42, n_epochs=None, verbose=False):
    """Fit UMAP and DensMAP on the digits, measure them and save a side-by-side PNG.

    Parameters
    ----------
    path : str or os.PathLike, default="densumap_demo.png"
        Where to write the figure.
    seed : int, default=42
        ``random_state`` of both fits.
    n_epochs : int, optional
        Passed to both models; None keeps their defaults (500 and 700 epochs).
    verbose : bool, default=False
        Passed to both models (stage log and progress bar on stderr).

    Returns
    -------
    DemoResult
    """
    from sklearn.datasets import load_digits
    from sklearn.manifold import trustworthiness

    from .estimator import UMAP

    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float32)
    models = {
        "UMAP": UMAP(random_state=seed, n_epochs=n_epochs, verbose=verbose, output_dens=True),
        "DensMAP": UMAP(
            densmap=True, random_state=seed, n_epochs=n_epochs, verbose=verbose,
            output_dens=True,
        ),
    }
    seconds, acc, trust, corr = {}, {}, {}, {}
    for name, model in models.items():
        start = time.perf_counter()
        model.fit(X)
        seconds[name] = time.perf_counter() - start
        emb = model.embedding_
        acc[name] = knn_accuracy(emb, y)
        trust[name] = float(trustworthiness(X, emb, n_neighbors=TRUST_NEIGHBORS))
        corr[name] = density_correlation(model.rad_orig_, model.rad_emb_)
    _save_side_by_side(path, models, y, acc, corr)
    return DemoResult(X.shape[0], X.shape[1], seed, seconds, acc, trust, corr, path)


def _save_side_by_side(path, models, labels, acc, corr):
    import matplotlib.pyplot as plt

    from . import plot

    fig = plt.figure(figsize=(13, 6.4), dpi=100, facecolor="white")
    axes = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.9, wspace=0.04)
    for i, (ax, (name, model)) in enumerate(zip(axes, models.items())):
        plot.points(model, labels=labels, ax=ax, width=640, height=600, point_size=4,
                    show_legend=i == 1)
        ax.set_title(
            f"{name}: kNN accuracy {acc[name]:.3f}, density correlation {corr[name]:.2f}"
        )
    fig.suptitle(f"scikit-learn digits ({len(labels)} images), coloured by digit")
    try:
        with atomic_path(path) as tmp:  # never a half-written figure
            fig.savefig(tmp, format=Path(path).suffix.lower().lstrip(".") or None)
    finally:
        plt.close(fig)


def format_report(result):
    """The text ``densumap demo`` prints for a :class:`DemoResult`."""
    names = ("UMAP", "DensMAP")
    rows = [
        ("fit time (s)", result.fit_seconds, "{:.1f}", "wall time of fit()"),
        (
            "kNN accuracy", result.knn_accuracy, "{:.3f}",
            f"{KNN_NEIGHBORS}-NN classifier on the embedding, {KNN_FOLDS}-fold CV",
        ),
        (
            "trustworthiness", result.trustworthiness, "{:.3f}",
            f"sklearn.manifold.trustworthiness, {TRUST_NEIGHBORS} neighbours",
        ),
        (
            "density corr.", result.density_correlation, "{:.3f}",
            "Pearson r of log local radii, input vs embedding",
        ),
    ]
    lines = [
        f"densumap demo: scikit-learn digits, {result.n_samples} samples x "
        f"{result.n_features} features, seed {result.seed}",
        "",
        f"{'':<17}{names[0]:>9}{names[1]:>10}",
    ]
    for label, values, fmt, note in rows:
        cells = "".join(
            f"{fmt.format(values[n]):>{w}}" for n, w in zip(names, (9, 10))
        )
        lines.append(f"{label:<17}{cells}   {note}")
    lines += ["", f"figure: {result.path}"]
    return "\n".join(lines)
