"""Embedding spaces other than the euclidean one (``UMAP(output_metric=...)``).

The names and their meaning follow umap-learn 0.5.12's ``output_metric``: every
metric it optimises with a gradient, plus a user's numba function
``f(x, y, *args) -> (distance, gradient)``; ``output_metric_kwds`` gives the
extra arguments (for a user's function, its values in order, as umap-learn
passes them).  "euclidean" (and "l2") keep the fast euclidean kernel
(:mod:`densumap._kernels.sgd`); every other metric runs
:mod:`densumap._kernels.sgd_metric`, which uses the metric's distance and
gradient in place of the squared euclidean distance, with the same curve
``(a, b)``, the same sampling schedule and the same per-row random streams, so
results are bit-identical for any thread count.

Initialisation is the one of the plane, as in umap-learn: the spectral (or
PCA, random) layout with every axis scaled to [0, 10], read as the space's own
coordinates (angles in radians for "haversine").  The kernel needs no
coordinate constraint: every supported parameterisation is valid on all of
R^dim (umap-learn's reason for the sphere's wrapping angles and the
hyperboloid's free ``x, y``).

After a fit or a transform, Gaussian embeddings are written in one canonical
form (same Gaussians, same distances): variances as absolute values and the
angle of "gaussian_energy" in [-pi/2, pi/2) (an ellipse is unchanged by a half
turn).  umap-learn's kernel takes the absolute values by writing into the
embedding during the optimisation, and folds the angle with ``arcsin(sin t)``,
which mirrors ellipses whose angle lies outside [-pi/2, pi/2]; the distance
here keeps every angle as it is.
"""
from numbers import Real
from typing import NamedTuple

import numpy as np

from ._kernels import output_metrics as _om
from ._kernels import sgd_metric as _sm

EUCLIDEAN_NAMES = ("euclidean", "l2")


class _Spec(NamedTuple):
    code: int
    dims: tuple  # (smallest, largest) n_components; None for no bound
    kwds: tuple  # names of the keyword arguments the metric takes, in order
    start: str  # how transform starts a new point (start_positions)


_SPECS = {
    "manhattan": _Spec(_om.MANHATTAN, (1, None), (), "mean"),
    "chebyshev": _Spec(_om.CHEBYSHEV, (1, None), (), "mean"),
    "minkowski": _Spec(_om.MINKOWSKI, (1, None), ("p",), "mean"),
    "seuclidean": _Spec(_om.SEUCLIDEAN, (1, None), ("sigma",), "mean"),
    "wminkowski": _Spec(_om.WMINKOWSKI, (1, None), ("w", "p"), "mean"),
    "mahalanobis": _Spec(_om.MAHALANOBIS, (1, None), ("vinv",), "mean"),
    "canberra": _Spec(_om.CANBERRA, (1, None), (), "mean"),
    "braycurtis": _Spec(_om.BRAYCURTIS, (1, None), (), "mean"),
    "cosine": _Spec(_om.COSINE, (2, None), (), "mean"),
    "correlation": _Spec(_om.CORRELATION, (2, None), (), "mean"),
    "softmax_hellinger": _Spec(_om.SOFTMAX_HELLINGER, (2, None), (), "mean"),
    "haversine": _Spec(_om.HAVERSINE, (2, 2), (), "sphere"),
    "hyperboloid": _Spec(_om.HYPERBOLOID, (1, None), (), "hyperboloid"),
    "gaussian_energy": _Spec(_om.GAUSSIAN_ENERGY, (5, 5), (), "nearest"),
    "spherical_gaussian_energy": _Spec(_om.SPHERICAL_GAUSSIAN_ENERGY, (3, 3), (), "mean"),
    "diagonal_gaussian_energy": _Spec(_om.DIAGONAL_GAUSSIAN_ENERGY, (4, 4), (), "mean"),
}

_ALIASES = {
    "taxicab": "manhattan", "l1": "manhattan",
    "linfinity": "chebyshev", "linfty": "chebyshev", "linf": "chebyshev",
    "standardised_euclidean": "seuclidean", "weighted_minkowski": "wminkowski",
}

# Every string ``output_metric`` accepts.
OUTPUT_METRICS = frozenset(EUCLIDEAN_NAMES) | frozenset(_SPECS) | frozenset(_ALIASES)

# umap-learn names refused here, with the reason.
_REFUSED = {
    "precomputed": "an embedding has coordinates, not a distance matrix",
    "hellinger": ("its points must stay non-negative, which gradient steps do not keep; "
                  "'softmax_hellinger' is the same distance on unconstrained coordinates"),
    "symmetric_kl": ("umap-learn's version renormalises the points it is given in place "
                     "and its gradient is not that of the distance"),
}

# Columns of the Gaussian embeddings stored as absolute values (canonical).
_VARIANCE_COLUMNS = {"gaussian_energy": (2, 3), "spherical_gaussian_energy": (2,),
                     "diagonal_gaussian_energy": (2, 3)}

_EMPTY_VEC = np.zeros(0, dtype=np.float64)
_EMPTY_MAT = np.zeros((0, 0), dtype=np.float64)


class OutputMetric(NamedTuple):
    """A resolved non-euclidean ``output_metric``.

    ``name`` is the canonical name ("custom" for a user's function); ``kw`` the
    argument the kernels pass to the metric: ``(code, p, vec, mat)`` for a
    built-in one, ``(fn, args)`` for a user's.
    """

    name: str
    kw: tuple
    start: str

    @property
    def custom(self):
        return self.name == "custom"

    def epoch(self, head, tail, sched, p, row_keys, neg_tail, neg_inv):
        """One SGD epoch (arguments as :func:`densumap._kernels.sgd.sgd_blocks`, no density)."""
        if not self.custom:
            _sm.metric_epoch(head, tail, sched, p, row_keys, neg_tail, neg_inv, self.kw)
            return
        fn, args = self.kw
        _in_threads(head.shape[0], lambda r0, r1: _sm.custom_rows(
            fn, args, r0, r1, head, tail, sched, p, row_keys, neg_tail, neg_inv))

    def knn(self, query, train, k):
        """Exact ``k`` nearest rows of ``train`` for every row of ``query`` in this metric.

        Returns ``(indices, dists)``, each of shape (n_query, k), nearest first.
        """
        query = np.ascontiguousarray(query, dtype=np.float32)
        train = np.ascontiguousarray(train, dtype=np.float32)
        if not self.custom:
            return _sm.metric_knn(query, train, int(k), self.kw)
        fn, args = self.kw
        out_i = np.empty((query.shape[0], k), dtype=np.int64)
        out_d = np.empty((query.shape[0], k), dtype=np.float64)
        _in_threads(query.shape[0], lambda q0, q1: _sm.custom_knn_rows(
            fn, args, q0, q1, query, train, int(k), out_i, out_d))
        return out_i, out_d

    def pair_dists(self, A, ia, B, ib):
        """``d(A[ia[e]], B[ib[e]])`` for every ``e`` (float64)."""
        A = np.ascontiguousarray(A, dtype=np.float32)
        B = np.ascontiguousarray(B, dtype=np.float32)
        ia = np.ascontiguousarray(ia, dtype=np.int64)
        ib = np.ascontiguousarray(ib, dtype=np.int64)
        if not self.custom:
            return _sm.metric_pair_dists(A, ia, B, ib, self.kw)
        fn, args = self.kw
        out = np.empty(ia.shape[0], dtype=np.float64)
        _in_threads(ia.shape[0], lambda e0, e1: _sm.custom_pair_rows(
            fn, args, e0, e1, A, ia, B, ib, out))
        return out


# Rows per task when a user's metric runs on Python threads (no effect on results).
_TASK_ROWS = 1024


def _in_threads(n, run):
    """``run(lo, hi)`` over ``0:n`` in fixed ranges, on ``numba.get_num_threads()`` threads.

    The kernels release the GIL and each range writes only its own rows, so the
    result is the same for any number of threads.
    """
    import numba

    bounds = list(range(0, n, _TASK_ROWS)) + [n]
    tasks = list(zip(bounds[:-1], bounds[1:]))
    threads = min(numba.get_num_threads(), len(tasks))
    if threads <= 1:
        for lo, hi in tasks:
            run(lo, hi)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(threads, thread_name_prefix="densumap") as pool:
        for future in [pool.submit(run, lo, hi) for lo, hi in tasks]:
            future.result()


def is_euclidean(output_metric):
    """True for the metrics that use the euclidean kernel ("euclidean", "l2")."""
    return isinstance(output_metric, str) and output_metric.lower() in EUCLIDEAN_NAMES


def refused_reason(output_metric):
    """Why umap-learn's ``output_metric`` name is not supported here (None if it is)."""
    if isinstance(output_metric, str):
        return _REFUSED.get(output_metric)
    return None


def resolve(output_metric, output_metric_kwds, n_components):
    """Check ``output_metric`` with its ``output_metric_kwds`` for ``n_components``.

    Parameters
    ----------
    output_metric : str or numba function
    output_metric_kwds : dict or None
    n_components : int

    Returns
    -------
    OutputMetric, or None for the euclidean metric.

    Raises
    ------
    ValueError or TypeError naming the parameter and the value.
    """
    kwds = {} if output_metric_kwds is None else output_metric_kwds
    if not isinstance(kwds, dict):
        raise TypeError(f"output_metric_kwds must be a dict or None; got "
                        f"{type(output_metric_kwds).__name__}: {output_metric_kwds!r}.")
    if callable(output_metric):
        return _resolve_custom(output_metric, kwds, n_components)
    reason = refused_reason(output_metric)
    if reason is not None:
        raise ValueError(f"output_metric={output_metric!r} is not supported: {reason}.")
    if not isinstance(output_metric, str) or output_metric not in OUTPUT_METRICS:
        raise ValueError(
            f"output_metric must be one of {sorted(OUTPUT_METRICS)} or a numba-compiled "
            f"function f(x, y, ...) -> (distance, gradient); got {output_metric!r}.")
    if is_euclidean(output_metric):
        if kwds:
            raise ValueError(f"output_metric={output_metric!r} takes no output_metric_kwds; "
                             f"got output_metric_kwds={kwds!r}.")
        return None
    name = _ALIASES.get(output_metric, output_metric)
    spec = _SPECS[name]
    lo, hi = spec.dims
    if n_components < lo or (hi is not None and n_components > hi):
        need = f"n_components={lo}" if lo == hi else f"n_components >= {lo}"
        raise ValueError(f"output_metric={output_metric!r} needs {need}; got "
                         f"n_components={n_components}.")
    unknown = sorted(set(kwds) - set(spec.kwds))
    if unknown:
        raise ValueError(
            f"output_metric_kwds has keys that output_metric={output_metric!r} does not use: "
            f"{unknown} (it accepts: {list(spec.kwds) or 'none'}); got output_metric_kwds="
            f"{kwds!r}.")
    p = _check_p(kwds.get("p", 2.0))
    vec, mat = _EMPTY_VEC, _EMPTY_MAT
    if name == "seuclidean":
        vec = _check_vector(kwds.get("sigma"), "sigma", n_components, positive=True)
    elif name == "wminkowski":
        vec = _check_vector(kwds.get("w"), "w", n_components, positive=False)
    elif name == "mahalanobis":
        mat = _check_vinv(kwds.get("vinv"), n_components)
    return OutputMetric(name, (np.int64(spec.code), p, vec, mat), spec.start)


def _check_p(p):
    if isinstance(p, bool) or not isinstance(p, Real) or not np.isfinite(p) or p <= 0:
        raise ValueError(f"output_metric_kwds['p'] must be a positive, finite number; "
                         f"got {p!r}.")
    return float(p)


def _check_vector(v, key, dim, positive):
    if v is None:
        return np.ones(dim, dtype=np.float64)
    arr = np.asarray(v, dtype=np.float64) if _numeric(v) else None
    if arr is None or arr.shape != (dim,) or not np.all(np.isfinite(arr)) or (
            np.any(arr <= 0) if positive else np.any(arr < 0)):
        sign = "positive" if positive else "non-negative"
        raise ValueError(f"output_metric_kwds[{key!r}] must be {sign} finite numbers, one per "
                         f"component (shape ({dim},)); got {v!r}.")
    return np.ascontiguousarray(arr)


def _check_vinv(v, dim):
    if v is None:
        return np.eye(dim, dtype=np.float64)
    arr = np.asarray(v, dtype=np.float64) if _numeric(v) else None
    if arr is None or arr.shape != (dim, dim) or not np.all(np.isfinite(arr)):
        raise ValueError(f"output_metric_kwds['vinv'] must be a finite ({dim}, {dim}) matrix; "
                         f"got {v!r}.")
    return np.ascontiguousarray(arr)


def _numeric(v):
    try:
        return np.asarray(v).dtype.kind in "iuf"
    except (TypeError, ValueError):
        return False


def _resolve_custom(fn, kwds, n_components):
    """Check a user's metric once on two points, as the kernels will call it."""
    from numba.core.dispatcher import Dispatcher

    what = getattr(fn, "__name__", repr(fn))
    if not isinstance(fn, Dispatcher):
        raise TypeError(
            f"output_metric must be a numba-compiled function (decorate {what} with "
            f"@numba.njit) f(x, y, *output_metric_kwds.values()) -> (distance, gradient), "
            f"since the optimisation calls it from compiled code; got {fn!r}.")
    args = tuple(kwds.values())
    # Two points on umap-learn's check interval; fixed, so the check is reproducible.
    x, y = np.random.default_rng(0).uniform(-10.0, 10.0, size=(2, n_components)).astype(
        np.float32)
    call = f"output_metric {what}(x, y, *output_metric_kwds.values())"
    try:
        out = fn(x.copy(), y.copy(), *args)
    except Exception as exc:
        raise ValueError(f"{call} failed on two points of dimension n_components="
                         f"{n_components}: {type(exc).__name__}: {str(exc)[:500]}") from exc
    if not isinstance(out, tuple) or len(out) != 2:
        raise ValueError(f"{call} must return a tuple (distance, gradient), as umap-learn "
                         f"requires of an output metric; got {type(out).__name__}: {out!r}.")
    d, grad = out
    grad = np.asarray(grad)
    if (not isinstance(d, (Real, np.floating, np.integer)) or grad.shape != (n_components,)
            or grad.dtype.kind not in "iuf"):
        raise ValueError(f"{call} must return (float, array of shape ({n_components},)) for "
                         f"n_components={n_components}; got ({d!r}, array of shape "
                         f"{grad.shape} and dtype {grad.dtype}).")
    metric = OutputMetric("custom", (fn, args), "nearest")
    try:
        # Compiles the call as the kernels make it (the same argument types).
        metric.pair_dists(x[None], [0], y[None], [0])
    except Exception as exc:
        raise TypeError(f"{call} cannot be called from compiled code with these "
                        f"output_metric_kwds values ({args!r}): {str(exc)[:500]}") from exc
    return metric


def start_positions(metric, weights, nb_indices, train_embedding):
    """Where ``transform`` starts each new point, from its training neighbours.

    The membership-weighted mean in spaces whose coordinates are linear; on the
    sphere and the hyperboloid the same mean taken in the surrounding space and
    projected back (a plain mean of angles fails across the wrap); elsewhere
    (``gaussian_energy``'s angle, a user's metric) the neighbour of largest
    membership.

    Returns
    -------
    ndarray of shape (n_new, dim), float32
    """
    w = np.array(weights, dtype=np.float64)
    empty = w.sum(axis=1) <= 0
    w[empty] = 1.0
    w /= w.sum(axis=1, keepdims=True)
    pts = train_embedding[nb_indices].astype(np.float64)  # (n, k, dim)
    if metric.start == "nearest":
        pos = pts[np.arange(pts.shape[0]), np.argmax(w, axis=1)]
    elif metric.start == "sphere":
        theta, phi = pts[..., 0], pts[..., 1]
        xyz = np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi),
                        np.cos(theta)], axis=-1)
        m = np.einsum("nk,nkd->nd", w, xyz)
        norm = np.linalg.norm(m, axis=1)
        pos = np.stack([np.arccos(np.clip(m[:, 2] / np.where(norm > 0, norm, 1.0), -1, 1)),
                        np.arctan2(m[:, 1], m[:, 0])], axis=1)
        # Neighbours spread evenly round the sphere have no mean: take the strongest.
        flat = norm < 1e-9
        pos[flat] = pts[np.flatnonzero(flat), np.argmax(w[flat], axis=1)]
    elif metric.start == "hyperboloid":
        z = np.sqrt(1.0 + (pts ** 2).sum(axis=2))
        mx = np.einsum("nk,nkd->nd", w, pts)
        mz = np.einsum("nk,nk->n", w, z)
        # A mean of points of the upper sheet lies inside it; scale it back onto it.
        pos = mx / np.sqrt(np.maximum(mz ** 2 - (mx ** 2).sum(axis=1), 1e-300))[:, None]
    else:
        pos = np.einsum("nk,nkd->nd", w, pts)
    return np.ascontiguousarray(pos, dtype=np.float32)


def canonical(metric, embedding):
    """Write Gaussian embeddings in canonical form, in place (module docstring)."""
    if metric is None or metric.custom:
        return embedding
    for c in _VARIANCE_COLUMNS.get(metric.name, ()):
        np.abs(embedding[:, c], out=embedding[:, c])
    if metric.name == "gaussian_energy":
        t = embedding[:, 4].astype(np.float64)
        embedding[:, 4] = t - np.pi * np.floor((t + 0.5 * np.pi) / np.pi)
    return embedding


def log_radii(metric, graph, embedding, knn_indices):
    """Embedding log local radii (``output_dens``) measured with the output metric.

    As :func:`densumap.density.embedding_log_radii` (which it is for ``metric``
    None, the euclidean space), with ``d**2`` the square of the metric's distance
    (negative Gaussian energies count as 0).
    """
    if metric is None:
        from .density import embedding_log_radii

        return embedding_log_radii(graph, embedding, knn_indices)
    from ._kernels.density import weighted_log_radii

    indptr = graph.indptr
    rows = np.repeat(np.arange(graph.shape[0]), np.diff(indptr))
    d = np.maximum(metric.pair_dists(embedding, rows, embedding, graph.indices), 0.0)
    out = weighted_log_radii(indptr, graph.indices, graph.data.astype(np.float64), d * d)
    missing = np.flatnonzero(np.isnan(out))
    if missing.size:
        from ._kernels.density import RADIUS_EPS

        nb = knn_indices[missing, 1:]
        valid = nb >= 0
        ia = np.repeat(missing, nb.shape[1])
        dn = np.maximum(metric.pair_dists(embedding, ia, embedding,
                                          np.where(valid, nb, 0).ravel()), 0.0)
        sq = np.where(valid, (dn * dn).reshape(nb.shape), 0.0)
        out[missing] = np.log(RADIUS_EPS + sq.sum(axis=1) / np.maximum(valid.sum(axis=1), 1))
    return out


def sq_dists(metric, points, train_embedding, nb_indices):
    """Squared output-metric distances from each point to its listed neighbours."""
    n, k = nb_indices.shape
    ia = np.repeat(np.arange(n), k)
    d = np.maximum(metric.pair_dists(points, ia, train_embedding, nb_indices.ravel()), 0.0)
    return (d * d).reshape(n, k)
