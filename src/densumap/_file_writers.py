"""File writers behind :mod:`densumap.datasets` and the command line.

:func:`save_array` writes an array to ``.npy``, ``.csv`` or ``.tsv``;
:func:`save_obsm` writes an embedding (and optional per-observation columns and
``.uns`` entries) into a copy of an AnnData ``.h5ad`` file. Both write beside
the destination and rename into place (:mod:`densumap.persist`), so a failed or
interrupted write leaves an existing file as it was. Import them from
:mod:`densumap.datasets`, their public home.
"""
import contextlib
from pathlib import Path

import numpy as np

from ._file_readers import check_exists
from .persist import atomic_path, atomic_write

__all__ = ["save_array", "save_obsm"]


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
    adata = anndata.read_h5ad(check_exists(source))
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
