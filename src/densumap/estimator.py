"""The ``UMAP`` estimator: parameters and orchestration of the stages.

The checks of parameters and data are in :mod:`densumap._validation`, what a fitted
model does beyond ``fit`` (placing rows, ``inverse_transform``, ``update``, ``+ * -``)
in :mod:`densumap._model_ops`; both are mixed into the class.
"""
import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from . import _blocks, density, graph as graph_mod, output_metric as om_mod
from . import transform as transform_mod
from ._input import check_distance_scale
from ._model_ops import ModelOpsMixin
from ._runtime import numba_threads, resolve_seed, stage, verbosity
from ._validation import PARAMETER_CONSTRAINTS, ValidationMixin
from .init import initial_layout
from .layout import resolve_epochs
from .neighbors import (DEFAULT_DISCONNECTION, canonical_metric, nearest_neighbors,
                        precomputed_knn_arrays)


class UMAP(ValidationMixin, ModelOpsMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin,
           BaseEstimator):
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
        Input metric: "euclidean" ("l2"), "cosine", "manhattan" ("l1",
        "cityblock", "taxicab"), "chebyshev" ("linf", "linfinity", "linfty"),
        "minkowski", "correlation", "seuclidean", "wminkowski", "mahalanobis",
        "canberra", "braycurtis", "hellinger", "softmax_hellinger", "haversine",
        "poincare", "symmetric_kl", the binary "hamming", "matching", "jaccard",
        "dice", "kulsinski", "rogerstanimoto", "russellrao", "sokalmichener",
        "sokalsneath", "yule" (non-zero is true), or "precomputed" (``X`` is then
        a square distance matrix); or a function ``f(x, y) -> float`` of two rows
        (a ``numba.njit`` function, or a Python function numba can compile, else
        ``TypeError``), which may also return ``(distance, gradient)``; for sparse
        ``X``, ``f(ind1, val1, ind2, val2)``. Sparse ``X`` takes the first six,
        "seuclidean", "wminkowski", "canberra", "braycurtis", "hellinger" and the
        binary metrics. See :mod:`densumap.metrics` for the definitions.
    metric_kwds : dict, default=None
        Keyword arguments of ``metric``, by name: ``p`` (> 0) for "minkowski";
        ``V`` (variances, required) for "seuclidean"; ``w`` (required) and ``p``
        for "wminkowski"; ``VI`` (inverse covariance) or ``V`` (covariance), one
        required, for "mahalanobis"; ``z`` for "symmetric_kl". Any other key is an
        error. For a function, the values are passed after the two rows by
        position, in the dictionary's order (as umap-learn does).
    output_metric : str or numba function, default="euclidean"
        Metric of the embedding space, as umap-learn's: "euclidean" ("l2"), the
        fast default; "haversine" (a sphere, ``n_components=2``: polar angle and
        longitude), "hyperboloid", "gaussian_energy" (``n_components=5``), the
        other metrics umap-learn optimises with a gradient, or a numba function
        ``f(x, y, *args) -> (distance, gradient)``. Same schedule and seeding as
        the euclidean layout; DensMAP needs "euclidean". Details, coordinates and
        the few differences from umap-learn: :mod:`densumap.output_metric`.
    output_metric_kwds : dict, default=None
        Extra arguments of ``output_metric``, umap-learn's names: ``p``
        ("minkowski", "wminkowski"), ``sigma`` ("seuclidean"), ``w``
        ("wminkowski"), ``vinv`` ("mahalanobis"); any other key is an error. For
        a function, its extra positional arguments, in the dict's order.
    n_epochs : int, default=None
        Optimisation epochs; None means 500 up to 10,000 samples; above, 120 for
        plain UMAP, whose Gauss-Seidel sweep converges in fewer epochs (umap-learn:
        200), 200 for a non-euclidean ``output_metric``, and for DensMAP 200 up to
        100,000 samples; above, umap-learn's 400-epoch schedule with its 280
        epochs before the density phase run as 120 bigger steps: 240 epochs (at
        ``dens_frac=0.3``; umap-learn: 400 at every size; pass ``n_epochs=400``
        for its schedule). See :func:`densumap.layout.default_n_epochs` and
        :func:`densumap.layout.resolve_epochs`. The number of epochs run is
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
        on; 0 is an error. With all cores, plain UMAP's epochs run on twice as
        many threads, which keeps its share of a machine that another program
        is using (the result is the same for any count).
    verbose : bool, default=False
        Log each stage with its time and show a progress bar over epochs.
    disconnection_distance : float, default=None
        Neighbours at this distance or farther are not connected. None means
        never for unbounded metrics, 2 for "cosine" and "correlation", 1 for
        "hellinger", "jaccard" and "dice" (as umap-learn).
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
    precomputed_knn : tuple (knn_indices, knn_dists[, knn_search_index]), \
default=(None, None, None)
        The k nearest neighbours of every row of ``X``, computed beforehand (as
        umap-learn's parameter): two arrays of shape (n_samples, k), ``k >=
        n_neighbors``, rows sorted by distance, each point its own first
        neighbour at distance 0, ``-1`` for a missing neighbour. The fit then runs
        no neighbour search and uses the first ``n_neighbors`` columns; with fewer
        columns it warns and searches. A third element (umap-learn's search index)
        is accepted and ignored: :meth:`transform` still works, since it searches
        the training rows. ``(None, None)`` and ``(None, None, None)`` mean None.
        Not available with ``unique=True``. :func:`densumap.anndata.embed` passes
        scanpy's stored neighbours here, and :func:`densumap.umap_.nearest_neighbors`
        computes them as ``fit`` would.
    low_memory : bool, default=True
        Only for sparse ``X`` searched approximately (more than 4,096 rows, or
        ``force_approximation_algorithm``): passed to pynndescent, whose
        ``low_memory=False`` is faster and uses more memory (its neighbours may
        differ slightly). Dense data always uses densumap's own search, whose
        working memory is already bounded (uint16 codes of the rows, a fixed-size
        buffer of candidate offers); there the flag has no effect.
    tqdm_kwds : dict, default=None
        Keyword arguments of the tqdm progress bars over epochs (``desc``,
        ``bar_format``, ``file``, ...; not ``total`` or ``iterable``). Bars are shown
        when ``verbose``; a ``"disable"`` key decides instead when given.
    transform_mode : {"embedding", "graph"}, default="embedding"
        "graph" makes the model a graph builder, as in umap-learn: ``fit`` stops
        after the fuzzy graph (no ``embedding_``), ``fit_transform`` returns
        ``graph_`` and :meth:`transform` the new points' membership graph, a CSR
        matrix of shape (n_new, n_fitted) (see :meth:`transform`).
    angular_rp_forest : bool, default=False
        Accepted for umap-learn compatibility; no effect. densumap's search
        already splits on angles for "cosine" and "correlation" (it normalises the
        rows), and umap-learn 0.5.12 does not use the flag either.
    force_approximation_algorithm : bool, default=False
        Use the approximate neighbour search even for data of 4,096 rows or fewer,
        which otherwise get the exact one.
    transform_queue_size : float, default=4.0
        Accepted for umap-learn compatibility; no effect: :meth:`transform` finds
        the exact nearest training rows, so there is no search queue to size.

    Attributes
    ----------
    embedding_ : ndarray of shape (n_samples, n_components), float32
    graph_ : scipy.sparse.csr_matrix of shape (n_samples, n_samples)
        Symmetric fuzzy graph (memberships); of shape (n_unique, n_unique), over
        the distinct rows ``X[unique_index_]``, with ``unique=True``.
    graph_dists_ : scipy.sparse.csr_matrix, same shape as ``graph_``, float32
        Input-space distance of every edge of the data's fuzzy graph: for each
        pair ``(i, j)`` joined in it (``j`` among the nearest neighbours of ``i``
        or ``i`` among those of ``j``), their distance in the input metric. In an
        unsupervised fit its structure is that of ``graph_`` entry for entry
        (same ``indices`` and ``indptr``; a distance of 0 between identical rows
        is stored explicitly); a supervised fit keeps the data graph's edges,
        before the intersection with the labels. umap-learn builds it only for
        DensMAP/``output_dens``; densumap always does. None for a composed model.
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
        The number of epochs run (``n_epochs``, or its default resolved by
        :func:`densumap.layout.resolve_epochs`).
    a_, b_ : float
    rad_orig_, rad_emb_ : ndarray of shape (n_samples,)
        Only with ``output_dens=True``. The log local radius of point ``i`` is
        ``log(sum_j mu_ij d_ij**2 / sum_j mu_ij)`` over its graph neighbours, with
        the input metric or the embedding's (``output_metric``) distance: both on
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
    embedding, ``graph_`` and ``graph_dists_``, the per-point ``sigma``/``rho`` of
    the fuzzy set, a content hash and index of each training row (16 bytes a row;
    :meth:`transform` finds rows identical to training rows with it), the
    training rows themselves (needed by :meth:`transform` to find the neighbours
    of new points and by :meth:`inverse_transform`; a *reference* to the array
    passed to ``fit`` when it was already float32/float64, not a copy, so do not
    modify it in place afterwards; with ``unique=True`` and duplicates present, a
    copy of the distinct rows; nothing for ``metric="precomputed"``), and for
    DensMAP models four floats of frozen density statistics. Not kept: the kNN
    lists, the labels ``y``, any compiled kernel.
    """

    _parameter_constraints = PARAMETER_CONSTRAINTS  # each parameter's allowed values

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
        precomputed_knn=(None, None, None),
        low_memory=True,
        tqdm_kwds=None,
        transform_mode="embedding",
        angular_rp_forest=False,
        force_approximation_algorithm=False,
        transform_queue_size=4.0,
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
        self.low_memory = low_memory
        self.tqdm_kwds = tqdm_kwds
        self.transform_mode = transform_mode
        self.angular_rp_forest = angular_rp_forest
        self.force_approximation_algorithm = force_approximation_algorithm
        self.transform_queue_size = transform_queue_size

    # --------------------------------------------------------------- stages
    def _knn(self, X, metric, n_neighbors, seed, precomputed_knn=None):
        given = precomputed_knn_arrays(precomputed_knn, X.shape[0], n_neighbors)
        if given is None:
            indices, dists = nearest_neighbors(
                X, n_neighbors, metric, self.metric_kwds, seed,
                exact=False if self.force_approximation_algorithm else None,
                low_memory=self.low_memory)
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
        X, metric = self._validate_input(X)
        target = self._validate_target(y, X.shape[0])
        X_fit, target = self._deduplicate(X, target)
        n_neighbors = self._check_data_dependent(X, X_fit.shape[0])
        init = self.init
        if isinstance(init, np.ndarray) and X_fit.shape[0] < X.shape[0]:
            init = init[self.unique_index_]
        seed = resolve_seed(self.random_state)
        with numba_threads(self.n_jobs), verbosity(self.verbose):
            self._fit_embedding(X_fit, metric, n_neighbors, seed, target, init,
                                self.precomputed_knn)
        self._supervised = target is not None
        self._train_X = None if metric == "precomputed" else X_fit
        # The fitted rows by content: transform finds rows identical to them there.
        self._row_index = None if self._train_X is None else transform_mod.row_index(X_fit)
        if X_fit.shape[0] < X.shape[0] and self.transform_mode == "embedding":
            # Duplicates share the position (and radii) of their distinct row.
            inverse = self.unique_inverse_
            self.embedding_ = self.embedding_[inverse]
            if self.output_dens:
                self.rad_orig_ = self.rad_orig_[inverse]
                self.rad_emb_ = self.rad_emb_[inverse]
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
                       precomputed_knn=None):
        n = X.shape[0]
        output = self._output_space()  # None: the euclidean kernel
        self.n_neighbors_ = n_neighbors
        self.n_epochs_, self._schedule_epochs = resolve_epochs(
            self.n_epochs, n, self.densmap, output is None, self.dens_lambda, self.dens_frac)
        if self.a is None or self.b is None:
            self.a_, self.b_ = graph_mod.find_ab_params(self.spread, self.min_dist)
        else:
            self.a_, self.b_ = float(self.a), float(self.b)
        with stage("nearest neighbours"):
            knn_indices, knn_dists = self._knn(X, metric, n_neighbors, seed, precomputed_knn)
        with stage("fuzzy graph"):
            self.graph_, self._sigmas, self._rhos = graph_mod.fuzzy_simplicial_set(
                knn_indices, knn_dists, n_neighbors, self.set_op_mix_ratio,
                self.local_connectivity,
            )
            self.graph_dists_ = graph_mod.graph_distances(self.graph_, knn_indices, knn_dists)
        epochs_for_pruning = max(self._schedule_epochs, 1)
        # Input radii describe the density of X, so they come from the data graph
        # even in a supervised fit (whose extra edges have no input distance).
        data_lgraph = graph_mod.layout_graph(self.graph_, epochs_for_pruning)
        if y_target is not None:
            with stage("target intersection"):
                self.graph_ = self._supervise(self.graph_, y_target, n_neighbors, seed)
            lgraph = graph_mod.layout_graph(self.graph_, epochs_for_pruning)
        else:
            lgraph = data_lgraph
        self._density_relation = None
        for stale in ("embedding_", "rad_orig_", "rad_emb_"):  # from an earlier fit
            self.__dict__.pop(stale, None)
        if self.transform_mode == "graph":
            return  # a graph builder: no layout (umap-learn's transform_mode="graph")
        target = None
        if self.densmap or self.output_dens:
            with stage("input radii"):
                target = density.density_target(data_lgraph, knn_indices, knn_dists)
        rng = np.random.default_rng(seed)
        with stage("initialisation"):
            emb = initial_layout(init, self.graph_, None if metric == "precomputed" else X,
                                 self.n_components, rng, seed)
        self._optimise_layout(emb, lgraph, seed, target, output)
        self.embedding_ = om_mod.canonical(output, emb)
        if self.output_dens:
            self.rad_orig_ = target.log_radii
            self.rad_emb_ = om_mod.log_radii(output, data_lgraph, emb, knn_indices)
        if self.densmap:
            self._density_relation = density.training_density_relation(
                knn_indices, knn_dists, self._sigmas, self._rhos, emb)

    def fit_transform(self, X, y=None):
        """Fit and return the embedding of ``X``.

        Returns
        -------
        embedding : ndarray of shape (n_samples, n_components)
            With ``output_dens=True``, the tuple ``(embedding, rad_orig, rad_emb)``;
            with ``transform_mode="graph"``, ``graph_``.
        """
        self.fit(X, y)
        if self.transform_mode == "graph":
            return self.graph_
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
        if self.transform_mode == "graph":
            return self.graph_.shape[1]
        return self.embedding_.shape[1]

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

        A row identical to a row the model was fitted on (every entry equal; for
        ``metric="precomputed"``, a row at distance 0 from a training point) gets
        that row's fitted position, and with ``output_dens`` its fitted radii
        ``rad_orig_``/``rad_emb_`` (when the fit computed them; otherwise its
        one-sided radii at that position). So ``transform(X_train)`` equals
        ``embedding_``, as umap-learn users expect, unless ``X_train`` has
        duplicate rows and ``unique=False``: a duplicate then gets the position
        of its first occurrence.

        A point's result depends only on the point, the fitted model and
        ``transform_seed`` (the match is decided row by row; a new point's random
        stream is keyed by a hash of its input row): transforming in chunks, in
        another order or with another ``n_jobs`` gives identical results.

        With ``transform_mode="graph"`` the result is instead the new points'
        membership graph: a CSR matrix of shape (n_new, n_fitted) (n_fitted the
        distinct rows with ``unique=True``) holding each point's one-sided
        memberships to its nearest fitted rows (the ``memberships`` of
        :mod:`densumap.transform`); a row identical to a fitted row gets that
        row of ``graph_``. Only for in-memory input.

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
        if self.transform_mode == "graph" and (_blocks.is_dask_collection(X)
                                               or _blocks.is_out_of_core(X)):
            raise ValueError(
                "transform_mode='graph' returns a sparse matrix and needs X in memory; "
                f"got {type(X).__name__}. Read X (or a block of it) into a NumPy array."
            )
        if _blocks.is_dask_collection(X):
            from .dask import transform as dask_transform

            return dask_transform(self, X)
        if _blocks.is_out_of_core(X):
            check_is_fitted(self, "embedding_")
            return _blocks.transform_in_blocks(self, X)
        return self._transform_array(X)
