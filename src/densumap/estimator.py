"""The ``UMAP`` estimator: parameters, validation and orchestration of the stages."""
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from . import density, graph as graph_mod, layout
from ._runtime import epoch_progress, numba_threads, resolve_seed, stage, verbosity
from .init import initial_layout
from .neighbors import DEFAULT_DISCONNECTION, METRIC_ALIASES, canonical_metric, nearest_neighbors


def default_n_epochs(n_samples, densmap):
    """umap-learn's default: 500 epochs up to 10,000 samples, else 200; +200 for DensMAP."""
    return (500 if n_samples <= 10_000 else 200) + (200 if densmap else 0)


class UMAP(TransformerMixin, BaseEstimator):
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
    metric : str, default="euclidean"
        Input metric: "euclidean", "cosine", "manhattan", "chebyshev",
        "minkowski" (``metric_kwds={"p": p}``), "correlation" or "precomputed"
        (``X`` is then a square distance matrix).
    metric_kwds : dict, default=None
    output_metric : {"euclidean"}, default="euclidean"
        Metric of the embedding space.
    n_epochs : int, default=None
        Optimisation epochs; None means 500 up to 10,000 samples, else 200, plus
        200 with DensMAP. The resolved value is ``n_epochs_``.
    learning_rate : float, default=1.0
        Initial SGD step, decayed linearly to 0.
    init : {"spectral", "pca", "random"} or ndarray of shape (n_samples, n_components), default="spectral"
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
        Threads for the compiled kernels; -1 means all.
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
        ``(embedding, rad_orig, rad_emb)``.

    Attributes
    ----------
    embedding_ : ndarray of shape (n_samples, n_components), float32
    graph_ : scipy.sparse.csr_matrix of shape (n_samples, n_samples)
        Symmetric fuzzy graph (memberships).
    n_features_in_ : int
    n_neighbors_ : int
    n_epochs_ : int
    a_, b_ : float
    rad_orig_, rad_emb_ : ndarray of shape (n_samples,)
        Only with ``output_dens=True``. The log local radius of point ``i`` is
        ``log(sum_j mu_ij d_ij**2 / sum_j mu_ij)`` over its graph neighbours, with
        the input metric or the embedding's euclidean distance: both on the same
        squared-distance scale (see :mod:`densumap.density`).
    """

    _parameter_constraints = {
        "n_neighbors": [Interval(Integral, 2, None, closed="left")],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "metric": [StrOptions(set(METRIC_ALIASES))],
        "metric_kwds": [dict, None],
        "output_metric": [StrOptions({"euclidean"})],
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
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
        "disconnection_distance": [Interval(Real, 0, None, closed="neither"), None],
        "densmap": ["boolean"],
        "dens_lambda": [Interval(Real, 0, None, closed="left")],
        "dens_frac": [Interval(Real, 0, 1, closed="both")],
        "dens_var_shift": [Interval(Real, 0, None, closed="left")],
        "output_dens": ["boolean"],
    }

    def __init__(
        self,
        n_neighbors=15,
        n_components=2,
        metric="euclidean",
        metric_kwds=None,
        output_metric="euclidean",
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
    ):
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.metric = metric
        self.metric_kwds = metric_kwds
        self.output_metric = output_metric
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

    # ------------------------------------------------------------------ checks
    def _validate_input(self, X):
        metric = canonical_metric(self.metric)
        X = validate_data(
            self,
            X,
            reset=True,
            accept_sparse="csr",
            dtype=[np.float32, np.float64],
            ensure_min_samples=2,
            ensure_all_finite=True,
        )
        if metric == "precomputed" and X.shape[0] != X.shape[1]:
            raise ValueError(
                f"metric='precomputed' needs a square distance matrix; got shape {X.shape}."
            )
        return X, metric

    def _check_data_dependent(self, X):
        """Checks that need the data or combine parameters; returns resolved values."""
        import warnings

        n = X.shape[0]
        if self.min_dist > self.spread:
            raise ValueError(
                f"min_dist must not exceed spread; got min_dist={self.min_dist}, "
                f"spread={self.spread}."
            )
        if isinstance(self.init, np.ndarray) and self.init.shape != (n, self.n_components):
            raise ValueError(
                f"init array must have shape (n_samples, n_components) = "
                f"{(n, self.n_components)}; got {self.init.shape}."
            )
        if isinstance(self.init, np.ndarray) and not np.all(np.isfinite(self.init)):
            raise ValueError("init array contains NaN or inf.")
        n_neighbors = self.n_neighbors
        if n_neighbors > n:
            warnings.warn(
                f"n_neighbors={n_neighbors} is larger than the number of samples ({n}); "
                f"using n_neighbors={n}.",
                UserWarning,
                stacklevel=3,
            )
            n_neighbors = n
        return n_neighbors

    # --------------------------------------------------------------- stages
    def _knn(self, X, metric, n_neighbors, seed):
        indices, dists = nearest_neighbors(X, n_neighbors, metric, self.metric_kwds, seed)
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
        """Fit the embedding of ``X``.

        Parameters
        ----------
        X : array-like or sparse CSR matrix of shape (n_samples, n_features)
            float32 or float64 data is used as is (no copy); other numeric types
            are converted to float32... see :meth:`_validate_input`.
        y : None
            Ignored (supervised embedding is not available yet).

        Returns
        -------
        self : UMAP
        """
        self._validate_params()
        X, metric = self._validate_input(X)
        n_neighbors = self._check_data_dependent(X)
        seed = resolve_seed(self.random_state)
        with numba_threads(self.n_jobs), verbosity(self.verbose):
            self._fit_embedding(X, metric, n_neighbors, seed)
        return self

    def _fit_embedding(self, X, metric, n_neighbors, seed):
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
        lgraph = graph_mod.layout_graph(self.graph_, epochs_for_pruning)
        target = None
        if self.densmap or self.output_dens:
            with stage("input radii"):
                target = density.density_target(lgraph, knn_indices, knn_dists)
        rng = np.random.default_rng(seed)
        with stage("initialisation"):
            emb = initial_layout(self.init, self.graph_, None if metric == "precomputed" else X,
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
                                       target if self.densmap else None, progress)
            finally:
                close()
        self.embedding_ = emb
        if self.output_dens:
            self.rad_orig_ = target.log_radii
            self.rad_emb_ = density.embedding_log_radii(lgraph, emb, knn_indices)

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
