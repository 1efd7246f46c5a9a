"""Regenerate the images of docs/single_cell.md from scanpy's pbmc68k_reduced.

Run from the repository root:  PYTHONPATH=src python docs/make_single_cell_images.py
Needs scanpy (in the ``test`` extra); pbmc68k_reduced ships inside the scanpy
package, so nothing is downloaded.
"""
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import scanpy as sc  # noqa: E402

from densumap import anndata as dad  # noqa: E402
from densumap import plot  # noqa: E402

OUT = Path(__file__).resolve().parent / "images"


def main():
    OUT.mkdir(exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        adata = sc.datasets.pbmc68k_reduced()
    sc.pp.pca(adata, n_comps=50, random_state=0)
    sc.pp.neighbors(adata, n_neighbors=15, random_state=0)
    umap = dad.embed(adata, densmap=False, random_state=42)   # obsm["X_umap"]
    dens = dad.embed(adata, random_state=42)                  # obsm["X_densmap"]

    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5), layout="constrained")
    for ax, basis, model, name in ((axes[0], "X_umap", umap, "UMAP"),
                                   (axes[1], "X_densmap", dens, "DensMAP")):
        corr = np.corrcoef(model.rad_orig_, model.rad_emb_)[0, 1]
        sc.pl.embedding(adata, basis=basis, color="bulk_labels", ax=ax, show=False,
                        legend_loc="right margin" if name == "DensMAP" else None,
                        title=f"{name} of pbmc68k_reduced (density corr. {corr:.2f})")
    fig.savefig(OUT / "pbmc_umap_vs_densmap.png", dpi=90)
    plt.close(fig)

    fig = plot.density(dens, width=1300, height=560)
    fig.savefig(OUT / "pbmc_density.png")
    plt.close(fig)
    for name, model in (("UMAP", umap), ("DensMAP", dens)):
        corr = np.corrcoef(model.rad_orig_, model.rad_emb_)[0, 1]
        print(f"{name}: density correlation {corr:.3f}")


if __name__ == "__main__":
    main()
