"""Composing fitted models: fuzzy union (``a + b``), intersection (``a * b``), contrast (``a - b``).

As umap-learn's "Combining multiple UMAP models": two models fitted on different
views of the same samples (row ``i`` of each is the same sample) have two fuzzy
graphs over the same vertices. Their composition is a new fuzzy graph, laid out
from scratch into a new model.

Graph operations, on the union of the two edge sets, with ``l`` and ``r`` the
memberships of an edge in the left and right graph (a membership missing from a
graph counts as half that graph's smallest, at least 1e-8, so that combining
with a graph that lacks an edge weakens the edge instead of deleting it)::

    union (+)          l + r - l * r
    intersection (*)   l * r
    contrast (-)       l * (1 - r), on the left graph's edges only, r = 0 where
                       the right graph has no edge: the left view's neighbours,
                       less those the right view also sees as neighbours

Then UMAP's assumptions are restored (:func:`restore_local_structure`): every
row is scaled so that its strongest edge is 1 (local connectivity); for union and
intersection each row's memberships are also raised to the power that makes them
sum to ``log2(k)``, as the fuzzy set of a ``k``-neighbourhood does (local
uniformity; ``k`` the larger ``n_neighbors_`` of the two); and the rows are
symmetrised again by fuzzy union. umap-learn does the same with ``k = 15`` fixed.

The layout is a fresh spectral initialisation and SGD over the composed graph
(umap-learn's composed layouts likewise ignore the operands' embeddings).

DensMAP. The composed model runs the DensMAP term when either operand was fitted
with ``densmap=True`` (as umap-learn), and computes ``rad_orig_``/``rad_emb_`` when
either has ``output_dens``. The two views measure density in different units, so
the composed model's input density is unit-free: each operand's input log radii
(from its ``graph_`` and ``graph_dists_``, exactly as its ``fit`` computed them)
are standardised, then averaged for ``+`` and ``*``; ``-`` keeps the left one's.
``rad_orig_`` of a composed model holds these standardised values.

The composed model's hyper-parameters: ``n_neighbors`` the larger,
``n_components`` the smaller, ``n_epochs`` the larger of those set (None if
neither), ``learning_rate`` the smaller, ``repulsion_strength`` and
``negative_sample_rate`` the mean, ``a_``/``b_`` the mean of the fitted ones,
``densmap``/``output_dens``/``verbose`` either, the DensMAP weights the larger,
``random_state`` the left's, else the right's, else 42 (composing is then
reproducible, as umap-learn's); the rest are the left model's. Both operands
must embed in the same space (``output_metric`` and ``output_metric_kwds``), and
the composed model is laid out in it. It has no input
space: ``transform``, ``inverse_transform`` and ``update`` raise, and
``graph_dists_`` is None. Composed models compose again.
"""
import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from . import graph as graph_mod, layout, output_metric as om_mod
from ._kernels import density as _kd
from ._runtime import numba_threads, resolve_seed, stage, verbosity
from .density import DensityTarget
from .init import initial_layout

OPERATIONS = {"union": "+", "intersection": "*", "contrast": "-"}
# Bisection steps of the local-uniformity exponent (umap-learn uses 32 too).
_RESET_ITER = 32
_RESET_TOL = 1e-5


def compose(left, right, operation):
    """A new fitted model from the fuzzy graphs of ``left`` and ``right``.

    Parameters
    ----------
    left, right : densumap.UMAP
        Fitted models of the same samples (``graph_`` of the same shape).
    operation : {"union", "intersection", "contrast"}

    Returns
    -------
    densumap.UMAP
        Of the class of ``left``, fitted: ``graph_``, ``embedding_`` (unless
        ``transform_mode="graph"``), ``n_neighbors_``, ``n_epochs_``, ``a_``,
        ``b_``, and ``rad_orig_``/``rad_emb_`` with ``output_dens``.
    """
    _check_operands(left, right, operation)
    result = type(left)(**_combined_params(left, right))
    graph = _combine_graphs(left.graph_, right.graph_, operation)
    k = max(left.n_neighbors_, right.n_neighbors_)
    graph = restore_local_structure(graph, k, uniform=operation != "contrast")
    result.graph_ = graph
    result.graph_dists_ = None
    result.n_neighbors_ = k
    result.a_ = (left.a_ + right.a_) / 2.0
    result.b_ = (left.b_ + right.b_) / 2.0
    result.unique_index_ = result.unique_inverse_ = None
    result._train_X = None
    result._sigmas = result._rhos = None
    result._density_relation = None
    result._supervised = False
    result._row_index = None
    result._composed = operation
    density = input_density(left)
    if operation != "contrast":
        density = _standardise((density + input_density(right)) / 2.0)
    result._input_density = density
    n = graph.shape[0]
    result.n_epochs_, result._schedule_epochs = layout.resolve_epochs(
        result.n_epochs, n, result.densmap, result._output_space() is None,
        result.dens_lambda, result.dens_frac)
    if result.transform_mode == "embedding":
        _lay_out(result, density)
    return result


def _check_operands(left, right, operation):
    if operation not in OPERATIONS:
        raise ValueError(f"operation must be one of {sorted(OPERATIONS)}; got {operation!r}.")
    symbol = OPERATIONS[operation]
    for side, model in (("left", left), ("right", right)):
        if not hasattr(model, "graph_"):
            raise NotFittedError(
                f"Only fitted models can be combined: the {side} operand of {symbol!r} is "
                f"not fitted; call fit first."
            )
        index, inverse = (getattr(model, "unique_index_", None),
                          getattr(model, "unique_inverse_", None))
        if index is not None and index.size != inverse.size:
            raise ValueError(
                f"The {side} operand of {symbol!r} was fitted with unique=True on data with "
                f"duplicate rows: its graph has {index.size} vertices for {inverse.size} "
                f"samples, so its samples do not match the other model's row for row. Fit "
                f"it with unique=False."
            )
    if not _same_output_space(left, right):
        raise ValueError(
            f"Only models embedded in the same space can be combined with {symbol!r}: the "
            f"left model has output_metric={left.output_metric!r}, output_metric_kwds="
            f"{left.output_metric_kwds!r}, the right one output_metric="
            f"{right.output_metric!r}, output_metric_kwds={right.output_metric_kwds!r}."
        )
    if left.graph_.shape != right.graph_.shape:
        raise ValueError(
            f"Only models of the same samples can be combined with {symbol!r}: the left "
            f"model has {left.graph_.shape[0]} samples, the right one "
            f"{right.graph_.shape[0]}."
        )


def _same_output_space(left, right):
    """Whether both models have the same ``output_metric`` and ``output_metric_kwds``."""
    a, b = left.output_metric, right.output_metric
    if om_mod.is_euclidean(a) and om_mod.is_euclidean(b):
        return True
    if not (a is b or (isinstance(a, str) and isinstance(b, str) and a == b)):
        return False
    ka, kb = left.output_metric_kwds or {}, right.output_metric_kwds or {}
    if list(ka) != list(kb):
        return False
    try:
        return all(np.array_equal(np.asarray(ka[k]), np.asarray(kb[k])) for k in ka)
    except (TypeError, ValueError):
        return all(ka[k] is kb[k] for k in ka)


def _combined_params(left, right):
    """Hyper-parameters of the composed model (module docstring)."""
    p, q = left.get_params(deep=False), right.get_params(deep=False)
    epochs = [e for e in (p["n_epochs"], q["n_epochs"]) if e is not None]
    seed = next((s for s in (p["random_state"], q["random_state"]) if s is not None), 42)
    both = p["a"] is not None and q["a"] is not None and p["b"] is not None and q["b"] is not None
    p.update(
        n_neighbors=max(p["n_neighbors"], q["n_neighbors"]),
        n_components=min(p["n_components"], q["n_components"]),
        n_epochs=max(epochs) if epochs else None,
        learning_rate=min(p["learning_rate"], q["learning_rate"]),
        repulsion_strength=(p["repulsion_strength"] + q["repulsion_strength"]) / 2.0,
        negative_sample_rate=int(round((p["negative_sample_rate"]
                                        + q["negative_sample_rate"]) / 2.0)),
        a=(p["a"] + q["a"]) / 2.0 if both else None,
        b=(p["b"] + q["b"]) / 2.0 if both else None,
        densmap=bool(p["densmap"] or q["densmap"]),
        output_dens=bool(p["output_dens"] or q["output_dens"]),
        verbose=bool(p["verbose"] or q["verbose"]),
        dens_lambda=max(p["dens_lambda"], q["dens_lambda"]),
        dens_frac=max(p["dens_frac"], q["dens_frac"]),
        dens_var_shift=max(p["dens_var_shift"], q["dens_var_shift"]),
        random_state=seed,
        init="spectral",
        unique=False,
        precomputed_knn=(None, None, None),
        transform_mode="embedding",
    )
    return p


# ----------------------------------------------------------------- graph operations
def _floor(graph):
    data = graph.data[graph.data > 0]
    return max(float(data.min()) / 2.0, 1e-8) if data.size else 1e-8


def _combine_graphs(left, right, operation):
    """The membership of every edge of the composed graph (before the reset)."""
    left = sp.csr_matrix(left, dtype=np.float64)
    right = sp.csr_matrix(right, dtype=np.float64)
    n, n_cols = left.shape
    if operation == "contrast":
        pattern = left.copy()
    else:
        pattern = left + right
    pattern.sum_duplicates()
    pattern.sort_indices()
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(pattern.indptr))
    keys = rows * n_cols + pattern.indices
    if operation == "contrast":
        lv = graph_mod._values_on(left, keys, n_cols, 0.0)
        rv = graph_mod._values_on(right, keys, n_cols, 0.0)
        vals = lv * (1.0 - rv)
    else:
        lv = graph_mod._values_on(left, keys, n_cols, _floor(left))
        rv = graph_mod._values_on(right, keys, n_cols, _floor(right))
        vals = lv + rv - lv * rv if operation == "union" else lv * rv
    out = sp.csr_matrix((vals, pattern.indices.copy(), pattern.indptr.copy()), shape=left.shape)
    out.eliminate_zeros()
    return out


def restore_local_structure(graph, k, uniform):
    """Local connectivity (row maximum 1), optionally local uniformity, then fuzzy union.

    Parameters
    ----------
    graph : csr_matrix of shape (n, n)
        Non-negative memberships, sorted indices.
    k : int
        Neighbourhood size whose ``log2(k)`` the rows sum to when ``uniform``.
    uniform : bool
        Raise each row to the power ``p`` with ``sum_j w_ij ** p = log2(k)``
        (bisection on ``p``, as umap-learn's). When that sum cannot be reached,
        ``p`` runs to its bound: a row with fewer than ``log2(k)`` edges gets
        memberships near 1, and a row with ``log2(k)`` or more memberships of 1
        keeps only those (its weaker edges underflow to 0; on digits' two
        halves, 8% of the union's edges).

    Returns
    -------
    csr_matrix of shape (n, n), float32, symmetric, no explicit zeros.
    """
    g = sp.csr_matrix(graph, dtype=np.float64, copy=True)
    n = g.shape[0]
    counts = np.diff(g.indptr)
    rows = np.repeat(np.arange(n), counts)
    row_max = np.zeros(n)
    nonempty = counts > 0
    if g.nnz:
        row_max[nonempty] = np.maximum.reduceat(g.data, g.indptr[:-1][nonempty])
    safe = np.where(row_max > 0, row_max, 1.0)
    g.data = g.data / safe[rows]
    if uniform and g.nnz:
        g.data = g.data ** _uniform_exponents(g.data, rows, n, np.log2(k))[rows]
    g = sp.csr_matrix(g, dtype=np.float32)
    g.eliminate_zeros()
    return graph_mod.fuzzy_union(g, 1.0)


def _uniform_exponents(data, rows, n, target):
    """Per row, the ``p`` with ``sum(data ** p) = target`` (bisection from 1)."""
    lo = np.zeros(n)
    hi = np.full(n, np.inf)
    mid = np.ones(n)
    active = np.ones(n, dtype=bool)
    positive = data > 0
    for _ in range(_RESET_ITER):
        powered = np.where(positive, data, 1.0) ** mid[rows]
        psum = np.bincount(rows, weights=np.where(positive, powered, 0.0), minlength=n)
        active &= np.abs(psum - target) >= _RESET_TOL
        if not active.any():
            break
        below = active & (psum < target)
        above = active & ~below
        hi = np.where(below, mid, hi)
        lo = np.where(above, mid, lo)
        mid = np.where(below | (above & np.isfinite(hi)), (lo + hi) / 2.0,
                       np.where(above, mid * 2.0, mid))
    return mid


# ------------------------------------------------------------------ density, layout
def input_density(model):
    """Standardised input log radius of every vertex of ``model.graph_`` (0 where unknown).

    A composed model stores its own; for a fitted one see :func:`input_log_radii`.
    """
    stored = getattr(model, "_input_density", None)
    if stored is not None:
        return stored
    return _standardise(input_log_radii(model))


def pruning_epochs(model):
    """The epochs a fitted model's layout graph was pruned for: its schedule's
    (:func:`densumap.layout.resolve_epochs`; ``n_epochs_`` for a model saved before
    the schedule was kept)."""
    return int(getattr(model, "_schedule_epochs", model.n_epochs_))


def input_log_radii(model):
    """Input log radius of every vertex of a fitted model, from ``graph_`` and ``graph_dists_``.

    The radii its fit computed (:func:`densumap.density.input_log_radii` over the
    graph pruned for its schedule's epochs, :func:`pruning_epochs`; ``rad_orig_``
    with ``output_dens``), NaN for a vertex without edges (the fit falls back on its
    kNN lists, which a model does not keep). In a supervised model the label edges,
    which have no input distance, are left out. All NaN when the model has no
    ``graph_dists_``.
    """
    n = model.graph_.shape[0]
    dists = getattr(model, "graph_dists_", None)
    if dists is None:
        return np.full(n, np.nan)
    lgraph = graph_mod.layout_graph(model.graph_, max(pruning_epochs(model), 1))
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(lgraph.indptr))
    keys = rows * n + lgraph.indices
    d = graph_mod._values_on(dists, keys, n, np.nan)
    have = ~np.isnan(d)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows[have], minlength=n))])
    log_radii = _kd.weighted_log_radii(indptr.astype(lgraph.indptr.dtype),
                                       np.ascontiguousarray(lgraph.indices[have]),
                                       lgraph.data[have].astype(np.float64),
                                       d[have].astype(np.float64) ** 2)
    return log_radii


def _standardise(values):
    """Zero mean, unit variance over the finite entries; 0 elsewhere (and if constant)."""
    out = np.zeros(values.shape[0])
    finite = np.isfinite(values)
    if finite.any():
        v = values[finite]
        std = float(v.std())
        if std > 1e-12:
            out[finite] = (v - v.mean()) / std
    return out


def _lay_out(result, density):
    """Spectral start and SGD over the composed graph; sets ``embedding_`` (and radii)."""
    graph = result.graph_
    lgraph = graph_mod.layout_graph(graph, max(pruning_epochs(result), 1))
    active = np.diff(lgraph.indptr) > 0
    target = DensityTarget(density, _standardise(np.where(active, density, np.nan)), active,
                           float(density[active].mean()) if active.any() else 0.0,
                           float(density[active].std()) if active.any() else 0.0)
    seed = resolve_seed(result.random_state)
    output = result._output_space()  # the operands' space (_check_operands)
    with numba_threads(result.n_jobs), verbosity(result.verbose):
        with stage("initialisation"):
            emb = initial_layout("spectral", graph, None, result.n_components,
                                 np.random.default_rng(seed), seed)
        result._optimise_layout(emb, lgraph, seed, target, output)
    result.embedding_ = om_mod.canonical(output, emb)
    if result.output_dens:
        result.rad_orig_ = density.copy()
        result.rad_emb_ = om_mod.log_radii(output, lgraph, emb,
                                           _graph_neighbours(graph, ~active))


def _graph_neighbours(graph, rows):
    """kNN-like lists (self first, -1 padded) for ``rows`` from their graph edges.

    :func:`densumap.density.embedding_log_radii` reads them only for vertices
    without edges in the layout graph; the other rows hold only themselves.
    """
    n = graph.shape[0]
    degree = np.diff(graph.indptr)
    width = int(degree[rows].max()) if rows.any() else 0
    out = np.full((n, 1 + width), -1, dtype=np.int64)
    out[:, 0] = np.arange(n)
    for i in np.flatnonzero(rows):
        lo, hi = graph.indptr[i], graph.indptr[i + 1]
        order = np.argsort(-graph.data[lo:hi], kind="stable")
        out[i, 1:1 + hi - lo] = graph.indices[lo:hi][order]
    return out
