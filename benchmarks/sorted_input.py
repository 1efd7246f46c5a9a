"""Does the row order of the input change the embedding? Fashion-MNIST sorted by PC1.

Usage: python benchmarks/sorted_input.py N LIB   (LIB: densumap or umap-learn)

Takes the first N Fashion-MNIST images, sorts the rows by their first principal
component (ties by the second), fits ``UMAP(random_state=42)`` of LIB on the sorted
rows and prints the harness's quality metrics (``_worker.quality_metrics``: 10-NN
accuracy, trustworthiness, density correlation on a fixed 5,000-point sample).
"""
import os
import sys
import warnings

import numpy as np
from sklearn.decomposition import PCA

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _worker import quality_metrics  # noqa: E402

from densumap.datasets import load_fashion_mnist  # noqa: E402

n, lib = int(sys.argv[1]), sys.argv[2]
X, y = load_fashion_mnist(os.environ.get("FMNIST", "../shared/data/fashion-mnist"))
X, y = X[:n], y[:n]
pc = PCA(2, random_state=0).fit_transform(X)
order = np.lexsort((pc[:, 1], pc[:, 0]))
X, y = X[order], y[order]
if lib == "umap-learn":
    warnings.simplefilter("ignore")
    from umap import UMAP
else:
    from densumap import UMAP
emb = UMAP(random_state=42).fit(X).embedding_
print(lib, "sorted by PC1:", {k: round(v, 3) for k, v in quality_metrics(X, y, emb, 5000).items()})
