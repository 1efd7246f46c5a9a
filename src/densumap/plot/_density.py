"""The DensMAP figure: how well a model kept the local density of the data.

:func:`density` draws the embedding log radius of each point against its input
log radius, with the correlations, beside the embedding coloured by input
radius (a model fitted with ``output_dens=True``).
"""
import numpy as np

from . import _common
from ._common import check_size, embedding_of, new_figure
from ._static import points


def density(mapper, cmap="viridis", width=1300, height=600, point_size=None):
    """Compare local density in input and embedding space for a DensMAP model.

    Parameters
    ----------
    mapper : fitted model
        A model fitted with ``output_dens=True``, i.e. with ``rad_orig_`` and
        ``rad_emb_`` (the log local radii of each point in input and embedding
        space, shape (n_samples,)) and ``embedding_`` (n_samples, 2 or more).
    cmap : str or matplotlib.colors.Colormap, default="viridis"
        Colour map for the input-space radius in the right panel.
    width, height : int, default=1300, 600
        Figure size in pixels (at 100 dpi).
    point_size : float, optional
        Marker size for the right panel, see :func:`points`.

    Returns
    -------
    fig : matplotlib.figure.Figure
        Left: embedding log radius against input log radius (scatter, or a
        hexbin of counts for more than 2,000 points), with the least-squares
        line and the Pearson and Spearman correlations. Right: the embedding
        (its first two components) coloured by input log radius, with a colour
        bar. A faithful DensMAP embedding shows a high correlation.

    Raises
    ------
    ValueError
        If the model lacks ``rad_orig_`` / ``rad_emb_`` (fit it with
        ``output_dens=True``), or the arrays have inconsistent lengths.
    """
    _common._import_matplotlib()
    from scipy import stats

    check_size(width, height)

    missing = [a for a in ("rad_orig_", "rad_emb_") if getattr(mapper, a, None) is None]
    if missing:
        raise ValueError(
            f"density() needs the local radii of a model fitted with output_dens=True; "
            f"{type(mapper).__name__} has no {' or '.join(missing)}. Fit with e.g. "
            "densumap.UMAP(densmap=True, output_dens=True).fit(X)."
        )
    emb, _ = embedding_of(mapper, func="density")
    rad_orig = np.asarray(mapper.rad_orig_, dtype=np.float64).ravel()
    rad_emb = np.asarray(mapper.rad_emb_, dtype=np.float64).ravel()
    if not (rad_orig.shape[0] == rad_emb.shape[0] == emb.shape[0]):
        raise ValueError(
            f"density(): rad_orig_ has {rad_orig.shape[0]} entries, rad_emb_ "
            f"{rad_emb.shape[0]} and embedding_ {emb.shape[0]} rows; they must match."
        )
    if emb.ndim != 2 or emb.shape[1] < 2:
        raise ValueError(
            f"density() draws the embedding in 2-D: embedding_ has shape {emb.shape}."
        )

    ok = np.isfinite(rad_orig) & np.isfinite(rad_emb)
    r_in, r_out = rad_orig[ok], rad_emb[ok]
    n_ok = int(ok.sum())

    fig = new_figure(width, height, "white")
    ax_r, ax_e = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.15]})
    fig.subplots_adjust(left=0.07, right=0.93, bottom=0.11, top=0.9, wspace=0.18)

    lines = [f"n = {n_ok}"]
    if n_ok >= 3 and np.ptp(r_in) > 0 and np.ptp(r_out) > 0:
        pearson = np.corrcoef(r_in, r_out)[0, 1]
        spearman = stats.spearmanr(r_in, r_out)[0]
        lines = [f"Pearson r = {pearson:.3f}", f"Spearman \u03c1 = {spearman:.3f}"] + lines
        slope, intercept = np.polyfit(r_in, r_out, 1)
        xs = np.array([r_in.min(), r_in.max()])
        ax_r.plot(xs, slope * xs + intercept, color="#d62728", lw=1.2, label="least squares")
    else:
        lines = ["correlation undefined (constant or too few radii)"] + lines
    if n_ok < ok.size:
        lines.append(f"{ok.size - n_ok} non-finite radii left out")
    if n_ok > 2000:
        hb = ax_r.hexbin(r_in, r_out, gridsize=70, bins="log", cmap="Greys", mincnt=1, linewidths=0)
        fig.colorbar(hb, ax=ax_r, fraction=0.046, pad=0.02, label="points (log scale)")
    elif n_ok:
        ax_r.scatter(r_in, r_out, s=8, color="#333333", alpha=0.6, linewidths=0)
    ax_r.text(
        0.03, 0.97, "\n".join(lines), transform=ax_r.transAxes, va="top", ha="left",
        fontsize="medium", bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "#999999"},
    )
    ax_r.set_xlabel("input-space log radius (rad_orig_)")
    ax_r.set_ylabel("embedding log radius (rad_emb_)")
    ax_r.set_title("Local radius: input vs embedding")

    title = "Embedding coloured by input-space log radius"
    if emb.shape[1] > 2:
        title += f"\n(components 1 and 2 of {emb.shape[1]})"
    points(
        points=emb[:, :2], values=rad_orig, cmap=cmap, ax=ax_e, point_size=point_size,
        width=width // 2, height=height,
    )
    ax_e.set_title(title)
    fig.axes[-1].set_ylabel("input-space log radius")  # the colour bar points() added
    return fig
