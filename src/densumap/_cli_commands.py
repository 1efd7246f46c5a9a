"""The jobs behind the ``densumap`` subcommands (``demo``, ``embed``, ``transform``).

Each ``cmd_*`` function takes the parsed arguments of :mod:`densumap.cli`, checks
the combination of options and every output path before any work, then reads
the input, runs the estimator (or :mod:`densumap.anndata` for an ``.h5ad``
INPUT, :mod:`densumap.dask` for ``transform --dask``) and writes the results
through :mod:`densumap._cli_io`. Problems with the user's input raise
:class:`~densumap._cli_io.CLIError`.
"""
import pickle
from pathlib import Path

from ._cli_io import (PLOT_SUFFIXES, CLIError, check_out, check_writable, h5ad_in_place,
                      output_list, read_data, read_labels, refuse_overwrites, save_figure,
                      save_plot, say, use_agg, user_errors, write_outputs)


def cmd_demo(args):
    check_writable(args.out, PLOT_SUFFIXES, "--out")
    use_agg()
    from .demo import format_report, run_demo

    with user_errors():
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
    from ._file_readers import check_exists

    with user_errors(args.input):
        import anndata

        adata = anndata.read_h5ad(check_exists(args.input))
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
        labels = read_labels(args.labels, adata.n_obs, args.input)
    target = None
    if args.supervised:
        if labels is None and args.color is None:
            raise CLIError("--supervised needs --color COLUMN (an .obs column) or --labels "
                           "FILE.")
        target = args.color if labels is None else (
            labels if labels.dtype.kind in "biuf" else _class_codes(labels))
    with user_errors(args.input):
        mapper = dad.embed(adata, use_rep=args.use_rep, n_pcs=args.n_pcs,
                           neighbors_key=args.neighbors_key, key_added=args.obsm_key,
                           target=target, **umap_params)
    obsm_key, uns_key = dad._keys(args.densmap, args.obsm_key)
    return mapper, labels if labels is not None else _color_labels(args, adata), adata.n_obs, \
        _anndata_outputs(args, adata, obsm_key, uns_key)


def cmd_embed(args):
    h5ad = _check_anndata_args(args)
    check_out(args.out, args.input)
    for opt, path in (("--plot", args.plot), ("--density-plot", args.density_plot)):
        if path is not None:
            check_writable(path, PLOT_SUFFIXES, opt)
    if args.model is not None:
        check_writable(args.model, None, "--model")
    if args.supervised and args.labels is None and not h5ad:
        raise CLIError("--supervised needs --labels FILE (the target of the fit).")
    if args.plot is not None and args.n_components != 2:
        raise CLIError(f"--plot draws 2-D embeddings; got --n-components {args.n_components}.")
    if args.density_plot is not None and args.n_components < 2:
        raise CLIError("--density-plot needs --n-components 2 or more.")
    refuse_overwrites([("INPUT", args.input), ("--labels", args.labels)],
                      output_list(args, args.model), h5ad_in_place(args))

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
        write_outputs(args, embedding, extras, uns=uns)
    else:
        X = read_data(args.input)
        n_rows = X.shape[0]
        y = None if args.labels is None else read_labels(args.labels, X.shape[0], args.input)
        target = None
        if args.supervised:
            # String classes become their index among the sorted distinct classes.
            target = y if y.dtype.kind in "biuf" else _class_codes(y)

        from .estimator import UMAP

        mapper = UMAP(**umap_params)
        with user_errors():
            mapper.fit(X, target)

        extras = {}
        if args.output_dens:
            extras = {"rad_orig": mapper.rad_orig_, "rad_emb": mapper.rad_emb_}
        write_outputs(args, mapper.embedding_, extras)
    if args.model is not None:
        from .persist import save

        with user_errors(args.model):
            save(mapper, args.model)
        say(args, f"wrote {args.model} (model)")
    if args.plot is not None:
        save_plot(args, mapper.embedding_, y, _title(args, n_rows))
    if args.density_plot is not None:
        use_agg()
        import matplotlib.pyplot as plt

        from . import plot

        with user_errors(args.density_plot):
            fig = plot.density(mapper)
            try:
                save_figure(fig, args.density_plot)
            finally:
                plt.close(fig)
        say(args, f"wrote {args.density_plot}")


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
    with user_errors(path):
        pickled = is_pickle(p)
    if not pickled:
        with user_errors(path):
            return load(p)
    if not trust_pickle:
        raise CLIError(
            f"{path} is a pickle, which can run any code when loaded; refusing it. "
            f"Pass --trust-pickle only if you made or fully trust this file, or re-save "
            f"it once with densumap.save(model, 'model.npz')."
        )
    with user_errors(path), open(p, "rb") as f:
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
    refuse_overwrites([("INPUT", args.input), ("MODEL", args.model)], [("--out", args.out)])
    # Same checks and messages as the in-memory route.
    mapper = _load_model(args.model, args.trust_pickle)
    # Per-block stage logs from many workers would interleave; blocks run quietly.
    mapper.set_params(verbose=False)
    try:
        from .dask import BlockTransformError, transform_file
    except ImportError as exc:
        raise CLIError(str(exc)) from exc
    with user_errors(args.input):
        try:
            transform_file(mapper, args.input, args.out, scheduler=args.dask or None,
                           chunk_rows=args.chunk_rows)
        except BlockTransformError as exc:  # names the rows that failed
            raise CLIError(f"{args.input}: {' '.join(str(exc).split())}") from exc


def cmd_transform(args):
    if args.dask is not None:
        return _cmd_transform_dask(args)
    check_out(args.out, args.input)
    if args.plot is not None:
        check_writable(args.plot, PLOT_SUFFIXES, "--plot")
    h5ad = _check_anndata_args(args)
    refuse_overwrites(
        [("INPUT", args.input), ("--labels", args.labels), ("MODEL", args.model)],
        output_list(args), h5ad_in_place(args))
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
        with user_errors(args.input):
            dad.transform(mapper, adata, use_rep=args.use_rep, n_pcs=args.n_pcs,
                          key_added=args.obsm_key)
        obsm_key, uns_key = dad._keys(args.densmap, args.obsm_key)
        embedding, extras, uns = _anndata_outputs(args, adata, obsm_key, uns_key)
        y, n_rows = _color_labels(args, adata), adata.n_obs
        if args.labels is not None:
            y = read_labels(args.labels, n_rows, args.input)
        write_outputs(args, embedding, extras, uns=uns)
    else:
        X = read_data(args.input)
        n_rows = X.shape[0]
        y = None if args.labels is None else read_labels(args.labels, X.shape[0], args.input)
        with user_errors(args.input):
            result = mapper.transform(X)
        embedding, extras = result, {}
        if isinstance(result, tuple):
            embedding, rad_orig, rad_emb = result
            extras = {"rad_orig": rad_orig, "rad_emb": rad_emb}
        write_outputs(args, embedding, extras)
    if args.plot is not None:
        save_plot(args, embedding, y,
                  f"{Path(args.input).name} placed by {Path(args.model).name}, "
                  f"{n_rows} points")
