"""The interactive page in a real browser: headless Chromium (Debian's ``chromium``).

The page written by ``densumap.plot.save_html`` must load from a file with no
network request and no console error, render its points, keep the DensMAP radii
for the tooltips, and its search box must fade the points that do not match.
Skipped when no Chromium is installed, unless DENSUMAP_REQUIRE_BROWSER=1 (as
``.ci/run`` sets), which turns a missing browser into a failure.
"""
import io
import os
import types

import numpy as np
import pytest

from . import browser

pytest.importorskip("bokeh")
matplotlib = pytest.importorskip("matplotlib")

if browser.find_chromium() is None:
    if os.environ.get("DENSUMAP_REQUIRE_BROWSER") == "1":
        raise RuntimeError("DENSUMAP_REQUIRE_BROWSER=1 but no chromium is installed "
                           "(apt-get install -y chromium)")
    pytest.skip("no chromium installed (apt-get install -y chromium)", allow_module_level=True)

from densumap import plot  # noqa: E402

READY = ("window.Bokeh !== undefined && Bokeh.documents.length > 0 "
         "&& Object.keys(Bokeh.index).length > 0")
COLOURS = {0: (255, 0, 0), 1: (0, 0, 255), 2: (0, 160, 0)}


def colour_pixels(png, rgb, tol=40):
    import matplotlib.image as mpimg

    img = (mpimg.imread(io.BytesIO(png), format="png")[..., :3] * 255).astype(int)
    return int((np.abs(img - np.array(rgb)).max(axis=-1) < tol).sum())


def test_harness_sees_network_requests_and_console_errors(tmp_path):
    # The checks below can fail: a page that fetches a script and logs an error.
    page = tmp_path / "bad.html"
    page.write_text('<html><body><script src="http://127.0.0.1:9/x.js"></script>'
                    '<script>console.error("boom"); missing();</script></body></html>')
    with browser.Page(400, 300) as tab:
        tab.open(page)
        assert tab.remote_requests() == ["http://127.0.0.1:9/x.js"]
        errors = "\n".join(tab.errors())
        assert "console.error: boom" in errors and "missing is not defined" in errors


def test_interactive_page_offline(tmp_path):
    rng = np.random.default_rng(0)
    n = 300
    y = np.arange(n) % 3
    centres = np.array([[0.0, 0.0], [8.0, 0.0], [4.0, 7.0]])
    emb = centres[y] + rng.normal(scale=0.8, size=(n, 2))
    r = rng.normal(size=n)
    model = types.SimpleNamespace(embedding_=emb, rad_orig_=r, rad_emb_=0.5 * r,
                                  n_neighbors=15, min_dist=0.1, densmap=True, dens_lambda=2.0)
    names = np.array(["apple", "berry", "cherry"])[y]
    p = plot.interactive(model, labels=y, hover_data={"fruit": names},
                         color_key=["#%02x%02x%02x" % COLOURS[k] for k in range(3)],
                         point_size=8, width=600, height=600, interactive_text_search=True)
    path = plot.save_html(p, tmp_path / "embedding.html")

    with browser.Page(800, 750) as tab:
        tab.open(path, ready=READY)
        assert tab.remote_requests() == []
        assert tab.errors() == []
        png = tab.screenshot()
        for label, rgb in COLOURS.items():
            assert colour_pixels(png, rgb) > 300, (label, rgb)  # every cluster is drawn

        doc = "Bokeh.documents[0]"
        tooltips = tab.evaluate(f"{doc}.get_model_by_name('points') && "
                                f"{doc}.all_models.values().find(m => m.type == 'HoverTool')"
                                ".tooltips.map(t => t[0])")
        assert tooltips == ["index", "label", "fruit", "input log radius",
                            "embedding log radius"]
        rad = tab.evaluate(f"Array.from({doc}.get_model_by_name('densumap_points')"
                           ".data['rad_orig'])")
        np.testing.assert_allclose(rad, r)

        # Type into the search box: only the cherries stay opaque.
        tab.evaluate(f"{doc}.get_model_by_name('densumap_search').value = 'CHERR'")
        alpha = np.array(tab.evaluate(
            f"Array.from({doc}.get_model_by_name('densumap_points').data['__alpha'])"))
        np.testing.assert_allclose(alpha[y == 2], 0.95)
        np.testing.assert_allclose(alpha[y != 2], 0.05)
        tab.open(path, ready=READY)  # nothing went wrong meanwhile
        assert tab.errors() == [] and tab.remote_requests() == []
