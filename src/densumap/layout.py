"""The epoch driver: sampling schedule, learning-rate decay, DensMAP window."""
import contextlib
import logging
from typing import NamedTuple

import numpy as np

from ._kernels.density import vertex_terms
from ._kernels.clocks import negative_rate, sample_rates
from ._kernels.graph import shuffle_rows
from ._kernels.rng import hash_keys
from ._kernels.sgd import (NO_DENSITY, ROW_BLOCK, DensityTerms, EdgeSchedule, LevelSweep,
                           SGDParams, sgd_blocks, sweep_part)
from ._threads import pool_threads, share_out, share_out_tree, task_pool
from .density import correlation_state
from .partition import (LOCALITY_MIN, bisect, level_rows, locality_order, n_levels_for,
                        part_rows)

logger = logging.getLogger(__name__)


class LayoutParams(NamedTuple):
    """Hyper-parameters of the optimisation, resolved (no "auto")."""

    n_epochs: int
    a: float
    b: float
    learning_rate: float = 1.0
    repulsion_strength: float = 1.0
    negative_sample_rate: float = 5.0
    dens_lambda: float = 0.0
    dens_frac: float = 0.0
    dens_var_shift: float = 0.1
    # Length of the learning-rate schedule the epochs follow; 0: ``n_epochs``. When
    # larger, the epochs before the density phase are spread over the schedule's plain
    # part (:func:`schedule_positions`).
    schedule_epochs: int = 0


# Plain-UMAP fits of more points than this sweep Gauss-Seidel, as DensMAP does; smaller
# ones run Jacobi epochs (see :func:`optimize_layout`).
SWEEP_MIN = 10_000
# DensMAP fits of more points than this follow umap-learn's 400-epoch schedule by
# default, smaller ones run 200 epochs (see :func:`default_n_epochs`), and run
# ``DENSMAP_PLAIN_EPOCHS`` epochs before its density phase (:func:`resolve_epochs`).
DENSMAP_LONG_MIN = 100_000
DENSMAP_PLAIN_EPOCHS = 120


def default_n_epochs(n_samples, densmap, euclidean=True):
    """Epochs when ``n_epochs`` is None: 500 up to 10,000 samples; above, 120 for
    plain UMAP, 200 for a non-euclidean output space and for DensMAP up to
    ``DENSMAP_LONG_MIN`` samples, 400 (umap-learn's DensMAP count) for DensMAP above.

    umap-learn adds 200 epochs for DensMAP, doubling its cost. Up to 100,000 points
    densumap's DensMAP meets its quality targets without them against umap-learn's
    400-epoch fit (70,000 Fashion-MNIST images, seeded: kNN accuracy 0.748 vs 0.750,
    trustworthiness 0.946 vs 0.953, density correlation 0.714 vs 0.722; with 400
    epochs densumap gets 0.747 / 0.948 / 0.726; BENCHMARKS.md). Above, the density
    correlation those epochs buy grows with the number of points (augmented
    Fashion-MNIST, seeded, 200 -> 400 epochs: 0.610 -> 0.636 at 200,000 points,
    0.521 -> 0.588 at a million, where umap-learn's fit reaches 0.594), so large
    fits keep umap-learn's 400-epoch schedule, whose plain phase
    :func:`resolve_epochs` then runs in fewer epochs. ``n_epochs=200`` gives the
    cheaper schedule.

    Plain UMAP above 10,000 points sweeps Gauss-Seidel (each sampled edge moves both
    ends, from where the sweep has left them, as umap-learn's loop does), which
    converges in fewer epochs than the Jacobi epochs it replaced. Seeded, 120 sweep
    epochs against 200 Jacobi epochs and umap-learn's 200, trustworthiness: 0.972 /
    0.972 / 0.973 at 70,000 Fashion-MNIST images, 0.963 / 0.957 / 0.965 on 200,000
    augmented ones, 0.957 / 0.948 / 0.962 on a million (where 200 sweep epochs give
    0.961; BENCHMARKS.md). ``n_epochs=200`` gives umap-learn's count.
    """
    if n_samples <= SWEEP_MIN:
        return 500
    if densmap:
        return 200 if n_samples <= DENSMAP_LONG_MIN else 400
    return 120 if euclidean else 200


def density_epochs(n_epochs, dens_lambda, dens_frac):
    """Number of the last epochs of an ``n_epochs`` schedule with the density term on."""
    params = LayoutParams(n_epochs, 0.0, 0.0, dens_lambda=dens_lambda, dens_frac=dens_frac)
    return sum(density_active(epoch, params) for epoch in range(n_epochs))


def resolve_epochs(n_epochs, n_samples, densmap, euclidean=True, dens_lambda=0.0,
                   dens_frac=0.0):
    """``(epochs run, schedule epochs)`` of a fit: ``n_epochs_`` and
    :attr:`LayoutParams.schedule_epochs`.

    A given ``n_epochs`` runs umap-learn's schedule of that many epochs. With None,
    the schedule has :func:`default_n_epochs` epochs, and every epoch is run, except
    for DensMAP above ``DENSMAP_LONG_MIN`` samples: its 400-epoch schedule (280
    epochs without the density term, then 120 with it at ``dens_frac=0.3``) runs the
    density phase as umap-learn does, epoch for epoch, and its plain phase in
    ``DENSMAP_PLAIN_EPOCHS`` (120) sweep epochs, plain UMAP's count at that size, which
    pass through the same learning rates (1 down to ``1 - 280/400``) in bigger steps:
    240 epochs instead of 400, 0.63-0.66x the layout's time. The price, on augmented
    Fashion-MNIST (the same graph and initial layout, seeds 42 and 7 at a million
    points, four seeds at 200,000; BENCHMARKS.md, sixteenth session): density
    correlation 0.571 against 0.581 with all 400 epochs at a million (200 epochs:
    0.528; umap-learn 0.594) and 0.649 against 0.656 at 200,000 (umap-learn 0.640);
    kNN accuracy -0.002 and -0.006, trustworthiness -0.004 and -0.001. More plain
    epochs bought no density (160: 0.561, seed 42); fewer lost some (60: 0.562,
    trustworthiness 0.931).
    """
    if n_epochs is not None:
        return int(n_epochs), int(n_epochs)
    schedule = default_n_epochs(n_samples, densmap, euclidean)
    if not densmap or n_samples <= DENSMAP_LONG_MIN:
        return schedule, schedule
    dense = density_epochs(schedule, dens_lambda, dens_frac)
    return min(DENSMAP_PLAIN_EPOCHS, schedule - dense) + dense, schedule


def schedule_positions(params):
    """Where each epoch run stands in the learning-rate schedule: a list of
    ``(position, density on)``, one per epoch of ``params.n_epochs``; an epoch's
    learning rate is ``learning_rate * (1 - position / schedule_epochs)``.

    The density phase's epochs (the last of the schedule, :func:`density_active`) are
    run one for one, at the end; the epochs before them cover the schedule's plain
    part in equal steps. With ``schedule_epochs`` 0 or ``n_epochs``, epoch ``e`` is at
    position ``e`` exactly: umap-learn's schedule.
    """
    schedule = params.schedule_epochs or params.n_epochs
    dense = density_epochs(schedule, params.dens_lambda, params.dens_frac)
    plain = params.n_epochs - dense
    if plain < 0 or (plain == 0 and schedule > dense):
        raise ValueError(f"{params.n_epochs} epochs cannot follow a schedule of {schedule} "
                         f"epochs with {dense} density epochs.")
    return ([(epoch * (schedule - dense) / plain, False) for epoch in range(plain)]
            + [(schedule - dense + k, True) for k in range(dense)])


def make_schedule(graph, negative_sample_rate, w_max=None):
    """The epochs' sampling schedule: an edge of weight w is sampled w/w_max times per
    epoch (:mod:`densumap._kernels.clocks`).

    Parameters
    ----------
    graph : csr_matrix
        Layout graph (already pruned), rows = vertices being moved.
    negative_sample_rate : float
    w_max : float or None
        Weight sampled every epoch; None means the largest weight of ``graph``.
        ``transform`` passes 1 (the largest possible membership) so that a row's
        schedule does not depend on the other rows of its batch.

    Returns
    -------
    EdgeSchedule
    """
    w = graph.data
    top = 1.0
    if w.size:
        top = float(w.max()) if w_max is None else float(w_max)
    return EdgeSchedule(
        np.ascontiguousarray(graph.indptr, dtype=np.int64),
        np.ascontiguousarray(graph.indices, dtype=np.int32),
        sample_rates(w, top),
        negative_rate(negative_sample_rate),
    )


def _renumber(graph, embedding, target, perm):
    """Graph, positions and density target with vertex ``perm[k]`` renamed ``k``."""
    graph = graph[perm][:, perm].tocsr()
    graph.sort_indices()
    if target is None:
        return graph, np.ascontiguousarray(embedding[perm]), None
    target = target._replace(log_radii=target.log_radii[perm],
                             standardized=target.standardized[perm],
                             active=target.active[perm])
    return graph, np.ascontiguousarray(embedding[perm]), target


def _sweep_epoch(pool, work, pos, snapshot, sched, sweep, p, dens, row_keys, neg_inv):
    """One Gauss-Seidel epoch (DensMAP's, and plain UMAP's above ``SWEEP_MIN`` points),
    the parts of the nested bisection shared out to ``pool``'s threads.

    A part runs as soon as the two parts below it are done
    (:func:`_threads.share_out_tree`): its rows move only vertices inside it, which
    only the parts below it move before, so this order gives the same result as
    sweeping level after level. Threads take the next part as they become free (the
    kernel releases the GIL) and no thread waits at the end of a level: with another
    program on the machine, the thread that has lost its core delays the others only
    when the parts left all wait for its own (BENCHMARKS.md, busy machine). One thread
    or many, the same compiled kernel sweeps the parts: a kernel that looped over them
    itself would be a second compilation of the row kernel, whose vectorised sums the
    compiler may order differently. ``work[level][q]`` is the number of rows of part
    ``q`` of ``level`` (:func:`partition.part_rows`).
    """
    share_out_tree(pool, sweep.n_levels, work, lambda level, q: sweep_part(
        pos, snapshot, sched, p, dens, row_keys, sweep, level, q, neg_inv))


# Row blocks per task of a plain-UMAP epoch shared out to threads (2,048 rows).
_TASK_BLOCKS = 8


def jacobi_epoch(pool, head, tail, sched, p, dens, row_keys, neg_tail, neg_inv):
    """One plain-UMAP epoch (a Jacobi sweep), its row blocks shared out to ``pool``
    (None: this thread); ``fit``'s and ``transform``'s.

    Every thread count runs the same compiled kernel (:func:`sgd_blocks`), and blocks
    only write their own rows, so the result does not depend on the split. Arguments
    as :func:`densumap._kernels.sgd.sgd_blocks`.
    """
    n_blocks = (head.shape[0] + ROW_BLOCK - 1) // ROW_BLOCK
    if pool is None:
        sgd_blocks(0, n_blocks, head, tail, sched, p, dens, row_keys, neg_tail, neg_inv)
        return
    share_out(pool, range(0, n_blocks, _TASK_BLOCKS), lambda b0, _: sgd_blocks(
        b0, min(b0 + _TASK_BLOCKS, n_blocks), head, tail, sched, p, dens, row_keys,
        neg_tail, neg_inv))


def _epoch_pool(swept, output, stack):
    """Threads for the epochs: None for one thread or a non-euclidean output space.

    The sweep gets ``numba.get_num_threads()`` threads (twice as many did not help it
    on a busy machine); the Jacobi epochs get twice that when it is every core this
    process may use (:func:`_threads.pool_threads`: a barrier at the end of every epoch
    waited for the thread that had lost its core).
    """
    if output is not None and not swept:
        return None
    return task_pool(pool_threads(oversubscribe=not swept), stack)


# Floats per block of the blocked negative sampling (2**14 points of a 2-D float32
# embedding: 128 KiB, a quarter of this machine's 512 KiB L2 cache per core), and the
# embedding size, in floats, from which the samples are blocked (131,072 points in 2-D).
# Blocks of 2**17 floats (the whole L2) made the epochs 1.15-1.2x slower at 200,000 and
# 1,000,000 points (BENCHMARKS.md, tenth session); the threshold stayed where it was, so
# every smaller embedding is drawn as before.
_NEG_BLOCK_FLOATS = 2 ** 15
_NEG_BLOCK_MIN_FLOATS = 2 ** 18
_NEG_ORDER_KEY = np.uint64(0x6A09E667F3BCC909)


def negative_blocks(n, dim, seed):
    """How the negative samples are drawn: ``(n_blocks, order, where)``.

    Below ``_NEG_BLOCK_MIN_FLOATS`` floats of embedding (131,072 points at dimension
    2) every negative sample is drawn from all the points: ``(1, None, dummy)``, as
    umap-learn does.  From there, the snapshot the samples are read from is kept in a
    fixed pseudo-random ``order`` and cut into blocks of ``_NEG_BLOCK_FLOATS`` floats
    (16,384 points in 2-D); each chunk of rows draws from one block per epoch
    (``_kernels.sgd._negative_block``), so its reads stay in the cache: at 1,000,000
    points random reads over the whole embedding made each epoch 4x slower per point
    than at 200,000 (BENCHMARKS.md).  ``where[i]`` is the row of the reordered
    snapshot that holds vertex ``i``.
    """
    dim = max(dim, 1)
    # Two blocks of half the threshold, in rows: the rule from before the blocks were cut
    # smaller, to the row (87,380 rows in 3-D, not 87,382).
    min_rows = 2 * max(1, _NEG_BLOCK_MIN_FLOATS // (2 * dim))
    n_blocks = n // max(1, _NEG_BLOCK_FLOATS // dim)
    if n < min_rows or n_blocks <= 1:
        return 1, None, np.zeros(1, dtype=np.int64)
    order = np.argsort(hash_keys(n, np.uint64(seed) ^ _NEG_ORDER_KEY), kind="stable")
    where = np.empty(n, dtype=np.int64)
    where[order] = np.arange(n, dtype=np.int64)
    return int(n_blocks), order.astype(np.int64), where


def density_active(epoch, params):
    """Whether the DensMAP term is on in ``epoch`` (the last ``dens_frac`` of epochs)."""
    if params.dens_lambda <= 0.0 or params.dens_frac <= 0.0:
        return False
    return (epoch + 1) / params.n_epochs > 1.0 - params.dens_frac


class LayoutSetup(NamedTuple):
    """What :func:`prepare_layout` hands the epochs: the graph, positions and density
    target in the epochs' vertex order, each vertex's stream key, the sweep's parts
    (None for Jacobi epochs) and the renumbering (``perm[k]`` is the caller's vertex
    renamed ``k``; None where nothing was renumbered)."""

    graph: object
    work: np.ndarray
    target: object
    row_keys: np.ndarray
    sweep: object
    perm: object


def prepare_layout(embedding, graph, seed, target=None, swept=True):
    """The steps of :func:`optimize_layout` before its epochs, as a :class:`LayoutSetup`.

    ``swept``: a Gauss-Seidel sweep over the parts of a nested bisection of the initial
    layout (DensMAP, and plain UMAP above ``SWEEP_MIN`` points), otherwise Jacobi
    epochs. ``graph`` is never modified; ``work`` is a copy of ``embedding`` except for
    small Jacobi layouts, which run on ``embedding`` itself. Also used by the benchmark
    studies of the epochs (``benchmarks/negative_blocks.py``, ``umap_dynamics.py``).
    """
    n = embedding.shape[0]
    sweep = None
    if swept:
        # DensMAP, and plain UMAP above SWEEP_MIN points, sweep the rows part by part of
        # a nested bisection of the initial layout, each sampled edge moving both of its
        # ends (_kernels.sgd, partition): 200 Jacobi epochs lost trustworthiness to
        # umap-learn as n grew (0.972 vs 0.973 at 70,000 Fashion-MNIST images, 0.957 vs
        # 0.965 at 200,000 augmented ones, 0.948 vs 0.962 at 1,000,000), the sweep did
        # not (BENCHMARKS.md). The vertices are renumbered part by part, so that each
        # part's rows, edges and positions are contiguous in memory.
        plan = bisect(embedding, graph, n_levels_for(n), seed)
        perm = plan.perm
        graph, work, target = _renumber(graph, embedding, target, perm)
        row_keys = perm.astype(np.uint64)  # each vertex's stream keyed by its own index
    elif n >= LOCALITY_MIN:
        # Jacobi epochs on a large graph (a non-euclidean output space): vertices
        # renumbered in Z-order of the initial layout, so that each row's neighbours
        # are near it in memory.
        perm = locality_order(embedding)
        graph, work, target = _renumber(graph, embedding, target, perm)
        row_keys = perm.astype(np.uint64)
    else:
        perm = None
        graph = graph.copy()
        work = embedding
        row_keys = np.arange(n, dtype=np.uint64)
    # Each vertex applies its attractions in its row's order: a fixed pseudo-random
    # one, not the column order. Column order follows the input's row order, and data
    # sorted along an axis (by a covariate, in time) then biased every step alike: 20,000
    # Fashion-MNIST images sorted by their first principal component gave a
    # trustworthiness of 0.946 against 0.975 shuffled (umap-learn 0.976 sorted).
    shuffle_rows(graph.indptr, graph.indices, graph.data, np.uint64(seed))
    if swept:
        sweep = LevelSweep(level_rows(graph, plan), plan.bounds,
                           int(np.log2(len(plan.bounds) - 1)))
    return LayoutSetup(graph, work, target, row_keys, sweep, perm)


def optimize_layout(embedding, graph, params, seed, target=None, progress=None, output=None):
    """Optimise ``embedding`` in place with UMAP's SGD (and DensMAP's density term).

    Parameters
    ----------
    embedding : ndarray of shape (n, dim), float32, C-contiguous
        Initial positions; updated in place.
    graph : csr_matrix of shape (n, n)
        Pruned symmetric fuzzy graph with sorted indices.
    params : LayoutParams
    seed : int
        Keys every random stream of the run.
    target : DensityTarget or None
        Frozen input radii; required when ``params.dens_lambda > 0``.
    progress : callable or None
        Called with no argument after every epoch.
    output : OutputMetric or None
        A non-euclidean embedding space (:mod:`densumap.output_metric`), whose
        epochs run :mod:`densumap._kernels.sgd_metric`; None for the euclidean
        kernel. Not with DensMAP (``target`` must then be None).

    Returns
    -------
    embedding : ndarray
        The same array, optimised.
    """
    n = embedding.shape[0]
    densmap = target is not None and params.dens_lambda > 0.0 and params.dens_frac > 0.0
    if densmap and output is not None:
        raise ValueError("DensMAP's density term is defined for the euclidean embedding only.")
    swept = densmap or (output is None and n > SWEEP_MIN)
    graph, work, target, row_keys, sweep, perm = prepare_layout(embedding, graph, seed,
                                                                target, swept)
    sched = make_schedule(graph, params.negative_sample_rate)
    with contextlib.ExitStack() as stack:
        pool = _epoch_pool(swept, output, stack)
        _epochs(work, graph, sched, params, np.uint64(seed), target, sweep, row_keys, pool,
                progress, output)
    if perm is not None:
        embedding[perm] = work
    return embedding


def _epochs(work, graph, sched, params, useed, target, sweep, row_keys, pool, progress,
            output=None):
    """The epoch loop of :func:`optimize_layout` (``sweep`` None: the Jacobi sweep)."""
    n = work.shape[0]
    swept = sweep is not None
    snapshot = np.empty_like(work)
    work_of_parts = None if sweep is None else [part_rows(sweep, level)
                                                for level in range(sweep.n_levels + 1)]
    w = graph.data.astype(np.float64)
    mu_tot = float(w.sum()) if w.size else 0.0
    mu_max = float(w.max()) if w.size else 1.0
    neg_blocks, neg_perm, neg_inv = negative_blocks(n, work.shape[1], useed)
    negatives = snapshot if neg_perm is None else np.empty_like(work)
    schedule = params.schedule_epochs or params.n_epochs
    for epoch, (position, dense) in enumerate(schedule_positions(params)):
        alpha = params.learning_rate * (1.0 - position / float(schedule))
        snapshot[:] = work
        if neg_perm is not None:
            np.take(work, neg_perm, axis=0, out=negatives)
        dens = NO_DENSITY
        if target is not None and dense:
            state = correlation_state(snapshot, graph, target, params.a, params.b,
                                      params.dens_var_shift, pool)
            if state.n_active:
                scale = params.dens_lambda * mu_tot / (mu_max * state.n_active * state.s)
                terms = vertex_terms(state.mean_sq, state.phi_sum, state.weight)
                terms = terms.astype(np.float32)
                dens = DensityTerms(terms, scale)
        p = SGDParams(params.a, params.b, params.repulsion_strength, alpha,
                      1.0 if swept else 2.0, epoch, useed, n, True, neg_blocks)
        if swept:
            _sweep_epoch(pool, work_of_parts, work, negatives, sched, sweep, p, dens, row_keys,
                         neg_inv)
        elif output is not None:
            output.epoch(work, snapshot, sched, p, row_keys, negatives, neg_inv)
        else:
            jacobi_epoch(pool, work, snapshot, sched, p, dens, row_keys, negatives, neg_inv)
        if progress is not None:
            progress()
