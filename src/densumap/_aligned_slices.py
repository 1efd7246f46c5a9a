"""Each slice of an ``AlignedUMAP``: the stages of ``UMAP.fit`` before and after the
joint optimisation, run on the slice's own :class:`densumap.UMAP`.

Before: the slice's UMAP checks its parameters and data (its errors name the
parameter and the value; :func:`validate` prefixes the slice number), then finds
the neighbours, builds the fuzzy graph (intersected with the slice's target when
it has one; ``graph_dists_`` of the data graph), the DensMAP input radii and the
initial layout.  After: the aligned embedding becomes the slice model's
``embedding_``, with the radii, frozen DensMAP statistics and training-row lookup
its ``transform`` needs, so each fitted slice is a complete UMAP model of its data
in the aligned coordinates.
"""
import numpy as np

from . import alignment, density, graph as graph_mod, layout, transform as transform_mod
from ._runtime import stage
from .init import initial_layout


class SliceFit:
    """What the stages of one slice produce, in order of production."""

    def __init__(self, model, X, X_fit, metric, y, n_neighbors, seed):
        self.model = model  # the slice's densumap.UMAP
        self.X = X  # validated rows, duplicates included
        self.X_fit = X_fit  # rows embedded (distinct rows with unique=True)
        self.metric = metric
        self.y = y  # validated target or None
        self.n_neighbors = n_neighbors
        self.seed = seed
        self.knn = self.lgraph = self.data_lgraph = self.target = self.params = None

    @property
    def n_rows(self):
        return self.X.shape[0]

    @property
    def n_fit(self):
        return self.X_fit.shape[0]


def validate(model, s, X, y, seed):
    """Check slice ``s`` (parameters, data, target) with its own UMAP."""
    try:
        model._check_params()
        X, metric = model._validate_input(X)
        target = model._validate_target(y, X.shape[0])
        X_fit, target = model._deduplicate(X, target)
        n_neighbors = model._check_data_dependent(X, X_fit.shape[0])
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"slice {s}: {exc}") from exc
    return SliceFit(model, X, X_fit, metric, target, n_neighbors, seed)


def build(fit, s, n_epochs):
    """Neighbours, fuzzy graph, DensMAP target and layout parameters of slice ``s``."""
    m = fit.model
    m.n_neighbors_ = fit.n_neighbors
    m.n_epochs_ = n_epochs
    if m.a is None or m.b is None:
        m.a_, m.b_ = graph_mod.find_ab_params(m.spread, m.min_dist)
    else:
        m.a_, m.b_ = float(m.a), float(m.b)
    with stage(f"slice {s}: nearest neighbours"):
        fit.knn = m._knn(fit.X_fit, fit.metric, fit.n_neighbors, fit.seed)
    with stage(f"slice {s}: fuzzy graph"):
        m.graph_, m._sigmas, m._rhos = graph_mod.fuzzy_simplicial_set(
            fit.knn[0], fit.knn[1], fit.n_neighbors, m.set_op_mix_ratio,
            m.local_connectivity)
        m.graph_dists_ = graph_mod.graph_distances(m.graph_, fit.knn[0], fit.knn[1])
    epochs = max(n_epochs, 1)
    # Input radii describe the data, so they come from the data graph even when the
    # slice is supervised (as in UMAP.fit).
    fit.data_lgraph = fit.lgraph = graph_mod.layout_graph(m.graph_, epochs)
    if fit.y is not None:
        m.graph_ = m._supervise(m.graph_, fit.y, fit.n_neighbors, fit.seed)
        fit.lgraph = graph_mod.layout_graph(m.graph_, epochs)
    if m.densmap or m.output_dens:
        fit.target = density.density_target(fit.data_lgraph, fit.knn[0], fit.knn[1])
    fit.params = layout.LayoutParams(
        n_epochs=n_epochs, a=m.a_, b=m.b_, learning_rate=m.learning_rate,
        repulsion_strength=m.repulsion_strength,
        negative_sample_rate=m.negative_sample_rate,
        dens_lambda=m.dens_lambda if m.densmap else 0.0,
        dens_frac=m.dens_frac if m.densmap else 0.0, dens_var_shift=m.dens_var_shift)
    return fit


def initial(fit):
    """The slice's own initial layout (``init`` of its UMAP), float32 in [0, 10]."""
    m = fit.model
    init = m.init
    if isinstance(init, np.ndarray) and m.unique_index_ is not None:
        init = init[m.unique_index_]
    X = None if fit.metric == "precomputed" else fit.X_fit
    rng = np.random.default_rng(fit.seed)
    return initial_layout(init, m.graph_, X, m.n_components, rng, fit.seed)


def relation(rel, fit_from, fit_to, name):
    """A relation dict, checked, as a binary matrix over the two slices' embedded rows."""
    keys, values = alignment.relation_pairs(rel, fit_from.n_rows, fit_to.n_rows, name)
    return alignment.relation_matrix(keys, values, fit_from.n_fit, fit_to.n_fit,
                                     fit_from.model.unique_inverse_,
                                     fit_to.model.unique_inverse_)


def problem(fit, embedding):
    """The slice as :func:`densumap.alignment.optimize_aligned` takes it."""
    target = fit.target if fit.model.densmap else None
    return alignment.SliceProblem(embedding, fit.lgraph, fit.params, target)


def finish(fit, emb):
    """Give the slice's UMAP its aligned embedding and what ``transform`` needs."""
    m = fit.model
    knn_indices, knn_dists = fit.knn
    m.embedding_ = emb
    if m.output_dens:
        m.rad_orig_ = fit.target.log_radii
        m.rad_emb_ = density.embedding_log_radii(fit.data_lgraph, emb, knn_indices)
    m._density_relation = None
    if m.densmap:
        m._density_relation = density.training_density_relation(
            knn_indices, knn_dists, m._sigmas, m._rhos, emb)
    if fit.n_fit < fit.n_rows:
        # Duplicates share the position (and radii) of their distinct row.
        inverse = m.unique_inverse_
        m.embedding_ = m.embedding_[inverse]
        if m.output_dens:
            m.rad_orig_, m.rad_emb_ = m.rad_orig_[inverse], m.rad_emb_[inverse]
    m._supervised = fit.y is not None
    m._train_X = None if fit.metric == "precomputed" else fit.X_fit
    # As UMAP.fit: transform gives rows identical to fitted rows their positions.
    m._row_index = None if m._train_X is None else transform_mod.row_index(m._train_X)
    return m
