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
module. This module holds the argument parser and :func:`main`; the jobs of the
subcommands are in :mod:`densumap._cli_commands` and the reading and writing of
files in :mod:`densumap._cli_io`.
"""
import argparse
import logging
import signal
import sys
import warnings

from ._cli_commands import cmd_demo, cmd_embed, cmd_transform
from ._cli_io import PROG, CLIError
from ._runtime import log_unraisable, signals_raise

logger = logging.getLogger("densumap")

__all__ = ["main", "run", "build_parser"]


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
        prog=PROG,
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
    demo.set_defaults(func=cmd_demo)

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
                            "else 120; with --densmap 200 up to 100,000 samples, else "
                            "240 on umap-learn's 400-epoch schedule)")
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
    embed.set_defaults(func=cmd_embed)

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
    transform.set_defaults(func=cmd_transform)
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


# --------------------------------------------------------------------------- entry


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def _signal_behind(exc, fired):
    """The signal number that ``exc`` reports, or None when it is not a signal's.

    KeyboardInterrupt is SIGINT's (also when raised without a signal) and
    ``_Terminated`` SIGTERM's. Any other exception that escapes after a signal
    was acted on is taken as the signal's too: the signal's exception was
    raised inside a library that replaced it with its own (numba's compiler
    did, before :func:`densumap._runtime.signals_raise` held signals during
    compiles); the replacement goes to the DEBUG log.
    """
    if isinstance(exc, KeyboardInterrupt):
        return int(signal.SIGINT)
    if isinstance(exc, _Terminated):
        return int(signal.SIGTERM)
    if fired and isinstance(exc, Exception):
        logger.debug("%s after %s:", type(exc).__name__, signal.Signals(fired[0]).name,
                     exc_info=exc)
        return int(fired[0])
    return None


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
    with warnings.catch_warnings(), signals_raise(_Terminated) as fired:
        warnings.showwarning = _show_warning
        try:
            args.func(args)
        except CLIError as exc:
            if args.traceback:
                raise
            print(f"{PROG} {args.command}: error: {exc}", file=sys.stderr)
            return 2
        except BaseException as exc:
            signum = _signal_behind(exc, fired)
            if signum is None or (args.traceback and isinstance(exc, Exception)):
                raise
            word = "interrupted" if signum == signal.SIGINT else "terminated"
            print(f"{PROG} {args.command}: {word} ({signal.Signals(signum).name}); no partial "
                  f"output was left", file=sys.stderr)
            return 128 + signum
    return 0


def run():
    """The ``densumap`` executable: :func:`main`, then exit with its status.

    After an interrupt (status 130 or 143) the interpreter's shutdown can still
    collect objects the signal left half built; their destructors' complaints
    go to the ``densumap`` logger at DEBUG level (as inside :func:`main`), so
    the one-line message stays the last line on stderr.
    """
    status = main()
    if status in (130, 143):
        sys.unraisablehook = log_unraisable
    sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    run()
