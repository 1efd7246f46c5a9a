"""File readers behind :mod:`densumap.datasets` and the command line.

* :func:`load_idx` reads the IDX format that MNIST and Fashion-MNIST ship in;
* :func:`load_array` reads a data matrix from ``.npy``, ``.npz``, ``.csv`` /
  ``.tsv`` (optionally gzipped), IDX or ``.h5ad``;
* :func:`load_labels` reads one label per sample from ``.npy``, ``.csv`` /
  ``.tsv`` / ``.txt`` or IDX.

The format is chosen from the file name before the disk is touched, so a typo in
the extension is reported as such; errors name the file, and for text files the
row and column of the first cell that is not a number. Import these from
:mod:`densumap.datasets`, their public home. Only NumPy is imported at module
level; ``anndata`` (for ``.h5ad``) inside the function that needs it.
"""
import csv
import gzip
import warnings
from pathlib import Path

import numpy as np

__all__ = ["load_idx", "load_array", "load_labels", "check_exists"]

# IDX type codes -> big-endian dtypes (see the MNIST page's description of the format).
_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

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


def check_exists(path):
    """``path`` as a Path when it is a regular file, else FileNotFoundError naming it."""
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
    path = check_exists(path)
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
    path = check_exists(path)

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
    path = check_exists(path)
    if kind in (".csv", ".tsv", ".txt"):
        return _read_label_lines(path, kind, gz)
    y = np.load(path, allow_pickle=False) if kind == ".npy" else load_idx(path)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{str(path)!r}: labels must be 1-D, got shape {y.shape}.")
    return y
