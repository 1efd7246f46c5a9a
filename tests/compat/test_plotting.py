"""umap-learn's "Plotting UMAP results" page, call for call, with ``import densumap as umap``.

The page's data (pendigits, MNIST, Fashion-MNIST from openml) is replaced by
scikit-learn's bundled digits (500 of them, to stay quick); every umap.plot call
the page makes is made here with the same names and parameters, in the page's
order, and what it returns is checked to be a non-blank plot.
"""
import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
pd = pytest.importorskip("pandas")
pytest.importorskip("bokeh")

import densumap as umap  # noqa: E402
import densumap.plot  # noqa: E402,F401  (the page's "import umap.plot")


@pytest.fixture(scope="module")
def pendigits():
    import sklearn.datasets

    d = sklearn.datasets.load_digits()
    return types_namespace(data=d.data[:500], target=d.target[:500])


def types_namespace(**kw):
    import types

    return types.SimpleNamespace(**kw)


@pytest.fixture(scope="module")
def mapper(pendigits):
    return umap.UMAP(random_state=42).fit(pendigits.data)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    umap.plot.plt.close("all")


def non_blank(ax, background=(1.0, 1.0, 1.0)):
    """Fraction of the figure's pixels that differ from the background."""
    fig = ax.figure
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())[..., :3] / 255.0
    return (np.abs(img - np.asarray(background)).max(axis=-1) > 0.05).mean()


def test_tutorial_subplots_line():
    fig, ax = umap.plot.plt.subplots(figsize=(7, 7))
    assert fig.get_size_inches().tolist() == [7.0, 7.0]


def test_points_section(mapper, pendigits):
    ax = umap.plot.points(mapper)
    assert 0.005 < non_blank(ax) < 0.5
    assert "UMAP: n_neighbors=15, min_dist=0.1" in [t.get_text() for t in ax.texts]
    ax = umap.plot.points(mapper, labels=pendigits.target)
    assert len(ax.get_legend().get_texts()) == 10
    ax = umap.plot.points(mapper, values=pendigits.data.mean(axis=1), theme="fire")
    assert 0.005 < non_blank(ax, background=(0.0, 0.0, 0.0))
    ax = umap.plot.points(mapper, labels=pendigits.target, color_key_cmap="Paired",
                          background="black")
    paired = matplotlib.colormaps["Paired"]
    faces = ax.collections[0].get_facecolors()[:, :3]
    np.testing.assert_allclose(faces[pendigits.target == 3][0], paired(3)[:3])


def test_interactive_section(mapper, pendigits, monkeypatch):
    import bokeh.plotting

    n = len(pendigits.target)
    hover_data = pd.DataFrame({"index": np.arange(n), "label": pendigits.target.astype(str)})
    hover_data["item"] = hover_data.label.map({str(k): f"digit {k}" for k in range(10)})
    import bokeh.io

    calls = []
    monkeypatch.setattr(bokeh.io, "output_notebook", lambda **kw: calls.append(kw))
    try:
        umap.plot.output_notebook()
    except ImportError as exc:  # outside Jupyter, without IPython
        assert "needs IPython" in str(exc)
    else:
        assert calls[0]["resources"].mode == "inline"  # works offline in the notebook
    p = umap.plot.interactive(mapper, labels=pendigits.target, hover_data=hover_data,
                              point_size=2)
    shown = []
    monkeypatch.setattr(bokeh.plotting, "show", shown.append)  # no browser in a test
    umap.plot.show(p)
    assert shown == [p]
    names = [name for name, _ in p.hover[0].tooltips]
    assert {"index", "label", "item"} <= set(names)


def test_connectivity_section(mapper):
    ax = umap.plot.connectivity(mapper, show_points=True)
    assert 0.01 < non_blank(ax) < 0.9


@pytest.mark.slow  # hammer bundling of ~5,000 edges, with datashader's compilation
def test_connectivity_hammer(mapper):
    pytest.importorskip("datashader")
    pytest.importorskip("skimage")
    ax = umap.plot.connectivity(mapper, edge_bundling="hammer")
    assert 0.01 < non_blank(ax) < 0.9


def test_diagnostic_section(mapper):
    ax = umap.plot.diagnostic(mapper, diagnostic_type="pca")
    assert ax.get_title() == "Colored by RGB coords of PCA embedding"
    ax = umap.plot.diagnostic(mapper, diagnostic_type="vq")
    assert 0.005 < non_blank(ax)
    local_dims = umap.plot.diagnostic(mapper, diagnostic_type="local_dim")
    assert 0.005 < non_blank(local_dims)
    ax = umap.plot.diagnostic(mapper, diagnostic_type="neighborhood")
    _, jaccard = umap.plot.diagnostic(mapper, diagnostic_type="neighborhood",
                                      return_diagnostics=True)
    assert jaccard.mean() > 0.2  # a UMAP of digits keeps a good share of its neighbours
