"""docs/tutorial.md runs: its Python blocks, as docs/make_tutorial_images.py runs them.

The page's full run (all 70,000 Fashion-MNIST images) is the script's job; this
test runs the same blocks on the small MNIST-like IDX files of conftest.py, found
by the page's ``load_fashion_mnist()`` through ``$DENSUMAP_DATA``. The one change
to the page's code: its train/test split at image 60,000 becomes 1,500 (the test
set's first image here).
"""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[2]


def load_script():
    spec = importlib.util.spec_from_file_location(
        "make_tutorial_images", ROOT / "docs" / "make_tutorial_images.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_blocks_and_images_are_paired():
    script = load_script()
    blocks = script.python_blocks((ROOT / "docs" / "tutorial.md").read_text())
    images = [name for _, names in blocks for name in names]
    # Every image the page shows comes from one of its blocks, and exists.
    assert len(images) == len(set(images)) == 8
    for name in images:
        path = ROOT / "docs" / "images" / name
        assert path.is_file() and path.stat().st_size < 300_000, name
    assert sum(len(code.splitlines()) for code, _ in blocks) > 20


@pytest.mark.slow  # five fits and a transform of 1,797 images
def test_page_runs(fashion_dir, tmp_path, monkeypatch):
    import matplotlib.image

    script = load_script()
    monkeypatch.setenv("DENSUMAP_DATA", str(fashion_dir))
    blocks = [(code.replace("60_000", "1500"), images) for code, images in
              script.python_blocks((ROOT / "docs" / "tutorial.md").read_text())]
    namespace, timings = script.run_blocks(blocks, tmp_path, echo=lambda s: None)
    assert len(timings) == len(blocks)
    for _, images in blocks:
        for name in images:
            img = matplotlib.image.imread(tmp_path / name)[..., :3]
            # Not blank: a good share of pixels differ from the white background.
            assert (np.abs(img - 1.0).max(axis=-1) > 0.05).mean() > 0.01, name
    assert namespace["dens_mapper"].rad_orig_.shape == (1797,)
    assert namespace["test_embedding"].shape == (297, 2)
    assert namespace["knn"].score(namespace["test_embedding"], namespace["target"][1500:]) > 0.85
