"""AnnData and scanpy conventions: DensMAP on single-cell objects without glue code.

:func:`embed` fits a :class:`densumap.UMAP` (DensMAP by default) on an
``AnnData`` and writes the result where scanpy users look for it;
:func:`transform` places new cells into a fitted map (scanpy's ``ingest`` use
case, which scanpy cannot do for DensMAP) and writes the same keys.

Conventions followed (scanpy 1.11):

- **Representation** (scanpy's ``_choose_representation``): ``use_rep`` when
  given (an ``.obsm`` key or ``"X"``, its first ``n_pcs`` columns when ``n_pcs``
  is given); else ``.obsm["X_pca"]`` when present and the data has more than 50
  variables; else ``.X`` (``n_pcs=0`` forces ``.X``). Unlike scanpy, densumap does
  not run a PCA when ``X_pca`` is missing: it embeds ``.X``.
- **Keys**: the embedding goes to ``.obsm[key_added]`` (default ``"X_densmap"``
  for DensMAP, ``"X_umap"`` for UMAP), the parameters to
  ``.uns[key]["params"]`` with ``key`` = ``key_added`` or ``"densmap"`` /
  ``"umap"``, and with ``output_dens`` the log local radii to the ``.obs``
  columns ``f"{key}_rad_orig"`` and ``f"{key}_rad_emb"``.
- **Neighbours**: a scanpy neighbours entry (``.uns[neighbors_key]`` with its
  ``"distances_key"`` in ``.obsp``, from ``sc.pp.neighbors``) is used as the
  kNN (``UMAP(precomputed_knn=...)``) instead of a new search when it was built
  on the same representation, with the same metric and at least as many
  neighbours, and when its stored distances match the representation (a sample
  of rows is recomputed). Otherwise a :class:`NeighborsNotReusedWarning` says
  why and the neighbours are searched.

``anndata`` is imported only when these functions run, never by ``import
densumap``.
"""
import logging
import warnings

import numpy as np
import scipy.sparse as sp

__all__ = ["embed", "transform", "NeighborsNotReusedWarning"]

logger = logging.getLogger(__name__)

# scanpy's settings.N_PCS: above this many variables, X_pca is preferred to X.
N_PCS = 50
# Rows whose stored neighbour distances are recomputed before a graph is reused.
_CHECK_ROWS = 64


class NeighborsNotReusedWarning(UserWarning):
    """A stored scanpy neighbour graph could not be reused; the kNN is searched again."""


def _require_anndata(adata):
    try:
        import anndata
    except ImportError as exc:  # pragma: no cover - anndata is in the test extra
        raise ImportError(
            "densumap.anndata needs the optional package anndata: pip install anndata "
            "(or pip install 'densumap[anndata]')."
        ) from exc
    if not isinstance(adata, anndata.AnnData):
        raise TypeError(f"adata must be an anndata.AnnData; got {type(adata).__name__}.")


# ------------------------------------------------------------------ representation


def _resolve_rep(adata, use_rep, n_pcs):
    """scanpy's choice of representation as ``(name, n_columns)``; nothing is read.

    ``name`` is ``"X"`` or an ``.obsm`` key; ``n_columns`` the columns used.
    """
    if n_pcs is not None and (isinstance(n_pcs, bool) or not isinstance(n_pcs, (int, np.integer))
                              or n_pcs < 0):
        raise ValueError(f"n_pcs must be a non-negative integer or None; got {n_pcs!r}.")
    if use_rep is None:
        if n_pcs == 0:
            return "X", adata.n_vars
        if adata.n_vars > N_PCS and "X_pca" in adata.obsm:
            use_rep = "X_pca"
        elif n_pcs is not None:
            raise ValueError(
                f"n_pcs={n_pcs} selects columns of .obsm['X_pca'], but the representation "
                f"chosen is .X (the data has {adata.n_vars} variables"
                + ("" if "X_pca" in adata.obsm else " and no .obsm['X_pca']")
                + "); pass use_rep='X_pca' or drop n_pcs."
            )
        else:
            return "X", adata.n_vars
    if not isinstance(use_rep, str):
        raise ValueError(f"use_rep must be a string (an .obsm key or 'X'); got {use_rep!r}.")
    if use_rep == "X":
        if n_pcs:
            raise ValueError(f"n_pcs={n_pcs} cannot select columns of .X; use "
                             f"use_rep='X_pca' or drop n_pcs.")
        return "X", adata.n_vars
    if use_rep not in adata.obsm:
        raise ValueError(
            f"use_rep={use_rep!r} is not in .obsm (keys: {sorted(adata.obsm.keys())}); "
            f"use one of them or 'X'."
        )
    width = np.shape(adata.obsm[use_rep])[1]
    if n_pcs:
        if n_pcs > width:
            raise ValueError(
                f"n_pcs={n_pcs} is larger than .obsm[{use_rep!r}], which has {width} columns."
            )
        return use_rep, int(n_pcs)
    return use_rep, width


def _rep_label(name, n_cols, adata):
    full = adata.n_vars if name == "X" else np.shape(adata.obsm[name])[1]
    where = ".X" if name == "X" else f".obsm[{name!r}]"
    return where if n_cols == full else f"{where}[:, :{n_cols}]"


def _as_input(X):
    """An in-memory array or CSR matrix the estimator takes (backed data is read whole)."""
    if hasattr(X, "to_memory"):  # anndata's backed sparse dataset
        X = X.to_memory()
    elif (type(X).__module__ or "").startswith("h5py"):
        X = X[()]
    if sp.issparse(X):
        return sp.csr_matrix(X)
    return np.asarray(X)


def _rep_data(adata, name, n_cols, whole=True):
    """The representation's data; ``whole=False`` leaves a backed ``.X`` on disk."""
    if name == "X":
        X = adata.X
        if X is None:
            raise ValueError("adata.X is None; pass use_rep naming an .obsm entry.")
        return _as_input(X) if whole or not adata.isbacked else X
    X = np.asarray(adata.obsm[name])
    return X if n_cols == X.shape[1] else np.ascontiguousarray(X[:, :n_cols])


# ------------------------------------------------------------------ neighbours


def _scalar(value):
    """scanpy stores some parameters as 1-element arrays in older files."""
    value = np.asarray(value)
    return value.ravel()[0].item() if value.size == 1 else value


def _stored_knn(adata, neighbors_key, rep, X, n_neighbors, metric, metric_kwds):
    """A stored scanpy neighbour graph as ``(indices, dists)``, or None (with a warning).

    Parameters
    ----------
    neighbors_key : str or None
        None looks for the default ``"neighbors"`` entry and is quiet when there is
        none; a name that is not in ``.uns`` raises.
    rep : tuple (name, n_columns)
        The representation being embedded.
    X : ndarray or CSR matrix of shape (n_obs, n_columns)
        Its data, for the distance check.
    """
    from .neighbors import canonical_metric

    key = "neighbors" if neighbors_key is None else neighbors_key
    if key not in adata.uns:
        if neighbors_key is not None:
            found = sorted(k for k, v in adata.uns.items()
                           if isinstance(v, dict) and "params" in v and "distances_key" in v)
            raise ValueError(
                f"neighbors_key={neighbors_key!r} is not in .uns; scanpy neighbour entries "
                f"found: {found or 'none'} (sc.pp.neighbors(adata, key_added=...) makes one)."
            )
        return None, None

    def skip(why):
        warnings.warn(
            f"The neighbour graph in .uns[{key!r}] is not reused: {why}. Searching the "
            f"{n_neighbors} nearest neighbours of {_rep_label(*rep, adata)} instead.",
            NeighborsNotReusedWarning, stacklevel=4,
        )
        return None, None

    entry = adata.uns[key]
    params = dict(entry.get("params", {})) if hasattr(entry, "get") else {}
    dkey = entry.get("distances_key", "distances" if key == "neighbors" else f"{key}_distances") \
        if hasattr(entry, "get") else None
    if dkey is None or dkey not in adata.obsp:
        return skip(f"its distances .obsp[{dkey!r}] are missing")
    try:
        stored_rep = _resolve_rep(adata, _scalar(params["use_rep"]) if "use_rep" in params
                                  else None,
                                  int(_scalar(params["n_pcs"])) if "n_pcs" in params else None)
    except ValueError as exc:
        return skip(f"its representation cannot be resolved ({exc})")
    if stored_rep != rep:
        return skip(f"it was built on {_rep_label(*stored_rep, adata)}, not on "
                    f"{_rep_label(*rep, adata)}")
    stored_metric = _scalar(params.get("metric", "euclidean"))
    try:
        same_metric = canonical_metric(str(stored_metric)) == metric
    except ValueError:
        same_metric = False
    stored_kwds = params.get("metric_kwds") or {}
    if not same_metric or not _same_kwds(stored_kwds, metric_kwds):
        return skip(f"it was built with metric={stored_metric!r}"
                    + (f", metric_kwds={dict(stored_kwds)}" if stored_kwds else "")
                    + f", not metric={metric!r}"
                    + (f", metric_kwds={dict(metric_kwds)}" if metric_kwds else ""))
    stored_k = int(_scalar(params.get("n_neighbors", 0)))
    if stored_k < n_neighbors:
        return skip(f"it has n_neighbors={stored_k}, fewer than the n_neighbors={n_neighbors} "
                    f"asked for")
    D = sp.csr_matrix(adata.obsp[dkey])
    n = adata.n_obs
    if D.shape != (n, n):
        return skip(f".obsp[{dkey!r}] has shape {D.shape}, not ({n}, {n})")
    D.sum_duplicates()
    D.setdiag(0)  # scanpy stores no self-distance; drop one if another tool did
    D.eliminate_zeros()
    counts = np.diff(D.indptr)
    need = n_neighbors - 1
    if counts.min(initial=need) < need:
        short = int(np.sum(counts < need))
        return skip(f"{short} cells have fewer than {need} stored neighbours (duplicate cells "
                    f"at distance 0 are not stored as sparse entries)")
    indices, dists = _knn_from_csr(D, need)
    bad = _distance_mismatch(X, indices, dists, metric, metric_kwds)
    if bad is not None:
        return skip(f"its stored distances do not match {_rep_label(*rep, adata)} "
                    f"(cell {bad}: was the representation changed after sc.pp.neighbors?)")
    logger.info("reusing the neighbour graph .uns[%r] (%d neighbours per cell)", key, stored_k)
    return (indices, dists), key


def _knn_from_csr(D, need):
    """The ``need`` nearest stored neighbours of each row, with the row itself first."""
    n = D.shape[0]
    indices = np.empty((n, need + 1), dtype=np.int32)
    dists = np.zeros((n, need + 1), dtype=np.float32)
    indices[:, 0] = np.arange(n)
    counts = np.diff(D.indptr)
    if n and np.all(counts == counts[0]):  # scanpy's graphs: k - 1 entries in every row
        cols = D.indices.reshape(n, counts[0])
        vals = D.data.reshape(n, counts[0])
        order = np.lexsort((cols, vals), axis=-1)[:, :need]
        indices[:, 1:] = np.take_along_axis(cols, order, axis=1)
        dists[:, 1:] = np.take_along_axis(vals, order, axis=1)
        return indices, dists
    for i in range(n):
        lo, hi = D.indptr[i], D.indptr[i + 1]
        cols, vals = D.indices[lo:hi], D.data[lo:hi]
        order = np.lexsort((cols, vals))[:need]  # ties: the lower index first
        indices[i, 1:] = cols[order]
        dists[i, 1:] = vals[order]
    return indices, dists


def _same_kwds(a, b):
    """Equal metric keyword dictionaries (array values compared element-wise)."""
    a, b = dict(a or {}), dict(b or {})
    return a.keys() == b.keys() and all(
        np.array_equal(np.asarray(a[k]), np.asarray(b[k])) for k in a)


def _distance_mismatch(X, indices, dists, metric, metric_kwds):
    """First sampled row whose stored distances differ from ``X``'s, or None."""
    from sklearn.metrics import pairwise_distances

    from .neighbors import is_builtin, query_neighbors

    n = X.shape[0]
    kw = dict(metric_kwds or {})
    for i in np.unique(np.linspace(0, n - 1, min(n, _CHECK_ROWS)).astype(int)):
        row = X[i:i + 1]
        if is_builtin(metric):
            actual = pairwise_distances(row, X[indices[i, 1:]], metric=metric, **kw).ravel()
        else:  # the stored row is sorted; so are the distances the search returns
            others = X[indices[i, 1:]]
            actual = query_neighbors(others, row, others.shape[0], metric, kw)[1].ravel()
        if not np.allclose(actual, dists[i, 1:], rtol=1e-3,
                           atol=1e-5 * max(float(np.max(actual, initial=0)), 1.0)):
            return int(i)
    return None


# ------------------------------------------------------------------ targets and keys


def _obs_target(adata, column, categorical):
    """Labels of the ``.obs`` column ``column`` for a supervised fit.

    Categorical targets become integer codes with ``-1`` (unlabelled) for missing
    values (NaN, None) and, in a numeric column, for the value -1 (umap-learn's
    convention); continuous ones are returned as floats.
    """
    if not isinstance(column, str):
        return np.asarray(column)  # labels given as an array: the estimator checks them
    if column not in adata.obs.columns:
        raise ValueError(
            f"target={column!r} is not an .obs column; columns: {list(adata.obs.columns)}."
        )
    values = adata.obs[column]
    if not categorical:
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    import pandas as pd

    cat = values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype("category")
    categories = cat.cat.categories
    if categories.dtype.kind in "iuf" and (categories == -1).any():
        cat = cat.cat.remove_categories([-1])  # -1 becomes missing: unlabelled
    codes = cat.cat.codes.to_numpy().astype(np.int64)
    if np.all(codes == -1):
        raise ValueError(f"target={column!r}: every cell is unlabelled (missing or -1).")
    return codes


def _params(model, rep, n_pcs_given, extra=None):
    """``.uns[key]["params"]``: what scanpy records, plus DensMAP's parameters."""
    name, n_cols = rep
    params = {"a": float(model.a_), "b": float(model.b_),
              "n_neighbors": int(model.n_neighbors_), "metric": str(model.metric),
              "use_rep": name}
    if n_pcs_given:
        params["n_pcs"] = int(n_cols)
    if isinstance(model.random_state, (int, np.integer)) and not isinstance(model.random_state,
                                                                           bool):
        params["random_state"] = int(model.random_state)
    if model.densmap:
        params.update(dens_lambda=float(model.dens_lambda), dens_frac=float(model.dens_frac),
                      dens_var_shift=float(model.dens_var_shift))
    params.update(extra or {})
    return params


def _keys(densmap, key_added):
    if key_added is not None and (not isinstance(key_added, str) or not key_added):
        raise ValueError(f"key_added must be a non-empty string or None; got {key_added!r}.")
    if key_added is None:
        return ("X_densmap", "densmap") if densmap else ("X_umap", "umap")
    return key_added, key_added


def _write(adata, obsm_key, uns_key, embedding, params, radii):
    adata.obsm[obsm_key] = embedding
    adata.uns[uns_key] = {"params": params}
    if radii is not None:
        adata.obs[f"{uns_key}_rad_orig"] = np.asarray(radii[0])
        adata.obs[f"{uns_key}_rad_emb"] = np.asarray(radii[1])


# ------------------------------------------------------------------ public


def embed(adata, *, use_rep=None, n_pcs=None, neighbors_key=None, key_added=None,
          densmap=True, output_dens=True, copy=False, target=None, **umap_params):
    """Fit DensMAP (or UMAP) on an AnnData and store the result the scanpy way.

    Parameters
    ----------
    adata : anndata.AnnData
        Cells in rows. ``.X`` may be dense, sparse (CSR counts) or backed (it is
        then read into memory: a fit needs its rows in memory).
    use_rep : str, default=None
        ``.obsm`` key or ``"X"``; None chooses as scanpy does (module docstring).
    n_pcs : int, default=None
        Use the first ``n_pcs`` columns of the representation (``0``: ``.X``).
    neighbors_key : str, default=None
        ``.uns`` key of a scanpy neighbour graph to reuse; it must exist. None
        reuses ``.uns["neighbors"]`` when present and matching (quietly searches
        when there is none).
    key_added : str, default=None
        ``.obsm`` key of the embedding and ``.uns`` key of its parameters; None
        means ``"X_densmap"``/``"densmap"`` (``"X_umap"``/``"umap"`` with
        ``densmap=False``).
    densmap : bool, default=True
    output_dens : bool, default=True
        Write the log local radii to ``.obs[f"{key}_rad_orig"]`` and
        ``.obs[f"{key}_rad_emb"]``.
    copy : bool, default=False
        Work on a copy of ``adata`` and return it with the model.
    target : str or array-like of shape (n_obs,), default=None
        ``.obs`` column to supervise the fit with: labels (a categorical or any
        column, with missing values and numeric -1 as unlabelled cells), or a
        numeric target with ``target_metric`` other than "categorical". An array
        is passed to :meth:`densumap.UMAP.fit` as ``y`` unchanged.
    **umap_params
        Any other :class:`densumap.UMAP` parameter (``n_neighbors``,
        ``random_state``, ``dens_lambda``, ...). Passing ``precomputed_knn``
        disables the reuse of a stored graph.

    Returns
    -------
    model : densumap.UMAP
        The fitted model (for :func:`transform`); ``(adata_copy, model)`` with
        ``copy=True``.

    Warns
    -----
    NeighborsNotReusedWarning
        When a stored neighbour graph exists but cannot be used, saying why.
    """
    _require_anndata(adata)
    from .estimator import UMAP

    obsm_key, uns_key = _keys(densmap, key_added)
    if copy:
        adata = adata.copy()
    rep = _resolve_rep(adata, use_rep, n_pcs)
    X = _rep_data(adata, *rep)
    model = UMAP(densmap=densmap, output_dens=output_dens, **umap_params)
    y = None
    if target is not None:
        y = _obs_target(adata, target, model.target_metric == "categorical")
    extra = {}
    given = umap_params.get("precomputed_knn")
    if given is not None and neighbors_key is not None:
        raise ValueError("Pass either precomputed_knn or neighbors_key, not both.")
    if given is None and not model.unique and isinstance(model.n_neighbors, (int, np.integer)):
        from .neighbors import canonical_metric

        metric = canonical_metric(model.metric)
        k = min(int(model.n_neighbors), adata.n_obs)
        if metric != "precomputed":
            knn, used = _stored_knn(adata, neighbors_key, rep, X, k, metric,
                                    model.metric_kwds)
            if knn is not None:
                model.set_params(precomputed_knn=knn)
                extra["neighbors_key"] = used
    model.fit(X, y)
    if isinstance(target, str):
        extra["target"] = target
    radii = (model.rad_orig_, model.rad_emb_) if output_dens else None
    _write(adata, obsm_key, uns_key, model.embedding_,
           _params(model, rep, n_pcs is not None, extra), radii)
    return (adata, model) if copy else model


def transform(model, adata_new, *, use_rep=None, n_pcs=None, key_added=None, copy=False,
              chunk_rows=None):
    """Place new cells into a fitted map and store them as :func:`embed` does.

    The representation is chosen as in :func:`embed` and must be in the model's
    coordinates: for ``X_pca``, the new cells projected on the *reference's*
    principal components (e.g. ``(adata_new.X - ref_mean) @ adata_ref.varm["PCs"]``),
    as scanpy's ``ingest`` does, not a PCA of their own.

    Parameters
    ----------
    model : densumap.UMAP
        Fitted (by :func:`embed` or directly). With ``output_dens=True`` the new
        cells' radii are written too.
    adata_new : anndata.AnnData
        A backed ``.X`` is read in row blocks (dense or sparse), so it need not
        fit in memory; the result is identical to an in-memory transform.
    use_rep, n_pcs : see :func:`embed`
    key_added : str, default=None
        As in :func:`embed`; None means ``"X_densmap"`` or ``"X_umap"`` after the
        model's ``densmap``.
    copy : bool, default=False
        Work on a copy and return it.
    chunk_rows : int, default=None
        Rows per block for a backed ``.X`` (default: about 32 MiB of input).

    Returns
    -------
    None, or the copy of ``adata_new`` with ``copy=True``.
    """
    _require_anndata(adata_new)
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model, "embedding_")
    obsm_key, uns_key = _keys(bool(model.densmap), key_added)
    if copy:
        adata_new = adata_new.copy()
    rep = _resolve_rep(adata_new, use_rep, n_pcs)
    X = _rep_data(adata_new, *rep, whole=False)
    if hasattr(X, "to_memory") or (type(X).__module__ or "").startswith("h5py"):
        result = _transform_backed(model, X, chunk_rows)
    else:
        result = model.transform(X)
    radii = None
    if isinstance(result, tuple):
        result, radii = result[0], result[1:]
    _write(adata_new, obsm_key, uns_key, result,
           _params(model, rep, n_pcs is not None, {"transformed": True}), radii)
    return adata_new if copy else None


def _transform_backed(model, X, chunk_rows):
    """Transform a backed ``.X`` (h5py dataset or anndata sparse dataset) block by block."""
    from . import _blocks

    n, width = X.shape
    if chunk_rows is None:
        chunk_rows = _blocks.default_chunk_rows(width)
    parts = []
    for start, stop in _blocks.row_blocks(n, chunk_rows):
        block = X[start:stop]
        parts.append(model.transform(sp.csr_matrix(block) if sp.issparse(block)
                                     else np.asarray(block)))
    if isinstance(parts[0], tuple):
        return tuple(np.concatenate([p[j] for p in parts]) for j in range(len(parts[0])))
    return np.concatenate(parts)
