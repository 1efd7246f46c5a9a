"""The ``UMAP`` estimator: parameters, validation and orchestration of the stages."""
from numbers import Integral, Number, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _blocks, density, graph as graph_mod, layout, metrics as metrics_mod
from . import output_metric as om_mod
from . import transform as transform_mod
from ._input import check_distance_scale, check_value_range, unique_rows
from ._runtime import epoch_progress, numba_threads, resolve_seed, stage, verbosity
from .init import initial_layout
from .neighbors import (DEFAULT_DISCONNECTION, METRIC_ALIASES, canonical_metric,
                        nearest_neighbors, precomputed_knn_arrays, query_neighbors)

# Every metric name (those densumap lacks included, so that their error says why).
METRIC_NAMES = set(METRIC_ALIASES) | set(metrics_mod.NAMED_ALIASES) | set(
    metrics_mod.NOT_PROVIDED)
# Metrics a continuous supervised target may use.
TARGET_METRICS = METRIC_NAMES - {"precomputed", "categorical"}

# Keyword arguments each metric understands (the exact kNN and the transform's
# query kernel use only these); anything else in ``metric_kwds`` is an error.
METRIC_KWDS = {"minkowski": {"p"}}


def default_n_epochs(n_samples, densmap):
    """500 epochs up to 10,000 samples, else 200, with or without DensMAP.

    umap-learn adds 200 epochs for DensMAP, doubling its cost at 70,000 points.
    Without them densumap's DensMAP still meets its quality targets against
    umap-learn's 400-epoch fit (70,000 Fashion-MNIST images, seeded: kNN accuracy
    0.748 vs 0.750, trustworthiness 0.946 vs 0.953, density correlation 0.714 vs
    0.722; with 400 epochs densumap gets 0.747 / 0.948 / 0.726; BENCHMARKS.md).
    ``n_epochs=400`` restores umap-learn's schedule.
    """
    return 500 if n_samples <= 10_000 else 200


class UMAP(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Uniform Manifold Approximation and Projection, with optional DensMAP.

    The parameters, their names and defaults follow umap-learn, so that
    ``import densumap as umap`` runs code written for it.

    Parameters
    ----------
    n_neighbors : int, default=15
        Size of the local neighbourhood (the point itself included). Reduced to
        ``n_samples`` with a warning when the data has fewer points.
    n_components : int, default=2
        Dimension of the embedding.
    metric : str or callable, default="euclidean"
        Input metric. Searched by dedicated kernels (sparse input too):
        "euclidean" ("l2"), "cosine", "manhattan" ("l1", "cityblock", "taxicab"),
        "chebyshev" ("linf", "linfinity", "linfty"), "minkowski", "correlation";
        "precomputed" means ``X`` is a square distance matrix. Dense input only:
        "seuclidean", "wminkowski", "mahalanobis", "canberra", "braycurtis",
        "hellinger", "softmax_hellinger", "haversine", "poincare", "symmetric_kl"
        and the binary metrics "hamming", "matching", "jaccard", "dice",
        "kulsinski", "rogerstanimoto", "russellrao", "sokalmichener",
        "sokalsneath", "yule" (non-zero is true); or a function ``f(x, y) ->
        float`` of two rows (a ``numba.njit`` function, or a Python function numba
        can compile, else ``TypeError``), which may also return ``(distance,
        gradient)``. See :mod:`densumap.metrics` for the definitions.
    metric_kwds : dict, default=None
        Keyword arguments of ``metric``, by name: ``p`` (> 0) for "minkowski";
        ``V`` (variances, required) for "seuclidean"; ``w`` (required) and ``p``
        for "wminkowski"; ``VI`` (inverse covariance) or ``V`` (covariance), one
        required, for "mahalanobis"; ``z`` for "symmetric_kl". Any other key is an
        error. For a function, the values are passed after the two rows by
        position, in the dictionary's order (as umap-learn does).
    output_metric : str or numba function, default="euclidean"
        Metric of the embedding space, as umap-learn's: "euclidean" ("l2"), the
        fast default; "haversine" (a sphere: ``n_components=2``, column 0 the
        polar angle and column 1 the longitude, in radians, unwrapped: the point
        is ``(sin c0 cos c1, sin c0 sin c1, cos c0)``); "hyperboloid" (hyperbolic
        space: the point is ``(x, sqrt(1 + |x|**2))``); "gaussian_energy"
        (``n_components=5``: each point a 2-D Gaussian, mean in columns 0-1,
        variances in 2-3, angle in 4), "spherical_gaussian_energy" (3),
        "diagonal_gaussian_energy" (4); "manhattan", "chebyshev", "minkowski",
        "seuclidean", "wminkowski", "mahalanobis", "canberra", "braycurtis",
        "cosine", "correlation", "softmax_hellinger" and umap-learn's aliases
        of these. Or a numba-compiled function ``f(x, y, *args) -> (distance,
        gradient)`` (gradient with respect to ``x``, shape (n_components,)).
        The same curve and schedule as the euclidean layout, initialised the
        same way (spectral layout scaled to [0, 10]), bit-identical for any
        ``n_jobs``; :mod:`densumap.output_metric` has the details and the few
        differences from umap-learn. DensMAP (``densmap=True``) needs
        "euclidean". Gaussian embeddings are returned in a canonical form
        (variances as absolute values, angle in [-pi/2, pi/2)).
    output_metric_kwds : dict, default=None
        Extra arguments of ``output_metric``: ``{"p": p}`` for "minkowski",
        ``{"sigma": variances}`` for "seuclidean", ``{"w": weights, "p": p}``
        for "wminkowski", ``{"vinv": matrix}`` for "mahalanobis" (checked by
        name, any other key is an error); for a user's function, its extra
        positional arguments, the values in the dict's order (as umap-learn).
    n_epochs : int, default=None
        Optimisation epochs; None means 500 up to 10,000 samples, else 200, with
        or without DensMAP (umap-learn adds 200 for DensMAP: pass them explicitly to
        get its schedule; see :func:`default_n_epochs`). The resolved value is
        ``n_epochs_``.
    learning_rate : float, default=1.0
        Initial SGD step, decayed linearly to 0.
    init : {"spectral", "pca", "random"} or ndarray of shape (n_samples, n_components), default="spectral"
        "pca" needs the input features (not ``metric="precomputed"``) and
        ``n_components <= min(n_samples, n_features)``. An array must be numeric,
        finite and have one row per sample of ``X`` (duplicates included when
        ``unique=True``).
    min_dist : float, default=0.1
        Smallest distance between embedded points; must not exceed ``spread``.
    spread : float, default=1.0
        Scale of the embedded points.
    set_op_mix_ratio : float, default=1.0
        1 = fuzzy union, 0 = fuzzy intersection when symmetrising the graph.
    local_connectivity : float, default=1.0
        Number of nearest neighbours assumed connected.
    repulsion_strength : float, default=1.0
        Weight of negative samples.
    negative_sample_rate : int, default=5
        Negative samples per positive sample.
    a, b : float, default=None
        Embedding curve parameters; fitted from ``min_dist`` and ``spread`` when
        None. The resolved values are ``a_`` and ``b_``.
    random_state : int, RandomState instance or None, default=None
        Seed of every random choice. Fixing it gives a bit-identical embedding for
        any ``n_jobs``; unlike umap-learn, a seeded run still uses all threads.
    n_jobs : int, default=-1
        Threads for the compiled kernels; -1 means all, -2 all but one, and so
        on; 0 is an error.
    verbose : bool, default=False
        Log each stage with its time and show a progress bar over epochs.
    disconnection_distance : float, default=None
        Neighbours at this distance or farther are not connected. None means
        never for unbounded metrics, 2 for "cosine" and "correlation".
    densmap : bool, default=False
        Add the DensMAP term that preserves local density.
    dens_lambda : float, default=2.0
        Weight of the density term (0.1 is nearly UMAP, 5.0 strong).
    dens_frac : float, default=0.3
        Fraction of the epochs, at the end, during which the density term is on.
    dens_var_shift : float, default=0.1
        Added to the variance of the embedding radii in the correlation.
    output_dens : bool, default=False
        Compute the log local radii of every point in the input and the embedding
        (``rad_orig_``, ``rad_emb_``); ``fit_transform`` then returns
        ``(embedding, rad_orig, rad_emb)`` and ``transform`` returns the same
        triple for the new points.
    target_n_neighbors : int, default=-1
        Neighbours of each point in the space of a continuous target ``y``; -1
        means ``n_neighbors``.
    target_metric : str or callable, default="categorical"
        "categorical" treats ``y`` as class labels (integers or strings; -1 marks an
        unlabelled point). Any input metric except "precomputed" (e.g. "l1",
        "euclidean", a numba function) treats ``y`` as a continuous target of shape
        (n_samples,) or (n_samples, n_targets).
    target_metric_kwds : dict, default=None
        Extra arguments of ``target_metric``.
    target_weight : float, default=0.5
        Balance between the data and the target in a supervised fit: 0 uses only
        the data, 1 only the target.
    transform_seed : int, RandomState instance or None, default=42
        Seed of the random choices of :meth:`transform`. With an int, transforming
        a point always gives the same position, whatever the batch it is in.
    unique : bool, default=False
        Embed each distinct row of ``X`` once and give its duplicates the same
        position (as umap-learn). ``embedding_`` (and ``rad_orig_``/``rad_emb_``)
        still have one row per sample, but ``graph_`` is the graph of the distinct
        rows, shape (n_unique, n_unique), in order of first appearance;
        ``unique_index_`` and ``unique_inverse_`` map between the two. The
        ``n_neighbors`` are counted among distinct rows, a supervised fit uses
        the label of each row's first occurrence, an ``init`` array the row of the
        first occurrence, and :meth:`transform` queries only the distinct rows.
        Finding the duplicates sorts a copy of ``X`` (or hashes the rows of a
        sparse ``X``). Not available with ``metric="precomputed"``.
    precomputed_knn : tuple (knn_indices, knn_dists[, knn_search_index]), default=None
        The k nearest neighbours of every row of ``X``, computed beforehand (as
        umap-learn's parameter): two arrays of shape (n_samples, k), ``k >=
        n_neighbors``, rows sorted by distance, each point its own first
        neighbour at distance 0, ``-1`` for a missing neighbour. The fit then runs
        no neighbour search and uses the first ``n_neighbors`` columns; with fewer
        columns it warns and searches. A third element (umap-learn's search index)
        is accepted and ignored: :meth:`transform` still works, since it searches
        the training rows. ``(None, None)`` and ``(None, None, None)`` mean None.
        Not available with ``unique=True``. :func:`densumap.anndata.embed` passes
        scanpy's stored neighbours here.

    Attributes
    ----------
    embedding_ : ndarray of shape (n_samples, n_components), float32
    graph_ : scipy.sparse.csr_matrix of shape (n_samples, n_samples)
        Symmetric fuzzy graph (memberships); of shape (n_unique, n_unique), over
        the distinct rows ``X[unique_index_]``, with ``unique=True``.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,), str
        Only when ``X`` was a pandas DataFrame with string column names.
        :meth:`get_feature_names_out` names the embedding's columns ``umap0``,
        ``umap1``, ... (the class name, lower case, and the column number), which
        ``set_output(transform="pandas")`` uses.
    n_neighbors_ : int
        The ``n_neighbors`` used: the parameter, reduced (with a warning) to the
        number of samples (distinct samples with ``unique=True``) when larger.
    n_epochs_ : int
    a_, b_ : float
    rad_orig_, rad_emb_ : ndarray of shape (n_samples,)
        Only with ``output_dens=True``. The log local radius of point ``i`` is
        ``log(sum_j mu_ij d_ij**2 / sum_j mu_ij)`` over its graph neighbours, with
        the input metric or the embedding's distance (euclidean, or the
        ``output_metric``'s, a negative Gaussian energy counting as 0): both on
        the same squared-distance scale (see :mod:`densumap.density`).
    unique_index_ : ndarray of shape (n_unique,), int64, or None
        With ``unique=True``, the first occurrence of each distinct row of ``X``
        (the rows the model was fitted on, in this order); None otherwise.
    unique_inverse_ : ndarray of shape (n_samples,), int64, or None
        With ``unique=True``, the distinct row of each sample:
        ``embedding_ = embedding_[unique_index_][unique_inverse_]``; None otherwise.

    Notes
    -----
    Input: ``X`` may be a NumPy array (a ``np.memmap`` included), anything
    array-like (a pandas DataFrame, whose column names are kept) or a scipy
    sparse matrix (converted to CSR). float32 and float64 data are used as they
    are, never copied (a memmap stays on disk); integer and bool data, and other
    float types, are converted to float32 (integers above 2**24 lose precision).
    NaN or inf, fewer than 2 samples, no features, non-numeric values or an
    array that is not 2-D raise ``ValueError`` (``TypeError`` for values NumPy
    cannot convert at all), as does data whose largest absolute value or whose
    nearest-neighbour distances are outside [1e-16, 1e18] (an all-zero ``X``
    excepted): there squared values overflow or underflow and the fuzzy graph's
    bandwidth search loses accuracy, so rescale such data.
    Every hyper-parameter is checked when ``fit`` starts (scikit-learn's
    ``InvalidParameterError``, a ``ValueError`` and ``TypeError``, naming the
    parameter and the value received), including combinations: ``min_dist >
    spread``, ``densmap=True`` with another ``output_metric``, ``metric_kwds``
    the metric does not use, ``unique=True`` or ``init="pca"`` with
    ``metric="precomputed"``.

    What a fitted model keeps, and hence what ``pickle``/``joblib`` save: the
    embedding, ``graph_``, the per-point ``sigma``/``rho`` of the fuzzy set, the
    training rows themselves (needed by :meth:`transform` to find the neighbours
    of new points and by :meth:`inverse_transform`; a *reference* to the array
    passed to ``fit`` when it was already float32/float64, not a copy, so do not
    modify it in place afterwards; with ``unique=True`` and duplicates present, a
    copy of the distinct rows; nothing for ``metric="precomputed"``), and for
    DensMAP models four floats of frozen density statistics. Not kept: the kNN
    lists, the labels ``y``, any compiled kernel.
    """

    _parameter_constraints = {
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
    }

    def __init__(
        self,
        n_neighbors=15,
        n_components=2,
        metric="euclidean",
        metric_kwds=None,
        output_metric="euclidean",
        output_metric_kwds=None,
        n_epochs=None,
        learning_rate=1.0,
        init="spectral",
        min_dist=0.1,
        spread=1.0,
        set_op_mix_ratio=1.0,
        local_connectivity=1.0,
        repulsion_strength=1.0,
        negative_sample_rate=5,
        a=None,
        b=None,
        random_state=None,
        n_jobs=-1,
        verbose=False,
        disconnection_distance=None,
        densmap=False,
        dens_lambda=2.0,
        dens_frac=0.3,
        dens_var_shift=0.1,
        output_dens=False,
        target_n_neighbors=-1,
        target_metric="categorical",
        target_metric_kwds=None,
        target_weight=0.5,
        transform_seed=42,
        unique=False,
        precomputed_knn=None,
    ):
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.metric = metric
        self.metric_kwds = metric_kwds
        self.output_metric = output_metric
        self.output_metric_kwds = output_metric_kwds
        self.n_epochs = n_epochs
        self.learning_rate = learning_rate
        self.init = init
        self.min_dist = min_dist
        self.spread = spread
        self.set_op_mix_ratio = set_op_mix_ratio
        self.local_connectivity = local_connectivity
        self.repulsion_strength = repulsion_strength
        self.negative_sample_rate = negative_sample_rate
        self.a = a
        self.b = b
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.disconnection_distance = disconnection_distance
        self.densmap = densmap
        self.dens_lambda = dens_lambda
        self.dens_frac = dens_frac
        self.dens_var_shift = dens_var_shift
        self.output_dens = output_dens
        self.target_n_neighbors = target_n_neighbors
        self.target_metric = target_metric
        self.target_metric_kwds = target_metric_kwds
        self.target_weight = target_weight
        self.transform_seed = transform_seed
        self.unique = unique
        self.precomputed_knn = precomputed_knn

    # ------------------------------------------------------------------ checks
    def _check_params(self):
        """Every check of the hyper-parameters alone, in one place (called by ``fit``).

        Single parameters go through ``_parameter_constraints``; the combinations
        follow. Raises ``InvalidParameterError`` or ``ValueError`` naming the
        parameters and the values received.
        """
        # Before the generic checks: say why DensMAP cannot use another output
        # metric, whatever it is.
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
        if self.min_dist > self.spread:
            raise ValueError(
                f"min_dist must not exceed spread; got min_dist={self.min_dist}, "
                f"spread={self.spread}."
            )
        metric = canonical_metric(self.metric)
        _check_metric_kwds("metric", metric, self.metric_kwds)
        if self.target_metric != "categorical":
            _check_metric_kwds("target_metric", canonical_metric(self.target_metric,
                                                                 "target_metric"),
                               self.target_metric_kwds)
        if self.unique and _has_precomputed_knn(self.precomputed_knn):
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

    def _validate_input(self, X):
        """``X`` as a float32/float64 array or CSR matrix, checked; no copy if possible.

        float32/float64 data (a ``np.memmap`` included) is returned as is; other
        numeric types become float32. Non-finite values, fewer than 2 samples,
        no features, non-2-D or non-numeric input raise.
        """
        metric = canonical_metric(self.metric)
        X = _checked_data(self, X, reset=True, ensure_min_samples=2)
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
            return _encode_labels(y)
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

    # --------------------------------------------------------------- stages
    def _knn(self, X, metric, n_neighbors, seed):
        given = precomputed_knn_arrays(self.precomputed_knn, X.shape[0], n_neighbors)
        if given is None:
            indices, dists = nearest_neighbors(X, n_neighbors, metric, self.metric_kwds, seed)
        else:
            indices, dists = given
        check_distance_scale(dists, metric)
        cut = self.disconnection_distance
        if cut is None:
            cut = DEFAULT_DISCONNECTION.get(metric, np.inf)
        disconnected = dists >= cut
        disconnected[:, 0] = False
        if disconnected.any():
            indices = indices.copy()
            indices[disconnected] = -1
        return indices, dists

    def fit(self, X, y=None):
        """Fit the embedding of ``X``, supervised by ``y`` when given.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            float32 or float64 data is used as is (no copy, a memmap included);
            other numeric types are converted to float32 (class Notes). An h5py
            dataset or zarr array is read into memory whole: ``fit`` needs the
            training rows in memory (its kNN graph and ``transform`` use them), so
            fit on a sample that fits (:func:`densumap.dask.fit_sample` draws one
            reproducibly from any on-disk or dask array) and transform the rest. For
            ``metric="precomputed"``: a dense, square, non-negative distance
            matrix.
        y : array-like of shape (n_samples,) or (n_samples, n_targets), default=None
            Target of a supervised (or, with -1 labels, semi-supervised) embedding;
            see ``target_metric``. The data's fuzzy graph is intersected with the
            target's (:mod:`densumap.graph`) and the layout follows the result. With
            ``densmap=True`` the input radii still come from ``X`` alone.

        Returns
        -------
        self : UMAP
        """
        self._check_params()
        output = om_mod.resolve(self.output_metric, self.output_metric_kwds, self.n_components)
        X, metric = self._validate_input(X)
        target = self._validate_target(y, X.shape[0])
        X_fit, target = self._deduplicate(X, target)
        n_neighbors = self._check_data_dependent(X, X_fit.shape[0])
        init = self.init
        if isinstance(init, np.ndarray) and X_fit.shape[0] < X.shape[0]:
            init = init[self.unique_index_]
        seed = resolve_seed(self.random_state)
        with numba_threads(self.n_jobs), verbosity(self.verbose):
            self._fit_embedding(X_fit, metric, n_neighbors, seed, target, init, output)
        if X_fit.shape[0] < X.shape[0]:
            # Duplicates share the position (and radii) of their distinct row.
            inverse = self.unique_inverse_
            self.embedding_ = self.embedding_[inverse]
            if self.output_dens:
                self.rad_orig_ = self.rad_orig_[inverse]
                self.rad_emb_ = self.rad_emb_[inverse]
        self._train_X = None if metric == "precomputed" else X_fit
        return self

    def _supervise(self, data_graph, target, n_neighbors, seed):
        """Intersect the data graph with the fuzzy set of the target."""
        if self.target_metric == "categorical":
            far = graph_mod.far_distance(self.target_weight)
            return graph_mod.categorical_intersection(data_graph, target, far)
        n = target.shape[0]
        k = n_neighbors if self.target_n_neighbors == -1 else min(self.target_n_neighbors, n)
        t_metric = canonical_metric(self.target_metric)
        t_idx, t_dists = nearest_neighbors(np.ascontiguousarray(target), k, t_metric,
                                           self.target_metric_kwds, seed,
                                           what="target_metric")
        target_graph, _, _ = graph_mod.fuzzy_simplicial_set(t_idx, t_dists, k)
        return graph_mod.general_intersection(data_graph, target_graph, self.target_weight)

    def _fit_embedding(self, X, metric, n_neighbors, seed, y_target=None, init="spectral",
                       output=None):
        n = X.shape[0]
        self.n_neighbors_ = n_neighbors
        self.n_epochs_ = (
            default_n_epochs(n, self.densmap) if self.n_epochs is None else int(self.n_epochs)
        )
        if self.a is None or self.b is None:
            self.a_, self.b_ = graph_mod.find_ab_params(self.spread, self.min_dist)
        else:
            self.a_, self.b_ = float(self.a), float(self.b)
        with stage("nearest neighbours"):
            knn_indices, knn_dists = self._knn(X, metric, n_neighbors, seed)
        with stage("fuzzy graph"):
            self.graph_, self._sigmas, self._rhos = graph_mod.fuzzy_simplicial_set(
                knn_indices, knn_dists, n_neighbors, self.set_op_mix_ratio,
                self.local_connectivity,
            )
        epochs_for_pruning = max(self.n_epochs_, 1)
        # Input radii describe the density of X, so they come from the data graph
        # even in a supervised fit (whose extra edges have no input distance).
        data_lgraph = graph_mod.layout_graph(self.graph_, epochs_for_pruning)
        if y_target is not None:
            with stage("target intersection"):
                self.graph_ = self._supervise(self.graph_, y_target, n_neighbors, seed)
            lgraph = graph_mod.layout_graph(self.graph_, epochs_for_pruning)
        else:
            lgraph = data_lgraph
        target = None
        if self.densmap or self.output_dens:
            with stage("input radii"):
                target = density.density_target(data_lgraph, knn_indices, knn_dists)
        rng = np.random.default_rng(seed)
        with stage("initialisation"):
            emb = initial_layout(init, self.graph_, None if metric == "precomputed" else X,
                                 self.n_components, rng, seed)
        params = layout.LayoutParams(
            n_epochs=self.n_epochs_, a=self.a_, b=self.b_, learning_rate=self.learning_rate,
            repulsion_strength=self.repulsion_strength,
            negative_sample_rate=self.negative_sample_rate,
            dens_lambda=self.dens_lambda if self.densmap else 0.0,
            dens_frac=self.dens_frac if self.densmap else 0.0,
            dens_var_shift=self.dens_var_shift,
        )
        progress, close = epoch_progress(self.verbose, self.n_epochs_)
        with stage("optimisation"):
            try:
                layout.optimize_layout(emb, lgraph, params, seed,
                                       target if self.densmap else None, progress, output)
            finally:
                close()
        self.embedding_ = om_mod.canonical(output, emb)
        if self.output_dens:
            self.rad_orig_ = target.log_radii
            self.rad_emb_ = (density.embedding_log_radii(data_lgraph, emb, knn_indices)
                             if output is None else
                             om_mod.log_radii(output, data_lgraph, emb, knn_indices))
        self._density_relation = None
        if self.densmap:
            self._density_relation = density.training_density_relation(
                knn_indices, knn_dists, self._sigmas, self._rhos, emb)

    def fit_transform(self, X, y=None):
        """Fit and return the embedding of ``X``.

        Returns
        -------
        embedding : ndarray of shape (n_samples, n_components)
            With ``output_dens=True``, the tuple ``(embedding, rad_orig, rad_emb)``.
        """
        self.fit(X, y)
        if self.output_dens:
            return self.embedding_, self.rad_orig_, self.rad_emb_
        return self.embedding_

    # ------------------------------------------------------------ new points
    def _fitted_embedding(self):
        """Embedding of the rows the model was fitted on (the distinct rows with ``unique``)."""
        index = getattr(self, "unique_index_", None)
        if index is None or index.size == self.embedding_.shape[0]:
            return self.embedding_
        return self.embedding_[index]

    @property
    def _n_features_out(self):
        """Number of output columns, for :meth:`get_feature_names_out`."""
        return self.embedding_.shape[1]

    def _validate_new(self, X, what="X"):
        check_is_fitted(self, "embedding_")
        metric = canonical_metric(self.metric)
        dtype = np.float32 if self._train_X is None else self._train_X.dtype
        X = _checked_data(self, X, reset=False, ensure_min_samples=1, dtype=dtype)
        check_value_range(X, check_small=False)  # the training data set the scale
        if metric == "precomputed" and X.min() < 0:
            raise ValueError(
                f"metric='precomputed' needs non-negative distances; the smallest entry "
                f"of X is {X.min():g}."
            )
        return X, metric

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # The embedding is float32 whatever the input's float type.
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    def transform(self, X):
        """Place new points in the fitted embedding; ``embedding_`` is not changed.

        Each new point is placed against the fixed training embedding: exact
        neighbours among the training rows, one-sided memberships, a start at
        their membership-weighted mean, then ``n_epochs // 3`` epochs of SGD (100,
        or 30 above 10,000 training points, when ``n_epochs`` is None) at a quarter
        of ``learning_rate``. For DensMAP models the new points are also pulled
        toward the embedding radius their input density implies, through frozen
        training statistics. See :mod:`densumap.transform` for the full design.

        A point's position depends only on the point, the fitted model and
        ``transform_seed`` (its random stream is keyed by a hash of its input
        row): transforming in chunks, in another order or with another ``n_jobs``
        gives identical results. The training data itself goes through the same
        computation (nothing is special-cased), so it lands near, not exactly
        on, its fitted positions.

        Arrays on disk are read in row blocks: an ``np.memmap``, an h5py
        dataset or a zarr array is transformed about 32 MiB of input at a time
        (:func:`densumap._blocks.transform_in_blocks`), so a transform does not
        need memory for the whole input, and the result is identical. A dask
        array gives a lazy dask array computed block by block on the active
        dask scheduler (:func:`densumap.dask.transform`; needs the ``dask``
        extra).

        Parameters
        ----------
        X : array-like, sparse CSR matrix, np.memmap, h5py/zarr dataset or dask array of shape (n_new, n_features)
            For ``metric="precomputed"``: distances to the training points, shape
            (n_new, n_train).

        Returns
        -------
        embedding : ndarray of shape (n_new, n_components), float32
            With ``output_dens=True``, the tuple ``(embedding, rad_orig, rad_emb)``
            where ``rad_orig`` and ``rad_emb`` (shape (n_new,)) are the new points'
            log local radii in the input and the embedding, computed from their
            one-sided memberships (the training radii ``rad_orig_``/``rad_emb_`` use
            the symmetric graph, so the two are comparable but not identical).
            A dask array (or tuple of them) for dask input.
        """
        if _blocks.is_dask_collection(X):
            from .dask import transform as dask_transform

            return dask_transform(self, X)
        if _blocks.is_out_of_core(X):
            check_is_fitted(self, "embedding_")
            return _blocks.transform_in_blocks(self, X)
        return self._transform_array(X)

    def _transform_array(self, X, n_jobs=None):
        """:meth:`transform` of in-memory ``X``; ``n_jobs`` overrides ``self.n_jobs``."""
        X, metric = self._validate_new(X)
        output = om_mod.resolve(self.output_metric, self.output_metric_kwds, self.n_components)
        n_train = self._fitted_embedding().shape[0]
        params = transform_mod.TransformParams(
            n_neighbors=self.n_neighbors_, local_connectivity=self.local_connectivity,
            n_epochs=transform_mod.transform_epochs(n_train, self.n_epochs),
            a=self.a_, b=self.b_, learning_rate=self.learning_rate / 4.0,
            repulsion_strength=self.repulsion_strength,
            negative_sample_rate=self.negative_sample_rate,
            dens_lambda=self.dens_lambda if self.densmap else 0.0,
            dens_frac=self.dens_frac if self.densmap else 0.0,
        )
        seed = resolve_seed(self.transform_seed)
        cut = self.disconnection_distance
        if cut is None:
            cut = DEFAULT_DISCONNECTION.get(metric, np.inf)
        n_jobs = self.n_jobs if n_jobs is None else n_jobs
        with numba_threads(n_jobs), verbosity(self.verbose):
            with stage("transform neighbours"):
                nb, dists = query_neighbors(self._train_X, X, max(self.n_neighbors_ - 1, 1),
                                            metric, self.metric_kwds)
            progress, close = epoch_progress(self.verbose, params.n_epochs, "transform epochs")
            with stage("transform optimisation"):
                try:
                    placed = transform_mod.place_points(
                        nb, dists, dists < cut, transform_mod.row_keys(X),
                        self._fitted_embedding(),
                        params, seed, self._density_relation, progress, output)
                finally:
                    close()
        if self.output_dens:
            return placed.embedding, placed.rad_orig, placed.rad_emb
        return placed.embedding

    def inverse_transform(self, X):
        """Map points of the embedding back to the input space (euclidean models).

        Each embedded point ``y`` becomes the weighted mean of the training rows of
        its ``n_neighbors`` nearest training points in the embedding, with weights
        the embedding affinities ``1 / (1 + a |y - y_j|**(2b))``, distances in the
        model's ``output_metric`` (exact search). This is a local interpolation of
        the training data, not an optimisation: the result lies in the convex hull
        of nearby training rows.

        Parameters
        ----------
        X : array-like of shape (n_points, n_components)
            Points in the embedding space.

        Returns
        -------
        ndarray of shape (n_points, n_features)
            In the dtype of the training data.
        """
        check_is_fitted(self, "embedding_")
        if canonical_metric(self.metric) != "euclidean":
            raise ValueError(
                f"inverse_transform needs a model fitted with metric='euclidean'; "
                f"this one uses metric={self.metric!r}."
            )
        from sklearn.utils import check_array

        Y = check_array(X, dtype=np.float32, ensure_all_finite=True)
        dim = self.embedding_.shape[1]
        if Y.shape[1] != dim:
            raise ValueError(
                f"X has {Y.shape[1]} columns but the embedding has n_components={dim}."
            )
        fitted = self._fitted_embedding()
        k = min(self.n_neighbors_, fitted.shape[0])
        output = om_mod.resolve(self.output_metric, self.output_metric_kwds, self.n_components)
        if output is None:
            nb, dists = query_neighbors(fitted, np.ascontiguousarray(Y), k)
        else:
            nb, dists = output.knn(Y, fitted, k)
            dists = np.maximum(dists, 0.0)  # a Gaussian energy may be negative
        return transform_mod.interpolate_rows(self._train_X, nb, dists, self.a_, self.b_)


def _checked_data(estimator, X, reset, ensure_min_samples, dtype=(np.float32, np.float64)):
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


def _has_precomputed_knn(knn):
    """True unless ``knn`` is None or umap-learn's "nothing" tuple of Nones."""
    return knn is not None and not (isinstance(knn, (tuple, list))
                                    and all(part is None for part in knn))


def _check_metric_kwds(name, metric, kwds):
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


def _encode_labels(y):
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
