"""Reading the command's inputs and writing its outputs, for :mod:`densumap.cli`.

:class:`CLIError` is a user error reported in one line with exit status 2;
:func:`user_errors` turns the library's errors about its input into one. The
checks here run before any work: an output of an unknown kind or in a missing
directory, and an output that would overwrite an input, are refused up front.
The writers put the embedding (with DensMAP's radii beside it) in ``.npy``,
``.csv``, ``.tsv`` or an ``.h5ad`` file's ``.obsm``, and save plots, always
through a temporary file renamed into place (:mod:`densumap.persist`).
"""
import contextlib
import pickle
import sys
from pathlib import Path

DATA_SUFFIXES = (".npy", ".csv", ".tsv")
PLOT_SUFFIXES = (".png", ".pdf", ".svg")
PROG = "densumap"


class CLIError(Exception):
    """A problem with the user's input, reported in one line with exit status 2."""


@contextlib.contextmanager
def user_errors(name=None):
    """Turn the library's errors about its input into :class:`CLIError`.

    ``name`` (a file) is put in front of messages that do not already mention it.
    """
    try:
        yield
    except (ValueError, OSError, ImportError, pickle.UnpicklingError, EOFError) as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
            message = f"{exc.filename}: {exc.strerror}"
        if name is not None and str(name) not in message:
            message = f"{name}: {message}"
        raise CLIError(message) from exc


def check_writable(path, suffixes, what):
    """Fail before any work when ``path`` cannot be an output of the kind asked."""
    path = Path(path)
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise CLIError(
            f"{what} {str(path)!r}: unknown file type {path.suffix or '(none)'!r}; "
            f"use one of {', '.join(suffixes)}."
        )
    parent = path.parent
    if not parent.is_dir():
        raise CLIError(f"{what} {str(path)!r}: no such directory {str(parent)!r}.")
    if path.is_dir():
        raise CLIError(f"{what} {str(path)!r} is a directory.")


def check_out(out, input_path):
    if Path(out).suffix.lower() == ".h5ad":
        if Path(input_path).suffix.lower() != ".h5ad":
            raise CLIError(
                f"--out {str(out)!r}: an .h5ad output is INPUT with the embedding in "
                f".obsm, so INPUT must be .h5ad too (got {str(input_path)!r})."
            )
        check_writable(out, (".h5ad",), "--out")
    else:
        check_writable(out, DATA_SUFFIXES + (".h5ad",), "--out")


def _extra_path(out, name):
    """Where ``--output-dens`` puts an extra column such as ``rad_orig``: OUT_NAME.EXT."""
    out = Path(out)
    return out.with_name(f"{out.stem}_{name}{out.suffix}")


def refuse_overwrites(inputs, outputs, in_place_ok=()):
    from .persist import check_outputs

    try:
        check_outputs(inputs, outputs, in_place_ok)
    except ValueError as exc:
        raise CLIError(str(exc)) from exc


def h5ad_in_place(args):
    """The documented exception: an .h5ad OUT may be the .h5ad INPUT (atomic rewrite)."""
    if Path(args.out).suffix.lower() == ".h5ad":
        return (("--out", "INPUT"),)
    return ()


def output_list(args, model_out=None):
    """(option, path) of every file a command will write."""
    outputs = [("--out", args.out)]
    if getattr(args, "output_dens", False) and Path(args.out).suffix.lower() != ".h5ad":
        outputs += [("--output-dens", _extra_path(args.out, n)) for n in ("rad_orig", "rad_emb")]
    outputs += [("--plot", args.plot), ("--density-plot", getattr(args, "density_plot", None)),
                ("--model", model_out)]
    return outputs


def read_data(path):
    from .datasets import load_array

    with user_errors(path):
        X = load_array(path)
    if X.dtype.kind not in "biuf":
        raise CLIError(f"{path}: data must be numeric, got values of type {X.dtype}.")
    return X


def read_labels(path, n_samples, input_path):
    from .datasets import load_labels

    with user_errors(path):
        y = load_labels(path)
    if y.shape[0] != n_samples:
        raise CLIError(
            f"{path} holds {y.shape[0]} labels but {input_path} has {n_samples} rows."
        )
    return y


def say(args, message):
    if not args.quiet:
        print(f"{PROG}: {message}", file=sys.stderr)


def use_agg():
    import matplotlib

    matplotlib.use("Agg")


def save_figure(fig, path):
    """``fig.savefig`` through a temporary file renamed into place."""
    from .persist import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=Path(path).suffix.lower().lstrip("."))


def save_plot(args, embedding, labels, title):
    use_agg()
    import matplotlib.pyplot as plt

    from . import plot

    colour = {}
    if labels is not None:
        colour = {"values": labels} if labels.dtype.kind == "f" else {"labels": labels}
    with user_errors(args.plot):
        ax = plot.points(embedding, width=700, height=700, **colour)
        # Room for a title above the axes, which points() lays out edge to edge.
        box = ax.get_position()
        ax.set_position([box.x0, box.y0, box.width, box.height - 28 / 700])
        ax.set_title(title, fontsize="medium")
        try:
            save_figure(ax.figure, args.plot)
        finally:
            plt.close(ax.figure)
    say(args, f"wrote {args.plot}")


def write_outputs(args, embedding, extras=None, uns=None):
    """Write the embedding (and named extra columns such as radii) to ``args.out``."""
    from .datasets import save_array, save_obsm

    out = Path(args.out)
    extras = extras or {}
    if out.suffix.lower() == ".h5ad":
        key = args.obsm_key or ("X_densmap" if getattr(args, "densmap", False) else "X_umap")
        with user_errors(out):
            save_obsm(args.input, out, key, embedding, obs=extras, uns=uns)
        say(args, f"wrote {out} (.obsm[{key!r}], {embedding.shape[0]} x {embedding.shape[1]})")
        return
    with user_errors(out):
        save_array(out, embedding)
        written = [str(out)]
        for name, values in extras.items():
            extra = _extra_path(out, name)
            save_array(extra, values)
            written.append(str(extra))
    say(args, f"wrote {', '.join(written)} ({embedding.shape[0]} x {embedding.shape[1]})")
