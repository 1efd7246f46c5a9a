"""Transform large arrays with Dask: fit on a sample, project every row.

The workflow at large sizes is to fit on a sample that fits one machine, then
place every point with ``transform``.  This module makes each step one call on
whatever Dask scheduler is active (the threaded default, a ``LocalCluster`` or a
multi-node ``distributed`` cluster: the same code)::

    import dask.array as da
    import densumap, densumap.dask

    X = da.from_zarr("big.zarr")                        # (n, d), any row chunking
    model, index = densumap.dask.fit_sample(densumap.UMAP(densmap=True), X, 50_000, seed=0)
    emb = densumap.dask.transform(model, X)             # lazy, one task per row block
    densumap.dask.store(emb, "embedding.npy")           # or "embedding.zarr"

Design
------
* **Same result as in memory.**  ``UMAP.transform`` places each new point
  independently: its neighbours are an exact search of the training rows and its
  random stream is keyed by ``(transform_seed, epoch, hash of the row's
  content)`` (:func:`densumap.transform.row_keys`), never by its position in a
  batch.  So a row's result depends on nothing but the row, the model and the
  seed: any chunking, any scheduler and any number of workers give arrays equal
  (``np.array_equal``) to ``model.transform`` of the whole input in memory.  This
  is stronger than a seed derived from the global row index, which would also
  be chunking-independent but would give a duplicated row two positions.
* **The model is shipped once.**  With a ``distributed`` client active the fitted
  model is pickled once on the client and the bytes are scattered to every
  worker (``client.scatter(..., broadcast=True)``); each worker process unpickles
  them once, on its first block, and every block task refers to that one key.
  Copies that ``distributed`` makes between workers move the bytes, never
  re-pickle the model.  Without a client the model is one key of the graph (a
  ``dask.delayed``) that all block tasks depend on.  No block task embeds the
  model.
* **Errors name the rows.**  A block that fails raises :class:`BlockTransformError`
  whose message gives the global row range of the block (and the first row with
  NaN or inf when there is one), e.g. ``rows 2000-2999``.
* **Threads.**  Dask runs blocks in parallel, so by default each block's numba
  kernels use one thread (``n_jobs=1``); with one dask thread per worker pass
  ``n_jobs=-1``.  Results do not depend on it.  Numba's ``workqueue`` threading
  layer (used when neither OpenMP nor TBB is available) cannot run kernels from
  two threads at once; under it blocks of one process take turns.

Inputs that are not dask arrays (``np.memmap``, h5py datasets, zarr arrays, a
``.npy``/``.h5``/``.zarr`` path) are wrapped by :func:`as_dask_array` so that the
graph carries a file path, not data: each worker opens the file itself (on a
multi-node cluster the path must be readable from every worker).

Needs the optional packages of the ``dask`` extra: ``pip install
'densumap[dask]'`` (dask[array] and distributed; h5py and zarr for those
formats).  ``import densumap.dask`` imports dask only when a function runs.
"""
import os
import threading
import uuid

import numpy as np

from . import _blocks

_INSTALL_HINT = (
    "densumap.dask needs the optional package dask (with dask.array); install it "
    "with: pip install 'densumap[dask]'  (or: pip install 'dask[array]' distributed)"
)

# Serialises kernels of one process under numba's workqueue layer (not thread safe).
_WORKQUEUE_LOCK = threading.Lock()


def _dask():
    """``(dask, dask.array)``, or ImportError with the install hint."""
    try:
        import dask
        import dask.array as da
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return dask, da


class BlockTransformError(RuntimeError):
    """A block of rows failed to transform; ``start``/``stop`` are its global rows.

    ``str(exc)`` reads e.g. ``"densumap transform failed for rows 2000-2999
    (first non-finite row: 2013): ValueError: Input X contains NaN."``; the
    original exception is chained as ``__cause__`` where the scheduler keeps it.
    """

    def __init__(self, message, start=None, stop=None):
        super().__init__(message, start, stop)
        self.start = start
        self.stop = stop

    def __str__(self):
        return self.args[0]

    @classmethod
    def from_exception(cls, exc, block, start, stop):
        """Wrap ``exc`` raised by the transform of ``block`` (global rows ``start:stop``)."""
        if isinstance(exc, cls):
            return exc
        where = f"rows {start}-{stop - 1}" if start is not None else "a block of rows"
        bad = _blocks.first_bad_row(block)
        if bad is not None and start is not None:
            where += f" (first non-finite row: {start + bad})"
        return cls(f"densumap transform failed for {where}: {type(exc).__name__}: {exc}",
                   start, stop)


def _workqueue_layer():
    try:
        import numba

        return numba.threading_layer() == "workqueue"
    except ValueError:  # no parallel kernel has run yet in this process
        return True


class _ShippedModel:
    """A fitted model pickled once; unpickled at most once per process that holds it.

    Scattered with ``distributed``, the bytes travel and are copied between
    workers as they are; the model itself is rebuilt on a worker's first block
    and shared by the blocks that follow (``get``).
    """

    def __init__(self, model):
        import cloudpickle  # a dependency of distributed; handles classes from __main__

        self.data = cloudpickle.dumps(model, protocol=5)
        self._reset()

    def _reset(self):
        self._lock = threading.Lock()
        self._model = None

    def __getstate__(self):
        return {"data": self.data}

    def __setstate__(self, state):
        self.data = state["data"]
        self._reset()

    def get(self):
        """The model, unpickled on first use in this process."""
        with self._lock:
            if self._model is None:
                import pickle

                self._model = pickle.loads(self.data)
            return self._model


def _transform_block(block, model, n_jobs, width, block_info=None):
    """map_blocks function: one block in, ``(rows, width)`` out (radii appended)."""
    if isinstance(model, _ShippedModel):
        model = model.get()
    start = stop = None
    if block_info is not None:
        start, stop = block_info[0]["array-location"][0]
    if _workqueue_layer():
        with _WORKQUEUE_LOCK:
            result = _blocks.transform_rows(model, block, start, stop, n_jobs)
    else:
        result = _blocks.transform_rows(model, block, start, stop, n_jobs)
    if isinstance(result, tuple):  # output_dens: float64 keeps the radii exact
        emb, rad_orig, rad_emb = result
        return np.column_stack([emb.astype(np.float64), rad_orig, rad_emb])
    return result


def _active_client():
    """The default ``distributed`` client, or None."""
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:
        return None


def _model_handle(model, client):
    """One graph key (or scattered future) holding ``model``."""
    if client is not None:
        return client.scatter(_ShippedModel(model), broadcast=True, hash=False)
    dask, _ = _dask()
    return dask.delayed(model, name=f"densumap-model-{uuid.uuid4().hex}", pure=True)


def transform(model, X, *, n_jobs=1, client="auto", chunk_rows=None):
    """Lazy ``model.transform`` of a dask (or on-disk) array, block by block.

    Parameters
    ----------
    model : densumap.UMAP
        Fitted (UMAP or DensMAP).
    X : dask array, np.memmap, h5py dataset, zarr array or ndarray of shape (n, n_features)
        Row chunks become tasks; columns are merged into one chunk first.
        Non-dask input goes through :func:`as_dask_array`.
    n_jobs : int, default=1
        Numba threads inside each block (dask supplies the parallelism across
        blocks). The result does not depend on it.
    client : "auto", distributed.Client or None, default="auto"
        "auto" scatters the model with the default ``distributed`` client when
        there is one, else puts it in the graph as a single key; None always
        does the latter.
    chunk_rows : int, default=None
        Row chunks for non-dask input (see :func:`as_dask_array`).

    Returns
    -------
    dask array of shape (n, n_components), float32
        Row chunks as ``X``'s. With ``output_dens=True`` the tuple
        ``(embedding, rad_orig, rad_emb)`` of dask arrays (radii float64).
        Computing it equals ``model.transform(X_in_memory)`` exactly; a failing
        block raises :class:`BlockTransformError`.
    """
    from sklearn.utils.validation import check_is_fitted

    _, da = _dask()
    check_is_fitted(model, "embedding_")
    if not _blocks.is_dask_collection(X):
        X = as_dask_array(X, chunk_rows)
    _blocks._check_width(model, X)
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    if client == "auto":
        client = _active_client()
    dim = model.embedding_.shape[1]
    dens = bool(model.output_dens)
    width = dim + 2 if dens else dim
    dtype = np.float64 if dens else np.float32
    handle = _model_handle(model, client)
    out = da.map_blocks(_transform_block, X, handle, n_jobs, width, dtype=dtype,
                        chunks=(X.chunks[0], (width,)), meta=np.empty((0, width), dtype),
                        name="densumap-transform-" + _token(X, handle, n_jobs))
    if not dens:
        return out
    return out[:, :dim].astype(np.float32), out[:, dim], out[:, dim + 1]


def _token(*parts):
    from dask.base import tokenize

    return tokenize(*[getattr(p, "key", getattr(p, "name", p)) for p in parts])


def as_dask_array(X, chunk_rows=None, dataset=None):
    """A dask array over ``X`` whose graph holds a file path rather than data.

    Parameters
    ----------
    X : str or path, np.memmap, h5py dataset, zarr array, ndarray or dask array
        A path ending in ``.npy`` (memory-mapped), ``.h5``/``.hdf5`` (dataset
        ``dataset``, or the file's only dataset) or ``.zarr``.  A root memmap and
        an h5py dataset are re-opened by path on the workers; a zarr array
        pickles as its store; other arrays are put in the graph as they are.
    chunk_rows : int, default=None
        Rows per chunk; None gives about 32 MiB of input per chunk.  A dask
        array keeps its chunks unless given.
    dataset : str, default=None
        HDF5 dataset name.

    Returns
    -------
    dask array of shape (n, n_features), one column chunk
    """
    _, da = _dask()
    if isinstance(X, (str, os.PathLike)):
        X = open_array(X, dataset)
    if _blocks.is_dask_collection(X):
        return X if chunk_rows is None else X.rechunk({0: int(chunk_rows), 1: -1})
    if len(X.shape) != 2:
        raise ValueError(f"Expected a 2-D array; got shape {tuple(X.shape)}.")
    if chunk_rows is None:
        chunk_rows = _blocks.default_chunk_rows(X.shape[1], np.dtype(X.dtype).itemsize)
    source = _blocks.FileRows.from_array(X)
    if source is None:
        source = X
    return da.from_array(source, chunks=(int(chunk_rows), X.shape[1]), asarray=True,
                         lock=False, inline_array=False, fancy=False,
                         name="densumap-input-" + uuid.uuid4().hex)


def open_array(path, dataset=None):
    """Open an on-disk array without reading it: ``.npy``, ``.h5``/``.hdf5``, ``.zarr``.

    Returns a ``np.memmap`` (mode "r"), an h5py dataset (file left open) or a
    zarr array.  ``path.h5:name`` selects an HDF5 dataset, as does ``dataset``.
    """
    path = str(path)
    lower = path.lower()
    if dataset is None and (".h5:" in lower or ".hdf5:" in lower):
        path, dataset = path.rsplit(":", 1)
        lower = path.lower()
    if lower.endswith(".npy"):
        return np.load(path, mmap_mode="r")
    if lower.endswith((".h5", ".hdf5", ".he5")):
        try:
            import h5py
        except ImportError as exc:
            raise ImportError(f"Reading {path!r} needs h5py: pip install h5py") from exc
        f = h5py.File(path, "r")
        if dataset is None:
            names = []
            f.visititems(lambda name, obj: names.append(name)
                         if isinstance(obj, h5py.Dataset) and obj.ndim == 2 else None)
            if len(names) != 1:
                raise ValueError(
                    f"{path!r} holds {len(names)} 2-D datasets ({names[:10]}); name the "
                    f"one to read, e.g. {path}:{names[0] if names else 'X'}."
                )
            dataset = names[0]
        return f[dataset]
    if lower.rstrip("/").endswith(".zarr"):
        try:
            import zarr
        except ImportError as exc:
            raise ImportError(f"Reading {path!r} needs zarr: pip install zarr") from exc
        return zarr.open_array(path, mode="r") if dataset is None else \
            zarr.open_group(path, mode="r")[dataset]
    raise ValueError(
        f"Unsupported input {path!r}: expected a .npy, .h5/.hdf5 (optionally "
        f"path.h5:dataset) or .zarr path."
    )


def sample_rows(X, n_samples, seed=0, chunk_rows=None):
    """Draw ``n_samples`` distinct rows of ``X`` reproducibly.

    Parameters
    ----------
    X : dask array, np.memmap, h5py dataset, zarr array or ndarray of shape (n, d)
    n_samples : int
    seed : int, default=0
        The same seed and ``n`` always draw the same rows
        (``np.random.default_rng(seed).choice(n, n_samples, replace=False)``, sorted).
    chunk_rows : int, default=None
        Rows read at a time from an h5py/zarr array.

    Returns
    -------
    index : ndarray of shape (n_samples,), int64, increasing
    rows : ndarray of shape (n_samples, d)
    """
    index = _blocks.sample_index(X.shape[0], n_samples, seed)
    if _blocks.is_dask_collection(X):
        return index, np.ascontiguousarray(X[index].compute())
    return index, _blocks.take_rows(X, index, chunk_rows)


def fit_sample(model, X, n_samples, seed=0, y=None):
    """Fit ``model`` on ``n_samples`` rows of ``X`` drawn with ``seed``.

    Parameters
    ----------
    model : densumap.UMAP
        Unfitted (its parameters are used; it is fitted in place).
    X : dask array, np.memmap, h5py dataset, zarr array or ndarray of shape (n, d)
    n_samples : int
        Rows to fit on; they must fit in memory.
    seed : int, default=0
        Seed of the draw (:func:`sample_rows`); the fit itself uses
        ``model.random_state``.
    y : array-like of shape (n,), default=None
        Labels of all rows; the sampled ones supervise the fit.

    Returns
    -------
    model : densumap.UMAP
        Fitted on ``X[index]``.
    index : ndarray of shape (n_samples,), int64
        The rows drawn, increasing.
    """
    index, rows = sample_rows(X, n_samples, seed)
    model.fit(rows, None if y is None else np.asarray(y)[index])
    return model, index


def fit_transform_sample(model, X, n_samples, out=None, *, seed=0, y=None, scheduler=None,
                         n_jobs=1, chunk_rows=None):
    """Fit on a reproducible sample, then transform all of ``X`` lazily.

    Parameters
    ----------
    model, X, n_samples, seed, y
        As :func:`fit_sample`.
    out : str or path, default=None
        Write the embedding there (``.npy`` or ``.zarr``, see :func:`store`);
        None returns the lazy dask array.
    scheduler : None, "local", "threads", "synchronous", address or Client, default=None
        Where to compute when ``out`` is given (see :func:`transform_file`).
    n_jobs, chunk_rows
        As :func:`transform`.

    Returns
    -------
    model : densumap.UMAP
        Fitted.
    index : ndarray of shape (n_samples,), int64
    embedding : dask array or str
        The lazy embedding (a tuple with ``output_dens=True``), or ``out``.
    """
    if out is not None:
        _check_out(out)
    model, index = fit_sample(model, X, n_samples, seed=seed, y=y)
    if out is None:
        return model, index, transform(model, X, n_jobs=n_jobs, chunk_rows=chunk_rows)
    with _scheduler(scheduler) as client:
        emb = transform(model, X, n_jobs=n_jobs, chunk_rows=chunk_rows,
                        client=client)
        store(emb[0] if isinstance(emb, tuple) else emb, out, client=client)
    return model, index, str(out)


def store(embedding, out, client="auto"):
    """Write a lazy embedding to ``.npy`` or ``.zarr`` without holding it in one process.

    ``.npy``: the client process opens a temporary file beside ``out`` as a
    memmap, writes each block as it arrives and renames the file to ``out``
    once every block is in (:func:`densumap.persist.atomic_path`), so a failed or
    interrupted run leaves any earlier ``out`` as it was (with a ``distributed`` client, blocks stream back through
    ``as_completed``; locally, ``dask.array.store``), so only the blocks in
    flight are in memory and workers need no access to the output path.
    ``.zarr``: the workers write their blocks themselves (``to_zarr``), so on a
    multi-node cluster the path must be on storage every worker can reach. A
    zarr store is a directory of chunk files, written in place: it is not
    replaced atomically.

    Parameters
    ----------
    embedding : dask array of shape (n, n_components)
    out : str or path, ending in ``.npy`` or ``.zarr``
    client : "auto", distributed.Client or None, default="auto"

    Returns
    -------
    str
        ``out``.
    """
    dask, da = _dask()
    out = str(out)
    if client == "auto":
        client = _active_client()
    if _check_out(out) == "zarr":
        da.to_zarr(embedding.rechunk({1: -1}), out, overwrite=True, compute=True)
        return out
    from .persist import atomic_path

    with atomic_path(out) as tmp:
        target = np.lib.format.open_memmap(tmp, mode="w+", dtype=embedding.dtype,
                                           shape=tuple(int(s) for s in embedding.shape))
        try:
            _store_npy(embedding, target, client, da)
        finally:
            target.flush()
            del target
    return out


def _store_npy(embedding, target, client, da):
    """Write the blocks of ``embedding`` into the memmap ``target``."""
    if client is None:
        da.store(embedding, target, lock=True)
        return
    from distributed import as_completed

    blocks = embedding.to_delayed().ravel()
    bounds = np.concatenate([[0], np.cumsum(embedding.chunks[0])])
    futures = client.compute(list(blocks))
    where = {f.key: i for i, f in enumerate(futures)}
    for future, result in as_completed(futures, with_results=True):
        i = where[future.key]
        target[bounds[i]:bounds[i + 1]] = result
        future.release()


def _check_out(out):
    """"npy" or "zarr" from the output path's suffix, else ValueError."""
    lower = str(out).lower().rstrip("/")
    if lower.endswith(".zarr"):
        return "zarr"
    if lower.endswith(".npy"):
        return "npy"
    raise ValueError(f"out must end in .npy or .zarr; got {str(out)!r}.")


class _scheduler:
    """Context manager: the client to use for ``scheduler`` (None: the local default)."""

    def __init__(self, scheduler):
        self.scheduler = scheduler
        self._owned = []
        self._config = None

    def __enter__(self):
        s = self.scheduler
        if s is None:
            return _active_client()
        if not isinstance(s, str):  # a distributed.Client
            return s
        if s in ("threads", "synchronous", "sync", "single-threaded"):
            dask, _ = _dask()
            self._config = dask.config.set(scheduler=s)
            self._config.__enter__()
            return None
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise ImportError(
                f"scheduler={s!r} needs the optional package distributed: "
                f"pip install 'densumap[dask]'"
            ) from exc
        if s == "local":
            cluster = LocalCluster(dashboard_address=":0")
            self._owned.append(cluster)
            client = Client(cluster)
        else:
            client = Client(s)
        self._owned.insert(0, client)
        return client

    def __exit__(self, *exc):
        if self._config is not None:
            self._config.__exit__(*exc)
        for obj in self._owned:
            obj.close()
        return False


def transform_file(model, input_path, out_path, scheduler=None, chunk_rows=None, *,
                   dataset=None, n_jobs=1, trust_pickle=False):
    """Transform an on-disk array into an on-disk embedding (the CLI's ``--dask``).

    Parameters
    ----------
    model : densumap.UMAP or str or path
        A fitted model, or a model file: densumap's safe format
        (:func:`densumap.save`), or with ``trust_pickle=True`` a file saved with
        ``joblib.dump`` / ``pickle``.
    input_path : str or path
        ``.npy``, ``.h5``/``.hdf5`` (``file.h5:dataset`` or ``dataset=``) or
        ``.zarr``; read block by block on the workers, never whole.
    out_path : str or path
        ``.npy`` or ``.zarr`` (see :func:`store`). The embedding only; the
        radii of an ``output_dens`` model are not written.
    scheduler : None, str or distributed.Client, default=None
        None: the default ``distributed`` client if one is active, else dask's
        local threads; "threads" / "synchronous": that local scheduler; "local":
        start a ``LocalCluster`` for this call (one worker process per few cores)
        and close it after; any other string: the address of a running
        scheduler (``"tcp://host:8786"``); a ``Client``: use it.
    chunk_rows : int, default=None
        Rows per task; None gives about 32 MiB of input per task.
    dataset : str, default=None
        HDF5 dataset (or zarr group member) to read.
    n_jobs : int, default=1
        Numba threads per task.
    trust_pickle : bool, default=False
        Accept a pickle/joblib model file. Unpickling runs any code its author
        put in it: only for files you made or fully trust. Without it such a
        file raises ``ValueError``.

    Returns
    -------
    str
        ``out_path``.

    Raises
    ------
    ValueError
        When ``out_path`` is the same file as ``input_path`` or the model file,
        or the model file is a pickle and ``trust_pickle`` is False.
    """
    from . import persist

    _check_out(out_path)
    model_path = model if isinstance(model, (str, os.PathLike)) else None
    persist.check_outputs([("input_path", input_path), ("model", model_path)],
                          [("out_path", out_path)])
    if model_path is not None:
        import zipfile

        if trust_pickle and not zipfile.is_zipfile(model_path):
            import joblib

            model = joblib.load(model_path)
        elif persist.is_pickle(model_path):
            raise ValueError(
                f"{str(model_path)!r} is a pickle, which can run any code when loaded; "
                f"pass trust_pickle=True only for files you made or fully trust, or "
                f"re-save the model with densumap.save."
            )
        else:
            model = persist.load(model_path)
    X = as_dask_array(input_path, chunk_rows, dataset=dataset)
    with _scheduler(scheduler) as client:
        emb = transform(model, X, n_jobs=n_jobs, client=client)
        return store(emb[0] if isinstance(emb, tuple) else emb, out_path, client=client)
