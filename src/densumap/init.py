"""Initial layouts: spectral, PCA, random or a user array."""
import logging
import warnings
from contextlib import ExitStack

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ._threads import n_slots, pool_threads, share_out, task_pool

logger = logging.getLogger(__name__)

# Coordinates of initial layouts span [-INIT_SCALE, INIT_SCALE] before the final
# rescale of every axis to [0, 10] that the SGD schedule is tuned for.
INIT_SCALE = 10.0
_NOISE = 1e-4
# Lanczos vectors of the eigensolver.
_MAX_LANCZOS = 32
# Graphs with at least _SHARED_NNZ entries (about 10,000 points) have their products run
# in row blocks on a task pool; from _POOLED_NNZ (about 200,000 points) in float32.
_SHARED_NNZ = 1 << 18
_POOLED_NNZ = 1 << 22


def _normalized_adjacency(graph, d_inv_sqrt):
    """``D^-1/2 W D^-1/2`` as float64 CSR, the same numbers as scipy's two products.

    Each entry is scaled in place of the two sparse products (each entry is
    ``(d_i * w_ij) * d_j`` in the graph's dtype either way, and the products keep the
    row order of a canonical graph and drop the entries that underflow to zero): a
    million-point graph of 20 million entries took 8 s through the products and takes
    0.1 s here (BENCHMARKS.md, spectral init at a million points).
    """
    if not (sp.isspmatrix_csr(graph) or isinstance(graph, sp.csr_array)) \
            or not graph.has_canonical_format:
        Dm = sp.diags(d_inv_sqrt)
        return (Dm @ graph @ Dm).astype(np.float64)
    row_scale = np.repeat(d_inv_sqrt, np.diff(graph.indptr))
    data = (row_scale * graph.data) * d_inv_sqrt[graph.indices]
    M = sp.csr_matrix((data.astype(np.float64), graph.indices.copy(), graph.indptr.copy()),
                      shape=graph.shape)
    M.eliminate_zeros()
    return M


def _pooled_operator(M, stack):
    """``M`` itself for a small graph, else an operator whose products run row blocks
    of ``M`` on a task pool: in float64 up to ``_POOLED_NNZ`` entries, in float32 from
    there.

    The eigensolver spends most of its time in the product, which scipy runs on one
    thread (70,000 Fashion-MNIST images: 176 products of 3.1 ms, about half of the
    solve, while the second core idled). Scipy releases the GIL in its product, so the
    row blocks run side by side. Each row is summed in order by scipy's kernel, on
    whichever thread, so a float64 pooled product is the same to the last bit as
    ``M @ x`` and the result does not depend on the thread count. On a large graph the
    product waits on memory (a million points, 20 million entries, 0.04-0.15 s per
    float64 product and 261 products per solve); in float32 the vector that it gathers
    from fits in cache: 0.02-0.03 s (BENCHMARKS.md, spectral init at a million points).
    The float32 product's rounding (~1e-7) is far below the solver's tolerance (1e-4).
    """
    if M.nnz < _SHARED_NNZ:
        return M
    pool = task_pool(pool_threads(), stack)
    if pool is None and M.nnz < _POOLED_NNZ:
        return M
    from scipy.sparse.linalg import LinearOperator

    n = M.shape[0]
    n_blocks = 4 * n_slots(pool)
    bounds = np.searchsorted(M.indptr, np.linspace(0, M.nnz, n_blocks + 1))
    bounds[0], bounds[-1] = 0, n
    data = M.data.astype(np.float32) if M.nnz >= _POOLED_NNZ else M.data
    blocks = []
    for r0, r1 in zip(bounds[:-1], bounds[1:]):
        s0, s1 = M.indptr[r0], M.indptr[r1]
        blocks.append((r0, r1, sp.csr_matrix(
            (data[s0:s1], M.indices[s0:s1], M.indptr[r0:r1 + 1] - s0), shape=(r1 - r0, n))))

    def matvec(x):
        x = np.asarray(x, dtype=data.dtype).reshape(-1)
        out = np.empty(n)

        def run(block, slot):
            r0, r1, rows = block
            out[r0:r1] = rows @ x

        share_out(pool, blocks, run)
        return out

    return LinearOperator(M.shape, matvec=matvec, dtype=np.float64)


def _spectral_connected(graph, dim, rng):
    """Laplacian eigenmap of one connected graph (top eigenvectors of D^-1/2 W D^-1/2)."""
    from scipy.sparse.linalg import eigsh
    from threadpoolctl import threadpool_limits

    n = graph.shape[0]
    k = dim + 1
    if n <= k + 1:
        return rng.uniform(-1.0, 1.0, size=(n, dim))
    deg = np.asarray(graph.sum(axis=1)).ravel()
    d_inv_sqrt = 1.0 / np.sqrt(np.maximum(deg, 1e-300))
    M = _normalized_adjacency(graph, d_inv_sqrt)
    if n < 2 * k + 20:
        vals, vecs = np.linalg.eigh(M.toarray())
    else:
        # A small Krylov basis: with umap-learn's sqrt(n) vectors the re-orthogonalisation
        # dominates (70,000 Fashion-MNIST images: 5.7 s with 264 vectors, 0.8 s with 32,
        # same eigenvectors to a subspace cosine of 0.99999; BENCHMARKS.md).
        ncv = min(max(2 * k + 1, _MAX_LANCZOS), n - 1)
        v0 = rng.uniform(-1.0, 1.0, size=n)
        # One BLAS thread: the solver's dense steps are thin (n x 32), and OpenBLAS's
        # threads spin between calls, so beside another busy program the second
        # thread only took time from the first (70,000 points: 1.25 s idle, 2.67 s
        # beside one busy loop with two threads; BENCHMARKS.md, busy machine).
        with threadpool_limits(1, user_api="blas"), ExitStack() as stack:
            vals, vecs = eigsh(_pooled_operator(M, stack), k=k, which="LA", ncv=ncv,
                               tol=1e-4, v0=v0, maxiter=n * 5)
    order = np.argsort(vals)[::-1]
    # Column 0 is the trivial eigenvector (proportional to sqrt(degree)).
    coords = vecs[:, order[1:k]] * d_inv_sqrt[:, None]
    return coords


def _component_centres(n_comp, dim, X, labels, rng):
    """Positions for the components: PCA of their means when data is at hand."""
    if X is not None and not sp.issparse(X) and n_comp > dim:
        means = np.stack([np.asarray(X[labels == c].mean(axis=0), dtype=np.float64)
                          for c in range(n_comp)])
        means -= means.mean(axis=0)
        _, _, vt = np.linalg.svd(means, full_matrices=False)
        centres = means @ vt[:dim].T
        if np.ptp(centres) > 0:
            return centres
    angles = 2 * np.pi * np.arange(n_comp) / n_comp
    centres = np.zeros((n_comp, dim))
    centres[:, 0] = np.cos(angles)
    if dim > 1:
        centres[:, 1] = np.sin(angles)
    return centres


def spectral_layout(graph, dim, rng, X=None):
    """Spectral initialisation; components are laid out apart from each other.

    Parameters
    ----------
    graph : csr_matrix of shape (n, n)
        Symmetric fuzzy graph.
    dim : int
    rng : numpy.random.Generator
    X : array-like, optional
        Input data, used to place separate components relative to each other.

    Returns
    -------
    ndarray of shape (n, dim), float64
    """
    # Weak components of the directed graph are the undirected components of any graph,
    # without building ``graph + graph.T`` first (a million points: 2.0 s against 5.3 s).
    n_comp, labels = connected_components(graph, directed=True, connection="weak")
    if n_comp == 1:
        try:
            return _spectral_connected(graph, dim, rng)
        except Exception as exc:  # ARPACK non-convergence and friends
            warnings.warn(f"Spectral initialisation failed ({exc}); using random init.",
                          UserWarning, stacklevel=3)
            return rng.uniform(-1.0, 1.0, size=(graph.shape[0], dim))
    logger.info("graph has %d connected components", n_comp)
    centres = _component_centres(n_comp, dim, X, labels, rng)
    centres = centres / np.abs(centres).max()
    if n_comp > 1:
        gaps = np.sqrt(((centres[:, None, :] - centres[None, :, :]) ** 2).sum(-1))
        gaps[np.diag_indices(n_comp)] = np.inf
        radius = max(0.5 * gaps.min(), 1e-3)
    else:
        radius = 1.0
    out = np.empty((graph.shape[0], dim))
    for c in range(n_comp):
        members = np.flatnonzero(labels == c)
        sub = graph[members][:, members]
        try:
            coords = _spectral_connected(sub, dim, rng)
        except Exception:
            coords = rng.uniform(-1.0, 1.0, size=(members.size, dim))
        span = np.abs(coords).max()
        if span > 0:
            coords = coords / span
        out[members] = centres[c] + radius * 0.8 * coords
    return out


def pca_layout(X, dim, seed):
    """First ``dim`` principal components (truncated SVD for sparse input)."""
    if sp.issparse(X):
        from sklearn.decomposition import TruncatedSVD

        return TruncatedSVD(n_components=dim, random_state=seed).fit_transform(X)
    from sklearn.decomposition import PCA

    return PCA(n_components=dim, random_state=seed).fit_transform(X)


def initial_layout(init, graph, X, dim, rng, seed):
    """Dispatch on ``init`` and return float32 coordinates scaled to [0, 10].

    Parameters
    ----------
    init : {"spectral", "pca", "random"} or ndarray of shape (n, dim)
    graph : csr_matrix
    X : array-like or None
    dim : int
    rng : numpy.random.Generator
    seed : int

    Returns
    -------
    ndarray of shape (n, dim), float32
    """
    n = graph.shape[0]
    if isinstance(init, np.ndarray):
        coords = np.array(init, dtype=np.float64)
    elif init == "random":
        coords = rng.uniform(-INIT_SCALE, INIT_SCALE, size=(n, dim))
    else:
        if init == "pca":
            coords = pca_layout(X, dim, seed)
        else:
            coords = spectral_layout(graph, dim, rng, X)
        span = np.abs(coords).max()
        coords = coords * (INIT_SCALE / span if span > 0 else 1.0)
        coords = coords + rng.normal(scale=_NOISE, size=coords.shape)
    return rescale(coords)


def rescale(coords):
    """Map every axis affinely to [0, 10] (constant axes go to 5)."""
    lo = coords.min(axis=0)
    span = coords.max(axis=0) - lo
    safe = np.where(span > 0, span, 1.0)
    out = np.where(span > 0, 10.0 * (coords - lo) / safe, 5.0)
    return np.ascontiguousarray(out, dtype=np.float32)
