"""What a fitted :class:`densumap.UMAP` does beyond ``fit``, mixed into the class.

``transform`` of in-memory rows: rows identical to fitted rows get their fitted
results, the others are placed against the fitted embedding, or, with
``transform_mode="graph"``, get their membership graph (numerics in
:mod:`densumap.transform`); ``inverse_transform``; ``update``
(:mod:`densumap.update`); composition with ``+``, ``*`` and ``-``
(:mod:`densumap.compose`). The estimator module keeps the parameters, ``fit`` and
the public ``transform`` (which dispatches dask and on-disk input). The SGD
epochs of a layout (:meth:`ModelOpsMixin._optimise_layout`) are here too, shared
by ``fit`` and composition.
"""
import numpy as np
from sklearn.utils.validation import check_is_fitted

from . import layout, transform as transform_mod
from ._runtime import epoch_progress, numba_threads, resolve_seed, stage, verbosity
from .neighbors import DEFAULT_DISCONNECTION, canonical_metric, query_neighbors


class ModelOpsMixin:
    """Methods of :class:`densumap.UMAP` that act on a fitted model as a whole."""

    def _transform_array(self, X, n_jobs=None):
        """:meth:`transform` of in-memory ``X``; ``n_jobs`` overrides ``self.n_jobs``."""
        X, metric = self._validate_new(X)
        if self.transform_mode == "graph":
            return self._transform_graph(X, metric, n_jobs)
        placed = self._transform_rows(X, metric, n_jobs, self.output_dens)
        if self.output_dens:
            return placed.embedding, placed.rad_orig, placed.rad_emb
        return placed.embedding

    def _new_neighbours(self, X, metric):
        """Nearest fitted rows of new points: indices, distances and connected flags."""
        cut = self.disconnection_distance
        if cut is None:
            cut = DEFAULT_DISCONNECTION.get(metric, np.inf)
        with stage("transform neighbours"):
            nb, dists = query_neighbors(self._train_X, X, max(self.n_neighbors_ - 1, 1),
                                        metric, self.metric_kwds)
        return nb, dists, dists < cut

    def _place_rows(self, X, metric, n_jobs=None, start=None):
        """Place new points (module :mod:`densumap.transform`); ``start``: fixed positions."""
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
        if start is not None:
            params = params._replace(n_epochs=0)
        seed = resolve_seed(self.transform_seed)
        n_jobs = self.n_jobs if n_jobs is None else n_jobs
        with numba_threads(n_jobs), verbosity(self.verbose):
            nb, dists, connected = self._new_neighbours(X, metric)
            progress, close = epoch_progress(self.verbose, params.n_epochs, "transform epochs",
                                             self.tqdm_kwds)
            with stage("transform optimisation"):
                try:
                    return transform_mod.place_points(
                        nb, dists, connected, transform_mod.row_keys(X),
                        self._fitted_embedding(),
                        params, seed, self._density_relation, progress, start,
                        self._output_space())
                finally:
                    close()

    def _optimise_layout(self, emb, lgraph, seed, target, output):
        """SGD of ``emb`` (in place) over the layout graph ``lgraph``, ``n_epochs_`` epochs.

        With this model's ``a_``, ``b_`` and layout parameters; the DensMAP term
        pulls toward ``target`` (a :class:`densumap.density.DensityTarget`) only
        when ``densmap`` is set. The last stage of ``fit``, and of the layout of a
        composed model (:mod:`densumap.compose`).
        """
        params = layout.LayoutParams(
            n_epochs=self.n_epochs_, a=self.a_, b=self.b_, learning_rate=self.learning_rate,
            repulsion_strength=self.repulsion_strength,
            negative_sample_rate=self.negative_sample_rate,
            dens_lambda=self.dens_lambda if self.densmap else 0.0,
            dens_frac=self.dens_frac if self.densmap else 0.0,
            dens_var_shift=self.dens_var_shift,
            schedule_epochs=self._schedule_epochs,
        )
        progress, close = epoch_progress(self.verbose, self.n_epochs_, tqdm_kwds=self.tqdm_kwds)
        with stage("optimisation"):
            try:
                layout.optimize_layout(emb, lgraph, params, seed,
                                       target if self.densmap else None, progress, output)
            finally:
                close()

    def _training_matches(self, X, metric):
        """The fitted row identical to each row of ``X``, or -1 (``transform`` docstring)."""
        if metric == "precomputed":
            return transform_mod.match_zero_distance(X)
        index = getattr(self, "_row_index", None)  # built by fit (None in older files)
        if index is None:
            index = transform_mod.row_index(self._train_X)
        return transform_mod.match_training_rows(X, self._train_X, index)

    def _transform_rows(self, X, metric, n_jobs, radii):
        """Fitted results for rows identical to fitted rows, placements for the others."""
        match = self._training_matches(X, metric)
        old, new = np.flatnonzero(match >= 0), np.flatnonzero(match < 0)
        parts = []
        if new.size:
            parts.append((new, self._place_rows(X[new], metric, n_jobs)))
        if old.size:
            fitted = self._fitted_embedding()[match[old]]
            index = getattr(self, "unique_index_", None)
            rows = match[old] if index is None else index[match[old]]
            if not radii:
                parts.append((old, transform_mod.Placement(fitted, None, None)))
            elif getattr(self, "rad_orig_", None) is not None:
                parts.append((old, transform_mod.Placement(fitted, self.rad_orig_[rows],
                                                           self.rad_emb_[rows])))
            else:
                parts.append((old, self._place_rows(X[old], metric, n_jobs, start=fitted)))
        return transform_mod.merge_placements(X.shape[0], self.embedding_.shape[1], parts,
                                              radii)

    def _transform_graph(self, X, metric, n_jobs):
        """``transform_mode="graph"``: memberships of new rows, ``graph_`` rows of fitted ones."""
        match = self._training_matches(X, metric)
        new = np.flatnonzero(match < 0)
        with numba_threads(self.n_jobs if n_jobs is None else n_jobs), verbosity(self.verbose):
            nb, dists, connected = self._new_neighbours(X[new], metric)
        w = transform_mod.memberships(dists, connected, self.n_neighbors_,
                                      self.local_connectivity)
        return transform_mod.membership_rows(match, new, w, nb, self.graph_)

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
        if self.transform_mode == "graph" or getattr(self, "_composed", None):
            raise ValueError(
                "inverse_transform needs an embedding of training rows; not available with "
                "transform_mode='graph' or for a composed model (+, *, -)."
            )
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
        output = self._output_space()
        if output is None:
            nb, dists = query_neighbors(fitted, np.ascontiguousarray(Y), k)
        else:
            nb, dists = output.knn(Y, fitted, k)
            dists = np.maximum(dists, 0.0)  # a Gaussian energy may be negative
        return transform_mod.interpolate_rows(self._train_X, nb, dists, self.a_, self.b_)

    def update(self, X):
        """Add the rows of ``X`` to the model and optimise it again (umap-learn's ``update``).

        The training rows become those fitted plus ``X``; the graph is rebuilt over
        all of them and the layout optimised again from the current one, the new
        points starting where :meth:`transform` places them (DensMAP models
        included). Seeded by ``transform_seed``. Not for supervised,
        ``metric="precomputed"`` or composed models. See :mod:`densumap.update`.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_new, n_features)

        Returns
        -------
        self : UMAP
        """
        from .update import update

        return update(self, X)

    def _compose(self, other, operation):
        if not isinstance(other, ModelOpsMixin):
            return NotImplemented
        from .compose import compose

        return compose(self, other, operation)

    def __add__(self, other):
        """Fuzzy union of two models of the same samples (:mod:`densumap.compose`)."""
        return self._compose(other, "union")

    def __mul__(self, other):
        """Fuzzy intersection of two models of the same samples (:mod:`densumap.compose`)."""
        return self._compose(other, "intersection")

    def __sub__(self, other):
        """Contrast: this model's graph intersected with the complement of ``other``'s."""
        return self._compose(other, "contrast")
