"""``AlignedUMAP``: aligned embeddings of a sequence of related data sets, with DensMAP.

As umap-learn's ``umap.aligned_umap.AlignedUMAP``: ``fit`` takes a list of data
slices and, between each consecutive pair, a dict relating rows of one slice to
rows of the next; all slices are optimised together, each with its own UMAP
objective plus a pull that keeps related points of nearby slices in the same
place.  densumap adds DensMAP (``densmap=True``: each slice's density term on its
own graph and radii), seeded runs identical for any ``n_jobs``, and fitted
per-slice models (``mappers_[i]``) whose ``embedding_`` *is* the aligned
embedding, so ``mappers_[i].transform`` places new points in aligned slice ``i``.
The numerics are in :mod:`densumap.alignment` and ``_kernels.aligned_sgd``.
"""
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _aligned_slices as slices_mod, alignment
from ._runtime import epoch_progress, numba_threads, resolve_seed, stage, verbosity
from .estimator import UMAP

# Parameters that may be given per slice (a list or tuple with an entry for every
# slice, entry i for slice i), as in umap-learn, plus DensMAP's.
PER_SLICE = ("n_neighbors", "min_dist", "repulsion_strength", "learning_rate", "spread",
             "negative_sample_rate", "local_connectivity", "set_op_mix_ratio", "unique",
             "dens_lambda", "dens_frac", "dens_var_shift")
# Parameters given unchanged to every slice's UMAP (validated there).
SHARED = ("n_components", "metric", "metric_kwds", "a", "b", "target_n_neighbors",
          "target_metric", "target_metric_kwds", "target_weight", "transform_seed",
          "verbose", "n_jobs", "disconnection_distance", "densmap", "output_dens")
# umap-learn's neighbour-search parameters, handed to every slice's UMAP unchanged.
SEARCH = ("low_memory", "transform_queue_size", "angular_rp_forest",
          "force_approximation_algorithm")
_EPOCHS_DEFAULT = 200


class AlignedUMAP(BaseEstimator):
    """UMAP (or DensMAP) embeddings of several related data sets, kept aligned.

    The parameters, names and defaults follow umap-learn's ``AlignedUMAP``.  Those
    marked *per slice* also accept a list or tuple with one entry per slice (entry
    ``i`` for slice ``i``; extra entries are used by :meth:`update` for the slices
    it adds).  The others are shared by all slices; see :class:`densumap.UMAP` for
    their meaning.

    Parameters
    ----------
    n_neighbors : int or list, default=15
        Per slice.
    n_components : int, default=2
        The same for every slice (a list is an error).
    metric, metric_kwds : default="euclidean", None
    n_epochs : int, default=None
        Epochs of the joint optimisation, one number for all slices; None means
        200 (umap-learn's AlignedUMAP default). The resolved value is ``n_epochs_``.
    learning_rate : float or list, default=1.0
        Per slice.
    init : {"spectral", "pca", "random"} or list of ndarray, default="spectral"
        A string initialises every slice that way, each then rotated (or
        reflected) and shifted onto the previous one on their related points
        (orthogonal Procrustes). A list gives each slice's initial positions, shape
        ``(n_samples_i, n_components)``, used as they are. A slice added by
        :meth:`update` starts from the positions of its related points in the last
        slice whatever ``init`` is (with no related point at all, from its own
        ``init``: the string, or "spectral" for a list).
    alignment_regularisation : float, default=0.01
        Strength of the pull between related points of different slices. Large
        values keep related points nearly on top of each other at the cost of each
        slice's own layout; 0 lets the slices move independently after the
        aligned start.
    alignment_window_size : int, default=3
        Slices up to this far on either side of a slice pull its points; a link
        ``k`` slices away weighs ``exp(-(k - 1))`` of a neighbouring one.
        Relations further than one slice apart are the chained relations of the
        slices in between.
    min_dist, spread : float or list, default=0.1, 1.0
        Per slice.
    low_memory : bool, default=False
        Handed to each slice's :class:`~densumap.UMAP`, where it acts as there
        (only for sparse slices searched approximately).
    set_op_mix_ratio, local_connectivity : float or list, default=1.0
        Per slice.
    repulsion_strength : float or list, default=1.0
        Per slice.
    negative_sample_rate : int or list, default=5
        Per slice.
    transform_queue_size : float, default=4.0
        As ``low_memory`` (no effect in :class:`~densumap.UMAP` either).
    a, b : float, default=None
        None fits them from each slice's ``min_dist`` and ``spread``.
    random_state : int, RandomState instance or None, default=None
        Seeds everything; a fixed seed gives bit-identical embeddings for any
        ``n_jobs``.
    angular_rp_forest : bool, default=False
        As ``low_memory`` (no effect in :class:`~densumap.UMAP` either).
    target_n_neighbors, target_metric, target_metric_kwds, target_weight
        Of the supervised fit of each slice whose ``y`` is given.
    transform_seed : int, default=42
        Seed of ``mappers_[i].transform``.
    force_approximation_algorithm : bool, default=False
        As ``low_memory``: True makes every slice search its neighbours
        approximately, even below 4,096 rows.
    verbose : bool, default=False
    unique : bool or list, default=False
        Per slice. Relations still refer to rows of the slices as given; a row's
        relation applies to its distinct row.
    n_jobs : int, default=-1
        Threads (densumap addition).
    disconnection_distance : float, default=None
        As :class:`densumap.UMAP` (densumap addition).
    densmap : bool, default=False
        DensMAP in every slice (densumap addition; umap-learn's AlignedUMAP has
        none): each slice's density term uses its own graph and input radii.
    dens_lambda, dens_frac, dens_var_shift : float or list, default=2.0, 0.3, 0.1
        Per slice (densumap addition).
    output_dens : bool, default=False
        Compute each slice's log local radii, ``rad_orig_`` and ``rad_emb_``
        (lists); ``fit_transform`` then returns ``(embeddings, rad_orig, rad_emb)``.

    Attributes
    ----------
    embeddings_ : list of ndarray of shape (n_samples_i, n_components), float32
    mappers_ : list of densumap.UMAP
        A fitted model per slice (graph, parameters, training rows) whose
        ``embedding_`` is ``embeddings_[i]``: its ``transform`` places new points
        in the aligned embedding of slice ``i``.
    n_models_ : int
        Number of slices.
    dict_relations_ : list of dict
        The relations as given: ``dict_relations_[i]`` relates slices ``i`` and
        ``i + 1``, from ``i`` to ``i + 1`` for those given to :meth:`fit`, from
        ``i + 1`` to ``i`` for those given to :meth:`update`.
    n_epochs_ : int
    rad_orig_, rad_emb_ : list of ndarray of shape (n_samples_i,)
        Only with ``output_dens=True``.

    Notes
    -----
    Differences from umap-learn's AlignedUMAP (0.5.12): relations further apart
    chain the relations in between and the window is symmetric (umap-learn
    re-applies one slice's relation and reaches one slice less forward); the
    alignment pull is applied once per point and epoch in closed form with
    umap-learn's expected strength (``densumap._kernels.aligned_sgd``), so a large
    ``alignment_regularisation`` cannot overshoot; points without graph edges keep
    a finite position (umap-learn sets them to NaN); the parameters are never
    rewritten by :meth:`update`.
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "n_epochs": [Interval(Integral, 0, None, closed="left"), None],
        "init": [StrOptions({"spectral", "pca", "random"}), list, tuple],
        "alignment_regularisation": [Interval(Real, 0, None, closed="left")],
        "alignment_window_size": [Interval(Integral, 0, None, closed="left")],
        "low_memory": ["boolean"],
        "transform_queue_size": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "angular_rp_forest": ["boolean"],
        "force_approximation_algorithm": ["boolean"],
        "verbose": ["verbose"],
        "densmap": ["boolean"],
        "output_dens": ["boolean"],
    }

    def __init__(
        self,
        n_neighbors=15,
        n_components=2,
        metric="euclidean",
        metric_kwds=None,
        n_epochs=None,
        learning_rate=1.0,
        init="spectral",
        alignment_regularisation=1.0e-2,
        alignment_window_size=3,
        min_dist=0.1,
        spread=1.0,
        low_memory=False,
        set_op_mix_ratio=1.0,
        local_connectivity=1.0,
        repulsion_strength=1.0,
        negative_sample_rate=5,
        transform_queue_size=4.0,
        a=None,
        b=None,
        random_state=None,
        angular_rp_forest=False,
        target_n_neighbors=-1,
        target_metric="categorical",
        target_metric_kwds=None,
        target_weight=0.5,
        transform_seed=42,
        force_approximation_algorithm=False,
        verbose=False,
        unique=False,
        n_jobs=-1,
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
        self.n_epochs = n_epochs
        self.learning_rate = learning_rate
        self.init = init
        self.alignment_regularisation = alignment_regularisation
        self.alignment_window_size = alignment_window_size
        self.min_dist = min_dist
        self.spread = spread
        self.low_memory = low_memory
        self.set_op_mix_ratio = set_op_mix_ratio
        self.local_connectivity = local_connectivity
        self.repulsion_strength = repulsion_strength
        self.negative_sample_rate = negative_sample_rate
        self.transform_queue_size = transform_queue_size
        self.a = a
        self.b = b
        self.random_state = random_state
        self.angular_rp_forest = angular_rp_forest
        self.target_n_neighbors = target_n_neighbors
        self.target_metric = target_metric
        self.target_metric_kwds = target_metric_kwds
        self.target_weight = target_weight
        self.transform_seed = transform_seed
        self.force_approximation_algorithm = force_approximation_algorithm
        self.verbose = verbose
        self.unique = unique
        self.n_jobs = n_jobs
        self.disconnection_distance = disconnection_distance
        self.densmap = densmap
        self.dens_lambda = dens_lambda
        self.dens_frac = dens_frac
        self.dens_var_shift = dens_var_shift
        self.output_dens = output_dens

    # ------------------------------------------------------------------ checks
    def _check_params(self, n_slices):
        """Parameters of the whole model; each slice's values are checked by its UMAP."""
        if isinstance(self.n_components, (list, tuple, np.ndarray)):
            raise ValueError(
                f"n_components must be one integer for all slices (aligned embeddings "
                f"share their dimension); got n_components={self.n_components!r}."
            )
        if isinstance(self.n_epochs, (list, tuple, np.ndarray)):
            raise ValueError(
                f"n_epochs must be one integer for all slices (they are optimised "
                f"together); got n_epochs={self.n_epochs!r}."
            )
        self._validate_params()
        for name in PER_SLICE:
            value = getattr(self, name)
            if isinstance(value, np.ndarray):
                value = list(value.ravel())
            if isinstance(value, (list, tuple)) and len(value) < n_slices:
                raise ValueError(
                    f"{name} is a list of {len(value)} values but there are {n_slices} "
                    f"slices; give one value per slice (or a single value for all)."
                )
        if isinstance(self.init, (list, tuple)) and len(self.init) != n_slices:
            raise ValueError(
                f"init is a list of {len(self.init)} arrays but there are {n_slices} "
                f"slices; give one initial layout per slice (or a string)."
            )

    def _slice_value(self, name, s, overrides=None):
        """Value of a per-slice parameter for slice ``s``."""
        if overrides and name in overrides:
            return overrides[name]
        value = getattr(self, name)
        if isinstance(value, np.ndarray):
            value = value.ravel().tolist()
        if isinstance(value, (list, tuple)):
            if s >= len(value):
                raise ValueError(
                    f"{name} is a list of {len(value)} values, with none for slice {s}; "
                    f"pass {name}=... to update() for the new slice."
                )
            return value[s]
        return value

    def _slice_model(self, s, seed, overrides=None):
        """The (unfitted) UMAP of slice ``s``, with that slice's parameters."""
        params = {name: self._slice_value(name, s, overrides) for name in PER_SLICE}
        params.update({name: getattr(self, name) for name in SHARED})
        params.update({name: getattr(self, name) for name in SEARCH})
        init = self.init
        if isinstance(init, (list, tuple)):
            # A slice added by update() beyond the list starts from its relations
            # (or, with none, from a spectral layout).
            init = init[s] if s < len(init) else "spectral"
        params.update(init=init, n_epochs=self.n_epochs, random_state=seed)
        return UMAP(**params)

    @staticmethod
    def _slices(X):
        if isinstance(X, np.ndarray) and X.ndim == 3:
            return list(X)
        if not isinstance(X, (list, tuple)):
            raise TypeError(
                f"X must be a list (or tuple) of data slices, one array-like of shape "
                f"(n_samples_i, n_features) per slice; got {type(X).__name__}."
            )
        if len(X) < 1:
            raise ValueError("X must hold at least one data slice; got an empty list.")
        return list(X)

    @staticmethod
    def _relation_list(relations, n_slices):
        if relations is None:
            raise ValueError(
                "AlignedUMAP.fit needs relations=[dict, ...]: one dict per pair of "
                "consecutive slices, mapping row indices of slice i to rows of slice i+1."
            )
        if not isinstance(relations, (list, tuple)):
            raise TypeError(
                f"relations must be a list of dicts (one per pair of consecutive "
                f"slices); got {type(relations).__name__}."
            )
        if len(relations) != n_slices - 1:
            raise ValueError(
                f"relations must hold one dict per pair of consecutive slices: "
                f"{n_slices} slices need {n_slices - 1}; got {len(relations)}."
            )
        return list(relations)

    @staticmethod
    def _targets(y, n_slices):
        if y is None:
            return [None] * n_slices
        if not isinstance(y, (list, tuple)) and not (isinstance(y, np.ndarray)
                                                     and y.dtype == object):
            raise TypeError(
                f"y must be a list with one target array (or None) per slice; got "
                f"{type(y).__name__}."
            )
        if len(y) != n_slices:
            raise ValueError(f"y must have one entry per slice ({n_slices}); got {len(y)}.")
        return list(y)

    def _window(self, window_size):
        if window_size is None:
            return int(self.alignment_window_size)
        if (isinstance(window_size, (bool, np.bool_)) or not isinstance(window_size, Integral)
                or window_size < 0):
            raise ValueError(
                f"window_size must be a non-negative integer; got {window_size!r}."
            )
        return int(window_size)

    def _slice_seed(self, s):
        return int(np.random.SeedSequence([self._seed, s]).generate_state(1)[0] & 0x7FFFFFFF)

    def _publish(self):
        self.embeddings_ = [m.embedding_ for m in self.mappers_]
        self.n_models_ = len(self.mappers_)
        if self.output_dens:
            self.rad_orig_ = [m.rad_orig_ for m in self.mappers_]
            self.rad_emb_ = [m.rad_emb_ for m in self.mappers_]

    # --------------------------------------------------------------------- API
    def fit(self, X, y=None, *, relations=None, window_size=None):
        """Fit aligned embeddings of the slices in ``X``.

        Parameters
        ----------
        X : list of array-like of shape (n_samples_i, n_features)
            The data slices (arrays, DataFrames or sparse matrices; a 3-D array is
            read as a list of equal slices). Slices may differ in size; for
            ``metric="precomputed"`` each is a square distance matrix.
        y : list of (array-like or None), default=None
            A target per slice for supervised slices (see :class:`densumap.UMAP`).
        relations : list of dict
            ``relations[i]`` maps row indices of slice ``i`` to row indices of slice
            ``i + 1`` (the same entity in both). It may be partial; rows without a
            relation are free. Keys and values must be integers within their
            slice's rows.
        window_size : int, default=None
            Overrides ``alignment_window_size`` for this fit (as umap-learn's fit
            keyword).

        Returns
        -------
        self : AlignedUMAP
        """
        slices = self._slices(X)
        S = len(slices)
        self._check_params(S)
        rel_dicts = self._relation_list(relations, S)
        targets = self._targets(y, S)
        window = self._window(window_size)
        self.n_epochs_ = _EPOCHS_DEFAULT if self.n_epochs is None else int(self.n_epochs)
        self._seed = resolve_seed(self.random_state)
        with numba_threads(self.n_jobs), verbosity(self.verbose):
            # Every slice and relation is checked before the first neighbour search.
            fits = [slices_mod.validate(self._slice_model(s, self._slice_seed(s)), s,
                                        slices[s], targets[s], self._slice_seed(s))
                    for s in range(S)]
            rel = [slices_mod.relation(rel_dicts[s], fits[s], fits[s + 1], f"relations[{s}]")
                   for s in range(S - 1)]
            fits = [slices_mod.build(f, s, self.n_epochs_) for s, f in enumerate(fits)]
            self._rel = rel
            with stage("initialisation"):
                inits = self._aligned_inits(fits)
            starts = np.concatenate([[0], np.cumsum([e.shape[0] for e in inits])])
            links = alignment.window_links(self._rel, [f.model.graph_ for f in fits],
                                           starts, window, float(self.alignment_regularisation))
            problems = [slices_mod.problem(f, e) for f, e in zip(fits, inits)]
            progress, close = epoch_progress(self.verbose, self.n_epochs_)
            with stage("aligned optimisation"):
                try:
                    embs = alignment.optimize_aligned(problems, links, self.n_epochs_,
                                                      self._seed, 0, progress)
                finally:
                    close()
        self.mappers_ = [slices_mod.finish(f, e) for f, e in zip(fits, embs)]
        self.dict_relations_ = [dict(r) for r in rel_dicts]
        self._publish()
        return self

    def _aligned_inits(self, fits):
        """Each slice's initial layout, string inits rotated onto the previous slice."""
        inits = []
        for s, fit in enumerate(fits):
            emb = slices_mod.initial(fit)
            if s > 0 and isinstance(self.init, str):
                pairs = self._rel[s - 1].tocoo()
                emb = alignment.procrustes_onto(inits[-1], emb, pairs.row.astype(np.int64),
                                                pairs.col.astype(np.int64))
            inits.append(emb)
        return inits

    def fit_transform(self, X, y=None, *, relations=None, window_size=None):
        """Fit and return ``embeddings_``.

        Returns
        -------
        embeddings : list of ndarray of shape (n_samples_i, n_components)
            With ``output_dens=True``, ``(embeddings, rad_orig, rad_emb)``, each a
            list with one array per slice.
        """
        self.fit(X, y, relations=relations, window_size=window_size)
        if self.output_dens:
            return self.embeddings_, self.rad_orig_, self.rad_emb_
        return self.embeddings_

    def update(self, X, y=None, *, relations=None, window_size=None, **slice_params):
        """Append a slice, aligned with the fitted ones, which do not move.

        Parameters
        ----------
        X : array-like of shape (n_samples_new, n_features)
        y : array-like, default=None
            Target of the new slice.
        relations : dict
            Maps row indices of the *new* slice ``X`` to row indices of the last
            fitted slice (the direction umap-learn's documentation uses: for a
            ``fit`` relation ``d``, ``{v: k for k, v in d.items()}``).
        window_size : int, default=None
            Overrides ``alignment_window_size``; only earlier slices pull.
        **slice_params
            Per-slice parameters (``n_neighbors``, ``min_dist``, ...) of the new
            slice; by default the parameter's entry for this slice (a list) or its
            single value. The hyper-parameters themselves are not changed.

        Returns
        -------
        self : AlignedUMAP
        """
        check_is_fitted(self, "embeddings_")
        unknown = sorted(set(slice_params) - set(PER_SLICE))
        if unknown:
            raise TypeError(
                f"update() got parameters that cannot vary per slice: {unknown}; allowed: "
                f"{list(PER_SLICE)}."
            )
        if relations is None:
            raise ValueError(
                "AlignedUMAP.update needs relations={row of X: row of the last slice}.")
        window = self._window(window_size)
        s_new = self.n_models_
        last = self.mappers_[-1]
        with numba_threads(self.n_jobs), verbosity(self.verbose):
            seed = self._slice_seed(s_new)
            fit = slices_mod.validate(self._slice_model(s_new, seed, slice_params), s_new, X,
                                      y, seed)
            keys, values = alignment.relation_pairs(
                relations, fit.n_rows, last.embedding_.shape[0], "relations")
            fit = slices_mod.build(fit, s_new, self.n_epochs_)
            m = fit.model
            prev_fit = last._fitted_embedding()
            rel = alignment.relation_matrix(values, keys, prev_fit.shape[0], fit.n_fit,
                                            last.unique_inverse_, m.unique_inverse_)
            pairs = rel.tocoo()
            if pairs.nnz:
                rng = np.random.default_rng(seed)
                init = alignment.init_from_previous(prev_fit, m.graph_,
                                                    pairs.col.astype(np.int64),
                                                    pairs.row.astype(np.int64), rng)
            else:
                init = slices_mod.initial(fit)
            rels = self._rel + [rel]
            frozen = [alignment.SliceProblem(
                np.ascontiguousarray(old._fitted_embedding(), dtype=np.float32),
                _empty_graph(old._fitted_embedding().shape[0]), fit.params, None)
                for old in self.mappers_]
            problems = frozen + [slices_mod.problem(fit, init)]
            starts = np.concatenate([[0], np.cumsum([p.embedding.shape[0] for p in problems])])
            graphs = [old.graph_ for old in self.mappers_] + [m.graph_]
            links = alignment.window_links(rels, graphs, starts, window,
                                           float(self.alignment_regularisation), s_new)
            progress, close = epoch_progress(self.verbose, self.n_epochs_)
            with stage("aligned update"):
                try:
                    embs = alignment.optimize_aligned(problems, links, self.n_epochs_,
                                                      seed, s_new, progress)
                finally:
                    close()
        self._rel = rels
        self.mappers_ = self.mappers_ + [slices_mod.finish(fit, embs[-1])]
        self.dict_relations_ = self.dict_relations_ + [dict(relations)]
        self._publish()
        return self


def _empty_graph(n):
    import scipy.sparse as sp

    return sp.csr_matrix((n, n), dtype=np.float32)
