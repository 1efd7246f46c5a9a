"""``UMAP.update``: extend a fitted model with new rows and optimise it again.

The semantics are umap-learn's: the new rows are appended to the training rows,
the neighbour graph is rebuilt over all of them, and the layout is optimised again
from the current one, the old points starting where they are and the new ones
near their neighbours. Whereas umap-learn starts a new point at the plain mean of
its already-embedded neighbours, densumap starts it where :meth:`UMAP.transform`
places it (a short SGD against the old embedding, with the DensMAP radius pull
for DensMAP models), which is a better start; a new row identical to an old one
starts on it. The whole fit pipeline then runs as in ``fit``: the graph with the
model's parameters, ``graph_dists_``, the DensMAP term and radii, ``output_dens``
(a ``transform_mode="graph"`` model only rebuilds its graph).

Random choices are seeded by ``transform_seed`` (umap-learn does the same), so an
update with an int ``transform_seed`` is reproducible, for any ``n_jobs``.
"""
import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_is_fitted

from . import transform as transform_mod
from ._input import unique_rows
from ._runtime import numba_threads, resolve_seed, stage, verbosity


def update(model, X):
    """Append the rows of ``X`` to a fitted ``model`` and optimise it again (in place).

    Parameters
    ----------
    model : densumap.UMAP
        Fitted on feature data (not ``metric="precomputed"``), unsupervised, not
        composed.
    X : array-like or sparse matrix of shape (n_new, n_features)

    Returns
    -------
    model : densumap.UMAP
    """
    check_is_fitted(model, "graph_")
    if getattr(model, "_supervised", False):
        raise ValueError(
            "update cannot extend a supervised model: the new rows have no labels. Fit "
            "again on all the rows with their labels."
        )
    X_new, metric = model._validate_new(X)
    if metric == "precomputed":
        raise ValueError(
            "update needs feature data; a model fitted with metric='precomputed' cannot be "
            "extended (fit again on the distance matrix of all the points)."
        )
    old_rows = model._train_X
    if model.unique:
        added, index, inverse = _distinct_additions(model, X_new, metric)
    else:
        added, index, inverse = X_new, None, None
    stack = sp.vstack if sp.issparse(old_rows) else np.vstack
    X_fit = stack([old_rows, added]) if added.shape[0] else old_rows
    if sp.issparse(X_fit):
        X_fit = sp.csr_matrix(X_fit)
    init = "spectral"
    if model.transform_mode == "embedding":
        init = model._fitted_embedding()
        if added.shape[0]:
            with stage("update: start of the new rows"):
                start = model._transform_rows(added, metric, None, False).embedding
            init = np.vstack([init, start])
    n_neighbors = min(model.n_neighbors, X_fit.shape[0])
    seed = resolve_seed(model.transform_seed)
    with numba_threads(model.n_jobs), verbosity(model.verbose):
        model._fit_embedding(X_fit, metric, n_neighbors, seed, None, init)
    model._train_X = X_fit
    model._row_index = transform_mod.row_index(X_fit)
    if model.unique:
        model.unique_index_, model.unique_inverse_ = index, inverse
        if index.size < inverse.size and model.transform_mode == "embedding":
            model.embedding_ = model.embedding_[inverse]
            if model.output_dens:
                model.rad_orig_ = model.rad_orig_[inverse]
                model.rad_emb_ = model.rad_emb_[inverse]
    return model


def _distinct_additions(model, X_new, metric):
    """For ``unique=True`` models: the rows of ``X_new`` not yet fitted, and the new maps.

    Returns
    -------
    added : rows of ``X_new`` to append (distinct, in order of first appearance)
    unique_index : ndarray, the first occurrence (in all samples so far) of each
        distinct row
    unique_inverse : ndarray, the distinct row of every sample so far
    """
    n_fit = model._train_X.shape[0]
    n_samples = model.unique_inverse_.size
    match = model._training_matches(X_new, metric)
    fresh = np.flatnonzero(match < 0)
    inverse_new = match.copy()
    first = np.empty(0, dtype=np.int64)
    if fresh.size:
        first, inv = unique_rows(X_new[fresh])
        inverse_new[fresh] = n_fit + inv
    index = np.concatenate([model.unique_index_, n_samples + fresh[first]]).astype(np.int64)
    inverse = np.concatenate([model.unique_inverse_, inverse_new]).astype(np.int64)
    return X_new[fresh[first]], index, inverse
