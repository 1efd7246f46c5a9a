"""A model format that cannot run code, and atomic file writes for every writer.

Model files
-----------
:func:`save` writes a fitted :class:`densumap.UMAP` as a zip archive (the
``.npz`` layout NumPy uses, uncompressed) holding

* ``densumap.json``, always the first member: the format name and version, the
  densumap version that wrote it, the hyper-parameters (``get_params()``) and
  every fitted attribute that is not an array (numbers, strings, the frozen
  DensMAP statistics, ...), as plain JSON;
* one ``.npy`` member per array (embedding, training rows, graph in CSR parts,
  ...), written and read by :mod:`numpy.lib.format` with ``allow_pickle=False``;
  members under 32 MiB are deflated, larger ones stored as they are (speed).

:func:`load` reads nothing but JSON and numeric/string arrays and rebuilds the
estimator with ``UMAP(**params)`` and ``setattr`` on names it has checked, so a
model file can hold data only: there is no code path from a file to a call.
Object arrays, pickles and unknown JSON tags are refused with an error that says
what the file is.  The zip's CRC-32 of every member is checked on reading, so a
damaged file is an error, not a silently different model.

What is kept is the model's whole ``__dict__`` (parameters and fitted state),
so a loaded model and the one that was saved give the same ``get_params()``,
the same fitted attributes and bit-identical ``transform`` /
``inverse_transform`` results (the tests check UMAP, DensMAP, supervised,
``output_dens`` and ``unique=True`` models).  A fitted attribute of a type the
format does not know raises ``TypeError`` on saving instead of being dropped.

Pickle and joblib keep working for models from Python (scikit-learn's
convention), but unpickling runs code chosen by whoever wrote the file: use them
only for files you trust, and this format to share models.

Atomic writes
-------------
:func:`atomic_write` (an open file) and :func:`atomic_path` (a path, for writers
that insist on a file name: matplotlib, anndata, memory maps) write to a
temporary file beside the destination, flush it to disk and rename it into place
(``os.replace``).  A crash, a kill, a full disk or an exception in the writer
leaves the previous file untouched (or no file) and removes the temporary one;
readers never see a truncated file.
"""
import contextlib
import json
import os
import re
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

__all__ = ["save", "load", "atomic_write", "atomic_path", "same_file", "check_outputs",
           "FORMAT_VERSION"]

FORMAT_NAME = "densumap-model"
FORMAT_VERSION = 1
_META = "densumap.json"
# Members up to this size are deflated (level 1: fast, and it shrinks graph indices
# and small training sets well); larger ones, in practice the training rows, are
# stored as they are so that saving and loading run at disk speed.
_DEFLATE_BELOW = 32 << 20
_NAME_OK = re.compile(r"^_?[A-Za-z][A-Za-z0-9_]*$")
_PICKLE_HINT = (
    "densumap.load never unpickles (a pickle can run any code when loaded). If you "
    "trust the file, load it with pickle/joblib yourself and re-save it with "
    "densumap.save(model, path)."
)


# --------------------------------------------------------------------- atomic writes
def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _new_file_mode(path):
    """Permissions the finished file gets: the old file's, else what ``open`` gives."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _fsync_dir(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # not supported (e.g. Windows): the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path, *, fsync=True):
    """Yield a temporary path beside ``path``; rename it to ``path`` on success.

    For writers that need a file name. The temporary name keeps the suffix of
    ``path`` (``.NAME.XXXXXXXX.tmp.SUFFIX``), so writers that infer the format
    from it still do. On any exception (``KeyboardInterrupt`` included) the
    temporary file is removed, ``path`` is left as it was, and the exception
    propagates.

    Parameters
    ----------
    path : str or os.PathLike
        Destination.
    fsync : bool, default=True
        Flush the new file (and the directory entry) to disk before returning,
        so that a power cut after the rename cannot leave an empty file.

    Yields
    ------
    tmp : pathlib.Path
    """
    path = Path(path)
    directory = path.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{path.suffix}",
                               dir=directory)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.chmod(tmp, _new_file_mode(path))
        if fsync:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if fsync:
        _fsync_dir(directory)


@contextlib.contextmanager
def atomic_write(path, mode="wb", *, fsync=True, **open_kwargs):
    """Open a temporary file beside ``path`` for writing; rename it to ``path`` on success.

    Parameters
    ----------
    path : str or os.PathLike
        Destination.
    mode : {"wb", "w"}, default="wb"
    fsync : bool, default=True
        See :func:`atomic_path`.
    **open_kwargs
        Passed to :func:`open` (e.g. ``encoding``, ``newline``).

    Yields
    ------
    file object
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write writes new files: mode must be 'w' or 'wb'; got {mode!r}.")
    with atomic_path(path, fsync=False) as tmp:
        with open(tmp, mode, **open_kwargs) as f:
            yield f
            f.flush()
            if fsync:
                os.fsync(f.fileno())
    if fsync:
        _fsync_dir(Path(path).parent)


def same_file(a, b):
    """Whether two paths name the same file (symlinks, relative paths, hard links).

    Existing files are compared by device and inode (:func:`os.path.samefile`);
    when either does not exist, by their resolved absolute paths.
    """
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return os.path.realpath(a) == os.path.realpath(b)


def _input_file(path):
    """The file behind an input argument (``file.h5:dataset`` names ``file.h5``)."""
    text = str(path)
    lower = text.lower()
    if (".h5:" in lower or ".hdf5:" in lower) and not os.path.exists(text):
        return text.rsplit(":", 1)[0]
    return text


def check_outputs(inputs, outputs, in_place_ok=()):
    """Raise when an output is the same file as an input or as another output.

    Files are compared with :func:`same_file`, so symlinks, relative paths and
    hard links to an input are caught.

    Parameters
    ----------
    inputs, outputs : list of (str, path or None)
        (name, path) pairs, the name as the message should show it (e.g.
        ``"--out"``, ``"INPUT"``); None paths are skipped. An input may be
        ``file.h5:dataset``.
    in_place_ok : tuple of (output name, input name), default=()
        Pairs allowed to be the same file (an ``.h5ad`` rewritten atomically).

    Raises
    ------
    ValueError
        One line naming both paths.
    """
    inputs = [(n, p) for n, p in inputs if p is not None]
    outputs = [(n, p) for n, p in outputs if p is not None]
    for i, (oname, out) in enumerate(outputs):
        for iname, inp in inputs:
            if (oname, iname) not in in_place_ok and same_file(out, _input_file(inp)):
                raise ValueError(
                    f"{oname} {str(out)!r} is the same file as {iname} {str(inp)!r}; "
                    f"refusing to overwrite an input (choose another {oname} path)."
                )
        for oname2, out2 in outputs[:i]:
            if same_file(out, out2):
                raise ValueError(f"{oname} {str(out)!r} and {oname2} {str(out2)!r} are the "
                                 f"same file; give each output its own path.")


# --------------------------------------------------------------------- encoding
class _Writer:
    """Collects the arrays of one model while its JSON metadata is built."""

    def __init__(self):
        self.arrays = {}

    def add(self, where, array):
        key = f"{where}.npy"
        self.arrays[key] = array
        return key

    def encode(self, value, where):
        """JSON for ``value``; arrays go to :attr:`arrays` under a name derived from ``where``."""
        import scipy.sparse as sp

        from .density import DensityRelation

        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float):
            return value
        if isinstance(value, np.generic):
            return {"__scalar__": self.add(where, np.asarray(value))}
        if isinstance(value, np.ndarray):
            if value.dtype.hasobject:
                if all(isinstance(v, str) for v in value.ravel()):
                    return {"__strings__": value.tolist(), "shape": list(value.shape)}
                raise TypeError(
                    f"{where}: object arrays other than strings cannot be saved safely."
                )
            return {"__array__": self.add(where, np.asarray(value))}
        if sp.issparse(value):
            if value.format != "csr":
                raise TypeError(f"{where}: only CSR sparse matrices are saved; got "
                                f"{value.format.upper()}.")
            return {"__csr__": {
                "kind": "array" if isinstance(value, sp.sparray) else "matrix",
                "shape": [int(s) for s in value.shape],
                "data": self.add(f"{where}.data", value.data),
                "indices": self.add(f"{where}.indices", value.indices),
                "indptr": self.add(f"{where}.indptr", value.indptr),
            }}
        if isinstance(value, DensityRelation):
            return {"__DensityRelation__": [self.encode(v, f"{where}.{f}")
                                            for f, v in zip(value._fields, value)]}
        if isinstance(value, np.random.RandomState):
            name, keys, pos, has_gauss, cached = value.get_state(legacy=True)
            return {"__RandomState__": {"name": name, "keys": self.add(f"{where}.keys", keys),
                                        "pos": int(pos), "has_gauss": int(has_gauss),
                                        "cached_gaussian": float(cached)}}
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                raise TypeError(f"{where}: only dicts with string keys can be saved.")
            return {"__dict__": {k: self.encode(v, f"{where}.{k}") for k, v in value.items()}}
        if isinstance(value, (list, tuple)):
            items = [self.encode(v, f"{where}.{i}") for i, v in enumerate(value)]
            return items if isinstance(value, list) else {"__tuple__": items}
        raise TypeError(
            f"{where}: cannot save a value of type {type(value).__name__} safely (the "
            f"format holds numbers, strings, arrays, CSR matrices and their lists/dicts)."
        )


class _Reader:
    """Turns the JSON metadata back into values, reading arrays from the archive."""

    def __init__(self, zf, path):
        self.zf = zf
        self.path = path
        self.names = set(zf.namelist())

    def array(self, key):
        if not isinstance(key, str) or key not in self.names:
            raise ValueError(f"{self.path}: damaged densumap model file: member {key!r} "
                             f"is missing.")
        with self.zf.open(key) as f:
            try:
                return np.lib.format.read_array(f, allow_pickle=False)
            except ValueError as exc:
                raise ValueError(f"{self.path}: member {key!r} is not a plain array "
                                 f"({exc}).") from exc

    def decode(self, value):
        import scipy.sparse as sp

        from .density import DensityRelation

        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if not isinstance(value, dict) or len(value) not in (1, 2):
            raise ValueError(f"{self.path}: damaged densumap model file: unexpected "
                             f"value {str(value)[:80]!r}.")
        tag = next(iter(value))
        body = value[tag]
        if tag == "__array__":
            return self.array(body)
        if tag == "__scalar__":
            return self.array(body)[()]
        if tag == "__strings__":
            out = np.empty(len(body), dtype=object)
            out[:] = [str(v) for v in body]
            return out.reshape(value.get("shape", [len(body)]))
        if tag == "__csr__":
            cls = sp.csr_array if body["kind"] == "array" else sp.csr_matrix
            data, indices, indptr = (self.array(body[k]) for k in ("data", "indices", "indptr"))
            m = cls((data, indices, indptr), shape=tuple(body["shape"]))
            # The constructor may narrow the index dtype; keep the saved arrays exactly.
            m.indices, m.indptr = indices, indptr
            return m
        if tag == "__DensityRelation__":
            return DensityRelation(*[self.decode(v) for v in body])
        if tag == "__RandomState__":
            rs = np.random.RandomState()
            rs.set_state((body["name"], self.array(body["keys"]), body["pos"],
                          body["has_gauss"], body["cached_gaussian"]))
            return rs
        if tag == "__dict__":
            return {k: self.decode(v) for k, v in body.items()}
        if tag == "__tuple__":
            return tuple(self.decode(v) for v in body)
        raise ValueError(f"{self.path}: damaged densumap model file: unknown tag {tag!r}.")


# --------------------------------------------------------------------- save / load
def save(model, path):
    """Save a fitted :class:`densumap.UMAP` to ``path`` in densumap's safe model format.

    The file (a zip of ``.npy`` arrays and JSON metadata, see the module
    docstring) is written atomically: beside ``path``, then renamed into place.
    Read it back with :func:`load`; no pickle is involved either way.

    Parameters
    ----------
    model : densumap.UMAP
        A fitted model (not a subclass: its behaviour could not be restored).
    path : str or os.PathLike
        Destination, conventionally ending in ``.npz`` (NumPy's ``np.load`` lists
        its arrays); any existing file there is replaced.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    TypeError
        When ``model`` is not a ``densumap.UMAP`` or holds a value the format
        cannot store (named in the message).
    ValueError
        When ``model`` is not fitted.
    """
    from . import __version__
    from .estimator import UMAP

    if type(model) is not UMAP:
        raise TypeError(
            f"densumap.save saves densumap.UMAP models; got {type(model).__module__}."
            f"{type(model).__qualname__}."
        )
    if not hasattr(model, "graph_"):  # a transform_mode="graph" model has no embedding_
        raise ValueError("densumap.save needs a fitted model; call fit first.")
    params = model.get_params(deep=False)
    writer = _Writer()
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "densumap_version": __version__,
        "class": "densumap.UMAP",
        "params": {k: writer.encode(v, f"params.{k}") for k, v in params.items()},
        "state": {k: writer.encode(v, f"state.{k}") for k, v in vars(model).items()
                  if k not in params},
    }
    blob = json.dumps(meta, separators=(",", ":"), allow_nan=True).encode("utf-8")
    path = Path(path)
    with atomic_write(path, "wb") as f:
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1,
                             allowZip64=True) as zf:
            zf.writestr(_META, blob)
            for key, arr in writer.arrays.items():
                zf.compression = (zipfile.ZIP_DEFLATED if arr.nbytes < _DEFLATE_BELOW
                                  else zipfile.ZIP_STORED)
                with zf.open(key, "w", force_zip64=arr.nbytes > 2**31) as member:
                    np.lib.format.write_array(member, arr, allow_pickle=False)
    return path


def _describe_non_zip(path, head):
    """Why a file that is not a complete zip archive is not a loadable model."""
    if head[:4] == b"PK\x03\x04" and len(head) >= 30:
        name_len = struct.unpack("<H", head[26:28])[0]
        if head[30:30 + name_len] == _META.encode():
            size = os.path.getsize(path)
            return (f"{path}: truncated densumap model file ({size} bytes; the end of "
                    f"the archive is missing). Save the model again.")
    if _looks_like_pickle(head):
        return f"{path}: this is a pickle, not a densumap model file. {_PICKLE_HINT}"
    return f"{path}: not a densumap model file (it is not a zip archive)."


def _looks_like_pickle(head):
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def is_pickle(path):
    """Whether the file at ``path`` starts like a pickle (protocol 2 or later)."""
    with open(path, "rb") as f:
        return _looks_like_pickle(f.read(2))


def load(path):
    """Load a model written by :func:`save` (or ``densumap embed --model``).

    Only JSON and numeric or string arrays are read (``allow_pickle=False``);
    nothing in the file is executed.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    model : densumap.UMAP
        Fitted; equal to the saved model in ``get_params()``, fitted attributes
        and results.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        When the file is not a densumap model (a pickle, another archive, any
        other file), is truncated or damaged, or was written in a newer format
        version than this densumap reads; the message says which.
    """
    from . import __version__
    from .estimator import UMAP

    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(64)
    try:
        zf = zipfile.ZipFile(path, "r")
    except zipfile.BadZipFile:
        raise ValueError(_describe_non_zip(path, head)) from None
    with zf:
        if _META not in zf.namelist():
            raise ValueError(f"{path}: a zip archive, but not a densumap model file (no "
                             f"{_META} inside).")
        try:
            meta = json.loads(zf.read(_META).decode("utf-8"))
        except (ValueError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
            raise ValueError(f"{path}: damaged densumap model file ({exc}).") from exc
        if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
            raise ValueError(f"{path}: not a densumap model file ({_META} does not "
                             f"describe one).")
        version = meta.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError(f"{path}: damaged densumap model file (format_version "
                             f"{version!r}).")
        if version > FORMAT_VERSION:
            raise ValueError(
                f"{path}: written by densumap {meta.get('densumap_version', '?')} in "
                f"model format version {version}; this densumap ({__version__}) reads "
                f"format versions up to {FORMAT_VERSION}. Upgrade densumap to load it."
            )
        if meta.get("class") != "densumap.UMAP":
            raise ValueError(f"{path}: holds a {meta.get('class')!r}, not a densumap.UMAP.")
        reader = _Reader(zf, path)
        try:
            params = {k: reader.decode(v) for k, v in meta["params"].items()}
            state = {k: reader.decode(v) for k, v in meta["state"].items()}
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise ValueError(f"{path}: damaged densumap model file ({exc}).") from exc
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}: damaged densumap model file ({exc!r}).") from exc
    known = UMAP().get_params(deep=False)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ValueError(f"{path}: parameters unknown to densumap {__version__}: {unknown} "
                         f"(written by densumap {meta.get('densumap_version', '?')}).")
    missing = sorted(set(known) - set(params))
    if missing:
        import warnings

        warnings.warn(
            f"{path}: written by densumap {meta.get('densumap_version', '?')}, which had "
            f"no parameters {missing}; they take their defaults.", UserWarning, stacklevel=2)
    bad = [k for k in state if not _NAME_OK.match(k) or k in known or k.startswith("__")]
    if bad:
        raise ValueError(f"{path}: damaged densumap model file: invalid attribute names "
                         f"{bad[:5]}.")
    model = UMAP(**params)
    for k, v in state.items():
        setattr(model, k, v)
    if not hasattr(model, "graph_") or (model.transform_mode == "embedding"
                                        and not hasattr(model, "embedding_")):
        raise ValueError(f"{path}: damaged densumap model file: no graph_ or embedding_.")
    return model

