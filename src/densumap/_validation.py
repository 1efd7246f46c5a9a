"""Checks of ``UMAP``'s hyper-parameters and data, mixed into :class:`densumap.UMAP`.

Following scikit-learn's ``manifold/_t_sne.py``: each parameter's allowed values in
:data:`PARAMETER_CONSTRAINTS` (checked by ``_validate_params``), the combinations
of parameters in ``_check_params``, input through ``validate_data``, and the checks
that need the data in one helper each. Nothing here writes to a hyper-parameter;
every error names the parameter (or input) and the value received. The estimator
module keeps the parameters themselves and the orchestration of the stages.
"""
from numbers import Integral, Number, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from . import metrics as metrics_mod, output_metric as om_mod
from ._input import check_value_range, unique_rows
from ._runtime import check_tqdm_kwds
from .neighbors import METRIC_ALIASES, canonical_metric

# Every metric name (those densumap lacks included, so that their error says why).
METRIC_NAMES = set(METRIC_ALIASES) | set(metrics_mod.NAMED_ALIASES) | set(
    metrics_mod.NOT_PROVIDED)
# Metrics a continuous supervised target may use.
TARGET_METRICS = METRIC_NAMES - {"precomputed", "categorical"}

# Keyword arguments each metric understands (the exact kNN and the transform's
# query kernel use only these); anything else in ``metric_kwds`` is an error.
METRIC_KWDS = {"minkowski": {"p"}}


PARAMETER_CONSTRAINTS = {
    "n_neighbors": [Interval(Integral, 2, None, closed="left")],
    "n_components": [Interval(Integral, 1, None, closed="left")],
    "metric": [StrOptions(METRIC_NAMES), callable],
    "metric_kwds": [dict, None],
    "output_metric": [StrOptions(set(om_mod.OUTPUT_METRICS)), callable],
    "output_metric_kwds": [dict, None],
    "n_epochs": [Interval(Integral, 0, None, closed="left"), None],
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
    "init": [StrOptions({"spectral", "pca", "random"}), np.ndarray],
    "min_dist": [Interval(Real, 0, None, closed="left")],
    "spread": [Interval(Real, 0, None, closed="neither")],
    "set_op_mix_ratio": [Interval(Real, 0, 1, closed="both")],
    "local_connectivity": [Interval(Real, 0, None, closed="left")],
    "repulsion_strength": [Interval(Real, 0, None, closed="left")],
    "negative_sample_rate": [Interval(Integral, 0, None, closed="left")],
    "a": [Interval(Real, 0, None, closed="neither"), None],
    "b": [Interval(Real, 0, None, closed="neither"), None],
    "random_state": ["random_state"],
    "n_jobs": [Interval(Integral, None, -1, closed="right"),
               Interval(Integral, 1, None, closed="left"), None],
    "verbose": ["verbose"],
    "disconnection_distance": [Interval(Real, 0, None, closed="neither"), None],
    "densmap": ["boolean"],
    "dens_lambda": [Interval(Real, 0, None, closed="left")],
    "dens_frac": [Interval(Real, 0, 1, closed="both")],
    "dens_var_shift": [Interval(Real, 0, None, closed="left")],
    "output_dens": ["boolean"],
    "target_n_neighbors": [Interval(Integral, 2, None, closed="left"),
                           Options(Integral, {-1})],
    "target_metric": [StrOptions({"categorical"} | TARGET_METRICS), callable],
    "target_metric_kwds": [dict, None],
    "target_weight": [Interval(Real, 0, 1, closed="both")],
    "transform_seed": ["random_state"],
    "unique": ["boolean"],
    "precomputed_knn": [tuple, list, None],
    "low_memory": ["boolean"],
    "tqdm_kwds": [dict, None],
    "transform_mode": [StrOptions({"embedding", "graph"})],
    "angular_rp_forest": ["boolean"],
    "force_approximation_algorithm": ["boolean"],
    "transform_queue_size": [Interval(Real, 0, None, closed="neither")],
}


class ValidationMixin:
    """The checks of :class:`densumap.UMAP` (``fit``, ``transform``, ``update`` call them)."""

    def _check_params(self):
        """Every check of the hyper-parameters alone, in one place (called by ``fit``).

        Single parameters go through ``_parameter_constraints``; the combinations
        follow. Raises ``InvalidParameterError`` or ``ValueError`` naming the
        parameters and the values received.
        """
        # Before the generic checks: say why DensMAP cannot use another output
        # metric, whatever it is, and why umap-learn's names missing here are.
        if (isinstance(self.densmap, (bool, np.bool_)) and self.densmap
                and (callable(self.output_metric) or isinstance(self.output_metric, str))
                and not om_mod.is_euclidean(self.output_metric)):
            raise ValueError(
                f"densmap=True needs output_metric='euclidean' (the density term uses "
                f"euclidean radii in the embedding); got output_metric="
                f"{self.output_metric!r}."
            )
        reason = om_mod.refused_reason(self.output_metric)
        if reason is not None:
            raise ValueError(f"output_metric={self.output_metric!r} is not supported: {reason}.")
        self._validate_params()
        self._output_space()  # output_metric with its kwds and n_components
        check_tqdm_kwds(self.tqdm_kwds)
        if self.min_dist > self.spread:
            raise ValueError(
                f"min_dist must not exceed spread; got min_dist={self.min_dist}, "
                f"spread={self.spread}."
            )
        metric = canonical_metric(self.metric)
        check_metric_kwds("metric", metric, self.metric_kwds)
        if self.target_metric != "categorical":
            check_metric_kwds("target_metric", canonical_metric(self.target_metric,
                                                                 "target_metric"),
                               self.target_metric_kwds)
        if self.unique and has_precomputed_knn(self.precomputed_knn):
            raise ValueError(
                "unique=True cannot be combined with precomputed_knn (its indices refer "
                "to every row of X, duplicates included); use unique=False."
            )
        if metric == "precomputed":
            if self.unique:
                raise ValueError(
                    "unique=True is not defined for metric='precomputed' (duplicate "
                    "rows of a distance matrix are not duplicate points); got "
                    "unique=True, metric='precomputed'."
                )
            if isinstance(self.init, str) and self.init == "pca":
                raise ValueError(
                    "init='pca' needs the input features, which metric='precomputed' "
                    "does not give; use init='spectral', 'random' or an array."
                )
        if isinstance(self.init, np.ndarray) and self.init.dtype.kind not in "iuf":
            raise ValueError(
                f"init array must hold numbers (integer or float); got dtype "
                f"{self.init.dtype}."
            )

    def _output_space(self):
        """The resolved ``output_metric`` (:func:`densumap.output_metric.resolve`).

        None for the euclidean space; raises ``ValueError``/``TypeError`` naming
        ``output_metric``, ``output_metric_kwds`` or ``n_components``.
        """
        return om_mod.resolve(self.output_metric, self.output_metric_kwds, self.n_components)

    def _validate_input(self, X):
        """``X`` as a float32/float64 array or CSR matrix, checked; no copy if possible.

        float32/float64 data (a ``np.memmap`` included) is returned as is; other
        numeric types become float32. Non-finite values, fewer than 2 samples,
        no features, non-2-D or non-numeric input raise.
        """
        metric = canonical_metric(self.metric)
        X = checked_data(self, X, reset=True, ensure_min_samples=2)
        check_value_range(X)
        if metric == "precomputed":
            if X.shape[0] != X.shape[1]:
                raise ValueError(
                    f"metric='precomputed' needs a square distance matrix; got shape "
                    f"{X.shape}."
                )
            if sp.issparse(X):
                raise ValueError(
                    "metric='precomputed' needs a dense distance matrix; got a sparse "
                    "one (its missing entries would read as distance 0)."
                )
            smallest = X.min()
            if smallest < 0:
                raise ValueError(
                    f"metric='precomputed' needs non-negative distances; the smallest "
                    f"entry of X is {smallest:g}."
                )
        return X, metric

    def _deduplicate(self, X, target):
        """With ``unique=True``: the distinct rows and their targets.

        Sets ``unique_index_`` and ``unique_inverse_`` (None without ``unique``).
        """
        self.unique_index_ = self.unique_inverse_ = None
        if not self.unique:
            return X, target
        index, inverse = unique_rows(X)
        if index.size < 2:
            raise ValueError(
                f"unique=True leaves {index.size} distinct row in X (of {X.shape[0]}); "
                f"at least 2 are needed. Use unique=False to embed identical points."
            )
        self.unique_index_, self.unique_inverse_ = index, inverse
        if index.size == X.shape[0]:
            return X, target  # nothing to remove: keep X itself, not a copy
        return X[index], None if target is None else target[index]

    def _check_data_dependent(self, X, n_fit=None):
        """Checks that need the data; returns the resolved ``n_neighbors``.

        Parameters
        ----------
        X : ndarray or CSR matrix of shape (n_samples, n_features)
            The validated input, duplicates included.
        n_fit : int, default=None
            Number of rows actually embedded (distinct rows with ``unique=True``);
            None means ``n_samples``.
        """
        import warnings

        n = X.shape[0]
        n_fit = n if n_fit is None else n_fit
        if isinstance(self.init, np.ndarray):
            if self.init.shape != (n, self.n_components):
                raise ValueError(
                    f"init array must have shape (n_samples, n_components) = "
                    f"{(n, self.n_components)}; got {self.init.shape}."
                )
            if not np.all(np.isfinite(self.init)):
                raise ValueError("init array contains NaN or inf.")
        elif self.init == "pca" and self.n_components > min(n_fit, X.shape[1]):
            raise ValueError(
                f"init='pca' needs n_components <= min(n_samples, n_features) = "
                f"{min(n_fit, X.shape[1])}; got n_components={self.n_components}. Use "
                f"init='spectral' or 'random'."
            )
        n_neighbors = self.n_neighbors
        if n_neighbors > n_fit:
            what = "distinct samples" if n_fit < n else "samples"
            warnings.warn(
                f"n_neighbors={n_neighbors} is larger than the number of {what} "
                f"({n_fit}); using n_neighbors={n_fit}.",
                UserWarning,
                stacklevel=3,
            )
            n_neighbors = n_fit
        return n_neighbors

    def _validate_target(self, y, n_samples):
        """Check ``y`` against ``X``; return labels (int codes, -1 unlabelled) or values.

        Returns
        -------
        None, or ndarray of shape (n_samples,) int64 (categorical), or ndarray of
        shape (n_samples, n_targets) float64 (continuous).
        """
        if y is None:
            return None
        try:
            y = np.asarray(y)
        except ValueError as exc:  # ragged nested lists
            raise ValueError(f"y must be an array of shape (n_samples,) or "
                             f"(n_samples, n_targets): {exc}") from exc
        if y.ndim == 0 or y.shape[0] != n_samples:
            got = "a scalar" if y.ndim == 0 else f"{y.shape[0]} samples"
            raise ValueError(
                f"y has {got} but X has {n_samples} samples; they must have the same length."
            )
        if self.target_metric == "categorical":
            if y.ndim != 1:
                raise ValueError(
                    f"target_metric='categorical' needs y of shape (n_samples,); got {y.shape}."
                )
            return encode_labels(y)
        try:
            values = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"target_metric={self.target_metric!r} needs numeric y; got dtype {y.dtype}."
            ) from exc
        if not np.all(np.isfinite(values)):
            raise ValueError(
                f"y contains NaN or inf; a continuous target "
                f"(target_metric={self.target_metric!r}) must be finite."
            )
        return values.reshape(n_samples, -1)

    def _validate_new(self, X, what="X"):
        """Rows given to a fitted model (``transform``, ``update``): ``(X, metric)``.

        ``X`` is checked against the fit (number of features, feature names) and
        converted to the training rows' float type. A composed model (``+ * -``)
        has no input space and raises.
        """
        check_is_fitted(self, "graph_" if self.transform_mode == "graph" else "embedding_")
        metric = canonical_metric(self.metric)
        if getattr(self, "_composed", None):
            raise ValueError(
                f"This model is the {self._composed} of two models (+, *, -); it has no "
                f"input space of its own, so it cannot place new points or be updated."
            )
        dtype = np.float32 if self._train_X is None else self._train_X.dtype
        X = checked_data(self, X, reset=False, ensure_min_samples=1, dtype=dtype)
        check_value_range(X, check_small=False)  # the training data set the scale
        if metric == "precomputed" and X.min() < 0:
            raise ValueError(
                f"metric='precomputed' needs non-negative distances; the smallest entry "
                f"of X is {X.min():g}."
            )
        return X, metric


def checked_data(estimator, X, reset, ensure_min_samples, dtype=(np.float32, np.float64)):
    """``validate_data`` with densumap's settings and a clearer non-numeric error.

    float32/float64 input (a memmap included) is not copied; anything else is
    converted to the first of ``dtype``. The finite check reduces the array
    (scikit-learn's ``_assert_all_finite``) rather than building a mask.
    """
    try:
        return validate_data(estimator, X, reset=reset, accept_sparse="csr",
                             dtype=list(dtype) if isinstance(dtype, tuple) else dtype,
                             copy=False, ensure_all_finite=True,
                             ensure_min_samples=ensure_min_samples)
    except (TypeError, ValueError) as exc:
        text = str(exc)
        if ("could not convert" in text or "argument must be" in text
                or "Unable to convert" in text):
            raise type(exc)(f"X must hold numbers only (ints, floats or bools): {text}") from exc
        raise


def has_precomputed_knn(knn):
    """True unless ``knn`` is None or umap-learn's "nothing" tuple of Nones."""
    return knn is not None and not (isinstance(knn, (tuple, list))
                                    and all(part is None for part in knn))


def check_metric_kwds(name, metric, kwds):
    """Reject ``metric_kwds`` keys the metric does not use, and bad values."""
    if callable(metric):
        return  # a function's arguments are checked when it is compiled
    if metrics_mod.is_named(metric):
        metrics_mod.check_named_kwds(name, metric, kwds)
        return
    if not kwds:
        return
    unknown = sorted(set(kwds) - METRIC_KWDS.get(metric, set()))
    if unknown:
        allowed = sorted(METRIC_KWDS.get(metric, set())) or "none"
        raise ValueError(
            f"{name}_kwds has keys that {name}={metric!r} does not use: {unknown} "
            f"(it accepts: {allowed}); got {name}_kwds={kwds!r}."
        )
    if metric == "minkowski":
        p = kwds.get("p", 2)
        if isinstance(p, bool) or not isinstance(p, Real) or not np.isfinite(p) or p <= 0:
            raise ValueError(
                f"{name}='minkowski' needs a positive, finite p; got {name}_kwds["
                f"'p']={p!r}."
            )


def encode_labels(y):
    """Class labels to int codes 0..n_classes-1, with -1 for unlabelled points.

    Numeric labels equal to -1 (and, in object arrays, elements equal to -1) are
    unlabelled; strings are labels like any other.
    """
    if y.dtype.kind in "iub":
        unlabelled = y == -1
    elif y.dtype.kind in "fc":
        if not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or inf; class labels must be finite.")
        unlabelled = y == -1
    elif y.dtype.kind == "O":
        missing = [v for v in y if v is None or (isinstance(v, float) and v != v)
                   or type(v).__name__ == "NAType"]
        if missing:
            raise ValueError(
                f"y contains missing labels ({missing[0]!r}); class labels must be "
                f"given for every sample, with -1 marking an unlabelled one."
            )
        unlabelled = np.fromiter(
            (isinstance(v, Number) and not isinstance(v, bool) and v == -1 for v in y),
            dtype=bool, count=y.shape[0])
    else:
        unlabelled = np.zeros(y.shape[0], dtype=bool)
    codes = np.full(y.shape[0], -1, dtype=np.int64)
    known = y[~unlabelled]
    if known.size:
        try:
            _, inverse = np.unique(known, return_inverse=True)
        except TypeError as exc:
            raise ValueError(
                "y mixes label types that cannot be compared (e.g. strings and numbers); "
                "use one type, with -1 for unlabelled points."
            ) from exc
        codes[~unlabelled] = inverse.ravel()
    return codes
