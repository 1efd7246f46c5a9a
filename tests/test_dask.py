"""Distributed transform with dask (issue 7): equality, chunking, model shipped once, errors."""
import os
import pickle

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

import densumap  # noqa: E402
import densumap.dask as ddk  # noqa: E402
from tests.counting import CountingUMAP  # noqa: E402
from tests.helpers import blobs_split  # noqa: E402


@pytest.fixture(scope="module")
def data():
    return blobs_split(11, 5, 3300, 10, 300)


@pytest.fixture(scope="module")
def model(data):
    return densumap.UMAP(n_epochs=30, random_state=0).fit(data[0])


@pytest.fixture(scope="module")
def dens_model(data):
    return densumap.UMAP(n_epochs=30, random_state=0, densmap=True, output_dens=True).fit(data[0])


@pytest.fixture(scope="module")
def expected(model, dens_model, data):
    return model.transform(data[1]), dens_model.transform(data[1])


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as c:
        yield c


def test_import_dask_is_the_real_dask():
    # densumap/dask.py must not shadow the top-level package inside itself.
    assert ddk._dask()[0].__name__ == "dask" and hasattr(ddk._dask()[1], "map_blocks")


@pytest.mark.parametrize("chunks", [(3000, 10), (1000, 10), (777, 4), ((1, 999, 2000), 10)])
def test_threads_equal_in_memory_for_any_chunking(model, data, expected, chunks):
    X = da.from_array(data[1], chunks=chunks)
    got = ddk.transform(model, X).compute(scheduler="threads")
    assert got.dtype == np.float32
    assert np.array_equal(got, expected[0])
    assert np.array_equal(model.transform(X).compute(), expected[0])  # estimator dispatch


def test_distributed_equal_in_memory_umap_and_densmap(client, model, dens_model, data, expected):
    X = da.from_array(data[1], chunks=(500, 10))
    assert np.array_equal(ddk.transform(model, X).compute(), expected[0])
    got = dask.compute(*ddk.transform(dens_model, da.from_array(data[1], chunks=(640, 10))))
    for a, b in zip(got, expected[1]):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_model_is_one_key_of_the_graph(model, data):
    X = da.from_array(data[1], chunks=(300, 10))
    emb = ddk.transform(model, X, client=None)
    graph = dict(emb.__dask_graph__())
    holders = [k for k in graph if str(k).startswith("densumap-model-")]
    assert len(holders) == 1
    blocks = [k for k in graph if isinstance(k, tuple) and k[0] == emb.name]
    assert len(blocks) == 10
    # No block task carries the model: each pickles to a small fraction of it.
    import cloudpickle

    model_bytes = len(pickle.dumps(model))
    assert model_bytes > 50_000
    assert max(len(cloudpickle.dumps(graph[k])) for k in blocks) < model_bytes / 20


def test_distributed_scatters_the_model(client, model, data):
    X = da.from_array(data[1], chunks=(300, 10))
    emb = ddk.transform(model, X)
    graph = dict(emb.__dask_graph__())
    assert not any(str(k).startswith("densumap-model-") for k in graph)  # scattered instead
    assert np.array_equal(emb.compute(), model.transform(data[1]))


@pytest.mark.slow  # 7.5 s
def test_large_model_is_sent_once_per_worker_not_per_block(tmp_path):
    """A ~5 MB model on a 2-process cluster: pickled once, unpickled once per worker."""
    rng = np.random.default_rng(0)
    Xtr = rng.normal(size=(4000, 300)).astype(np.float32)  # 4.8 MB of training rows
    Xnew = rng.normal(size=(800, 300)).astype(np.float32)
    model = CountingUMAP(n_epochs=9, init="random", random_state=0).fit(Xtr)
    assert len(pickle.dumps(model)) > 4_000_000
    expected = model.transform(Xnew)
    model.count_path = str(tmp_path / "count.txt")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as c:
        emb = ddk.transform(model, da.from_array(Xnew, chunks=(100, 300)))  # 8 blocks
        got = emb.compute()
        first = _events(tmp_path)
        again = ddk.transform(model, da.from_array(Xnew, chunks=(50, 300)), client=c)
        assert np.array_equal(again.compute(), expected)  # 16 blocks
        second = _events(tmp_path)[len(first):]
    assert np.array_equal(got, expected)
    me = str(os.getpid())
    for events in (first, second):
        # Pickled once, in this process; unpickled at most once in each worker
        # process (shipping per block would give 8 and 16 of each).
        assert events.count(("pickled", me)) == 1
        assert sum(e[0] == "pickled" for e in events) == 1
        unpickled = [pid for what, pid in events if what == "unpickled"]
        assert 1 <= len(unpickled) <= 2 and len(set(unpickled)) == len(unpickled)
        assert me not in unpickled


def _events(tmp_path):
    path = tmp_path / "count.txt"
    return [tuple(line.split()) for line in path.read_text().splitlines()] \
        if path.exists() else []


@pytest.mark.parametrize("use_client", [False, True])
def test_failing_block_reports_its_rows(request, model, data, use_client):
    if use_client:
        request.getfixturevalue("client")
    X = np.concatenate([data[1], data[1][:1000]])
    X[2345, 3] = np.nan
    emb = ddk.transform(model, da.from_array(X, chunks=(1000, 10)),
                        client="auto" if use_client else None)
    scheduler = None if use_client else "threads"
    with pytest.raises(ddk.BlockTransformError,
                       match=r"rows 2000-2999 \(first non-finite row: 2345\): ValueError"):
        emb.compute(scheduler=scheduler)


def test_fit_sample_is_reproducible_across_array_kinds(data, tmp_path):
    h5py = pytest.importorskip("h5py")
    X = data[1]
    np.save(tmp_path / "x.npy", X)
    with h5py.File(tmp_path / "x.h5", "w") as f:
        f["X"] = X
    sources = [X, np.load(tmp_path / "x.npy", mmap_mode="r"), da.from_array(X, chunks=333)]
    with h5py.File(tmp_path / "x.h5", "r") as f:
        sources.append(f["X"])
        draws = [ddk.sample_rows(s, 200, seed=5, chunk_rows=256) for s in sources]
    for index, rows in draws:
        assert np.array_equal(index, draws[0][0]) and np.array_equal(rows, X[draws[0][0]])
    model, index = ddk.fit_sample(densumap.UMAP(n_epochs=20, random_state=1), sources[2],
                                  200, seed=5)
    ref = densumap.UMAP(n_epochs=20, random_state=1).fit(X[index])
    assert np.array_equal(model.embedding_, ref.embedding_)


@pytest.mark.parametrize("out", ["emb.npy", "emb.zarr"])
def test_fit_transform_sample_writes_the_embedding(data, tmp_path, out):
    if out.endswith("zarr"):
        zarr = pytest.importorskip("zarr")
    X = data[1]
    np.save(tmp_path / "x.npy", X)
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    model, index, path = ddk.fit_transform_sample(
        densumap.UMAP(n_epochs=20, random_state=1), mm, 250, tmp_path / out, seed=2,
        chunk_rows=700, scheduler="threads")
    written = np.load(path) if out.endswith("npy") else np.asarray(zarr.open_array(path))
    assert np.array_equal(written, model.transform(X))


def test_transform_file_on_a_cluster_address(client, model, data, expected, tmp_path):
    h5py = pytest.importorskip("h5py")
    import joblib

    with h5py.File(tmp_path / "x.h5", "w") as f:
        f["group/X"] = data[1]
    densumap.save(model, tmp_path / "model.npz")
    address = client.scheduler.address
    out = ddk.transform_file(str(tmp_path / "model.npz"), f"{tmp_path / 'x.h5'}:group/X",
                             tmp_path / "emb.npy", scheduler=address, chunk_rows=512)
    assert np.array_equal(np.load(out), expected[0])
    # A pickle runs code when loaded: only with an explicit opt-in.
    joblib.dump(model, tmp_path / "model.joblib")
    with pytest.raises(ValueError, match="is a pickle.*trust_pickle=True"):
        ddk.transform_file(str(tmp_path / "model.joblib"), tmp_path / "x.h5",
                           tmp_path / "emb3.npy", scheduler=address)
    assert not (tmp_path / "emb3.npy").exists()
    out = ddk.transform_file(str(tmp_path / "model.joblib"), f"{tmp_path / 'x.h5'}:group/X",
                             tmp_path / "emb3.npy", scheduler=address, trust_pickle=True)
    assert np.array_equal(np.load(out), expected[0])
    # The output may not be an input, however it is named.
    np.save(tmp_path / "x.npy", data[1])
    os.symlink(tmp_path / "x.npy", tmp_path / "link.npy")
    before = (tmp_path / "x.npy").read_bytes()
    with pytest.raises(ValueError, match="same file as input_path"):
        ddk.transform_file(model, tmp_path / "x.npy", tmp_path / "link.npy")
    assert (tmp_path / "x.npy").read_bytes() == before
    densumap.save(model, tmp_path / "model.npy")
    with pytest.raises(ValueError, match="same file as model"):
        ddk.transform_file(str(tmp_path / "model.npy"), tmp_path / "x.npy",
                           tmp_path / "model.npy")
    out = ddk.transform_file(model, tmp_path / "x.h5", tmp_path / "emb2.npy",
                             scheduler=None, chunk_rows=1000)  # the default client
    assert np.array_equal(np.load(out), expected[0])


def test_transform_file_threads_and_errors(model, data, expected, tmp_path):
    np.save(tmp_path / "x.npy", data[1])
    out = ddk.transform_file(model, tmp_path / "x.npy", tmp_path / "e.npy",
                             scheduler="threads", chunk_rows=900)
    assert np.array_equal(np.load(out), expected[0])
    with pytest.raises(ValueError, match="Unsupported input"):
        ddk.transform_file(model, tmp_path / "x.csv", tmp_path / "e.npy")
    with pytest.raises(ValueError, match="out must end in .npy or .zarr"):
        ddk.transform_file(model, tmp_path / "x.npy", tmp_path / "e.txt", scheduler="threads")
    with pytest.raises(ValueError, match="X has 3 features"):
        ddk.transform(model, da.zeros((10, 3), chunks=5))
