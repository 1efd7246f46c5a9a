"""AlignedUMAP's numerics: relations between slices, initial alignment, the joint epochs.

Verb pipeline: ``relations -> relation matrices -> window links (chained over
alignment_window_size slices, weighted by neighbourhood similarity) ->
Procrustes-aligned initial layouts -> joint epochs`` (``_kernels.aligned_sgd``).

A relation between slices ``s`` and ``t`` is a binary sparse matrix ``P`` of shape
``(n_s, n_t)``: ``P[i, j] = 1`` when row ``i`` of slice ``s`` is the same entity as
row ``j`` of slice ``t``.  The user gives the matrices between consecutive slices
(as dictionaries); those further apart are their products, and the backward ones
their transposes, so a relation may be partial, and many-to-one or one-to-many.
"""
import contextlib
import logging
from numbers import Integral
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from ._kernels.aligned_sgd import AlignmentLinks, SliceTable, aligned_epoch, pair_jaccard
from ._kernels.density import vertex_terms
from ._kernels.clocks import negative_rate, sample_rates
from ._kernels.graph import shuffle_rows
from ._kernels.sgd import NO_DENSITY, DensityTerms, EdgeSchedule
from ._threads import pool_threads, task_pool
from .density import correlation_state
from .layout import density_active

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------ relations
def relation_pairs(relation, n_from, n_to, name):
    """Check one relation dictionary and return it as two int64 arrays.

    Parameters
    ----------
    relation : mapping
        ``{row in the first slice: row in the second slice}``.
    n_from, n_to : int
        Rows of the two slices.
    name : str
        How to name the relation in errors, e.g. ``"relations[2]"``.

    Returns
    -------
    keys, values : ndarray of shape (n_pairs,), int64
    """
    if not hasattr(relation, "items"):
        raise TypeError(
            f"{name} must be a dict mapping row indices of one slice to row indices of "
            f"the next; got {type(relation).__name__}."
        )
    pairs = list(relation.items())
    for key, value in pairs:
        for what, v in (("key", key), ("value", value)):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, Integral):
                raise TypeError(
                    f"{name} must map integer row indices to integer row indices; its "
                    f"{what} {v!r} (in {key!r}: {value!r}) is a {type(v).__name__}."
                )
    keys = np.fromiter((int(k) for k, _ in pairs), dtype=np.int64, count=len(pairs))
    values = np.fromiter((int(v) for _, v in pairs), dtype=np.int64, count=len(pairs))
    for what, arr, n in (("key", keys, n_from), ("value", values, n_to)):
        bad = (arr < 0) | (arr >= n)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{name} has {what} {int(arr[k])} (in {int(keys[k])}: {int(values[k])}) "
                f"outside the rows of its slice: {what}s must lie in [0, {n}); "
                f"{int(bad.sum())} of its {arr.size} {what}s do not."
            )
    return keys, values


def relation_matrix(keys, values, n_from, n_to, inverse_from=None, inverse_to=None):
    """Binary CSR matrix ``P`` of shape ``(n_from, n_to)`` with ``P[key, value] = 1``.

    ``inverse_from`` / ``inverse_to`` (``unique_inverse_`` of ``unique=True`` slices)
    map rows to distinct rows first; ``n_from`` / ``n_to`` then count distinct rows.
    """
    if inverse_from is not None:
        keys = inverse_from[keys]
    if inverse_to is not None:
        values = inverse_to[values]
    P = sp.csr_matrix((np.ones(keys.size), (keys, values)), shape=(n_from, n_to))
    return _binary(P)


def _binary(M):
    M = sp.csr_matrix(M)
    M.sum_duplicates()
    M.eliminate_zeros()
    M.data[:] = 1.0
    M.sort_indices()
    return M


def _chained(rel, s, t):
    """Relation matrix from slice ``s`` to slice ``t`` (``rel[u]`` links u to u + 1)."""
    if t > s:
        P = rel[s]
        for u in range(s + 1, t):
            P = _binary(P @ rel[u])
        return P
    P = rel[s - 1].T.tocsr()
    for u in range(s - 2, t - 1, -1):
        P = _binary(P @ rel[u].T)
    return _binary(P)


def neighbourhood_similarity(P, graph_s, graph_t):
    """Jaccard similarity of the neighbourhoods of every related pair ``P[i, j]``.

    The neighbours of ``i`` (in ``graph_s``) are carried into slice ``t`` through
    ``P``; those of ``j`` (in ``graph_t``) are kept only where ``P`` reaches.  A
    related pair whose neighbourhoods agree is held together fully; one whose
    neighbourhood changed between the slices is left freer to move (umap-learn's
    weighting).

    Returns
    -------
    rows, cols : ndarray of shape (n_pairs,), int64
    similarity : ndarray of shape (n_pairs,), float64
    """
    P = P.tocoo()
    rows = P.row.astype(np.int64)
    cols = P.col.astype(np.int64)
    carried = _binary(_binary(graph_s) @ P)
    reached = (np.asarray(P.sum(axis=0)).ravel() > 0).astype(np.float64)
    kept = _binary(_binary(graph_t) @ sp.diags(reached))
    sim = pair_jaccard(carried.indptr.astype(np.int64), carried.indices.astype(np.int64),
                       kept.indptr.astype(np.int64), kept.indices.astype(np.int64), rows, cols)
    return rows, cols, sim


def window_links(rel, graphs, starts, window, strength, first_slice=0):
    """Related points of every row of slices ``first_slice:`` within ``window`` slices.

    Parameters
    ----------
    rel : list of csr_matrix
        ``rel[s]`` relates slice ``s`` to ``s + 1`` (distinct rows).
    graphs : list of csr_matrix
        Fuzzy graph of each slice.
    starts : ndarray of shape (S + 1,)
        First global row of each slice.
    window : int
        ``alignment_window_size``: slices up to this far on either side.
    strength : float
        ``alignment_regularisation``; a link ``k`` slices away weighs
        ``strength * exp(-(k - 1)) * similarity`` (umap-learn's decay).
    first_slice : int
        Rows of earlier slices get no links (they do not move).

    Returns
    -------
    csr_matrix of shape (N, N), float64
        Row ``i`` holds the weights of its related points (global rows).
    """
    n_total = int(starts[-1])
    S = len(graphs)
    rows, cols, vals = [], [], []
    if strength > 0.0:
        for s in range(first_slice, S):
            for t in range(max(0, s - window), min(S, s + window + 1)):
                if t == s:
                    continue
                P = _chained(rel, s, t)
                if P.nnz == 0:
                    continue
                i, j, sim = neighbourhood_similarity(P, graphs[s], graphs[t])
                w = strength * np.exp(-(abs(t - s) - 1.0)) * sim
                keep = w > 0.0
                rows.append(i[keep] + starts[s])
                cols.append(j[keep] + starts[t])
                vals.append(w[keep])
    if rows:
        rows, cols, vals = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    else:
        rows = cols = np.zeros(0, dtype=np.int64)
        vals = np.zeros(0)
    L = sp.csr_matrix((vals, (rows, cols)), shape=(n_total, n_total))
    L.sum_duplicates()
    L.sort_indices()
    return L


# --------------------------------------------------------------------- init
def procrustes_onto(base, moving, base_rows, moving_rows):
    """``moving`` rotated (or reflected) and shifted so its anchors best fit ``base``'s.

    Orthogonal Procrustes on the centred anchor sets, no scaling (both layouts come
    from the same initialisation and share its scale).  With fewer than two anchors
    ``moving`` is returned unchanged.

    Returns
    -------
    ndarray like ``moving``, float32
    """
    if base_rows.size < 2:
        return np.ascontiguousarray(moving, dtype=np.float32)
    A = base[base_rows].astype(np.float64)
    B = moving[moving_rows].astype(np.float64)
    mu_a, mu_b = A.mean(axis=0), B.mean(axis=0)
    U, _, Vt = np.linalg.svd((B - mu_b).T @ (A - mu_a))
    R = U @ Vt
    out = (moving.astype(np.float64) - mu_b) @ R + mu_a
    return np.ascontiguousarray(out, dtype=np.float32)


def init_from_previous(previous, graph, new_rows, prev_rows, rng):
    """Initial layout of an appended slice from the last slice's embedding.

    A related row starts where its partner is; an unrelated one at the
    membership-weighted mean of its related graph neighbours' starts; one with
    none of those uniformly at random in the bounding box of ``previous``.

    Parameters
    ----------
    previous : ndarray of shape (n_prev, dim)
    graph : csr_matrix of shape (n_new, n_new)
    new_rows, prev_rows : ndarray of shape (n_pairs,), int64
        Related pairs; a new row related to several previous rows starts at their mean.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of shape (n_new, dim), float32
    """
    n, dim = graph.shape[0], previous.shape[1]
    sums = np.zeros((n, dim))
    counts = np.zeros(n)
    np.add.at(sums, new_rows, previous[prev_rows].astype(np.float64))
    np.add.at(counts, new_rows, 1.0)
    related = counts > 0
    out = np.zeros((n, dim))
    out[related] = sums[related] / counts[related, None]
    W = sp.csr_matrix(graph, dtype=np.float64)
    weight = W @ related.astype(np.float64)
    spread = W @ out
    inner = ~related & (weight > 0)
    out[inner] = spread[inner] / weight[inner, None]
    rest = ~related & ~inner
    if rest.any():
        lo, hi = previous.min(axis=0), previous.max(axis=0)
        out[rest] = rng.uniform(lo, hi, size=(int(rest.sum()), dim))
    return np.ascontiguousarray(out, dtype=np.float32)


# --------------------------------------------------------------- the epochs
class SliceProblem(NamedTuple):
    """One slice, ready for the joint optimisation."""

    embedding: np.ndarray  # (n, dim) float32, initial positions
    graph: "sp.csr_matrix"  # pruned layout graph, sorted indices
    params: "object"  # densumap.layout.LayoutParams of this slice
    target: "object"  # densumap.density.DensityTarget or None (no DensMAP)


def _schedule(graph, problems, starts):
    """Sampling schedule of the block-diagonal graph, each slice's rates relative to its
    own largest weight (:func:`densumap._kernels.clocks.sample_rates` on each slice's
    edges); each slice's negative-sample rate goes in the slice table."""
    rates = np.empty(graph.data.shape, dtype=np.uint32)  # every edge lies in one slice
    for s in range(len(problems)):
        lo, hi = graph.indptr[starts[s]], graph.indptr[starts[s + 1]]
        if hi > lo:
            ws = graph.data[lo:hi]
            rates[lo:hi] = sample_rates(ws, float(ws.max()))
    return EdgeSchedule(np.ascontiguousarray(graph.indptr, dtype=np.int64),
                        np.ascontiguousarray(graph.indices, dtype=np.int32), rates, 0)


def _regulariser_steps(graph, problems, starts):
    """``m_i = (1 + negative_sample_rate) * sum_e w_e / w_max`` for every row."""
    steps = np.zeros(graph.shape[0])
    for s, prob in enumerate(problems):
        g = prob.graph
        if g.nnz == 0:
            continue
        per_row = np.asarray(g.sum(axis=1)).ravel() / float(g.data.max())
        steps[starts[s]:starts[s + 1]] = (1.0 + prob.params.negative_sample_rate) * per_row
    return steps


def optimize_aligned(problems, links, n_epochs, seed, first_moving=0, progress=None):
    """Optimise the slices jointly; return their embeddings.

    Parameters
    ----------
    problems : list of SliceProblem
    links : csr_matrix of shape (N, N)
        From :func:`window_links`.
    n_epochs : int
    seed : int
    first_moving : int
        Slices before this one are frozen (read, never moved).
    progress : callable or None
        Called after every epoch.

    Returns
    -------
    list of ndarray of shape (n_s, dim), float32
    """
    sizes = [p.embedding.shape[0] for p in problems]
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    work = np.ascontiguousarray(np.concatenate([p.embedding for p in problems]),
                                dtype=np.float32)
    graph = sp.block_diag([p.graph for p in problems], format="csr", dtype=np.float32)
    graph.sort_indices()
    useed = np.uint64(seed)
    # A pseudo-random order of each row's attractions, as in densumap.layout.
    shuffle_rows(graph.indptr, graph.indices, graph.data, useed)
    sched = _schedule(graph, problems, starts)
    row_slice = np.repeat(np.arange(len(problems), dtype=np.int64), sizes)
    table_params = np.zeros((len(problems), 5))
    for s, p in enumerate(problems):
        table_params[s, :3] = (p.params.a, p.params.b, p.params.repulsion_strength)
        table_params[s, 4] = negative_rate(p.params.negative_sample_rate)
    table = SliceTable(row_slice, starts, table_params)
    alink = AlignmentLinks(links.indptr.astype(np.int64), links.indices.astype(np.int64),
                           links.data.astype(np.float64),
                           _regulariser_steps(graph, problems, starts))
    mass = [(float(p.graph.data.sum()), float(p.graph.data.max())) if p.graph.nnz
            else (0.0, 1.0) for p in problems]
    snapshot = np.empty_like(work)
    row_lo = int(starts[first_moving])
    with contextlib.ExitStack() as stack:
        # One pool for every density epoch's embedding radii (not one per slice and
        # epoch); None without DensMAP slices.
        pool = (task_pool(pool_threads(oversubscribe=False), stack)
                if any(p.target is not None for p in problems[first_moving:]) else None)
        for epoch in range(n_epochs):
            decay = 1.0 - epoch / float(n_epochs)
            for s, p in enumerate(problems):
                table_params[s, 3] = p.params.learning_rate * decay
            snapshot[:] = work
            dens = _density_terms(problems, snapshot, starts, epoch, mass, first_moving,
                                  pool)
            aligned_epoch(work, snapshot, sched, table, alink, dens, epoch, useed, row_lo,
                          int(starts[-1]))
            if progress is not None:
                progress()
    return [work[starts[s]:starts[s + 1]].copy() for s in range(len(problems))]


def _density_terms(problems, snapshot, starts, epoch, mass, first_moving, pool=None):
    """DensMAP terms of every moving slice whose density window is open, or none.

    Each slice's correlation is computed on its own graph and radii; its scale
    ``lambda * mu_tot / (mu_max * n_active * s)`` is folded into the first column of
    its rows (the edge coefficient is linear in it), so one kernel serves slices of
    different scales. ``pool`` runs the embedding radii (:mod:`densumap._threads`).
    """
    terms = None
    for s in range(first_moving, len(problems)):
        p = problems[s]
        if p.target is None or not density_active(epoch, p.params):
            continue
        lo, hi = starts[s], starts[s + 1]
        state = correlation_state(snapshot[lo:hi], p.graph, p.target, p.params.a,
                                  p.params.b, p.params.dens_var_shift, pool)
        if not state.n_active:
            continue
        mu_tot, mu_max = mass[s]
        scale = p.params.dens_lambda * mu_tot / (mu_max * state.n_active * state.s)
        t = vertex_terms(state.mean_sq, state.phi_sum, state.weight)
        t[:, 0] *= scale
        if terms is None:
            terms = np.zeros((snapshot.shape[0], 3), dtype=np.float32)
        terms[lo:hi] = t
    if terms is None:
        return NO_DENSITY
    return DensityTerms(terms, 1.0)
