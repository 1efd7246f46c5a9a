"""The ``densumap`` command line: argument parsing and calls into the library.

Subcommands
-----------
``densumap demo``
    UMAP and DensMAP on scikit-learn's digits, side by side in one PNG, with a
    printed report (see :mod:`densumap.demo`).
``densumap embed INPUT --out OUT``
    Fit an embedding of a data file and write it (``.npy``, ``.csv``, ``.tsv``, or
    back into an ``.h5ad`` file's ``.obsm``), optionally with a plot, the DensMAP
    local radii and the fitted model.
``densumap transform MODEL INPUT --out OUT``
    Place new data with a model saved by ``embed --model``.

Model files are densumap's safe format (:mod:`densumap.persist`: arrays and
JSON, no pickle). ``transform`` refuses a pickled model unless given
``--trust-pickle``, because unpickling runs code chosen by the file's author.
No command writes over a file it reads (exit 2 naming both paths; the one
exception is an ``.h5ad`` INPUT given as OUT), and every output is written
beside its destination and renamed into place, so an error, Ctrl-C (exit 130)
or SIGTERM (exit 143) leaves earlier files as they were.

An ``.h5ad`` INPUT goes through :mod:`densumap.anndata` (scanpy's conventions:
``--use-rep``, ``--n-pcs``, ``--neighbors-key``, ``--color`` an ``.obs``
column, the parameters in ``.uns``).

User errors (a missing or unreadable file, an unknown format, non-numeric data,
labels that do not match the data, a bad parameter) print one line and exit
with status 2; ``densumap --traceback ...`` shows the full traceback instead.
Everything numerical happens in the estimator, the readers and the plotting
module; this module only wires them together.
"""
import argparse
import contextlib
import pickle
import sys
import warnings
from pathlib import Path

from ._runtime import signals_raise

__all__ = ["main", "build_parser"]

_DATA_SUFFIXES = (".npy", ".csv", ".tsv")
_PLOT_SUFFIXES = (".png", ".pdf", ".svg")
_PROG = "densumap"


class CLIError(Exception):
    """A problem with the user's input, reported in one line with exit status 2."""


class _Terminated(BaseException):
    """Raised in the main thread on SIGTERM, so that ``finally`` blocks clean up.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` in
    the library swallows it.
    """


class _Parser(argparse.ArgumentParser):
    """argparse, but its errors fit on one line like the command's own."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


_FORMATS_HELP = (
    "INPUT formats: .npy, .npz (a single array or one named X/data), .csv/.tsv "
    "(numeric, optional header row, optionally .gz), IDX files as MNIST and "
    "Fashion-MNIST ship them (*-idx3-ubyte, optionally .gz) and .h5ad (AnnData's .X; "
    "needs the optional package anndata). Labels: .npy, .csv/.tsv/.txt with one label "
    "per line, or IDX (*-idx1-ubyte[.gz])."
)


def build_parser():
    """The argument parser of the ``densumap`` command."""
    parser = _Parser(
        prog=_PROG,
        description="UMAP and DensMAP embeddings from the command line.",
        epilog="Run 'densumap COMMAND --help' for the options of each command.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"densumap {__version__}")
    parser.add_argument(
        "--traceback", action="store_true",
        help="on an input error, show the Python traceback instead of one line",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-q", "--quiet", action="store_true",
        help="no progress bar, stage timings or 'wrote' messages on stderr",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser(
        "demo", parents=[common],
        help="UMAP vs DensMAP on scikit-learn's digits: one PNG and a printed report",
        description=(
            "Fit UMAP and DensMAP on scikit-learn's digits (1,797 8x8 images, "
            "shipped with scikit-learn), save both embeddings side by side in one PNG "
            "and print fit times, kNN accuracy, trustworthiness and the correlation "
            "of local densities between input and embedding."
        ),
    )
    demo.add_argument("--out", default="densumap_demo.png", metavar="PATH",
                      help="figure to write (default: %(default)s)")
    demo.add_argument("--seed", type=int, default=42, metavar="S",
                      help="random_state of both fits (default: %(default)s)")
    demo.add_argument("--n-epochs", type=int, default=None, metavar="N",
                      help="optimisation epochs (default: the estimator's, 500 / 700)")
    demo.set_defaults(func=_cmd_demo)

    embed = sub.add_parser(
        "embed", parents=[common],
        help="fit an embedding of a data file",
        description="Fit UMAP (or DensMAP with --densmap) on INPUT and write the embedding.",
        epilog=_FORMATS_HELP + (
            " OUT: .npy, .csv or .tsv (one row per sample, no header), or .h5ad when "
            "INPUT is .h5ad: a copy of INPUT with the embedding in .obsm[KEY] (OUT may "
            "be INPUT itself). With --output-dens the log local radii go to "
            "OUT_rad_orig.EXT and OUT_rad_emb.EXT beside OUT (for .h5ad: obs columns "
            "KEY_rad_orig and KEY_rad_emb, KEY being densmap, umap or --obsm-key)."
        ),
    )
    embed.add_argument("input", metavar="INPUT", help="data file, one row per sample")
    _add_out_args(embed)
    embed.add_argument(
        "--labels", metavar="FILE",
        help="one label per sample: colours the plot, and is the target with --supervised",
    )
    embed.add_argument(
        "--supervised", action="store_true",
        help="fit with --labels as y (numeric labels: -1 = unlabelled)",
    )
    embed.add_argument("--target-weight", type=float, default=0.5, metavar="X",
                       help="with --supervised: 0 = only the data, 1 = only the labels "
                            "(default: %(default)s)")
    embed.add_argument("--densmap", action="store_true",
                       help="add the DensMAP term that preserves local density")
    embed.add_argument("--dens-lambda", type=float, default=2.0, metavar="X",
                       help="weight of the density term (default: %(default)s)")
    embed.add_argument("--dens-frac", type=float, default=0.3, metavar="X",
                       help="fraction of epochs, at the end, with the density term "
                            "(default: %(default)s)")
    embed.add_argument("--dens-var-shift", type=float, default=0.1, metavar="X",
                       help="added to the variance of embedding radii (default: %(default)s)")
    embed.add_argument("--n-neighbors", type=int, default=15, metavar="K",
                       help="neighbourhood size (default: %(default)s)")
    embed.add_argument("--min-dist", type=float, default=0.1, metavar="X",
                       help="smallest distance between embedded points (default: %(default)s)")
    embed.add_argument("--metric", default="euclidean", metavar="NAME",
                       help="input metric, e.g. euclidean, cosine, manhattan, correlation, "
                            "hellinger, jaccard (umap-learn's names; default: %(default)s)")
    embed.add_argument("--n-components", type=int, default=2, metavar="D",
                       help="embedding dimension (default: %(default)s)")
    embed.add_argument("--n-epochs", type=int, default=None, metavar="N",
                       help="optimisation epochs (default: 500 up to 10,000 samples, "
                            "else 200, also with --densmap)")
    embed.add_argument("--n-jobs", type=int, default=-1, metavar="J",
                       help="threads; -1 = all (default: %(default)s)")
    embed.add_argument("--seed", type=int, default=None, metavar="S",
                       help="random_state; the same seed gives the same embedding")
    embed.add_argument("--model", metavar="PATH",
                       help="save the fitted model for 'densumap transform' in densumap's "
                            "safe format (arrays + JSON, no pickle; e.g. model.npz)")
    embed.add_argument("--output-dens", action="store_true",
                       help="also write the log local radii in input and embedding space")
    embed.add_argument("--density-plot", metavar="PNG",
                       help="save densumap.plot.density: embedding radius against input "
                            "radius, and the embedding coloured by input radius")
    _add_anndata_args(embed, fit=True)
    embed.set_defaults(func=_cmd_embed)

    transform = sub.add_parser(
        "transform", parents=[common],
        help="place new data with a model saved by 'embed --model'",
        description=(
            "Load MODEL (saved by 'densumap embed --model') and embed the rows of INPUT "
            "into its fitted embedding. MODEL is read as plain arrays and JSON: it "
            "cannot run code. Pickled models are refused unless --trust-pickle is given."
        ),
        epilog=_FORMATS_HELP + " OUT: as for 'densumap embed'.",
    )
    transform.add_argument("model", metavar="MODEL", help="model file from 'embed --model'")
    transform.add_argument("input", metavar="INPUT", help="new data, same features as the fit")
    _add_out_args(transform)
    transform.add_argument("--labels", metavar="FILE", help="labels colouring the plot")
    transform.add_argument("--trust-pickle", action="store_true",
                           help="accept a MODEL that is a pickle (older densumap, or "
                                "pickle.dump). Unpickling runs any code the file's author "
                                "put in it: only for files you made or fully trust")
    transform.add_argument("--output-dens", action="store_true",
                           help="also write the new points' log local radii (as for embed)")
    transform.add_argument("--dask", nargs="?", const="", default=None,
                           metavar="SCHEDULER_ADDRESS",
                           help="transform block by block with Dask (extra 'dask'): no "
                                "address = local threads or the active client, 'local' = a "
                                "LocalCluster for this call, else a scheduler address such "
                                "as tcp://host:8786. INPUT: .npy, .h5/.hdf5[:dataset] or "
                                ".zarr; OUT: .npy or .zarr; writes the embedding only")
    transform.add_argument("--chunk-rows", type=int, default=None, metavar="N",
                           help="rows per block with --dask")
    _add_anndata_args(transform, fit=False)
    transform.set_defaults(func=_cmd_transform)
    return parser


def _add_anndata_args(p, fit):
    """Options of an .h5ad INPUT, which goes through :mod:`densumap.anndata`."""
    g = p.add_argument_group(
        ".h5ad input (scanpy conventions, see densumap.anndata)",
        "The representation is --use-rep, else .obsm['X_pca'] when present and the data "
        "has more than 50 variables, else .X. The parameters go to .uns[KEY]['params'] "
        "(KEY: densmap / umap, or --obsm-key) and with --output-dens the radii to the "
        "obs columns KEY_rad_orig and KEY_rad_emb.")
    g.add_argument("--use-rep", metavar="KEY", help="an .obsm key (e.g. X_pca) or X")
    g.add_argument("--n-pcs", type=int, default=None, metavar="N",
                   help="use the first N columns of the representation")
    g.add_argument("--color", metavar="COLUMN",
                   help="an .obs column (e.g. cell_type): colours --plot"
                        + (", and is the target with --supervised (missing = unlabelled)"
                           if fit else ""))
    if fit:
        g.add_argument("--neighbors-key", metavar="KEY",
                       help="reuse this sc.pp.neighbors graph (.uns[KEY]); by default "
                            "'neighbors' is reused when it matches the representation")


def _add_out_args(p):
    p.add_argument("--out", required=True, metavar="OUT",
                   help="embedding file: .npy, .csv, .tsv, or .h5ad for an .h5ad INPUT")
    p.add_argument("--plot", metavar="PNG", help="also save a scatter plot (.png, .pdf, .svg)")
    p.add_argument("--obsm-key", metavar="KEY",
                   help="for an .h5ad OUT: the .obsm entry (default: X_densmap with "
                        "--densmap, else X_umap)")


# --------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def _user_errors(name=None):
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


def _check_writable(path, suffixes, what):
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


def _check_out(out, input_path):
    if Path(out).suffix.lower() == ".h5ad":
        if Path(input_path).suffix.lower() != ".h5ad":
            raise CLIError(
                f"--out {str(out)!r}: an .h5ad output is INPUT with the embedding in "
                f".obsm, so INPUT must be .h5ad too (got {str(input_path)!r})."
            )
        _check_writable(out, (".h5ad",), "--out")
    else:
        _check_writable(out, _DATA_SUFFIXES + (".h5ad",), "--out")


def _extra_path(out, name):
    """Where ``--output-dens`` puts an extra column such as ``rad_orig``: OUT_NAME.EXT."""
    out = Path(out)
    return out.with_name(f"{out.stem}_{name}{out.suffix}")


def _refuse_overwrites(inputs, outputs, in_place_ok=()):
    from .persist import check_outputs

    try:
        check_outputs(inputs, outputs, in_place_ok)
    except ValueError as exc:
        raise CLIError(str(exc)) from exc


def _h5ad_in_place(args):
    """The documented exception: an .h5ad OUT may be the .h5ad INPUT (atomic rewrite)."""
    if Path(args.out).suffix.lower() == ".h5ad":
        return (("--out", "INPUT"),)
    return ()


def _output_list(args, model_out=None):
    """(option, path) of every file a command will write."""
    outputs = [("--out", args.out)]
    if getattr(args, "output_dens", False) and Path(args.out).suffix.lower() != ".h5ad":
        outputs += [("--output-dens", _extra_path(args.out, n)) for n in ("rad_orig", "rad_emb")]
    outputs += [("--plot", args.plot), ("--density-plot", getattr(args, "density_plot", None)),
                ("--model", model_out)]
    return outputs


def _read_data(path):
    from .datasets import load_array

    with _user_errors(path):
        X = load_array(path)
    if X.dtype.kind not in "biuf":
        raise CLIError(f"{path}: data must be numeric, got values of type {X.dtype}.")
    return X


def _read_labels(path, n_samples, input_path):
    from .datasets import load_labels

    with _user_errors(path):
        y = load_labels(path)
    if y.shape[0] != n_samples:
        raise CLIError(
            f"{path} holds {y.shape[0]} labels but {input_path} has {n_samples} rows."
        )
    return y


def _say(args, message):
    if not args.quiet:
        print(f"{_PROG}: {message}", file=sys.stderr)


def _use_agg():
    import matplotlib

    matplotlib.use("Agg")


def _save_figure(fig, path):
    """``fig.savefig`` through a temporary file renamed into place."""
    from .persist import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=Path(path).suffix.lower().lstrip("."))


def _save_plot(args, embedding, labels, title):
    _use_agg()
    import matplotlib.pyplot as plt

    from . import plot

    colour = {}
    if labels is not None:
        colour = {"values": labels} if labels.dtype.kind == "f" else {"labels": labels}
    with _user_errors(args.plot):
        ax = plot.points(embedding, width=700, height=700, **colour)
        # Room for a title above the axes, which points() lays out edge to edge.
        box = ax.get_position()
        ax.set_position([box.x0, box.y0, box.width, box.height - 28 / 700])
        ax.set_title(title, fontsize="medium")
        try:
            _save_figure(ax.figure, args.plot)
        finally:
            plt.close(ax.figure)
    _say(args, f"wrote {args.plot}")


def _write_outputs(args, embedding, extras=None, uns=None):
    """Write the embedding (and named extra columns such as radii) to ``args.out``."""
    from .datasets import save_array, save_obsm

    out = Path(args.out)
    extras = extras or {}
    if out.suffix.lower() == ".h5ad":
        key = args.obsm_key or ("X_densmap" if getattr(args, "densmap", False) else "X_umap")
        with _user_errors(out):
            save_obsm(args.input, out, key, embedding, obs=extras, uns=uns)
        _say(args, f"wrote {out} (.obsm[{key!r}], {embedding.shape[0]} x {embedding.shape[1]})")
        return
    with _user_errors(out):
        save_array(out, embedding)
        written = [str(out)]
        for name, values in extras.items():
            extra = _extra_path(out, name)
            save_array(extra, values)
            written.append(str(extra))
    _say(args, f"wrote {', '.join(written)} ({embedding.shape[0]} x {embedding.shape[1]})")


# --------------------------------------------------------------------------- commands


def _cmd_demo(args):
    _check_writable(args.out, _PLOT_SUFFIXES, "--out")
    _use_agg()
    from .demo import format_report, run_demo

    with _user_errors():
        result = run_demo(args.out, seed=args.seed, n_epochs=args.n_epochs,
                          verbose=not args.quiet)
    print(format_report(result))


def _check_anndata_args(args):
    """True when INPUT is .h5ad; the .h5ad-only options are refused for other inputs."""
    if Path(args.input).suffix.lower() == ".h5ad":
        if args.color is not None and args.labels is not None:
            raise CLIError("--color and --labels both give labels; use one.")
        return True
    for flag in ("use_rep", "n_pcs", "color", "neighbors_key"):
        if getattr(args, flag, None) is not None:
            raise CLIError(f"--{flag.replace('_', '-')} needs an .h5ad INPUT; got "
                           f"{str(args.input)!r}.")
    return False


def _read_h5ad(args):
    from .datasets import _check_exists

    with _user_errors(args.input):
        import anndata

        adata = anndata.read_h5ad(_check_exists(args.input))
    if args.color is not None and args.color not in adata.obs.columns:
        raise CLIError(f"--color {args.color!r} is not an .obs column of {args.input}; "
                       f"columns: {', '.join(map(str, adata.obs.columns)) or 'none'}.")
    return adata


def _color_labels(args, adata):
    import numpy as np

    if args.color is None:
        return None
    values = adata.obs[args.color]
    if values.dtype.kind in "biuf":
        return values.to_numpy()
    return np.asarray(values.astype(str))


def _anndata_outputs(args, adata, obsm_key, uns_key):
    """Embedding, extras (radii) and uns entries to write, from an updated AnnData."""
    extras = {}
    if args.output_dens:
        h5ad = Path(args.out).suffix.lower() == ".h5ad"
        for name in ("rad_orig", "rad_emb"):
            extras[f"{uns_key}_{name}" if h5ad else name] = adata.obs[f"{uns_key}_{name}"]
    return adata.obsm[obsm_key], extras, {uns_key: adata.uns[uns_key]}


def _cmd_embed_h5ad(args, umap_params):
    from . import anndata as dad

    adata = _read_h5ad(args)
    labels = None
    if args.labels is not None:
        labels = _read_labels(args.labels, adata.n_obs, args.input)
    target = None
    if args.supervised:
        if labels is None and args.color is None:
            raise CLIError("--supervised needs --color COLUMN (an .obs column) or --labels "
                           "FILE.")
        target = args.color if labels is None else (
            labels if labels.dtype.kind in "biuf" else _class_codes(labels))
    with _user_errors(args.input):
        mapper = dad.embed(adata, use_rep=args.use_rep, n_pcs=args.n_pcs,
                           neighbors_key=args.neighbors_key, key_added=args.obsm_key,
                           target=target, **umap_params)
    obsm_key, uns_key = dad._keys(args.densmap, args.obsm_key)
    return mapper, labels if labels is not None else _color_labels(args, adata), adata.n_obs, \
        _anndata_outputs(args, adata, obsm_key, uns_key)


def _cmd_embed(args):
    h5ad = _check_anndata_args(args)
    _check_out(args.out, args.input)
    for opt, path in (("--plot", args.plot), ("--density-plot", args.density_plot)):
        if path is not None:
            _check_writable(path, _PLOT_SUFFIXES, opt)
    if args.model is not None:
        _check_writable(args.model, None, "--model")
    if args.supervised and args.labels is None and not h5ad:
        raise CLIError("--supervised needs --labels FILE (the target of the fit).")
    if args.plot is not None and args.n_components != 2:
        raise CLIError(f"--plot draws 2-D embeddings; got --n-components {args.n_components}.")
    if args.density_plot is not None and args.n_components < 2:
        raise CLIError("--density-plot needs --n-components 2 or more.")
    _refuse_overwrites([("INPUT", args.input), ("--labels", args.labels)],
                       _output_list(args, args.model), _h5ad_in_place(args))

    umap_params = dict(
        n_neighbors=args.n_neighbors, n_components=args.n_components, metric=args.metric,
        min_dist=args.min_dist, n_epochs=args.n_epochs, random_state=args.seed,
        n_jobs=args.n_jobs, verbose=not args.quiet, densmap=args.densmap,
        dens_lambda=args.dens_lambda, dens_frac=args.dens_frac,
        dens_var_shift=args.dens_var_shift, target_weight=args.target_weight,
        output_dens=args.output_dens or args.density_plot is not None,
    )
    if h5ad:
        mapper, y, n_rows, (embedding, extras, uns) = _cmd_embed_h5ad(args, umap_params)
        _write_outputs(args, embedding, extras, uns=uns)
    else:
        X = _read_data(args.input)
        n_rows = X.shape[0]
        y = None if args.labels is None else _read_labels(args.labels, X.shape[0], args.input)
        target = None
        if args.supervised:
            # String classes become their index among the sorted distinct classes.
            target = y if y.dtype.kind in "biuf" else _class_codes(y)

        from .estimator import UMAP

        mapper = UMAP(**umap_params)
        with _user_errors():
            mapper.fit(X, target)

        extras = {}
        if args.output_dens:
            extras = {"rad_orig": mapper.rad_orig_, "rad_emb": mapper.rad_emb_}
        _write_outputs(args, mapper.embedding_, extras)
    if args.model is not None:
        from .persist import save

        with _user_errors(args.model):
            save(mapper, args.model)
        _say(args, f"wrote {args.model} (model)")
    if args.plot is not None:
        _save_plot(args, mapper.embedding_, y, _title(args, n_rows))
    if args.density_plot is not None:
        _use_agg()
        import matplotlib.pyplot as plt

        from . import plot

        with _user_errors(args.density_plot):
            fig = plot.density(mapper)
            try:
                _save_figure(fig, args.density_plot)
            finally:
                plt.close(fig)
        _say(args, f"wrote {args.density_plot}")


def _class_codes(y):
    import numpy as np

    return np.unique(y, return_inverse=True)[1]


def _title(args, n):
    name = "DensMAP" if args.densmap else "UMAP"
    if args.densmap:
        name += f" (dens_lambda={args.dens_lambda:g})"
    if args.supervised:
        name = "supervised " + name
    return f"{name} of {Path(args.input).name}, {n} points"


def _load_model(path, trust_pickle=False):
    from .estimator import UMAP
    from .persist import is_pickle, load

    p = Path(path)
    if not p.is_file():
        raise CLIError(f"No such model file: {str(path)!r}.")
    with _user_errors(path):
        pickled = is_pickle(p)
    if not pickled:
        with _user_errors(path):
            return load(p)
    if not trust_pickle:
        raise CLIError(
            f"{path} is a pickle, which can run any code when loaded; refusing it. "
            f"Pass --trust-pickle only if you made or fully trust this file, or re-save "
            f"it once with densumap.save(model, 'model.npz')."
        )
    with _user_errors(path), open(p, "rb") as f:
        try:
            model = pickle.load(f)
        except (pickle.UnpicklingError, EOFError, AttributeError, ModuleNotFoundError,
                TypeError, ValueError) as exc:
            raise ValueError(f"not a model saved by 'densumap embed --model' ({exc})") from exc
    if not isinstance(model, UMAP):
        raise CLIError(
            f"{path} holds a {type(model).__name__}, not a model saved by "
            "'densumap embed --model'."
        )
    if not hasattr(model, "embedding_"):
        raise CLIError(f"{path} holds an unfitted model.")
    return model


def _cmd_transform_dask(args):
    for flag in ("plot", "labels", "output_dens"):
        if getattr(args, flag):
            raise CLIError(f"--{flag.replace('_', '-')} cannot be combined with --dask.")
    if args.chunk_rows is not None and args.chunk_rows < 1:
        raise CLIError(f"--chunk-rows must be a positive integer; got {args.chunk_rows}.")
    _refuse_overwrites([("INPUT", args.input), ("MODEL", args.model)], [("--out", args.out)])
    # Same checks and messages as the in-memory route.
    mapper = _load_model(args.model, args.trust_pickle)
    # Per-block stage logs from many workers would interleave; blocks run quietly.
    mapper.set_params(verbose=False)
    try:
        from .dask import BlockTransformError, transform_file
    except ImportError as exc:
        raise CLIError(str(exc)) from exc
    with _user_errors(args.input):
        try:
            transform_file(mapper, args.input, args.out, scheduler=args.dask or None,
                           chunk_rows=args.chunk_rows)
        except BlockTransformError as exc:  # names the rows that failed
            raise CLIError(f"{args.input}: {' '.join(str(exc).split())}") from exc


def _cmd_transform(args):
    if args.dask is not None:
        return _cmd_transform_dask(args)
    _check_out(args.out, args.input)
    if args.plot is not None:
        _check_writable(args.plot, _PLOT_SUFFIXES, "--plot")
    h5ad = _check_anndata_args(args)
    _refuse_overwrites(
        [("INPUT", args.input), ("--labels", args.labels), ("MODEL", args.model)],
        _output_list(args), _h5ad_in_place(args))
    mapper = _load_model(args.model, args.trust_pickle)
    if args.plot is not None and mapper.embedding_.shape[1] != 2:
        raise CLIError(
            f"--plot draws 2-D embeddings; {args.model} embeds in "
            f"{mapper.embedding_.shape[1]} dimensions."
        )
    # transform() returns (embedding, rad_orig, rad_emb) when output_dens is set,
    # as fit_transform() does; the saved model keeps the value it was fitted with.
    mapper.set_params(verbose=not args.quiet, output_dens=args.output_dens)
    args.densmap = bool(getattr(mapper, "densmap", False))
    if h5ad:
        from . import anndata as dad

        adata = _read_h5ad(args)
        with _user_errors(args.input):
            dad.transform(mapper, adata, use_rep=args.use_rep, n_pcs=args.n_pcs,
                          key_added=args.obsm_key)
        obsm_key, uns_key = dad._keys(args.densmap, args.obsm_key)
        embedding, extras, uns = _anndata_outputs(args, adata, obsm_key, uns_key)
        y, n_rows = _color_labels(args, adata), adata.n_obs
        if args.labels is not None:
            y = _read_labels(args.labels, n_rows, args.input)
        _write_outputs(args, embedding, extras, uns=uns)
    else:
        X = _read_data(args.input)
        n_rows = X.shape[0]
        y = None if args.labels is None else _read_labels(args.labels, X.shape[0], args.input)
        with _user_errors(args.input):
            result = mapper.transform(X)
        embedding, extras = result, {}
        if isinstance(result, tuple):
            embedding, rad_orig, rad_emb = result
            extras = {"rad_orig": rad_orig, "rad_emb": rad_emb}
        _write_outputs(args, embedding, extras)
    if args.plot is not None:
        _save_plot(args, embedding, y,
                   f"{Path(args.input).name} placed by {Path(args.model).name}, "
                   f"{n_rows} points")


# --------------------------------------------------------------------------- entry


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"{_PROG}: warning: {message}", file=sys.stderr)


def main(argv=None):
    """Run the ``densumap`` command; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 2 for a usage or input error (one line on stderr), 130
        when interrupted (SIGINT, Ctrl-C) and 143 when terminated (SIGTERM), with
        one line on stderr; files being written are then removed, and files
        written before are left as they were.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings(), signals_raise(_Terminated):
        warnings.showwarning = _show_warning
        try:
            args.func(args)
        except CLIError as exc:
            if args.traceback:
                raise
            print(f"{_PROG} {args.command}: error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"{_PROG} {args.command}: interrupted (SIGINT); no partial output "
                  f"was left", file=sys.stderr)
            return 130
        except _Terminated:
            print(f"{_PROG} {args.command}: terminated (SIGTERM); no partial output "
                  f"was left", file=sys.stderr)
            return 143
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
