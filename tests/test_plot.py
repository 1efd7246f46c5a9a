"""Tests for densumap.plot, headless, on small synthetic data and fake models."""
import os
import subprocess
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

from densumap import plot  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def numpy_aggregation(monkeypatch):
    """Force the NumPy aggregation even where datashader is installed."""
    monkeypatch.setattr(plot._common, "_import_datashader", lambda: None)


def blobs(n, seed=0):
    """Four Gaussian blobs of different sizes and spreads, with their labels."""
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0], [6.0, 1.0], [2.0, 7.0], [9.0, 8.0]])
    scales = np.array([1.0, 0.4, 1.6, 0.7])
    y = rng.choice(4, size=n, p=[0.4, 0.3, 0.2, 0.1])
    X = centers[y] + rng.normal(size=(n, 2)) * scales[y, None]
    return X.astype(np.float32), y


def save_and_read(ax, tmp_path, name="out.png"):
    path = tmp_path / name
    ax.figure.savefig(path)
    return mpimg.imread(path)


def assert_structured(img, background):
    """The image is neither empty nor a solid blob, and shows density levels."""
    rgb = img[..., :3]
    dist = np.abs(rgb - np.asarray(background)).max(axis=-1)
    is_bg = dist < 1e-3
    frac_bg = is_bg.mean()
    assert 0.2 < frac_bg < 0.97, frac_bg
    painted = dist[~is_bg]
    assert painted.std() > 0.05, painted.std()  # intensity varies, not one flat colour
    assert len(np.unique(rgb[~is_bg].reshape(-1, 3), axis=0)) >= 8  # several density levels


# ----------------------------------------------------------------------------- sizes


@pytest.mark.parametrize("width,height", [(320, 240), (333, 257)])
def test_small_input_png_has_requested_size(tmp_path, width, height):
    X, y = blobs(300)
    ax = plot.points(X, labels=y, width=width, height=height)
    assert len(ax.images) == 0 and len(ax.collections) == 1  # a scatter, not aggregated
    img = save_and_read(ax, tmp_path)
    assert img.shape[:2] == (height, width)
    assert ax.get_legend() is not None
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["0", "1", "2", "3"]


def test_large_input_with_labels_numpy_aggregation(tmp_path, numpy_aggregation):
    X, y = blobs(30_000)
    ax = plot.points(X, labels=y, width=300, height=300)
    assert len(ax.images) == 1  # drawn by aggregation
    img = save_and_read(ax, tmp_path)
    assert img.shape[:2] == (300, 300)
    assert_structured(img, (1.0, 1.0, 1.0))
    assert ax.get_legend() is not None


def test_large_input_dense_core_is_more_opaque(numpy_aggregation):
    # Blob 1 (small spread) is much denser than blob 2 (wide): its pixels must be
    # drawn more opaque, which is what keeps dense and sparse regions apart.
    X, y = blobs(30_000)
    ax = plot.points(X, width=300, height=300)
    image = ax.images[0].get_array()
    x0, x1, y0, y1 = ax.images[0].get_extent()
    ny, nx = image.shape[:2]

    def alpha_at(point):
        col = int((point[0] - x0) / (x1 - x0) * nx)
        row = int((point[1] - y0) / (y1 - y0) * ny)
        return image[row - 1 : row + 2, col - 1 : col + 2, 3].mean()

    assert alpha_at((6.0, 1.0)) > alpha_at((2.0, 7.0)) + 0.2


def test_large_input_plain_and_themes(tmp_path, numpy_aggregation):
    X, _ = blobs(30_000)
    img = save_and_read(plot.points(X, width=300, height=300), tmp_path)
    assert_structured(img, (1.0, 1.0, 1.0))
    img = save_and_read(plot.points(X, theme="fire", width=300, height=300), tmp_path)
    assert_structured(img, (0.0, 0.0, 0.0))


def test_large_input_datashader(tmp_path):
    pytest.importorskip("datashader")
    X, y = blobs(30_000)
    ax = plot.points(X, labels=y, width=300, height=300)
    img = save_and_read(ax, tmp_path)
    assert img.shape[:2] == (300, 300)
    assert_structured(img, (1.0, 1.0, 1.0))


def test_numpy_and_datashader_place_points_alike(monkeypatch):
    pytest.importorskip("datashader")
    X, y = blobs(30_000)
    by_datashader = plot.points(X, labels=y, width=300, height=300).images[0].get_array()
    monkeypatch.setattr(plot._common, "_import_datashader", lambda: None)
    by_numpy = plot.points(X, labels=y, width=300, height=300).images[0].get_array()
    # The same pixels are painted, up to points on bin edges.
    assert by_numpy.shape == by_datashader.shape
    assert ((by_numpy[..., 3] > 0) != (by_datashader[..., 3] > 0)).mean() < 0.01


# ----------------------------------------------------------------------------- colours


def test_values_give_a_colorbar_small_and_large(numpy_aggregation):
    for n in (200, 30_000):
        X, _ = blobs(n)
        ax = plot.points(X, values=X[:, 0], width=300, height=300)
        labels = [a.get_label() for a in ax.figure.axes]
        assert labels.count("<colorbar>") == 1, labels
        assert ax.get_legend() is None


def test_values_with_nan_are_drawn(tmp_path, numpy_aggregation):
    X, _ = blobs(30_000)
    values = X[:, 1].astype(float)
    values[::3] = np.nan
    img = save_and_read(plot.points(X, values=values, width=300, height=300), tmp_path)
    assert_structured(img, (1.0, 1.0, 1.0))


def test_mapper_strings_and_color_key(tmp_path):
    X, y = blobs(200)
    mapper = types.SimpleNamespace(embedding_=X)
    names = np.array(["cat", "dog", "eel", "fox"])[y]
    key = {"cat": "red", "dog": "green", "eel": "blue", "fox": "black"}
    ax = plot.points(mapper, labels=names, color_key=key)
    colors = ax.collections[0].get_facecolors()[:, :3]
    np.testing.assert_allclose(colors[names == "eel"], [[0, 0, 1]] * (names == "eel").sum())
    ax = plot.points(X, labels=y, color_key=["red", "green", "blue", "black"])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["0", "1", "2", "3"]


@pytest.mark.parametrize("theme", sorted(plot._THEMES))
def test_themes_set_background(tmp_path, theme):
    X, y = blobs(100)
    img = save_and_read(plot.points(X, labels=y, theme=theme, width=120, height=120), tmp_path)
    expected = matplotlib.colors.to_rgb(plot._THEMES[theme]["background"])
    np.testing.assert_allclose(img[0, 0, :3], expected, atol=1e-3)


def test_draws_into_given_axes():
    fig, ax = plt.subplots()
    X, y = blobs(100)
    assert plot.points(X, labels=y, ax=ax) is ax
    assert len(ax.collections) == 1


def test_many_labels_skip_legend_with_warning():
    X, _ = blobs(200)
    with pytest.warns(UserWarning, match="too many for a legend"):
        ax = plot.points(X, labels=np.arange(200) % 40)
    assert ax.get_legend() is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot.points(X, labels=np.arange(200) % 40, show_legend=False)


# ----------------------------------------------------------------------------- errors


def test_error_wrong_shape():
    with pytest.raises(ValueError, match=r"expected shape \(n_samples, 2\), got \(10, 3\)"):
        plot.points(np.zeros((10, 3)))
    with pytest.raises(ValueError, match="n_components=2"):
        plot.points(types.SimpleNamespace(embedding_=np.zeros((10, 3))))
    with pytest.raises(ValueError, match=r"got \(10,\)"):
        plot.points(np.zeros(10))


def test_error_unfitted_model_and_nonfinite():
    class Unfitted:
        def fit(self, X):
            return self

    with pytest.raises(ValueError, match="no embedding_.*fit"):
        plot.points(Unfitted())
    X = np.zeros((5, 2))
    X[2, 1] = np.nan
    with pytest.raises(ValueError, match="1 of 5 embedding rows hold NaN"):
        plot.points(X)


def test_error_labels_values():
    X, y = blobs(50)
    with pytest.raises(ValueError, match="labels has 49 entries but the embedding has 50"):
        plot.points(X, labels=y[:-1])
    with pytest.raises(ValueError, match="values has 51 entries"):
        plot.points(X, values=np.zeros(51))
    with pytest.raises(ValueError, match="labels .* or values .*not both"):
        plot.points(X, labels=y, values=y.astype(float))
    with pytest.raises(ValueError, match="values must be numbers"):
        plot.points(X, values=np.array(["a"] * 50))


def test_error_theme_cmap_color_key():
    X, y = blobs(50)
    with pytest.raises(ValueError, match="Unknown theme 'pink'.*'fire'"):
        plot.points(X, theme="pink")
    with pytest.raises(ValueError, match="Unknown colour map 'nope'"):
        plot.points(X, cmap="nope")
    with pytest.raises(ValueError, match=r"color_key has no colour for the labels 3"):
        plot.points(X, labels=y, color_key={0: "red", 1: "red", 2: "red"})
    with pytest.raises(ValueError, match="color_key holds 2 colours but labels have 4"):
        plot.points(X, labels=y, color_key=["red", "blue"])
    with pytest.raises(ValueError, match="width must be an integer"):
        plot.points(X, width=0)


# ----------------------------------------------------------------------------- density


def fake_densmap(n, seed=0):
    X, _ = blobs(n, seed)
    rng = np.random.default_rng(seed)
    r = rng.normal(size=n)
    return types.SimpleNamespace(
        embedding_=X, rad_orig_=r, rad_emb_=0.7 * r + 0.3 * rng.normal(size=n)
    )


@pytest.mark.parametrize("n", [300, 5000])
def test_density_figure(tmp_path, n):
    model = fake_densmap(n)
    fig = plot.density(model, width=700, height=320)
    assert len(fig.axes) >= 2
    texts = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    pearson = np.corrcoef(model.rad_orig_, model.rad_emb_)[0, 1]
    assert f"Pearson r = {pearson:.3f}" in texts and "Spearman" in texts
    assert any(a.get_label() == "<colorbar>" for a in fig.axes)
    path = tmp_path / "density.png"
    fig.savefig(path)
    assert mpimg.imread(path).shape[:2] == (320, 700)


def test_density_non_finite_radii_and_3d_embedding():
    model = fake_densmap(300)
    model.rad_orig_ = model.rad_orig_.copy()
    model.rad_orig_[:5] = np.nan
    model.embedding_ = np.column_stack([model.embedding_, np.zeros(300)])
    fig = plot.density(model, width=600, height=300)
    texts = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert "5 non-finite radii left out" in texts
    assert "components 1 and 2 of 3" in " ".join(ax.get_title() for ax in fig.axes)


def test_density_errors():
    with pytest.raises(ValueError, match="output_dens=True.*rad_orig_ or rad_emb_"):
        plot.density(types.SimpleNamespace(embedding_=np.zeros((5, 2))))
    model = fake_densmap(50)
    model.rad_emb_ = model.rad_emb_[:-1]
    with pytest.raises(ValueError, match="rad_orig_ has 50 entries, rad_emb_ 49"):
        plot.density(model)


# ----------------------------------------------------------------------------- imports


def test_importing_plot_and_datasets_does_not_import_matplotlib():
    code = (
        "import sys, densumap.plot, densumap.datasets; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    )
    src = str(Path(plot.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
