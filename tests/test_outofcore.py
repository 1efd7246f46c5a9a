"""transform of arrays on disk in row blocks: memmap, HDF5, zarr (issue 7)."""
import numpy as np
import pytest

import densumap
from densumap import _blocks
from densumap.dask import BlockTransformError

from .helpers import blobs_split


@pytest.fixture(scope="module")
def data():
    return blobs_split(7, 4, 1300, 12, 400)


@pytest.fixture(scope="module")
def model(data):
    return densumap.UMAP(n_epochs=30, random_state=0).fit(data[0])


@pytest.fixture(scope="module")
def dens_model(data):
    return densumap.UMAP(n_epochs=30, random_state=0, densmap=True, output_dens=True).fit(data[0])


class RecordingRows:
    """An on-disk-like array that records every row range read from it."""

    def __init__(self, X):
        self.X, self.shape, self.dtype, self.reads = X, X.shape, X.dtype, []

    def __getitem__(self, key):
        self.reads.append((key.start, key.stop))
        return self.X[key].copy()


@pytest.mark.parametrize("chunk_rows", [7, 37, 900, 10_000])
def test_blocks_equal_in_memory_and_read_one_block_at_a_time(model, data, chunk_rows):
    Xnew = data[1]
    src = RecordingRows(Xnew)
    out = _blocks.transform_in_blocks(model, src, chunk_rows=chunk_rows)
    assert np.array_equal(out, model.transform(Xnew))
    assert max(stop - start for start, stop in src.reads) <= chunk_rows
    assert sum(stop - start for start, stop in src.reads) == Xnew.shape[0]  # each row once


def test_memmap_transform_in_blocks_into_npy_memmap(model, data, tmp_path, monkeypatch):
    Xnew = data[1]
    path = tmp_path / "x.npy"
    np.save(path, Xnew)
    mm = np.load(path, mmap_mode="r")
    calls = []
    original = type(model)._transform_array

    def spy(self, X, n_jobs=None):
        calls.append(X.shape[0])
        return original(self, X, n_jobs)

    monkeypatch.setattr(type(model), "_transform_array", spy)
    monkeypatch.setattr(_blocks, "default_chunk_rows", lambda *a: 250)
    got = model.transform(mm)  # np.memmap: routed through the block loop
    assert calls == [250, 250, 250, 150]
    assert np.array_equal(got, original(model, Xnew))
    out = np.lib.format.open_memmap(tmp_path / "emb.npy", mode="w+", dtype=np.float32,
                                    shape=(Xnew.shape[0], 2))
    _blocks.transform_in_blocks(model, mm, out=out, chunk_rows=128)
    out.flush()
    assert np.array_equal(np.load(tmp_path / "emb.npy"), got)


def test_densmap_output_dens_in_blocks(dens_model, data):
    Xnew = data[1]
    ref = dens_model.transform(Xnew)
    got = _blocks.transform_in_blocks(dens_model, Xnew, chunk_rows=64)
    assert len(got) == 3
    for a, b in zip(got, ref):
        assert np.array_equal(a, b)


def test_hdf5_fit_and_transform(model, data, tmp_path):
    h5py = pytest.importorskip("h5py")
    Xtr, Xnew = data
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f["train"] = Xtr
        f["new"] = Xnew.astype(np.float64)  # converted block by block like an array
    with h5py.File(tmp_path / "d.h5", "r") as f:
        fitted = densumap.UMAP(n_epochs=30, random_state=0).fit(f["train"])  # read whole
        assert np.array_equal(fitted.embedding_, model.embedding_)
        assert np.array_equal(model.transform(f["new"]), model.transform(Xnew))


def test_zarr_transform(model, data, tmp_path):
    zarr = pytest.importorskip("zarr")
    Xnew = data[1]
    z = zarr.open_array(str(tmp_path / "x.zarr"), mode="w", shape=Xnew.shape,
                        dtype="f4", chunks=(100, 12))
    z[:] = Xnew
    assert np.array_equal(model.transform(z), model.transform(Xnew))


def test_failing_block_names_its_rows(model, data):
    X = data[1].copy()
    X[613, 5] = np.nan
    with pytest.raises(BlockTransformError,
                       match=r"rows 600-699 \(first non-finite row: 613\).*NaN") as info:
        _blocks.transform_in_blocks(model, X, chunk_rows=100)
    assert (info.value.start, info.value.stop) == (600, 700)


def test_wrong_width_fails_before_reading(model, data):
    src = RecordingRows(np.zeros((10, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="X has 5 features.*expecting 12"):
        _blocks.transform_in_blocks(model, src)
    assert src.reads == []


def test_sample_index_is_reproducible_and_take_rows_reads_blocks():
    a = _blocks.sample_index(10_000, 50, seed=3)
    assert np.array_equal(a, _blocks.sample_index(10_000, 50, seed=3))
    assert not np.array_equal(a, _blocks.sample_index(10_000, 50, seed=4))
    assert np.all(np.diff(a) > 0)
    X = np.arange(10_000 * 3, dtype=np.float32).reshape(10_000, 3)
    src = RecordingRows(X)
    rows = _blocks.take_rows(src, a, chunk_rows=1000)
    assert np.array_equal(rows, X[a])
    assert all(stop - start <= 1000 for start, stop in src.reads)
    with pytest.raises(ValueError, match="n_samples must be between 2"):
        _blocks.sample_index(10, 11, seed=0)
