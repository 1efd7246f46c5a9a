"""Input metrics beyond the built-in ones: names, keyword arguments, users' functions.

The built-in metrics (euclidean, manhattan, chebyshev, minkowski, cosine, correlation
and precomputed; :data:`densumap.neighbors.METRIC_ALIASES`) keep their own searches.
This module describes the others, which all go through the generic kernels of
:mod:`densumap.metric_search`:

* the named metrics of umap-learn that those do not cover (:data:`NAMED_METRICS`),
  with umap-learn's names and aliases;
* a user's function ``f(x, y, *args) -> float`` of two dense rows, compiled with
  numba (a ``numba.njit`` function, or a plain Python function that numba can
  compile), as umap-learn takes it: ``metric_kwds`` values are passed after the two
  rows *by position, in the dictionary's order*, and a function that returns
  ``(distance, gradient)`` is used for its distance.

Named metrics take their keyword arguments by name (:data:`METRIC_KWDS`), so their
order does not matter; umap-learn's positional names are accepted too (``sigma`` for
seuclidean's ``V``, ``vinv`` for mahalanobis' ``VI``).
"""
import hashlib
import numbers
from typing import Any, Callable, NamedTuple

import numba
import numpy as np

from ._kernels import metrics as _km

# Canonical name -> kernel code, and the aliases umap-learn accepts.
NAMED_METRICS = {
    "seuclidean": _km.SEUCLIDEAN,
    "wminkowski": _km.WMINKOWSKI,
    "mahalanobis": _km.MAHALANOBIS,
    "canberra": _km.CANBERRA,
    "braycurtis": _km.BRAYCURTIS,
    "hellinger": _km.HELLINGER,
    "softmax_hellinger": _km.SOFTMAX_HELLINGER,
    "haversine": _km.HAVERSINE,
    "poincare": _km.POINCARE,
    "symmetric_kl": _km.SYMMETRIC_KL,
    "hamming": _km.HAMMING,
    "matching": _km.MATCHING,
    "jaccard": _km.JACCARD,
    "dice": _km.DICE,
    "kulsinski": _km.KULSINSKI,
    "rogerstanimoto": _km.ROGERSTANIMOTO,
    "russellrao": _km.RUSSELLRAO,
    "sokalmichener": _km.SOKALMICHENER,
    "sokalsneath": _km.SOKALSNEATH,
    "yule": _km.YULE,
}
NAMED_ALIASES = {
    **{name: name for name in NAMED_METRICS},
    "standardised_euclidean": "seuclidean",
    "weighted_minkowski": "wminkowski",
}
# Codes of the built-in metrics in the generic kernels (used for a user's sparse-free
# comparisons and by the tests; the estimator routes built-ins to their own searches).
BUILTIN_CODES = {"euclidean": _km.EUCLIDEAN, "manhattan": _km.MANHATTAN,
                 "chebyshev": _km.CHEBYSHEV, "minkowski": _km.MINKOWSKI,
                 "cosine": _km.COSINE, "correlation": _km.CORRELATION}

# umap-learn names that densumap does not provide, with the reason given in the error.
NOT_PROVIDED = {
    "ll_dirichlet": "an approximate log-likelihood without a reference to test against",
    "categorical": "a target metric; use target_metric='categorical'",
    "ordinal": "a target metric for ordinal labels",
    "hierarchical_categorical": "a target metric for label hierarchies",
    "count": "a target metric for counts",
    "string": "a metric on strings, not on rows of numbers",
    "myers": "a metric on strings, not on rows of numbers",
}

# Keyword arguments of the named metrics: accepted key -> meaning.
METRIC_KWDS = {
    "seuclidean": {"V": "V", "sigma": "V"},
    "wminkowski": {"w": "w", "p": "p"},
    "mahalanobis": {"VI": "VI", "vinv": "VI", "V": "V"},
    "symmetric_kl": {"z": "z"},
}
# Metrics whose rows must be non-negative (probability-like) or have a fixed shape.
_NON_NEGATIVE = {"hellinger", "symmetric_kl"}

# Largest distance of the bounded named metrics that umap-learn disconnects at.
DISCONNECTION = {"hellinger": 1.0, "jaccard": 1.0, "dice": 1.0}


class MetricSpec(NamedTuple):
    """A resolved metric of the generic kernels."""

    name: str                 # canonical name, or the function's name for a custom one
    code: int                 # kernel code (``CUSTOM`` for a user's function)
    p: float                  # minkowski / wminkowski exponent, symmetric_kl's z
    vec: np.ndarray           # seuclidean's V or wminkowski's w (float64), else (1,)
    mat: np.ndarray           # mahalanobis' VI (float64), else (1, 1)
    func: Callable = None     # the user's function
    args: tuple = ()          # the user's metric_kwds values, in order
    label: Any = None         # what to print for ``what=...`` in messages


def is_named(metric):
    """True for a name (any case) of :data:`NAMED_ALIASES`."""
    return isinstance(metric, str) and metric.lower() in NAMED_ALIASES


def canonical_name(metric):
    """Canonical name of a named metric (see :func:`is_named`)."""
    return NAMED_ALIASES[metric.lower()]


def not_provided_error(metric, what="metric"):
    """``ValueError`` for a name umap-learn has and densumap does not, or None."""
    if isinstance(metric, str) and metric.lower() in NOT_PROVIDED:
        return ValueError(
            f"{what}={metric!r} is not available in densumap ({NOT_PROVIDED[metric.lower()]})."
        )
    return None


# ------------------------------------------------------------------------ keywords


def check_named_kwds(what, metric, kwds):
    """Validate the keyword arguments of a named metric (names and values, not shapes).

    Raises ``ValueError`` naming the parameter (``what``), the metric and the keyword.
    """
    kwds = dict(kwds or {})
    accepted = METRIC_KWDS.get(metric, {})
    unknown = sorted(set(kwds) - set(accepted))
    if unknown:
        allowed = sorted(accepted) or "none"
        raise ValueError(
            f"{what}_kwds has keys that {what}={metric!r} does not use: {unknown} "
            f"(it accepts: {allowed}); got {what}_kwds={_short(kwds)}."
        )
    given = {}
    for key, value in kwds.items():
        meaning = accepted[key]
        if meaning in given:
            raise ValueError(
                f"{what}={metric!r} got {meaning!r} twice in {what}_kwds (keys "
                f"{sorted(k for k in kwds if accepted[k] == meaning)}); give one."
            )
        given[meaning] = (key, value)
    if metric == "mahalanobis":
        if "VI" in given and "V" in given:
            raise ValueError(
                f"{what}='mahalanobis' takes either VI (inverse covariance) or V "
                f"(covariance) in {what}_kwds, not both."
            )
        if not given:
            raise ValueError(
                f"{what}='mahalanobis' needs {what}_kwds={{'VI': inverse covariance "
                f"matrix}} (or {{'V': covariance matrix}}); got {what}_kwds="
                f"{_short(kwds)}."
            )
    for required in {"seuclidean": ("V",), "wminkowski": ("w",)}.get(metric, ()):
        if required not in given:
            hint = ("e.g. {'V': X.var(axis=0, ddof=1)}" if required == "V"
                    else "a weight per feature")
            raise ValueError(
                f"{what}={metric!r} needs {what}_kwds[{required!r}] ({hint}); got "
                f"{what}_kwds={_short(kwds)}."
            )
    for meaning, (key, value) in given.items():
        label = f"{what}_kwds[{key!r}]"
        if meaning in ("p", "z"):
            if (isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real)
                    or not np.isfinite(value) or value <= 0):
                raise ValueError(
                    f"{what}={metric!r} needs a positive, finite {meaning}; got "
                    f"{label}={value!r}."
                )
        elif meaning in ("V", "w") and metric != "mahalanobis":
            arr = _float_array(value, label, 1)
            if meaning == "V" and not np.all(arr > 0):
                raise ValueError(f"{what}='seuclidean' needs {label} > 0 everywhere "
                                 f"(variances); got a minimum of {arr.min():g}.")
            if meaning == "w" and not np.all(arr >= 0):
                raise ValueError(f"{what}='wminkowski' needs {label} >= 0 everywhere; "
                                 f"got a minimum of {arr.min():g}.")
        else:
            arr = _float_array(value, label, 2)
            if arr.shape[0] != arr.shape[1]:
                raise ValueError(f"{what}='mahalanobis' needs a square {label}; got "
                                 f"shape {arr.shape}.")


def _float_array(value, label, ndim):
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{label} must be a {ndim}-D array of numbers; got "
                         f"{_short(value)}.") from exc
    if arr.ndim != ndim:
        raise ValueError(f"{label} must be a {ndim}-D array; got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{label} must be finite.")
    return arr


def _short(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --------------------------------------------------------------------- resolution


def resolve(metric, kwds, what="metric"):
    """The :class:`MetricSpec` of a named metric, a built-in name or a function.

    Keyword arguments must have passed :func:`check_named_kwds` (named metrics).
    """
    if callable(metric):
        return MetricSpec(getattr(metric, "__name__", "custom"), _km.CUSTOM, 2.0,
                          np.ones(1), np.eye(1), metric, tuple(dict(kwds or {}).values()),
                          what)
    name = metric.lower()
    name = NAMED_ALIASES.get(name, name)
    if name in NAMED_METRICS:
        check_named_kwds(what, name, kwds)
    code = NAMED_METRICS[name] if name in NAMED_METRICS else BUILTIN_CODES[name]
    kw = {METRIC_KWDS.get(name, {}).get(k, k): v for k, v in dict(kwds or {}).items()}
    p = float(kw.get("p", kw.get("z", 1e-11 if name == "symmetric_kl" else 2.0)))
    vec = np.ones(1)
    mat = np.eye(1)
    if name == "seuclidean":
        vec = np.ascontiguousarray(kw["V"], dtype=np.float64)
    elif name == "wminkowski":
        vec = np.ascontiguousarray(kw["w"], dtype=np.float64)
    elif name == "mahalanobis":
        if "VI" in kw:
            mat = np.ascontiguousarray(kw["VI"], dtype=np.float64)
        else:
            try:
                mat = np.ascontiguousarray(np.linalg.inv(np.asarray(kw["V"], np.float64)))
            except np.linalg.LinAlgError as exc:
                raise ValueError(
                    f"{what}='mahalanobis': the covariance {what}_kwds['V'] is singular; "
                    f"pass its pseudo-inverse as {what}_kwds['VI'] instead."
                ) from exc
    return MetricSpec(name, code, p, vec, mat, label=what)


def check_data(spec, X, what="X"):
    """Check that rows of ``X`` (dense, 2-D) suit the metric; raise ``ValueError``."""
    metric = f"{spec.label}={spec.name!r}"
    d = X.shape[1]
    if spec.code in (_km.SEUCLIDEAN, _km.WMINKOWSKI) and spec.vec.shape[0] != d:
        key = "V" if spec.code == _km.SEUCLIDEAN else "w"
        raise ValueError(
            f"{metric} has {spec.label}_kwds[{key!r}] of length {spec.vec.shape[0]} but "
            f"{what} has {d} features; they must be equal."
        )
    if spec.code == _km.MAHALANOBIS and spec.mat.shape != (d, d):
        raise ValueError(
            f"{metric} has an inverse covariance of shape {spec.mat.shape} but {what} has "
            f"{d} features; it must be ({d}, {d})."
        )
    if spec.code == _km.HAVERSINE and d != 2:
        raise ValueError(
            f"{metric} needs rows of 2 coordinates (latitude, longitude in radians); "
            f"{what} has {d} features."
        )
    if spec.name in _NON_NEGATIVE and spec.code != _km.CUSTOM and X.size and X.min() < 0:
        raise ValueError(
            f"{metric} needs non-negative values (rows are treated as distributions); "
            f"the smallest entry of {what} is {X.min():g}."
        )
    if spec.code == _km.POINCARE and X.size:
        norms = np.einsum("ij,ij->i", X, X, dtype=np.float64)
        if norms.max() >= 1.0:
            raise ValueError(
                f"{metric} needs rows inside the unit ball (norm < 1); a row of {what} "
                f"has norm {np.sqrt(norms.max()):g}."
            )


# ------------------------------------------------------------------ compilation


def kernel_metric(spec, X):
    """The tuple ``(code, p, vec, mat, fn)`` the kernels take, for rows like ``X``'s."""
    if spec.code != _km.CUSTOM:
        fn = _km.named_pointer(X.dtype.name)
    else:
        fn = _custom_pointer(spec, X)
    return (np.int64(spec.code), float(spec.p), spec.vec, spec.mat, fn)


# Compiled pointers of users' functions, by (function, dtype, arguments): a transform
# in blocks compiles once.
_POINTERS = {}
_POINTERS_MAX = 32


def _custom_pointer(spec, X):
    key = (id(spec.func), X.dtype.name, _args_key(spec.args))
    hit = _POINTERS.get(key)
    if hit is not None and hit[0] is spec.func:
        return hit[1]
    pointer = compile_custom(spec.func, spec.args, X, spec.label)
    if len(_POINTERS) >= _POINTERS_MAX:
        _POINTERS.pop(next(iter(_POINTERS)))
    _POINTERS[key] = (spec.func, pointer)
    return pointer


def _args_key(args):
    parts = []
    for value in args:
        if isinstance(value, np.ndarray):
            digest = hashlib.blake2b(np.ascontiguousarray(value).tobytes(),
                                     digest_size=16).hexdigest()
            parts.append(("array", value.dtype.str, value.shape, digest))
        else:
            parts.append((type(value).__name__, repr(value)))
    return tuple(parts)


def compile_custom(func, args, X, what="metric"):
    """Compile a user's metric into a function pointer of the kernels' signature.

    ``func(x, y, *args)`` is first called on two rows of ``X`` (compiling it for their
    type) to learn whether it returns a distance or ``(distance, gradient)``.

    Raises
    ------
    TypeError
        When numba cannot compile ``func`` or it does not return a number.
    """
    name = getattr(func, "__name__", repr(func))
    user = func
    if not isinstance(func, numba.core.dispatcher.Dispatcher):
        try:
            user = numba.njit(func)
        except Exception as exc:  # e.g. a builtin or a callable object
            raise TypeError(
                f"{what}={name!r} is not a function numba can compile ({exc}); pass a "
                f"numba.njit function f(x, y) -> float."
            ) from exc
    x = np.ascontiguousarray(X[0])
    y = np.ascontiguousarray(X[min(1, X.shape[0] - 1)])
    try:
        out = user(x, y, *args)
    except (numba.core.errors.NumbaError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TypeError(
            f"{what}={name!r} could not be compiled by numba for rows of dtype {X.dtype} "
            f"with {len(args)} extra argument(s) from {what}_kwds (passed by position, in "
            f"order): {first}"
        ) from exc
    returns_pair = isinstance(out, tuple) and len(out) == 2
    value = out[0] if returns_pair else out
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real,
                                                                      np.floating)):
        raise TypeError(
            f"{what}={name!r} must return a float (or a (distance, gradient) tuple); it "
            f"returned {type(out).__name__}."
        )
    if args:
        bound_args = tuple(args)

        @numba.njit
        def bound(a, b):
            return user(a, b, *bound_args)
    else:
        bound = user
    # The pointer's signature is that of the named metrics; the last four arguments
    # are theirs and unused here.
    if returns_pair:
        def distance(a, b, code, p, vec, mat):
            return np.float64(bound(a, b)[0])
    else:
        def distance(a, b, code, p, vec, mat):
            return np.float64(bound(a, b))
    try:
        return numba.cfunc(_km.pointer_signature(X.dtype))(distance)
    except numba.core.errors.NumbaError as exc:
        first = str(exc).strip().splitlines()[0]
        raise TypeError(f"{what}={name!r} could not be compiled by numba: {first}") from exc
