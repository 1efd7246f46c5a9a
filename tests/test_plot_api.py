"""densumap.plot's umap-learn API: points' extra parameters, connectivity, diagnostic,
nearest_neighbour_distribution, interactive, save_html, show and the lazy plt.

Fast: fake models (namespaces with the fitted attributes) on a few hundred points.
"""
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

from densumap import plot  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def fake_model(n=300, seed=0, densmap=False):
    """A 'fitted' model: 3 clusters in 8-D, an embedding of their first two
    coordinates, and a symmetric 10-NN graph."""
    from sklearn.neighbors import kneighbors_graph

    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    centres = rng.normal(scale=8.0, size=(3, 8))
    X = centres[y] + rng.normal(size=(n, 8))
    g = kneighbors_graph(X, 10, mode="connectivity")
    g = g.maximum(g.T).tocsr()
    g.data = rng.uniform(0.2, 1.0, size=g.nnz)
    g = g.maximum(g.T).tocsr()
    model = types.SimpleNamespace(
        embedding_=X[:, :2].copy(), graph_=g, _train_X=X, n_neighbors=10, min_dist=0.1,
        metric="euclidean", metric_kwds=None, random_state=0, densmap=densmap,
    )
    if densmap:
        model.rad_orig_ = rng.normal(size=n)
        model.rad_emb_ = 0.5 * model.rad_orig_ + 0.1 * rng.normal(size=n)
        model.dens_lambda = 2.0
    return model, y


def painted_fraction(ax, tmp_path, background=(1.0, 1.0, 1.0)):
    path = tmp_path / "img.png"
    ax.figure.savefig(path)
    img = mpimg.imread(path)[..., :3]
    return (np.abs(img - np.asarray(background)).max(axis=-1) > 0.05).mean()


# ----------------------------------------------------------------------------- plt


def test_plt_is_pyplot_and_import_stays_light():
    code = (
        "import sys, densumap as umap, densumap.plot\n"
        "assert 'matplotlib' not in sys.modules and 'bokeh' not in sys.modules\n"
        "fig, ax = umap.plot.plt.subplots(figsize=(7, 7))\n"
        "import matplotlib.pyplot\n"
        "assert umap.plot.plt is matplotlib.pyplot\n"
        "assert 'bokeh' not in sys.modules\n"
    )
    src = str(Path(plot.__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": src, "MPLBACKEND": "Agg"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        plot.nope  # noqa: B018


# ----------------------------------------------------------------------------- points


def test_points_argument_and_caption():
    model, y = fake_model()
    other = model.embedding_ * 10.0 + 100.0
    ax = plot.points(model, points=other, labels=y, width=300, height=300)
    np.testing.assert_allclose(ax.collections[0].get_offsets(), other)
    assert "UMAP: n_neighbors=10, min_dist=0.1" in [t.get_text() for t in ax.texts]
    model.metric, model.densmap, model.dens_lambda = "cosine", True, 2.0
    ax = plot.points(model, width=300, height=300)
    assert ax.texts[-1].get_text() == (
        "DensMAP: metric=cosine, n_neighbors=10, min_dist=0.1, dens_lambda=2.0")
    assert len(plot.points(model.embedding_, width=300, height=300).texts) == 0  # arrays: none


def test_subset_points_mask_and_indices():
    model, y = fake_model()
    mask = y == 1
    ax = plot.points(model, labels=y, subset_points=mask, width=300, height=300)
    np.testing.assert_allclose(ax.collections[0].get_offsets(), model.embedding_[mask])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["1"]
    ax = plot.points(model, values=np.arange(300.0), subset_points=np.arange(10), width=300,
                     height=300)
    assert len(ax.collections[0].get_offsets()) == 10
    with pytest.raises(ValueError, match="subset_points has 5 entries but the embedding has 300"):
        plot.points(model, subset_points=np.ones(5, dtype=bool))
    with pytest.raises(ValueError, match="selects no points"):
        plot.points(model, subset_points=np.zeros(300, dtype=bool))


def test_color_key_cmap_and_alpha():
    model, y = fake_model()
    ax = plot.points(model, labels=y, color_key_cmap="tab10", alpha=0.3, width=300, height=300)
    faces = ax.collections[0].get_facecolors()
    tab10 = matplotlib.colormaps["tab10"]
    np.testing.assert_allclose(faces[y == 2][0, :3], tab10(2)[:3])
    np.testing.assert_allclose(faces[:, 3], 0.3)
    with pytest.raises(ValueError, match=r"alpha must be a number in \[0, 1\], got 1.5"):
        plot.points(model, alpha=1.5)
    with pytest.raises(ValueError, match="Unknown colour map 'nope' for color_key_cmap"):
        plot.points(model, labels=y, color_key_cmap="nope")


def test_alpha_scales_aggregated_images(monkeypatch):
    monkeypatch.setattr(plot._common, "_import_datashader", lambda: None)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 2))
    full = plot.points(X, width=200, height=200).images[0].get_array()[..., 3]
    half = plot.points(X, width=200, height=200, alpha=0.5).images[0].get_array()[..., 3]
    np.testing.assert_allclose(half, 0.5 * full)
    assert full.max() == pytest.approx(1.0)


# ----------------------------------------------------------------------------- connectivity


def test_connectivity_draws_edges(tmp_path):
    model, y = fake_model()
    ax = plot.connectivity(model, width=300, height=300)
    assert len(ax.images) == 1 and not ax.collections
    assert 0.02 < painted_fraction(ax, tmp_path) < 0.9
    # An edge between two distant points paints the pixels half-way between them.
    emb = np.array([[0.0, 0.0], [10.0, 10.0], [0.0, 10.0]])
    g = sp.csr_matrix(([1.0, 1.0], ([0, 1], [1, 0])), shape=(3, 3))
    line = types.SimpleNamespace(embedding_=emb, graph_=g)
    image = plot.connectivity(line, width=200, height=200).images[0].get_array()
    ny, nx = image.shape[:2]
    assert image[ny // 2, nx // 2, 3] > 0  # on the diagonal edge
    assert image[int(ny * 0.8), int(nx * 0.2), 3] == 0  # off it


def test_connectivity_show_points_and_theme(tmp_path):
    model, y = fake_model()
    ax = plot.connectivity(model, show_points=True, labels=y, theme="fire", width=300,
                           height=300)
    assert len(ax.collections) == 1  # the points, over the edge image
    path = tmp_path / "c.png"
    ax.figure.savefig(path)
    assert np.allclose(mpimg.imread(path)[0, 0, :3], 0.0, atol=1e-3)  # fire: black


def test_connectivity_errors(monkeypatch):
    model, _ = fake_model()
    with pytest.raises(ValueError, match="edge_bundling must be None.*got 'fast'"):
        plot.connectivity(model, edge_bundling="fast")
    with pytest.raises(ValueError, match="needs a fitted model with graph_"):
        plot.connectivity(types.SimpleNamespace(embedding_=model.embedding_))
    monkeypatch.setitem(sys.modules, "datashader.bundling", None)
    with pytest.raises(ImportError, match=r"edge_bundling='hammer'\) needs datashader.*"
                                          r"pip install 'densumap\[plot\]'"):
        plot.connectivity(model, edge_bundling="hammer")


@pytest.mark.slow  # datashader compiles its bundling kernels on first use: ~10 s
def test_connectivity_hammer(tmp_path):
    pytest.importorskip("datashader")
    pytest.importorskip("skimage")
    model, _ = fake_model(n=60)
    ax = plot.connectivity(model, edge_bundling="hammer", width=200, height=200)
    assert 0.01 < painted_fraction(ax, tmp_path) < 0.9


# ----------------------------------------------------------------------------- diagnostic


@pytest.mark.parametrize("kind", ["pca", "ica", "vq", "local_dim", "neighborhood"])
def test_diagnostic_each_type(tmp_path, kind):
    model, _ = fake_model()
    ax, data = plot.diagnostic(model, diagnostic_type=kind, width=300, height=300,
                               return_diagnostics=True)
    assert len(data) == 300
    assert 0.01 < painted_fraction(ax, tmp_path) < 0.9
    if kind in ("pca", "ica", "vq"):
        assert data.shape == (300, 3) and data.min() == 0.0 and data.max() == 1.0
        np.testing.assert_allclose(ax.collections[0].get_facecolors()[:, :3], data)
    else:
        assert len(ax.figure.axes) == 2  # with a colour bar


def test_diagnostic_pca_is_scaled_pca():
    from sklearn.decomposition import PCA

    model, _ = fake_model()
    data = plot.diagnostic(model, "pca", return_diagnostics=True, plot_result=False)
    ref = PCA(3).fit_transform(model._train_X)
    ref = (ref - ref.min(axis=0)) / np.ptp(ref, axis=0)
    np.testing.assert_allclose(data, ref, atol=1e-8)


def test_diagnostic_local_dim_matches_a_naive_loop():
    from sklearn.decomposition import PCA
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(1)
    plane = np.zeros((150, 8))
    plane[:, :2] = rng.normal(size=(150, 2)) * 5
    ball = rng.normal(size=(150, 8)) + 40.0
    X = np.vstack([plane, ball])
    model = types.SimpleNamespace(embedding_=X[:, :2], _train_X=X, n_neighbors=12,
                                  metric="euclidean", random_state=0)
    dims = plot.diagnostic(model, "local_dim", return_diagnostics=True, plot_result=False)
    idx = NearestNeighbors(n_neighbors=12).fit(X).kneighbors(X, return_distance=False)
    for i in list(range(0, 300, 15)):
        ratio = np.cumsum(PCA().fit(X[idx[i]]).explained_variance_ratio_)
        assert dims[i] == np.argmax(ratio > 0.8) + 1, i
    assert dims[:150].max() <= 2 and dims[150:].mean() > 4


def test_diagnostic_neighborhood_tells_good_from_random():
    model, _ = fake_model()
    good = plot.diagnostic(model, "neighborhood", return_diagnostics=True, plot_result=False)
    model.embedding_ = np.random.default_rng(3).normal(size=(300, 2))
    bad = plot.diagnostic(model, "neighborhood", return_diagnostics=True, plot_result=False)
    assert good.mean() > bad.mean() + 0.1
    assert ((0 <= bad) & (bad <= 1)).all()


def test_diagnostic_all_and_errors():
    model, _ = fake_model()
    ax, data = plot.diagnostic(model, "all", width=600, height=400, return_diagnostics=True)
    assert sorted(data) == sorted(["pca", "ica", "vq", "local_dim", "neighborhood"])
    titled = [a for a in ax.figure.axes if a.get_title()]
    assert len(titled) == 5
    assert plot.diagnostic(model, "pca", plot_result=False) is None
    with pytest.raises(ValueError, match="Unknown diagnostic_type 'umap'.*'pca'.*'all'"):
        plot.diagnostic(model, "umap")
    with pytest.raises(ValueError, match="needs a fitted model"):
        plot.diagnostic(model.embedding_)
    model._train_X = None
    with pytest.raises(ValueError, match="needs the training data.*precomputed"):
        plot.diagnostic(model, "vq")


def test_nearest_neighbour_distribution():
    from sklearn.neighbors import NearestNeighbors

    model, _ = fake_model()
    ax = plot.nearest_neighbour_distribution(model, bins=10)
    counts = [p.get_height() for p in ax.patches]
    assert len(counts) == 10 and sum(counts) == 300
    d, _ = NearestNeighbors(n_neighbors=10).fit(model._train_X).kneighbors(model._train_X)
    lo, hi = d[:, 1:].mean(axis=1).min(), d[:, 1:].mean(axis=1).max()
    assert ax.patches[0].get_x() == pytest.approx(lo, rel=1e-5)
    assert ax.patches[-1].get_x() + ax.patches[-1].get_width() == pytest.approx(hi, rel=1e-5)
    # A model with graph_dists_ is averaged from it.
    model.graph_dists_ = sp.csr_matrix(np.array([[0, 2.0, 4.0], [2.0, 0, 0], [4.0, 0, 0]]))
    ax = plot.nearest_neighbour_distribution(model, bins=[0, 2.5, 3.5, 5])
    assert [p.get_height() for p in ax.patches] == [1, 1, 1]


# ----------------------------------------------------------------------------- interactive


def _figure_of(layout):
    from bokeh.plotting import figure

    if isinstance(layout, figure):
        return layout, None
    return layout.children[1], layout.children[0]


def test_interactive_data_tooltips_and_radii():
    pytest.importorskip("bokeh")
    model, y = fake_model(densmap=True)
    hover = {"name": np.array([f"item{i}" for i in range(300)]), "size": np.arange(300)}
    p = plot.interactive(model, labels=y, hover_data=hover, color_key=["red", "lime", "blue"])
    fig, _ = _figure_of(p)
    data = fig.select_one({"name": "densumap_points"}).data
    assert len(data["__x"]) == 300 and list(data["__color"][:3]) == ["#ff0000", "#00ff00",
                                                                    "#0000ff"]
    np.testing.assert_allclose(data["rad_orig"], model.rad_orig_)
    np.testing.assert_allclose(data["rad_emb"], model.rad_emb_)
    names = [name for name, _ in fig.hover[0].tooltips]
    assert names == ["index", "label", "name", "size", "input log radius",
                     "embedding log radius"]
    model.rad_orig_ = None  # not a DensMAP output: no radius columns
    fig, _ = _figure_of(plot.interactive(model, values=np.arange(300.0)))
    assert "rad_orig" not in fig.select_one({"name": "densumap_points"}).data
    assert [n for n, _ in fig.hover[0].tooltips] == ["index", "value"]


def test_interactive_subset_search_alpha_and_errors():
    pytest.importorskip("bokeh")
    import pandas as pd

    model, y = fake_model()
    hover = pd.DataFrame({"word": np.where(y == 0, "zero", "other")})
    p = plot.interactive(model, labels=y, hover_data=hover, subset_points=y > 0,
                         interactive_text_search=True, alpha=0.5, theme="darkred")
    fig, box = _figure_of(p)
    data = fig.select_one({"name": "densumap_points"}).data
    assert len(data["__x"]) == 200 and set(data["label"]) == {"1", "2"}
    np.testing.assert_allclose(data["__alpha"], 0.5)
    assert box.name == "densumap_search"
    callback = box.js_property_callbacks["change:value"][0]
    assert callback.args["columns"] == ["word", "label"]
    assert fig.background_fill_color == "#000000"
    with pytest.raises(ValueError, match=r"interactive_text_search_columns \['nope'\]"):
        plot.interactive(model, labels=y, interactive_text_search=True,
                         interactive_text_search_columns=["nope"])
    with pytest.raises(ValueError, match="needs hover_data or labels"):
        plot.interactive(model, interactive_text_search=True)
    with pytest.raises(ValueError, match="hover_data column 'a' has shape"):
        plot.interactive(model, hover_data={"a": np.arange(3)})
    with pytest.raises(ValueError, match="labels .* or values .*not both"):
        plot.interactive(model, labels=y, values=y)


def test_interactive_large_input_uses_webgl():
    pytest.importorskip("bokeh")
    X = np.random.default_rng(0).normal(size=(5000, 2))
    assert plot.interactive(X, width=200, height=200).output_backend == "webgl"
    assert plot.interactive(X[:100], width=200, height=200).output_backend == "canvas"


def test_interactive_without_bokeh(monkeypatch):
    monkeypatch.setitem(sys.modules, "bokeh.plotting", None)
    with pytest.raises(ImportError, match=r"interactive\(\) needs bokeh.*pip install bokeh"):
        plot.interactive(np.zeros((5, 2)))


def test_save_html_is_standalone(tmp_path):
    pytest.importorskip("bokeh")
    model, y = fake_model()
    path = plot.save_html(plot.interactive(model, labels=y), tmp_path / "page.html",
                          title="my page")
    html = path.read_text()
    assert "<title>my page</title>" in html
    # No script or stylesheet loaded from elsewhere (BokehJS's own code names CDNs).
    assert not re.search(r"<(script|link)[^>]+(src|href)=[\"']?(https?:)?//", html)
    assert len(html) > 500_000  # BokehJS itself is in the file
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]  # no temporary left


def test_output_file_inlines_and_show_dispatches(tmp_path, monkeypatch):
    pytest.importorskip("bokeh")
    import bokeh.io
    import bokeh.plotting

    model, y = fake_model()
    p = plot.interactive(model, labels=y)
    plot.output_file(tmp_path / "out.html")
    try:
        bokeh.io.save(p)
    finally:
        bokeh.io.reset_output()
    html = (tmp_path / "out.html").read_text()
    assert not re.search(r"<(script|link)[^>]+(src|href)=[\"']?(https?:)?//", html)
    assert len(html) > 500_000
    shown = []
    monkeypatch.setattr(bokeh.plotting, "show", shown.append)
    monkeypatch.setattr(plt, "show", lambda: shown.append("plt"))
    plot.show(p)
    plot.show(plot.points(model))
    assert shown == [p, "plt"]
    with pytest.raises(ValueError, match="show\\(\\) displays a matplotlib.*got str"):
        plot.show("figure")


def test_output_notebook_inlines_bokehjs(monkeypatch):
    pytest.importorskip("bokeh")
    import bokeh.io

    calls = []
    monkeypatch.setattr(bokeh.io, "output_notebook", lambda **kw: calls.append(kw))
    monkeypatch.setitem(sys.modules, "IPython", None)
    with pytest.raises(ImportError, match="output_notebook.*needs IPython"):
        plot.output_notebook()
    monkeypatch.setitem(sys.modules, "IPython", types.ModuleType("IPython"))
    plot.output_notebook(hide_banner=True)
    assert calls[0]["resources"].mode == "inline" and calls[0]["hide_banner"] is True
