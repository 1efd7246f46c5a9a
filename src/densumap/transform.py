"""Placing new points in a fitted embedding (the numerics of ``UMAP.transform``).

Design
------
The training embedding is never modified; only the new points move, and each
new point is placed independently of every other one.

1. **Neighbours.** The caller queries the fitted rows for the ``n_neighbors - 1``
   nearest training points of each new point (exact, see
   :func:`densumap.neighbors.query_neighbors`) and marks those at or beyond the
   disconnection distance.
2. **Memberships.** A virtual self column at distance 0 is put in front of the
   distances, so that ``rho`` and ``sigma`` come from exactly the computation a
   training point gets in ``fit`` (same ``n_neighbors``, same
   ``local_connectivity``); the one-sided membership to neighbour ``j`` is
   ``exp(-max(0, d_j - rho) / sigma)``, 0 for disconnected neighbours.  (A new point
   identical to a training point never gets here: the estimator gives it that
   point's fitted position, looked up row by row with :func:`match_training_rows`.)
3. **Start.** The membership-weighted mean of the neighbours' embedded positions
   (equal weights over the listed neighbours if all are disconnected).
4. **Optimisation.** ``n_epochs`` epochs of UMAP's SGD (attraction along the
   memberships, ``negative_sample_rate`` negative samples from the training
   embedding per attraction), learning rate decaying linearly from
   ``learning_rate``.  The estimator uses umap-learn's schedule: ``n_epochs // 3``
   of the fit's epochs when these were set, else 100 (30 above 10,000 training
   points), at a quarter of the fit's learning rate (:func:`transform_epochs`).
   Attraction is doubled (``attract_scale=2``) as in ``fit``: there every vertex
   is attracted from both directions of each symmetric edge, and keeping the
   same attraction/repulsion balance lets a training row re-placed by
   ``transform`` land next to its fitted position (on digits, median
   displacement 0.06 with 2 against 0.13 with 1; see the tests).  Edges weaker
   than ``1 / n_epochs`` are dropped and an edge of membership ``w`` is sampled
   every ``1 / w`` epochs: the reference weight is the largest possible
   membership, 1, not the batch maximum, so a row's schedule does not depend on
   its batch.  The random stream of a new point is keyed by ``(seed, epoch, hash of
   the point's non-zero input entries)``, never by its position in the batch
   (:func:`row_keys`).  Hence a point's result depends only on the point, the
   model and the seed: chunked, reordered or distributed transforms agree bit
   for bit, for any thread count.
5. **DensMAP.** For a DensMAP model the new point is also pulled toward the local
   radius its input neighbourhood implies, with the training statistics frozen:
   its one-sided input log radius ``R`` (membership-weighted mean squared input
   distance to its neighbours) is standardised with the training mean and
   standard deviation and mapped to a target embedding log radius through the
   least-squares line fitted, at the end of ``fit``, between the training
   points' one-sided input and embedding log radii
   (:class:`densumap.density.DensityRelation`).  In the last ``dens_frac`` of
   the transform epochs each point takes, before its SGD step, a step of size
   ``learning_rate_t * dens_lambda`` down the (preconditioned) gradient of
   ``(r - target)**2 / 2``, where ``r`` is its one-sided embedding log radius with
   the same memberships (:func:`densumap._kernels.density.radius_pull_step`).
   Unlike ``fit``, the correlation over all points is not used: it would couple
   the new points (breaking per-point independence) and the training points'
   radii are fixed anyway.  Limitation: a point can only move, not spread its
   neighbours, so its embedding radius cannot drop below the weighted spread of
   its neighbours around their centroid; for such targets (about 40% of the test
   points on digits) the pull only draws the point to that centroid.  Most of the
   density signal of a transformed point therefore comes from *where* it lands
   in the DensMAP training embedding; the pull refines it.
"""
import contextlib
import hashlib
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from . import graph as graph_mod, output_metric
from ._kernels import density as _kd
from ._kernels.sgd import NO_DENSITY, SGDParams
from ._threads import pool_threads, task_pool
from .density import embedding_sq_dists, one_sided_log_radii
from .layout import density_active, jacobi_epoch, make_schedule

# Negative samples are drawn from the whole training embedding (no blocks).
_NO_BLOCKS = np.zeros(1, dtype=np.int64)


class TransformParams(NamedTuple):
    """Resolved hyper-parameters of a transform."""

    n_neighbors: int
    local_connectivity: float
    n_epochs: int
    a: float
    b: float
    learning_rate: float
    repulsion_strength: float = 1.0
    negative_sample_rate: float = 5.0
    dens_lambda: float = 0.0
    dens_frac: float = 0.0
    attract_scale: float = 2.0


class Placement(NamedTuple):
    """Result of :func:`place_points` (radii None where not computed)."""

    embedding: np.ndarray  # (n_new, dim) float32
    rad_orig: np.ndarray  # (n_new,) one-sided input log radii
    rad_emb: np.ndarray  # (n_new,) one-sided embedding log radii at the final positions


def transform_epochs(n_train, n_epochs):
    """Epochs of a transform: ``n_epochs // 3`` if set, else 100 (30 above 10,000 points).

    As umap-learn: the new points start at the weighted mean of good neighbours,
    so they need far fewer epochs than a layout from scratch.
    """
    if n_epochs is None:
        return 100 if n_train <= 10_000 else 30
    return int(n_epochs) // 3


def row_keys(X):
    """A 64-bit key per row derived from its content.

    The key is the BLAKE2b hash of the row's non-zero entries (column indices as
    int64, values as float64), so a point gets the same key whether it arrives
    dense or sparse, as float32 or float64 (when the values are equal).

    Returns
    -------
    ndarray of shape (n,), uint64
    """
    n = X.shape[0]
    keys = np.empty(n, dtype=np.uint64)
    sparse = sp.issparse(X)
    if sparse:
        X = sp.csr_matrix(X)
    for i in range(n):
        if sparse:
            cols = X.indices[X.indptr[i]:X.indptr[i + 1]]
            vals = X.data[X.indptr[i]:X.indptr[i + 1]]
            nz = vals != 0
            cols, vals = cols[nz], vals[nz]
            order = np.argsort(cols, kind="stable")
            cols, vals = cols[order], vals[order]
        else:
            cols = np.flatnonzero(X[i])
            vals = X[i][cols]
        h = hashlib.blake2b(digest_size=8)
        h.update(np.ascontiguousarray(cols, dtype=np.int64).tobytes())
        h.update(np.ascontiguousarray(vals, dtype=np.float64).tobytes())
        keys[i] = int.from_bytes(h.digest(), "little")
    return keys


def memberships(dists, connected, n_neighbors, local_connectivity):
    """One-sided memberships of new points to their training neighbours.

    Parameters
    ----------
    dists : ndarray of shape (n_new, k)
        Sorted distances to the ``k`` nearest training points.
    connected : ndarray of shape (n_new, k), bool
        False for neighbours at or beyond the disconnection distance.
    n_neighbors : int
        The model's ``n_neighbors_`` (``k + 1``, counting the point itself).
    local_connectivity : float

    Returns
    -------
    ndarray of shape (n_new, k), float64
    """
    d = np.asarray(dists, dtype=np.float32)
    with_self = np.concatenate([np.zeros((d.shape[0], 1), dtype=np.float32), d], axis=1)
    sigmas, rhos = graph_mod.smooth_knn_dist(with_self, n_neighbors, local_connectivity)
    excess = d - rhos[:, None]
    safe_sigma = np.where(sigmas > 0, sigmas, 1.0)[:, None]
    # The clamp only keeps exp from overflowing where np.where discards it anyway.
    w = np.where((excess <= 0) | (sigmas[:, None] == 0), 1.0,
                 np.exp(-np.maximum(excess, 0).astype(np.float64) / safe_sigma))
    return np.where(connected, w, 0.0)


def initial_positions(weights, nb_indices, train_embedding):
    """Membership-weighted mean of the neighbours' positions (float32)."""
    w = np.array(weights, dtype=np.float64)
    empty = w.sum(axis=1) <= 0
    w[empty] = 1.0
    w /= w.sum(axis=1, keepdims=True)
    pos = np.einsum("nk,nkd->nd", w, train_embedding[nb_indices].astype(np.float64))
    return np.ascontiguousarray(pos, dtype=np.float32)


def edge_graph(weights, nb_indices, n_train, n_epochs):
    """CSR rows (new points) x columns (training points) of the edges SGD samples.

    Edges weaker than ``1 / n_epochs`` (not sampled even once) are dropped.
    """
    n, k = weights.shape
    keep = weights >= 1.0 / max(n_epochs, 1)
    keep &= weights > 0
    counts = keep.sum(axis=1)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return sp.csr_matrix((weights[keep], nb_indices[keep].astype(np.int32), indptr),
                         shape=(n, n_train))


def place_points(nb_indices, dists, connected, keys, train_embedding, params, seed,
                 relation=None, progress=None, start=None, output=None):
    """Place new points against a fixed training embedding (module docstring).

    Parameters
    ----------
    nb_indices : ndarray of shape (n_new, k), int
        Nearest training points of each new point, nearest first.
    dists : ndarray of shape (n_new, k)
        Input-space distances to them.
    connected : ndarray of shape (n_new, k), bool
    keys : ndarray of shape (n_new,), uint64
        Per-point random keys (:func:`row_keys`).
    train_embedding : ndarray of shape (n_train, dim), float32
        Read only.
    params : TransformParams
    seed : int
    relation : DensityRelation or None
        Frozen DensMAP statistics; the density pull runs only when given and
        ``params.dens_lambda > 0``.
    progress : callable or None
        Called after every epoch.
    start : ndarray of shape (n_new, dim) or None
        Starting positions instead of the weighted means (with ``params.n_epochs
        = 0``, the radii of points kept where they are).
    output : OutputMetric or None
        A non-euclidean embedding space (:mod:`densumap.output_metric`): its own
        start (:func:`densumap.output_metric.start_positions`) when ``start`` is
        None, epochs and distances for ``rad_emb``; None for the euclidean one.

    Returns
    -------
    Placement
    """
    # Always a writable C-contiguous float32 array (a copy if read-only, e.g. a model
    # loaded from a read-only memmap): numba compiles a separate copy of the SGD
    # kernel for each array type, and two copies may order the vectorised sums of the
    # negative samples differently, so the same model would place points differently.
    tail = np.require(train_embedding, dtype=np.float32, requirements=["C", "W"])
    nb_indices = np.ascontiguousarray(nb_indices, dtype=np.int32)
    w = memberships(dists, connected, params.n_neighbors, params.local_connectivity)
    if start is not None:
        head = np.array(start, dtype=np.float32, order="C")
    elif output is None:
        head = initial_positions(w, nb_indices, tail)
    else:
        head = output_metric.start_positions(output, w, nb_indices, tail)
    rad_orig = one_sided_log_radii(w, np.asarray(dists, dtype=np.float64) ** 2)

    n_epochs = params.n_epochs
    graph = edge_graph(w, nb_indices, tail.shape[0], n_epochs)
    sched = make_schedule(graph, params.negative_sample_rate, w_max=1.0)
    pull = relation is not None and params.dens_lambda > 0 and params.dens_frac > 0
    if pull:
        target = relation.target(rad_orig)
        target = np.where(w.sum(axis=1) > 0, target, np.nan)
    useed = np.uint64(seed)
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    with contextlib.ExitStack() as stack:
        # The epochs of fit's plain UMAP: rows shared out to a pool of Python threads.
        pool = task_pool(pool_threads(), stack) if output is None else None
        for epoch in range(n_epochs):
            alpha = params.learning_rate * (1.0 - epoch / float(n_epochs))
            if pull and density_active(epoch, params):
                _kd.radius_pull_step(head, tail, nb_indices, w, target,
                                     alpha * params.dens_lambda, 4.0 * alpha)
            p = SGDParams(params.a, params.b, params.repulsion_strength, alpha,
                          params.attract_scale, epoch, useed, tail.shape[0], False)
            if output is None:
                jacobi_epoch(pool, head, tail, sched, p, NO_DENSITY, keys, tail, _NO_BLOCKS)
            else:
                output.epoch(head, tail, sched, p, keys, tail, _NO_BLOCKS)
            if progress is not None:
                progress()
    if output is None:
        sq = embedding_sq_dists(head, tail, nb_indices)
    else:
        output_metric.canonical(output, head)
        sq = output_metric.sq_dists(output, head, tail, nb_indices)
    rad_emb = one_sided_log_radii(w, sq)
    return Placement(head, rad_orig, rad_emb)


def interpolate_rows(train_X, nb_indices, emb_dists, a, b):
    """Weighted mean of training rows with weights ``1 / (1 + a d**(2b))`` (inverse transform).

    Parameters
    ----------
    train_X : ndarray or sparse CSR matrix of shape (n_train, n_features)
    nb_indices : ndarray of shape (n, k)
        Nearest training points in the embedding.
    emb_dists : ndarray of shape (n, k)
        Embedding distances to them.
    a, b : float
        The model's curve parameters.

    Returns
    -------
    ndarray of shape (n, n_features), dtype of ``train_X``
    """
    w = 1.0 / (1.0 + a * np.asarray(emb_dists, dtype=np.float64) ** (2.0 * b))
    w /= w.sum(axis=1, keepdims=True)
    n, k = nb_indices.shape
    rows = np.repeat(np.arange(n), k)
    W = sp.csr_matrix((w.ravel(), (rows, nb_indices.ravel())), shape=(n, train_X.shape[0]))
    out = W @ train_X
    out = out.toarray() if sp.issparse(out) else np.asarray(out)
    return out.astype(train_X.dtype, copy=False)


# ------------------------------------------------------------ training rows
# ``transform`` gives a row identical to a training row that row's fitted result.
# Each row is looked up on its own (content hash, then an exact comparison), so the
# decision never depends on the other rows of the batch.


def row_hashes(X):
    """64-bit content hash of every row (:mod:`densumap._kernels.rowhash`).

    Equal rows of the same float type have equal hashes, dense or sparse.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n, d), float32 or float64

    Returns
    -------
    ndarray of shape (n,), uint64
    """
    from ._kernels import rowhash

    out = np.empty(X.shape[0], dtype=np.uint64)
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        if not X.has_canonical_format:
            X = X.copy()
            X.sum_duplicates()
        bits, sign_free = _value_bits(np.ascontiguousarray(X.data))
        rowhash.csr_row_hashes(X.indptr, X.indices, bits, sign_free, out)
    else:
        bits, sign_free = _value_bits(np.ascontiguousarray(X))
        rowhash.dense_row_hashes(bits, sign_free, out)
    return out


def _value_bits(values):
    """The raw bits of float values (a view) and the mask that drops their sign bit."""
    if values.dtype == np.float32:
        return values.view(np.uint32), np.uint64(0x7FFFFFFF)
    if values.dtype == np.float64:
        return values.view(np.uint64), np.uint64(0x7FFFFFFFFFFFFFFF)
    raise TypeError(f"row hashes need float32 or float64 values; got {values.dtype}.")


def row_index(train_X):
    """Lookup table of the training rows: ``(sorted hashes, row of each)``.

    Rows with equal hashes are listed in increasing row order, so the first
    match of a duplicated row is its first occurrence.
    """
    hashes = row_hashes(train_X)
    order = np.argsort(hashes, kind="stable")
    return hashes[order], order.astype(np.int64)


def _rows_equal(A, B):
    """Whether row ``i`` of ``A`` equals row ``i`` of ``B`` (dense or sparse), per row."""
    if sp.issparse(A) or sp.issparse(B):
        diff = sp.csr_matrix(A) - sp.csr_matrix(B)
        return np.asarray(abs(diff).sum(axis=1)).ravel() == 0
    return np.all(np.asarray(A) == np.asarray(B), axis=1)


def match_training_rows(X, train_X, index):
    """The training row identical to each row of ``X``, or -1.

    Parameters
    ----------
    X : ndarray or sparse CSR matrix of shape (n, d)
    train_X : ndarray or sparse CSR matrix of shape (n_train, d)
    index : tuple
        :func:`row_index` of ``train_X``.

    Returns
    -------
    ndarray of shape (n,), int64
        The first training row equal to each row of ``X`` (every entry equal,
        ``0.0 == -0.0``), -1 where there is none.
    """
    sorted_hashes, order = index
    n = X.shape[0]
    match = np.full(n, -1, dtype=np.int64)
    if n == 0 or sorted_hashes.size == 0:
        return match
    hashes = row_hashes(X)
    pos = np.searchsorted(sorted_hashes, hashes, side="left")
    inside = pos < sorted_hashes.size
    # Candidates: the training rows with the same hash, first occurrence first. A
    # collision (equal hash, different row) moves on to the next candidate.
    pending = np.flatnonzero(inside)
    pending = pending[sorted_hashes[pos[pending]] == hashes[pending]]
    while pending.size:
        cand = order[pos[pending]]
        same = _rows_equal(X[pending], train_X[cand])
        match[pending[same]] = cand[same]
        pending = pending[~same]
        pos[pending] += 1
        ok = pos[pending] < sorted_hashes.size
        pending = pending[ok]
        pending = pending[sorted_hashes[pos[pending]] == hashes[pending]]
    return match


def match_zero_distance(D):
    """For precomputed distances: the first training point at distance 0 of each row, or -1.

    Parameters
    ----------
    D : ndarray or sparse matrix of shape (n, n_train)
        Distances of new points to the training points; a sparse matrix is read
        as dense, as :func:`densumap.neighbors.query_neighbors` reads it.
    """
    D = D.toarray() if sp.issparse(D) else np.asarray(D)
    zero = D == 0
    return np.where(zero.any(axis=1), zero.argmax(axis=1), -1).astype(np.int64)


def merge_placements(n, dim, parts, radii):
    """One :class:`Placement` of ``n`` rows from ``(rows, Placement)`` parts.

    The radii are merged when ``radii`` (every part then has them), else None.
    """
    embedding = np.empty((n, dim), dtype=np.float32)
    rad_orig = np.empty(n) if radii else None
    rad_emb = np.empty(n) if radii else None
    for rows, part in parts:
        embedding[rows] = part.embedding
        if radii:
            rad_orig[rows] = part.rad_orig
            rad_emb[rows] = part.rad_emb
    return Placement(embedding, rad_orig, rad_emb)


def membership_rows(match, new, weights, nb_indices, graph):
    """``transform_mode="graph"``: the membership graph of a batch of rows.

    Parameters
    ----------
    match : ndarray of shape (n,), int
        Fitted row identical to each row, or -1 (:func:`match_training_rows`).
    new : ndarray of shape (n_new,), int
        The rows with ``match == -1``, in increasing order.
    weights : ndarray of shape (n_new, k)
        Their one-sided memberships (:func:`memberships`).
    nb_indices : ndarray of shape (n_new, k)
        Their nearest fitted rows.
    graph : csr_matrix of shape (n_fitted, n_fitted)
        The model's ``graph_``: matched rows take their row of it.

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n, n_fitted), float32
        Sorted indices, no explicit zeros.
    """
    n, n_fit = match.shape[0], graph.shape[1]
    w = np.asarray(weights, dtype=np.float32)
    keep = w > 0
    new_rows = sp.csr_matrix(
        (w[keep], np.asarray(nb_indices)[keep].astype(np.int64),
         np.concatenate([[0], np.cumsum(keep.sum(axis=1))])), shape=(new.size, n_fit))
    old = np.flatnonzero(match >= 0)
    # Stack the two blocks, then put every row back in its place.
    stacked = sp.vstack([new_rows, sp.csr_matrix(graph, dtype=np.float32)[match[old]]],
                        format="csr")
    place = np.empty(n, dtype=np.int64)
    place[new] = np.arange(new.size)
    place[old] = new.size + np.arange(old.size)
    out = sp.csr_matrix(stacked[place], dtype=np.float32)
    out.sum_duplicates()
    out.sort_indices()
    out.eliminate_zeros()
    return out
