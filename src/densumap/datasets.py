"""The data sets densumap is used with, and the readers and writers of data files.

* :func:`load_mnist` and :func:`load_fashion_mnist` find and read those data sets
  from local files (nothing is ever downloaded);
* :func:`load_idx` reads the IDX format that MNIST and Fashion-MNIST ship in;
* :func:`load_array`, :func:`load_labels` and :func:`save_array` are the generic
  readers and writer behind the command line (``.npy``, ``.npz``, ``.csv``, ``.tsv``,
  IDX and ``.h5ad``); :func:`save_obsm` writes an embedding into an AnnData file.

This module is the public home of all of them. The readers are implemented in
:mod:`densumap._file_readers` and the writers in :mod:`densumap._file_writers`;
the search for the MNIST files is here.

Only NumPy is imported at module level; ``anndata`` (for ``.h5ad``) is imported
inside the function that needs it.
"""
import logging
import os
from pathlib import Path

import numpy as np

from ._file_readers import check_exists as _check_exists  # noqa: F401 (older import path)
from ._file_readers import load_array, load_idx, load_labels
from ._file_writers import save_array, save_obsm

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


_MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


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
