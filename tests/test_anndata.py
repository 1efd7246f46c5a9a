"""densumap.anndata with real AnnData and scanpy objects (issue 14).

The scanpy workflow runs on scanpy's bundled ``pbmc68k_reduced`` (700 cells, the
file ships inside the scanpy package: nothing is downloaded).
"""
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import densumap

SRC = str(Path(densumap.__file__).resolve().parents[1])


def test_import_densumap_imports_no_anndata_or_scanpy():
    code = (
        "import sys, densumap, densumap.cli; densumap.UMAP; densumap.estimator\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('anndata', 'scanpy'))\n"
        "print(bad)\n"
    )
    env = dict(os.environ, PYTHONPATH=SRC)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


sc = pytest.importorskip("scanpy")
anndata = pytest.importorskip("anndata")
dad = pytest.importorskip("densumap.anndata")

FAST = dict(n_epochs=20, random_state=0)


@pytest.fixture(scope="module")
def pbmc():
    """pbmc68k_reduced after sc.pp.pca and sc.pp.neighbors(n_neighbors=15)."""
    bundled = Path(sc.__file__).parent / "datasets" / "10x_pbmc68k_reduced.h5ad"
    assert bundled.is_file(), "pbmc68k_reduced must ship inside the scanpy package"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        adata = sc.datasets.pbmc68k_reduced()
        sc.pp.pca(adata, n_comps=50, random_state=0)
        sc.pp.neighbors(adata, n_neighbors=15, random_state=0)
    return adata


def knn_from_obsp(adata, key="neighbors", k=15):
    """Independent reading of scanpy's distances: the point itself, then k-1 nearest."""
    D = adata.obsp[adata.uns[key]["distances_key"]].tocsr()
    n = adata.n_obs
    idx = np.empty((n, k), dtype=np.int32)
    dist = np.zeros((n, k), dtype=np.float32)
    for i in range(n):
        row = D.getrow(i)
        order = np.lexsort((row.indices, row.data))[:k - 1]
        idx[i] = [i, *row.indices[order]]
        dist[i, 1:] = row.data[order]
    return idx, dist


def density_corr(model):
    return float(np.corrcoef(model.rad_orig_, model.rad_emb_)[0, 1])


# ------------------------------------------------------------------ the scanpy workflow


def test_scanpy_workflow_reuses_graph_plots_and_round_trips(pbmc, count_searches, tmp_path):
    adata = pbmc.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error", dad.NeighborsNotReusedWarning)
        model = dad.embed(adata, random_state=0)
    assert count_searches == [], "the stored sc.pp.neighbors graph must replace the search"
    emb = adata.obsm["X_densmap"]
    assert emb.shape == (adata.n_obs, 2)
    params = adata.uns["densmap"]["params"]
    assert params["use_rep"] == "X_pca" and params["neighbors_key"] == "neighbors"
    assert params["n_neighbors"] == 15 and params["random_state"] == 0
    assert params["dens_lambda"] == 2.0 and params["a"] == model.a_
    np.testing.assert_array_equal(adata.obs["densmap_rad_orig"], model.rad_orig_)

    # Same result as passing the same kNN to the estimator explicitly.
    explicit = densumap.UMAP(densmap=True, output_dens=True, random_state=0,
                             precomputed_knn=knn_from_obsp(adata)).fit(adata.obsm["X_pca"])
    assert count_searches == []
    np.testing.assert_array_equal(explicit.embedding_, emb)

    # DensMAP keeps local density; UMAP does not (0.77 vs 0.16 when written).
    umap_model = dad.embed(adata, densmap=False, random_state=0)
    assert "X_umap" in adata.obsm and "umap_rad_emb" in adata.obs
    assert density_corr(model) > 0.6
    assert density_corr(model) > density_corr(umap_model) + 0.3

    # scanpy plots it with no conversion.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes = sc.pl.embedding(adata, basis="X_densmap", color=["bulk_labels", "densmap_rad_orig"],
                           show=False)
    assert len(axes) == 2
    plt.close("all")

    # .h5ad round trip keeps every key.
    path = tmp_path / "pbmc.h5ad"
    adata.write_h5ad(path)
    back = anndata.read_h5ad(path)
    np.testing.assert_array_equal(back.obsm["X_densmap"], emb)
    np.testing.assert_array_equal(back.obs["densmap_rad_emb"], adata.obs["densmap_rad_emb"])
    assert dict(back.uns["densmap"]["params"]) == pytest.approx(params)


def test_other_key_with_more_neighbours_is_cut(pbmc, count_searches):
    adata = pbmc.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sc.pp.neighbors(adata, n_neighbors=25, key_added="nn25", random_state=0)
    count_searches.clear()
    model = dad.embed(adata, neighbors_key="nn25", n_neighbors=10, densmap=False,
                      output_dens=False, **FAST)
    assert count_searches == []
    assert adata.uns["umap"]["params"]["neighbors_key"] == "nn25"
    knn = model.get_params()["precomputed_knn"]
    assert knn[0].shape == (adata.n_obs, 10)
    assert "umap_rad_orig" not in adata.obs


@pytest.mark.parametrize("setup, kwargs, message", [
    (lambda a: None, dict(n_neighbors=20), "n_neighbors=15, fewer than the n_neighbors=20"),
    (lambda a: None, dict(n_pcs=20), r"built on .obsm\['X_pca'\], not on .obsm\['X_pca'\]\[:, :20\]"),
    (lambda a: None, dict(metric="cosine"), "metric='euclidean'.*not metric='cosine'"),
    (lambda a: a.obsm.__setitem__("X_pca", a.obsm["X_pca"] * np.r_[2.0, np.ones(49)].astype(np.float32)), {},
     "stored distances do not match"),
    (lambda a: a.uns["neighbors"]["params"].__setitem__("use_rep", "X"), {},
     r"built on .X, not on .obsm\['X_pca'\]"),
])
def test_mismatched_graph_warns_and_searches(pbmc, count_searches, setup, kwargs, message):
    adata = pbmc.copy()
    adata.uns["neighbors"] = {**adata.uns["neighbors"],
                              "params": dict(adata.uns["neighbors"]["params"])}
    setup(adata)
    with pytest.warns(dad.NeighborsNotReusedWarning, match=message):
        dad.embed(adata, **FAST, **kwargs)
    assert count_searches, "a graph that does not fit must not be used"
    assert "neighbors_key" not in adata.uns["densmap"]["params"]


def test_bundled_graph_does_not_match_its_pca(count_searches):
    # pbmc68k_reduced ships a 10-neighbour graph that was not built on its X_pca:
    # the distance check catches it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        adata = sc.datasets.pbmc68k_reduced()
    with pytest.warns(dad.NeighborsNotReusedWarning, match="do not match"):
        dad.embed(adata, n_neighbors=10, **FAST)
    assert count_searches


def test_no_graph_is_quiet_and_missing_key_raises(pbmc):
    adata = pbmc.copy()
    del adata.uns["neighbors"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", dad.NeighborsNotReusedWarning)
        dad.embed(adata, **FAST)
    with pytest.raises(ValueError, match="neighbors_key='nope' is not in .uns"):
        dad.embed(adata, neighbors_key="nope", **FAST)


# ------------------------------------------------------------------ representation


def make(n_vars, pca=True, n=60, sparse=False):
    rng = np.random.default_rng(0)
    # Sparse counts-like values without ties between distances.
    X = (rng.poisson(1.0, size=(n, n_vars)) * rng.uniform(0.5, 1.5, size=(n, n_vars)))
    X = X.astype(np.float32)
    adata = anndata.AnnData(sp.csr_matrix(X) if sparse else X)
    if pca:
        adata.obsm["X_pca"] = rng.normal(size=(n, 8)).astype(np.float32)
    return adata


@pytest.mark.parametrize("n_vars, pca, kwargs, expected", [
    (60, True, {}, ("X_pca", 8)),
    (60, False, {}, ("X", 60)),
    (40, True, {}, ("X", 40)),
    (60, True, dict(n_pcs=0), ("X", 60)),
    (60, True, dict(n_pcs=3), ("X_pca", 3)),
    (40, True, dict(use_rep="X_pca", n_pcs=5), ("X_pca", 5)),
    (60, True, dict(use_rep="X"), ("X", 60)),
])
def test_representation_follows_scanpy(n_vars, pca, kwargs, expected):
    assert dad._resolve_rep(make(n_vars, pca), kwargs.get("use_rep"),
                            kwargs.get("n_pcs")) == expected


@pytest.mark.parametrize("kwargs, message", [
    (dict(use_rep="X_nope"), r"use_rep='X_nope' is not in .obsm \(keys: \['X_pca'\]\)"),
    (dict(use_rep="X_pca", n_pcs=9), "n_pcs=9 is larger than .obsm"),
    (dict(use_rep="X", n_pcs=2), "n_pcs=2 cannot select columns of .X"),
    (dict(n_pcs=-1), "n_pcs must be a non-negative integer"),
])
def test_bad_representation_raises(kwargs, message):
    with pytest.raises(ValueError, match=message):
        dad.embed(make(60), **kwargs, **FAST)


def test_sparse_counts_and_embedding_of_x(count_searches):
    adata = make(40, pca=False, sparse=True)
    dense = make(40, pca=False)
    model = dad.embed(adata, n_neighbors=8, **FAST)
    assert sp.issparse(model._train_X) and adata.uns["densmap"]["params"]["use_rep"] == "X"
    assert adata.obsm["X_densmap"].shape == (60, 2)
    assert np.isfinite(adata.obsm["X_densmap"]).all()
    ref = dad.embed(dense, n_neighbors=8, **FAST)
    np.testing.assert_allclose(model.rad_orig_, ref.rad_orig_, rtol=1e-4)


def test_copy_returns_new_object(pbmc):
    adata = pbmc.copy()
    out, model = dad.embed(adata, copy=True, **FAST)
    assert "X_densmap" in out.obsm and "X_densmap" not in adata.obsm
    assert isinstance(model, densumap.UMAP)
    with pytest.raises(TypeError, match="adata must be an anndata.AnnData"):
        dad.embed(np.zeros((5, 2)))


# ------------------------------------------------------------------ supervised


def test_obs_labels_with_missing_values_are_unlabelled():
    import pandas as pd

    adata = make(10, pca=False, n=6)
    adata.obs["cat"] = pd.Categorical(["b", "a", None, "b", np.nan, "a"])
    adata.obs["num"] = [3.0, -1.0, np.nan, 3.0, 7.0, 7.0]
    adata.obs["str"] = np.array(["x", "y", "x", "y", "x", "y"], dtype=object)
    np.testing.assert_array_equal(dad._obs_target(adata, "cat", True), [1, 0, -1, 1, -1, 0])
    np.testing.assert_array_equal(dad._obs_target(adata, "num", True), [0, -1, -1, 0, 1, 1])
    np.testing.assert_array_equal(dad._obs_target(adata, "str", True), [0, 1, 0, 1, 0, 1])
    adata.obs["none"] = pd.Categorical([None] * 6, categories=["a"])
    with pytest.raises(ValueError, match="every cell is unlabelled"):
        dad._obs_target(adata, "none", True)
    with pytest.raises(ValueError, match=r"target='nope' is not an .obs column"):
        dad._obs_target(adata, "nope", True)


def test_supervised_by_cell_type_separates_types(pbmc):
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    adata = pbmc.copy()
    labels = adata.obs["bulk_labels"].astype(object).to_numpy()
    # A fifth of the cells unlabelled (NaN): semi-supervised.
    adata.obs["partial"] = adata.obs["bulk_labels"].astype(object).where(
        np.arange(adata.n_obs) % 5 != 0)
    def acc(emb):
        return cross_val_score(KNeighborsClassifier(10), emb, labels, cv=5).mean()

    # The gain varies from seed to seed on 700 cells, so the test averages three.
    gains = []
    for seed in (0, 1, 2):
        plain = dad.embed(adata, key_added="plain", random_state=seed)
        sup = dad.embed(adata, target="partial", target_weight=0.9, key_added="sup",
                        random_state=seed)
        assert adata.uns["sup"]["params"]["target"] == "partial"
        gains.append(acc(sup.embedding_) - acc(plain.embedding_))
    print("supervised gains", gains)
    assert min(gains) > 0.0
    assert np.mean(gains) > 0.04


# ------------------------------------------------------------------ transform


@pytest.fixture(scope="module")
def split(pbmc):
    """A DensMAP of 500 cells' .X (765 genes) and the other 200 cells."""
    ref, new = pbmc[:500].copy(), pbmc[500:].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dad.NeighborsNotReusedWarning)
        model = dad.embed(ref, use_rep="X", n_epochs=100, random_state=0)
    return ref, new, model


def test_transform_writes_keys_and_places_cells_by_type(split):
    from sklearn.neighbors import KNeighborsClassifier

    ref, new, model = split
    new = new.copy()
    assert dad.transform(model, new, use_rep="X") is None
    emb = new.obsm["X_densmap"]
    assert emb.shape == (200, 2)
    assert new.uns["densmap"]["params"]["transformed"] is True
    assert "densmap_rad_emb" in new.obs
    clf = KNeighborsClassifier(10).fit(ref.obsm["X_densmap"], ref.obs["bulk_labels"])
    assert clf.score(emb, new.obs["bulk_labels"]) > 0.6
    with pytest.raises(ValueError, match="765 features"):
        dad.transform(model, new)  # X_pca (50 columns) chosen by default


@pytest.mark.parametrize("sparse", [False, True])
def test_transform_backed_in_blocks_equals_in_memory(split, tmp_path, sparse):
    _, new, model = split
    new = new.copy()
    if sparse:
        new.X = sp.csr_matrix(new.X)
    expected = dad.transform(model, new, use_rep="X", copy=True).obsm["X_densmap"]
    path = tmp_path / "new.h5ad"
    new.write_h5ad(path)
    backed = anndata.read_h5ad(path, backed="r")
    reads = []
    original = dad._transform_backed

    def spy(model, X, chunk_rows):
        reads.append(type(X).__name__)
        return original(model, X, chunk_rows)

    dad._transform_backed = spy
    try:
        dad.transform(model, backed, use_rep="X", chunk_rows=64)
    finally:
        dad._transform_backed = original
    assert reads, "a backed .X must be read block by block"
    np.testing.assert_array_equal(backed.obsm["X_densmap"], expected)
    backed.file.close()


# ------------------------------------------------------------------ command line


def run_cli(*args, cwd):
    env = dict(os.environ, PYTHONPATH=SRC, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "densumap.cli", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow  # 19 s; the CLI's h5ad path also runs in test_cli.py::test_embed_h5ad_writes_obsm
def test_cli_embed_and_transform_h5ad(pbmc, tmp_path):
    pbmc.write_h5ad(tmp_path / "cells.h5ad")
    pbmc[:100].write_h5ad(tmp_path / "new.h5ad")
    proc = run_cli("embed", "cells.h5ad", "--use-rep", "X_pca", "--color", "bulk_labels",
                   "--supervised", "--neighbors-key", "neighbors", "--densmap",
                   "--output-dens", "--seed", "0", "--n-epochs", "30", "--out", "cells.h5ad",
                   "--plot", "p.png", "--model", "m.pkl", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    back = anndata.read_h5ad(tmp_path / "cells.h5ad")
    params = back.uns["densmap"]["params"]
    assert params["neighbors_key"] == "neighbors" and params["target"] == "bulk_labels"
    assert back.obsm["X_densmap"].shape == (700, 2) and "densmap_rad_orig" in back.obs
    assert (tmp_path / "p.png").stat().st_size > 0
    proc = run_cli("transform", "m.pkl", "new.h5ad", "--color", "bulk_labels", "--out",
                   "new.h5ad", "--plot", "q.png", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert anndata.read_h5ad(tmp_path / "new.h5ad").obsm["X_densmap"].shape == (100, 2)
    # Errors: one line, status 2.
    for args, fragment in [
        (["embed", "cells.h5ad", "--color", "nope", "--out", "o.h5ad"], "'nope' is not an .obs"),
        (["embed", "cells.h5ad", "--use-rep", "X_nope", "--out", "o.h5ad"], "not in .obsm"),
    ]:
        proc = run_cli(*args, "--quiet", cwd=tmp_path)
        assert proc.returncode == 2 and fragment in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
    np.save(tmp_path / "x.npy", np.zeros((5, 3)))
    proc = run_cli("embed", "x.npy", "--use-rep", "X_pca", "--out", "o.npy", cwd=tmp_path)
    assert proc.returncode == 2 and "--use-rep needs an .h5ad INPUT" in proc.stderr
