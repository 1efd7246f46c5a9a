"""Readers for the data files densumap is used with.

* :func:`load_idx` reads the IDX format that MNIST and Fashion-MNIST ship in;
* :func:`load_mnist` and :func:`load_fashion_mnist` find and read those data sets
  from local files (nothing is ever downloaded);
* :func:`load_array`, :func:`load_labels` and :func:`save_array` are the generic
  readers and writer behind the command line (``.npy``, ``.npz``, ``.csv``, ``.tsv``,
  IDX and ``.h5ad``); :func:`save_obsm` writes an embedding into an AnnData file.

Only NumPy is imported at module level; ``anndata`` (for ``.h5ad``) is imported
inside the function that needs it.
"""
import contextlib
import csv
import gzip
import logging
import os
import warnings
from pathlib import Path

import numpy as np

from .persist import atomic_path, atomic_write

logger = logging.getLogger(__name__)

__all__ = [
    "load_idx",
    "load_mnist",
    "load_fashion_mnist",
    "load_array",
    "load_labels",
    "save_array",
    "save_obsm",
]

# IDX type codes -> big-endian dtypes (see the MNIST page's description of the format).
_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

_ARRAY_FORMATS = (
    ".npy, .npz, .csv, .tsv (optionally .gz), IDX (*-ubyte, *.idx, optionally .gz), .h5ad"
)
_LABEL_FORMATS = ".npy, .csv, .tsv, .txt (one label per line), IDX (*-ubyte, *.idx, optionally .gz)"


# --------------------------------------------------------------------------- helpers


def _open_maybe_gzip(path):
    """Open ``path`` for binary reading, transparently decompressing gzip data.

    The gzip magic number is sniffed rather than trusting the extension, so a
    decompressed file that kept its ``.gz`` name still reads.
    """
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")
    return open(path, "rb")


def _check_exists(path):
    path = Path(path)
    if not path.is_file():
        if path.exists():
            raise FileNotFoundError(f"{str(path)!r} is not a regular file.")
        raise FileNotFoundError(f"No such file: {str(path)!r}.")
    return path


def _split_suffix(path):
    """Return ``(lowercase extension without .gz, is_gzipped)`` for a path."""
    name = Path(path).name.lower()
    gz = name.endswith(".gz")
    if gz:
        name = name[:-3]
    return Path(name).suffix, name, gz


def _is_idx_name(name):
    """True for the names IDX files go by: ``*-ubyte`` (MNIST) or ``*.idx``/``*.idxN``."""
    suffix = Path(name).suffix
    return (
        name.endswith("-ubyte")
        or name.endswith("_ubyte")
        or suffix == ".idx"
        or (suffix.startswith(".idx") and suffix[4:].isdigit())
    )


# --------------------------------------------------------------------------- IDX


def load_idx(path):
    """Read an IDX file (the format of MNIST and Fashion-MNIST).

    Parameters
    ----------
    path : str or os.PathLike
        File such as ``train-images-idx3-ubyte`` or ``t10k-labels-idx1-ubyte``,
        optionally gzip-compressed (``.gz``; detected from the content).

    Returns
    -------
    array : numpy.ndarray
        Array with the shape stored in the header, e.g. ``(60000, 28, 28)`` uint8
        for MNIST training images or ``(60000,)`` uint8 for its labels. Multi-byte
        types are converted to the machine's native byte order.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file does not start with a valid IDX header, or holds fewer or more
        bytes than its header announces.

    Notes
    -----
    The header is big-endian: two zero bytes, a type code (``0x08`` uint8,
    ``0x09`` int8, ``0x0B`` int16, ``0x0C`` int32, ``0x0D`` float32, ``0x0E``
    float64), the number of dimensions, then one uint32 per dimension.
    """
    path = _check_exists(path)
    with _open_maybe_gzip(path) as f:
        try:
            raw = f.read()
        except (OSError, EOFError) as exc:  # corrupt or truncated gzip stream
            raise ValueError(f"{str(path)!r}: cannot decompress: {exc}") from exc

    if len(raw) < 4:
        raise ValueError(
            f"{str(path)!r} is not an IDX file: it holds {len(raw)} bytes, fewer than "
            "the 4-byte magic number."
        )
    zero0, zero1, code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero0 != 0 or zero1 != 0 or code not in _IDX_DTYPES:
        raise ValueError(
            f"{str(path)!r} is not an IDX file: bad magic number "
            f"0x{raw[:4].hex()} (expected 0x0000 then a type code among "
            f"{', '.join(f'0x{c:02X}' for c in _IDX_DTYPES)} and the number of dimensions)."
        )
    if ndim == 0:
        raise ValueError(f"{str(path)!r}: IDX header declares 0 dimensions.")
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise ValueError(
            f"{str(path)!r} is truncated: the header declares {ndim} dimensions "
            f"({header_len} header bytes) but the file holds {len(raw)} bytes."
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(raw) - header_len
    if found != expected:
        what = "truncated" if found < expected else "longer than its header says"
        raise ValueError(
            f"{str(path)!r} is {what}: shape {shape} of {dtype.newbyteorder('=').name} "
            f"needs {expected} data bytes, the file holds {found}."
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header_len).reshape(shape)
    # Native byte order and a writeable copy (frombuffer over bytes is read-only).
    return data.astype(dtype.newbyteorder("="), copy=True)


# --------------------------------------------------------------------------- MNIST


def _find_in(directory):
    """Map each standard MNIST file name to an existing path in ``directory``.

    Returns ``(found, missing)``: ``found`` maps base name -> path (plain file
    preferred to ``.gz``), ``missing`` lists the base names not present.
    """
    found, missing = {}, []
    for base in _MNIST_FILES:
        for candidate in (directory / base, directory / (base + ".gz")):
            if candidate.is_file():
                found[base] = candidate
                break
        else:
            missing.append(base)
    return found, missing


def _load_mnist_like(name, path, subdirs, system_dirs, how_to_get):
    candidates = []
    if path is not None:
        candidates.append(Path(path).expanduser())
    env = os.environ.get("DENSUMAP_DATA")
    if env:
        root = Path(env).expanduser()
        # The subfolder first: MNIST and Fashion-MNIST use the same file names, so
        # the top level is only a fallback for a user who keeps one of them there.
        candidates.extend(root / sub for sub in subdirs)
        candidates.append(root)
    candidates.extend(Path(d) for d in system_dirs)

    looked = []
    for directory in candidates:
        if not directory.is_dir():
            looked.append(f"  {directory} (no such directory)")
            continue
        found, missing = _find_in(directory)
        if not missing:
            logger.info("Reading %s from %s", name, directory)
            return _read_mnist_files(found)
        if found:
            looked.append(f"  {directory} (missing {', '.join(missing)})")
        else:
            looked.append(f"  {directory} (none of the four files)")
    if env is None:
        looked.append("  $DENSUMAP_DATA (not set)")
    files = ", ".join(f"{b}[.gz]" for b in _MNIST_FILES)
    raise FileNotFoundError(
        f"Could not find the {name} files ({files}). Looked in:\n"
        + "\n".join(looked)
        + f"\nTo get them: {how_to_get} Nothing is downloaded automatically."
    )


def _read_mnist_files(found):
    parts_x, parts_y = [], []
    for images, labels in (
        ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    ):
        x = load_idx(found[images])
        y = load_idx(found[labels])
        if y.ndim != 1:
            raise ValueError(f"{str(found[labels])!r}: labels must be 1-D, got shape {y.shape}.")
        if x.ndim < 2 or x.shape[0] != y.shape[0]:
            raise ValueError(
                f"{str(found[images])!r} holds images of shape {x.shape} but "
                f"{str(found[labels])!r} holds {y.shape[0]} labels."
            )
        parts_x.append(x.reshape(x.shape[0], -1).astype(np.float32))
        parts_y.append(y.astype(np.int64))
    if parts_x[0].shape[1] != parts_x[1].shape[1]:
        raise ValueError(
            f"Training images have {parts_x[0].shape[1]} pixels but test images have "
            f"{parts_x[1].shape[1]}."
        )
    return np.concatenate(parts_x), np.concatenate(parts_y)


def load_mnist(path=None):
    """Load MNIST (handwritten digits) from local IDX files.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Directory holding the four standard files ``train-images-idx3-ubyte``,
        ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
        ``t10k-labels-idx1-ubyte`` (each may be gzip-compressed with a ``.gz``
        suffix). When the files are not there, ``$DENSUMAP_DATA/mnist`` and then
        ``$DENSUMAP_DATA`` are searched.

    Returns
    -------
    X : numpy.ndarray of shape (70000, 784), float32
        The 60,000 training images followed by the 10,000 test images, each
        flattened row by row. Values are the raw pixel intensities 0..255 stored
        as float32 (not rescaled to [0, 1]).
    y : numpy.ndarray of shape (70000,), int64
        The digit labels 0..9, in the same order.

    Raises
    ------
    FileNotFoundError
        If no searched directory holds all four files; the message lists every
        place searched and how to get the files.

    Notes
    -----
    Nothing is ever downloaded.
    """
    return _load_mnist_like(
        "MNIST",
        path,
        subdirs=("mnist", "MNIST"),
        system_dirs=(),
        how_to_get=(
            "download the four files from the MNIST page and pass their directory as "
            "path=..., or put them in $DENSUMAP_DATA/mnist."
        ),
    )


def load_fashion_mnist(path=None):
    """Load Fashion-MNIST (Zalando's clothing images) from local IDX files.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Directory holding the four standard files ``train-images-idx3-ubyte``,
        ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
        ``t10k-labels-idx1-ubyte`` (each may be gzip-compressed with a ``.gz``
        suffix). When the files are not there, ``$DENSUMAP_DATA/fashion-mnist``,
        ``$DENSUMAP_DATA`` and Debian's ``/usr/share/datasets/fashion-mnist``
        (package ``dataset-fashion-mnist``) are searched, in that order.

    Returns
    -------
    X : numpy.ndarray of shape (70000, 784), float32
        The 60,000 training images followed by the 10,000 test images, each
        flattened row by row. Values are the raw pixel intensities 0..255 stored
        as float32 (not rescaled to [0, 1]).
    y : numpy.ndarray of shape (70000,), int64
        The class labels 0..9 (0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress,
        4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot).

    Raises
    ------
    FileNotFoundError
        If no searched directory holds all four files; the message lists every
        place searched and how to get the files.

    Notes
    -----
    Nothing is ever downloaded. On Debian and Ubuntu,
    ``apt-get install dataset-fashion-mnist`` installs the files where this
    function finds them.
    """
    return _load_mnist_like(
        "Fashion-MNIST",
        path,
        subdirs=("fashion-mnist", "fashion_mnist", "FashionMNIST"),
        system_dirs=("/usr/share/datasets/fashion-mnist",),
        how_to_get=(
            "on Debian/Ubuntu run `apt-get install dataset-fashion-mnist`; otherwise "
            "download the four files from the Fashion-MNIST repository and pass their "
            "directory as path=..., or put them in $DENSUMAP_DATA/fashion-mnist."
        ),
    )


# --------------------------------------------------------------------------- text files


def _parse_float(cell):
    try:
        return float(cell)
    except ValueError:
        return None


def _is_number(cell):
    return _parse_float(cell.strip()) is not None


def _text_lines(path, gz):
    opener = gzip.open if gz else open
    return opener(path, "rt", newline="", encoding="utf-8-sig")


def _read_delimited(path, delimiter, gz):
    """Read a numeric delimited text file into a 2-D float64 array.

    The first row is a header when none of its cells is a number. Parsing first
    tries NumPy's fast reader; only when that fails is the file scanned row by
    row to report the first offending cell.
    """
    with _text_lines(path, gz) as f:
        first = next(csv.reader(f, delimiter=delimiter), None)
    if first is None:
        raise ValueError(f"{str(path)!r} is empty.")
    header = None
    if not any(_is_number(cell) for cell in first):
        header = first
    skip = 1 if header is not None else 0
    try:
        with _text_lines(path, gz) as f, warnings.catch_warnings():
            # A header-only file is reported below as "no data rows".
            warnings.simplefilter("ignore", UserWarning)
            data = np.loadtxt(
                f, delimiter=delimiter, skiprows=skip, dtype=np.float64, ndmin=2,
                quotechar='"', comments=None,
            )
    except ValueError:
        _raise_first_bad_cell(path, delimiter, gz, header)
        raise  # the scan found nothing; let NumPy's own message stand
    if data.size == 0:
        raise ValueError(f"{str(path)!r} holds no data rows.")
    return data


def _raise_first_bad_cell(path, delimiter, gz, header):
    ncols = len(header) if header is not None else None
    with _text_lines(path, gz) as f:
        for row_number, row in enumerate(csv.reader(f, delimiter=delimiter), start=1):
            if header is not None and row_number == 1:
                continue
            if not row:
                raise ValueError(f"{str(path)!r}: row {row_number} is empty.")
            if ncols is None:
                ncols = len(row)
            if len(row) != ncols:
                raise ValueError(
                    f"{str(path)!r}: row {row_number} has {len(row)} columns, "
                    f"expected {ncols}."
                )
            for col, cell in enumerate(row, start=1):
                if _parse_float(cell.strip()) is None:
                    name = f" ({header[col - 1]!r})" if header is not None else ""
                    raise ValueError(
                        f"{str(path)!r}: row {row_number}, column {col}{name}: "
                        f"cannot read {cell!r} as a number."
                    )


# --------------------------------------------------------------------------- generic


def _load_npz(path, what):
    with np.load(path, allow_pickle=False) as z:
        keys = list(z.files)
        if len(keys) == 1:
            return z[keys[0]]
        for key in what:
            if key in keys:
                return z[key]
    raise ValueError(
        f"{str(path)!r} holds {len(keys)} arrays ({', '.join(map(repr, keys)) or 'none'}); "
        f"cannot tell which one to read: store a single array or name it "
        f"{' or '.join(map(repr, what))}."
    )


def _load_h5ad(path):
    try:
        import anndata
    except ImportError as exc:
        raise ImportError(
            f"Reading {str(path)!r} (.h5ad) needs the optional package anndata: "
            "pip install anndata (or pip install 'densumap[anndata]')."
        ) from exc
    adata = anndata.read_h5ad(path)
    return adata.X


def load_array(path):
    """Read a data matrix (samples x features) from a file.

    Parameters
    ----------
    path : str or os.PathLike
        File to read; the format is chosen from the extension:

        * ``.npy``: the array;
        * ``.npz``: its single array, or the one named ``"X"`` or ``"data"``;
        * ``.csv`` / ``.tsv`` (optionally ``.gz``): numeric cells separated by
          commas / tabs. The first row is taken as a header, and skipped, when
          none of its cells is a number;
        * IDX (``*-ubyte``, ``*.idx``, ``*.idx3``..., optionally ``.gz``), as MNIST
          ships: images of shape ``(n, h, w)`` are flattened to ``(n, h * w)``;
        * ``.h5ad``: the ``.X`` matrix of an AnnData file (needs the optional
          package ``anndata``); a sparse ``.X`` is returned as a SciPy sparse matrix.

    Returns
    -------
    X : numpy.ndarray of shape (n_samples, n_features), or scipy.sparse matrix
        Arrays of more than two dimensions are flattened to
        ``(shape[0], -1)``. CSV/TSV data are float64; other formats keep the
        stored dtype.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        For an unsupported extension (the message lists the supported ones), a
        CSV/TSV cell that is not a number (the message names the row and
        column), an ambiguous ``.npz``, or a 1-D array.
    ImportError
        For ``.h5ad`` when anndata is not installed.
    """
    suffix, name, gz = _split_suffix(path)
    # Decide the format before touching the disk, so a typo in the extension is
    # reported as such even when the file is also missing.
    if suffix in (".csv", ".tsv"):
        kind = suffix
    elif _is_idx_name(name):
        kind = "idx"
    elif not gz and suffix in (".npy", ".npz", ".h5ad"):
        kind = suffix
    else:
        raise ValueError(
            f"Cannot read {str(path)!r}: unknown file type {Path(path).name!r}. "
            f"Supported formats: {_ARRAY_FORMATS}."
        )
    path = _check_exists(path)

    if kind == ".npy":
        X = np.load(path, allow_pickle=False)
    elif kind == ".npz":
        X = _load_npz(path, ("X", "data"))
    elif kind in (".csv", ".tsv"):
        X = _read_delimited(path, "," if kind == ".csv" else "\t", gz)
    elif kind == "idx":
        X = load_idx(path)
    else:
        return _load_h5ad(path)

    if X.ndim < 2:
        raise ValueError(
            f"{str(path)!r} holds an array of shape {X.shape}; a data matrix must be "
            "2-D (samples x features). For labels use load_labels."
        )
    if X.ndim > 2:
        X = X.reshape(X.shape[0], -1)
    return X


def _labels_from_strings(values):
    """Turn label strings into int64, float64 or str, whichever fits all of them."""
    arr = np.asarray(values, dtype=str)
    for dtype in (np.int64, np.float64):
        try:
            return np.array([dtype(v) for v in arr], dtype=dtype) if len(arr) else arr
        except (ValueError, OverflowError):
            continue
    return arr


def _read_label_lines(path, suffix, gz):
    with _text_lines(path, gz) as f:
        if suffix == ".txt":
            rows = [[line.rstrip("\r\n")] for line in f]
        else:
            rows = list(csv.reader(f, delimiter="," if suffix == ".csv" else "\t"))
    while rows and (not rows[-1] or rows[-1] == [""]):
        rows.pop()
    values = []
    for row_number, row in enumerate(rows, start=1):
        if len(row) != 1:
            raise ValueError(
                f"{str(path)!r}: row {row_number} has {len(row)} columns; a label file "
                "holds one label per line."
            )
        cell = row[0].strip()
        if cell == "":
            raise ValueError(f"{str(path)!r}: row {row_number} is empty.")
        values.append(cell)
    # A header: a non-numeric first line above labels that are all numbers.
    if len(values) > 1 and not _is_number(values[0]) and all(map(_is_number, values[1:])):
        values = values[1:]
    if not values:
        raise ValueError(f"{str(path)!r} holds no labels.")
    return _labels_from_strings(values)


def load_labels(path):
    """Read a 1-D array of labels from a file.

    Parameters
    ----------
    path : str or os.PathLike
        ``.npy`` (1-D, or one column), ``.csv`` / ``.tsv`` / ``.txt`` with one
        label per line (optionally ``.gz``), or an IDX label file such as
        ``train-labels-idx1-ubyte``. Text labels may be strings; a non-numeric
        first line above numeric labels is taken as a header and skipped.

    Returns
    -------
    labels : numpy.ndarray of shape (n_samples,)
        int64 when every text label is an integer, float64 when every one is a
        number, otherwise strings. Binary formats keep their stored dtype.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        For an unsupported extension, a row with several columns, an empty row,
        or an array that is not 1-D.
    """
    suffix, name, gz = _split_suffix(path)
    if suffix in (".csv", ".tsv", ".txt"):
        kind = suffix
    elif _is_idx_name(name):
        kind = "idx"
    elif not gz and suffix == ".npy":
        kind = suffix
    else:
        raise ValueError(
            f"Cannot read labels from {str(path)!r}: unknown file type "
            f"{Path(path).name!r}. Supported formats: {_LABEL_FORMATS}."
        )
    path = _check_exists(path)
    if kind in (".csv", ".tsv", ".txt"):
        return _read_label_lines(path, kind, gz)
    y = np.load(path, allow_pickle=False) if kind == ".npy" else load_idx(path)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{str(path)!r}: labels must be 1-D, got shape {y.shape}.")
    return y


def save_array(path, array):
    """Write an array to ``.npy`` or ``.csv`` / ``.tsv``, atomically.

    The file is written beside ``path`` and renamed into place
    (:func:`densumap.persist.atomic_write`): if writing fails or is
    interrupted, an existing file at ``path`` is left as it was and no
    partial file remains.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; the extension picks the format. Text output uses enough
        digits to read the values back exactly (9 significant digits for
        float32, 17 for float64).
    array : array-like of shape (n_samples,) or (n_samples, n_features)
        Data to write, e.g. an embedding.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        For an extension other than ``.npy``, ``.csv`` or ``.tsv``, or a
        text format asked to hold more than two dimensions.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    arr = np.asarray(array)
    if suffix == ".npy":
        with atomic_write(path) as f:
            np.save(f, arr, allow_pickle=False)
        return path
    if suffix not in (".csv", ".tsv"):
        raise ValueError(
            f"Cannot write {str(path)!r}: unknown file type {suffix or '(none)'!r}. "
            "Supported formats: .npy, .csv, .tsv."
        )
    if arr.ndim > 2:
        raise ValueError(
            f"Cannot write an array of shape {arr.shape} to {str(path)!r}: text "
            "formats hold 1-D or 2-D arrays; use .npy."
        )
    if arr.dtype.kind in "iub":
        fmt = "%d"
    elif arr.dtype.kind == "f":
        fmt = "%.9g" if arr.dtype.itemsize <= 4 else "%.17g"
    else:
        fmt = "%s"
    with atomic_write(path) as f:
        np.savetxt(f, arr, fmt=fmt, delimiter="," if suffix == ".csv" else "\t")
    return path


def _nullable_strings_allowed(anndata):
    """Let anndata write pandas' nullable string arrays, where it has that switch.

    With pandas 3, ``read_h5ad`` gives string columns and indices as nullable
    strings, which anndata >= 0.11 refuses to write back unless asked to; without
    this, writing an embedding into any file that holds strings fails.
    """
    settings = getattr(anndata, "settings", None)
    if settings is None or not hasattr(settings, "allow_write_nullable_strings"):
        return contextlib.nullcontext()
    return settings.override(allow_write_nullable_strings=True)


def save_obsm(source, path, key, embedding, obs=None, uns=None):
    """Write an AnnData file: ``source`` with ``embedding`` stored in ``.obsm[key]``.

    Parameters
    ----------
    source : str or os.PathLike
        The ``.h5ad`` file the embedded data came from.
    path : str or os.PathLike
        Destination ``.h5ad``; may be ``source`` itself, which is then replaced
        only once the new file is completely written.
    key : str
        Name in ``.obsm``, e.g. ``"X_umap"`` or ``"X_densmap"``; an existing entry
        of that name is overwritten.
    embedding : ndarray of shape (n_obs, n_components)
    obs : dict of str to ndarray of shape (n_obs,), optional
        Extra per-observation columns, e.g. DensMAP's local radii.
    uns : dict, optional
        Entries to set in ``.uns`` (e.g. ``{"densmap": {"params": {...}}}``);
        existing entries of those names are replaced.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    ImportError
        When anndata is not installed.
    ValueError
        When ``path`` is not ``.h5ad`` or the embedding's rows do not match the
        observations of ``source``.
    """
    path = Path(path)
    if path.suffix.lower() != ".h5ad":
        raise ValueError(f"Cannot write {str(path)!r}: an AnnData file must end in .h5ad.")
    try:
        import anndata
    except ImportError as exc:
        raise ImportError(
            f"Writing {str(path)!r} (.h5ad) needs the optional package anndata: "
            "pip install anndata (or pip install 'densumap[anndata]')."
        ) from exc
    adata = anndata.read_h5ad(_check_exists(source))
    embedding = np.asarray(embedding)
    if embedding.shape[0] != adata.n_obs:
        raise ValueError(
            f"{str(source)!r} holds {adata.n_obs} observations but the embedding has "
            f"{embedding.shape[0]} rows."
        )
    adata.obsm[key] = embedding
    for name, values in (obs or {}).items():
        adata.obs[name] = np.asarray(values)
    for name, value in (uns or {}).items():
        adata.uns[name] = value
    # Write beside the destination, then rename: overwriting the source in place
    # must not leave a half-written file if writing fails.
    with atomic_path(path) as tmp, _nullable_strings_allowed(anndata):
        adata.write_h5ad(tmp)
    return path
