"""Row blocks of arrays that live on disk: memmaps, HDF5 and zarr datasets.

``UMAP.transform`` places every new point independently of the others (see
:mod:`densumap.transform`), so transforming the rows of a large array one block
at a time gives exactly the result of one call on the whole array, while memory
is bounded by the block size: the input block, its neighbour lists and the SGD
state of its rows, never the whole input.  This module holds that loop and the
helpers shared with :mod:`densumap.dask` (block sizes, reading sampled rows,
picklable readers that reopen a file by path).  It imports only NumPy.
"""
import mmap

import numpy as np
import scipy.sparse as sp

# Input bytes per block when the caller gives no ``chunk_rows``.  A block of
# n rows also holds about 30 * n_neighbors bytes per row of neighbour lists,
# memberships and sampling schedule, so for 50 float32 features 32 MiB of input
# means about 170,000 rows and 100 MiB of working memory in all.
DEFAULT_BLOCK_BYTES = 32 * 2**20
MIN_CHUNK_ROWS = 1_000
MAX_CHUNK_ROWS = 100_000


def default_chunk_rows(n_features, itemsize=4):
    """Rows per block: about ``DEFAULT_BLOCK_BYTES`` of input, within [1,000, 100,000]."""
    rows = DEFAULT_BLOCK_BYTES // max(int(n_features) * int(itemsize), 1)
    return int(min(max(rows, MIN_CHUNK_ROWS), MAX_CHUNK_ROWS))


def is_out_of_core(X):
    """True for arrays read from disk on indexing: ``np.memmap``, h5py and zarr arrays.

    Detected by type name and module, so neither h5py nor zarr is imported.
    """
    if isinstance(X, np.memmap):
        return True
    module = type(X).__module__ or ""
    return module.split(".")[0] in ("h5py", "zarr") and hasattr(X, "shape") \
        and len(getattr(X, "shape", ())) == 2


def is_dask_collection(X):
    """True for a dask array (checked without importing dask)."""
    return (type(X).__module__ or "").split(".")[0] == "dask" and hasattr(X, "chunks")


def row_blocks(n_rows, chunk_rows):
    """``(start, stop)`` of consecutive blocks of at most ``chunk_rows`` rows."""
    chunk_rows = int(chunk_rows)
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be a positive integer; got {chunk_rows}.")
    return [(s, min(s + chunk_rows, n_rows)) for s in range(0, n_rows, chunk_rows)]


def _check_width(model, X):
    n_features = getattr(model, "n_features_in_", None)
    if len(X.shape) != 2:
        raise ValueError(f"Expected a 2-D array; got shape {tuple(X.shape)}.")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(model).__name__} is expecting "
            f"{n_features} features as input."
        )


def transform_in_blocks(model, X, out=None, chunk_rows=None, n_jobs=None):
    """``model.transform(X)`` one row block at a time; identical to the in-memory result.

    Parameters
    ----------
    model : densumap.UMAP
        Fitted.
    X : np.memmap, h5py.Dataset, zarr array or ndarray of shape (n, n_features)
        Only ``X[start:stop]`` is ever read.
    out : ndarray of shape (n, n_components), float32, default=None
        Where to write the embedding, e.g. ``np.lib.format.open_memmap(path,
        mode="w+", dtype=np.float32, shape=...)`` so that the result does not
        have to fit in memory either.  None allocates an array.
    chunk_rows : int, default=None
        Rows per block; None gives about 32 MiB of input per block
        (:func:`default_chunk_rows`).
    n_jobs : int, default=None
        Threads of each block's transform; None uses ``model.n_jobs``.

    Returns
    -------
    out : ndarray of shape (n, n_components), float32
        With ``output_dens=True`` the tuple ``(out, rad_orig, rad_emb)``; the
        radii (float64) are always in memory.

    Raises
    ------
    densumap.dask.BlockTransformError
        When a block fails; the message names its rows.
    """
    _check_width(model, X)
    n = X.shape[0]
    dim = model.embedding_.shape[1]
    if out is None:
        out = np.empty((n, dim), dtype=np.float32)
    elif tuple(out.shape) != (n, dim):
        raise ValueError(f"out must have shape {(n, dim)}; got {tuple(out.shape)}.")
    if chunk_rows is None:
        chunk_rows = default_chunk_rows(X.shape[1], np.dtype(X.dtype).itemsize)
    radii = (np.empty(n), np.empty(n)) if model.output_dens else None
    for start, stop in row_blocks(n, chunk_rows):
        result = transform_rows(model, X[start:stop], start, stop, n_jobs)
        if radii is not None:
            result, radii[0][start:stop], radii[1][start:stop] = result
        out[start:stop] = result
    if radii is not None:
        return out, radii[0], radii[1]
    return out


def transform_rows(model, block, start, stop, n_jobs=None):
    """``model.transform`` of one block, with errors that name the block's rows."""
    try:
        return model._transform_array(block, n_jobs=n_jobs)
    except Exception as exc:  # re-raised with the global row range
        from .dask import BlockTransformError

        raise BlockTransformError.from_exception(exc, block, start, stop) from exc


def first_bad_row(block):
    """Index of the first row of ``block`` with NaN or inf, or None."""
    try:
        data = block.toarray() if sp.issparse(block) else np.asarray(block)
        if data.dtype.kind not in "fc":
            return None
        bad = ~np.isfinite(data).all(axis=1)
    except Exception:  # a block that cannot even be converted: no row to name
        return None
    idx = np.flatnonzero(bad)
    return int(idx[0]) if idx.size else None


def sample_index(n_rows, n_samples, seed):
    """``n_samples`` distinct rows out of ``n_rows``, sorted, from ``seed`` (reproducible)."""
    n_samples = int(n_samples)
    if not 2 <= n_samples <= n_rows:
        raise ValueError(
            f"n_samples must be between 2 and the number of rows ({n_rows}); got {n_samples}."
        )
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_rows, size=n_samples, replace=False)).astype(np.int64)


def take_rows(X, index, chunk_rows=None):
    """``X[index]`` for sorted ``index``, reading at most one block of rows at a time.

    NumPy arrays and memmaps are indexed directly (a memmap reads only the pages
    it touches); other arrays (h5py, zarr) are read block by block, each block
    only over the span of the wanted rows inside it.
    """
    index = np.asarray(index, dtype=np.int64)
    if isinstance(X, np.ndarray):
        return np.ascontiguousarray(X[index])
    if chunk_rows is None:
        chunk_rows = default_chunk_rows(X.shape[1], np.dtype(X.dtype).itemsize)
    parts = []
    for start, stop in row_blocks(X.shape[0], chunk_rows):
        lo, hi = np.searchsorted(index, [start, stop])
        if lo == hi:
            continue
        wanted = index[lo:hi]
        span = np.asarray(X[int(wanted[0]):int(wanted[-1]) + 1])
        parts.append(span[wanted - wanted[0]])
    return np.ascontiguousarray(np.concatenate(parts))


class FileRows:
    """Row access to an on-disk array by path: pickles as a few strings, not the data.

    Dask sends this object to the workers, each of which opens the file once
    (lazily, on the first read) and reads only the rows a block asks for.

    Parameters
    ----------
    kind : {"npy", "memmap", "hdf5"}
    path : str
    shape : tuple of int
    dtype : numpy dtype
    dataset : str, default=None
        HDF5 dataset name ("hdf5" only).
    offset : int, default=0
        Byte offset of the data ("memmap" only).
    """

    def __init__(self, kind, path, shape, dtype, dataset=None, offset=0):
        self.kind = kind
        self.path = str(path)
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        self.ndim = len(self.shape)
        self.dataset = dataset
        self.offset = int(offset)
        self._handle = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_handle"] = None
        return state

    def _open(self):
        if self._handle is None:
            if self.kind == "npy":
                self._handle = np.load(self.path, mmap_mode="r")
            elif self.kind == "memmap":
                self._handle = np.memmap(self.path, dtype=self.dtype, mode="r",
                                         offset=self.offset, shape=self.shape)
            else:
                import h5py

                self._handle = h5py.File(self.path, "r")[self.dataset]
        return self._handle

    def __getitem__(self, key):
        return np.asarray(self._open()[key])

    def __len__(self):
        return self.shape[0]

    def __repr__(self):
        extra = f", dataset={self.dataset!r}" if self.dataset else ""
        return f"FileRows({self.kind!r}, {self.path!r}, shape={self.shape}{extra})"

    @classmethod
    def from_array(cls, X):
        """A ``FileRows`` for a root memmap or an h5py dataset; None for anything else.

        A memmap qualifies only when it maps its whole file region itself (not a
        slice or view of another memmap) and is C-contiguous.
        """
        if isinstance(X, np.memmap):
            if (isinstance(X.base, mmap.mmap) and X.flags.c_contiguous
                    and getattr(X, "filename", None)):
                return cls("memmap", X.filename, X.shape, X.dtype, offset=X.offset)
            return None
        if (type(X).__module__ or "").startswith("h5py") and hasattr(X, "file"):
            return cls("hdf5", X.file.filename, X.shape, X.dtype, dataset=X.name)
        return None
