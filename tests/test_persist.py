"""The safe model format (densumap.save / densumap.load) and the atomic writers (issue 15)."""
import json
import os
import pickle
import zipfile

import numpy as np
import pytest
import scipy.sparse as sp

import densumap
from densumap import persist
from densumap.datasets import save_array


def _blobs(n=240, d=6, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=6.0, size=(3, d))
    y = np.arange(n) % 3
    X = (centres[y] + rng.normal(size=(n, d))).astype(np.float32)
    return X, y


FAST = dict(n_neighbors=8, n_epochs=30, random_state=0)


def _models():
    X, y = _blobs()
    Xdup = np.concatenate([X, X[:40]])
    return {
        "umap": (densumap.UMAP(**FAST).fit(X), X),
        "densmap": (densumap.UMAP(densmap=True, **FAST).fit(X), X),
        "supervised": (densumap.UMAP(target_weight=0.7, **FAST).fit(X, y), X),
        "output_dens": (densumap.UMAP(densmap=True, output_dens=True, **FAST).fit(X), X),
        "unique": (densumap.UMAP(unique=True, **FAST).fit(Xdup), Xdup),
        "float64_cosine": (densumap.UMAP(metric="cosine", **FAST).fit(X.astype(np.float64)), X),
        "sparse": (densumap.UMAP(**FAST).fit(sp.csr_matrix(np.maximum(X, 0))), X),
    }


@pytest.fixture(scope="module")
def models():
    return _models()


def _assert_same_value(a, b, where):
    assert type(a) is type(b), (where, type(a), type(b))
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), where
    elif sp.issparse(a):
        for part in ("data", "indices", "indptr"):
            _assert_same_value(getattr(a, part), getattr(b, part), f"{where}.{part}")
        assert a.shape == b.shape, where
    elif isinstance(a, np.random.RandomState):
        for x, y in zip(a.get_state(), b.get_state()):
            _assert_same_value(x, y, where)
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same_value(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _assert_same_value(a[k], b[k], f"{where}[{k!r}]")
    else:
        assert a == b or (a != a and b != b), (where, a, b)


def _assert_same_model(m, loaded):
    assert type(loaded) is type(m)
    _assert_same_value(m.get_params(), loaded.get_params(), "get_params()")
    assert sorted(vars(m)) == sorted(vars(loaded))
    for k, v in vars(m).items():
        _assert_same_value(v, getattr(loaded, k), k)


@pytest.mark.parametrize("name", ["umap", "densmap", "supervised", "output_dens", "unique",
                                  "float64_cosine", "sparse"])
def test_round_trip_is_exact(models, name, tmp_path):
    m, X = models[name]
    path = densumap.save(m, tmp_path / "model.npz")
    loaded = densumap.load(path)
    _assert_same_model(m, loaded)
    new = X[:50] + 0.25
    if name == "sparse":
        new = sp.csr_matrix(np.maximum(new, 0))
    before, after = m.transform(new), loaded.transform(new)
    if name == "output_dens":
        assert isinstance(before, tuple) and len(before) == 3
        for b, a in zip(before, after):
            assert np.array_equal(a, b)
    else:
        assert np.array_equal(after, before)
    if name in ("umap", "densmap", "unique"):
        emb = m.embedding_[:20] + 0.1
        assert np.array_equal(loaded.inverse_transform(emb), m.inverse_transform(emb))
    # The same bytes when saved again: nothing was lost or changed on the way.
    densumap.save(loaded, tmp_path / "again.npz")
    _assert_same_model(m, densumap.load(tmp_path / "again.npz"))


def test_loaded_model_refits_like_a_fresh_one(models, tmp_path):
    m, X = models["densmap"]
    loaded = densumap.load(densumap.save(m, tmp_path / "m.npz"))
    assert np.array_equal(loaded.fit(X).embedding_, m.embedding_)


def test_params_that_json_does_not_hold_round_trip(tmp_path):
    X, _ = _blobs(120)
    init = np.random.default_rng(3).normal(size=(120, 2)).astype(np.float32)
    m = densumap.UMAP(n_neighbors=6, n_epochs=10, metric="minkowski", metric_kwds={"p": 3},
                      init=init, random_state=np.random.RandomState(5),
                      transform_seed=np.random.RandomState(7)).fit(X)
    loaded = densumap.load(densumap.save(m, tmp_path / "m.npz"))
    _assert_same_model(m, loaded)
    assert loaded.init.dtype == np.float32 and loaded.metric_kwds == {"p": 3}


def test_feature_names_round_trip(tmp_path):
    pd = pytest.importorskip("pandas")
    X, _ = _blobs(100)
    df = pd.DataFrame(X, columns=[f"gene{i}" for i in range(X.shape[1])])
    m = densumap.UMAP(n_neighbors=6, n_epochs=10, random_state=0).fit(df)
    loaded = densumap.load(densumap.save(m, tmp_path / "m.npz"))
    _assert_same_model(m, loaded)
    assert list(loaded.feature_names_in_) == list(df.columns)
    assert np.array_equal(loaded.transform(df.iloc[:10]), m.transform(df.iloc[:10]))


def test_file_is_plain_arrays_and_json(models, tmp_path):
    m, _ = models["densmap"]
    path = densumap.save(m, tmp_path / "m.npz")
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert names[0] == "densumap.json"
        meta = json.loads(zf.read("densumap.json"))
    assert meta["format"] == "densumap-model"
    assert meta["format_version"] == persist.FORMAT_VERSION
    assert meta["densumap_version"] == densumap.__version__
    assert meta["params"]["densmap"] is True
    # Every array opens without pickle.
    with np.load(path, allow_pickle=False) as npz:
        arrays = [npz[k] for k in npz.files if k != "densumap.json"]
    assert any(a.shape == m.embedding_.shape for a in arrays)
    assert len(pickle.dumps(m)) >= os.path.getsize(path)


def test_save_refuses_what_it_cannot_restore(tmp_path):
    with pytest.raises(ValueError, match="needs a fitted model"):
        densumap.save(densumap.UMAP(), tmp_path / "m.npz")

    class Sub(densumap.UMAP):
        pass

    X, _ = _blobs(60)
    with pytest.raises(TypeError, match="saves densumap.UMAP models; got .*Sub"):
        densumap.save(Sub(n_neighbors=5, n_epochs=5).fit(X), tmp_path / "m.npz")
    m = densumap.UMAP(n_neighbors=5, n_epochs=5).fit(X)
    m.extra_ = object()
    with pytest.raises(TypeError, match="state.extra_: cannot save a value of type object"):
        densumap.save(m, tmp_path / "m.npz")
    assert not os.listdir(tmp_path)  # nothing half-written left behind


# ------------------------------------------------------------------ bad files
def _rewrite_meta(src, dst, change):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "densumap.json":
                meta = json.loads(data)
                change(meta)
                data = json.dumps(meta).encode()
            zout.writestr(info.filename, data)


def test_newer_format_version_is_a_clear_error(models, tmp_path):
    m, _ = models["umap"]
    src = densumap.save(m, tmp_path / "m.npz")
    _rewrite_meta(src, tmp_path / "new.npz",
                  lambda meta: meta.update(format_version=99, densumap_version="9.0"))
    with pytest.raises(ValueError, match=r"densumap 9.0 in model format version 99; this "
                                         r"densumap .* reads format versions up to 1"):
        densumap.load(tmp_path / "new.npz")


def test_truncated_and_damaged_files(models, tmp_path):
    m, _ = models["umap"]
    data = densumap.save(m, tmp_path / "m.npz").read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 200):
        (tmp_path / "cut.npz").write_bytes(data[:cut])
        with pytest.raises(ValueError, match="cut.npz: truncated densumap model file"):
            densumap.load(tmp_path / "cut.npz")
    # One flipped byte inside the arrays: the zip CRC catches it.
    bad = bytearray(data)
    bad[len(data) // 2] ^= 0xFF
    (tmp_path / "flip.npz").write_bytes(bytes(bad))
    with pytest.raises(ValueError, match="flip.npz: damaged densumap model file"):
        densumap.load(tmp_path / "flip.npz")


def test_files_that_are_not_densumap_models(models, tmp_path):
    m, _ = models["umap"]
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match="text.npz: not a densumap model file"):
        densumap.load(tmp_path / "text.npz")
    np.savez(tmp_path / "other.npz", a=np.arange(3))
    with pytest.raises(ValueError, match="a zip archive, but not a densumap model file"):
        densumap.load(tmp_path / "other.npz")
    with open(tmp_path / "model.pkl", "wb") as f:
        pickle.dump(m, f)
    with pytest.raises(ValueError, match="model.pkl: this is a pickle, not a densumap model "
                                         "file. densumap.load never unpickles"):
        densumap.load(tmp_path / "model.pkl")
    src = densumap.save(m, tmp_path / "m.npz")
    _rewrite_meta(src, tmp_path / "alien.npz", lambda meta: meta.update(format="other"))
    with pytest.raises(ValueError, match="not a densumap model file"):
        densumap.load(tmp_path / "alien.npz")
    _rewrite_meta(src, tmp_path / "names.npz",
                  lambda meta: meta["state"].update({"__class__": 1}))
    with pytest.raises(ValueError, match="invalid attribute names"):
        densumap.load(tmp_path / "names.npz")
    with pytest.raises(FileNotFoundError):
        densumap.load(tmp_path / "missing.npz")


class _Exploit:
    """Unpickling this creates the file ``target`` (as a malicious model file would)."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_a_crafted_pickle_never_runs(tmp_path):
    target = tmp_path / "pwned"
    payload = pickle.dumps(_Exploit(target))
    # Sanity: the payload really does create the file when unpickled.
    pickle.loads(payload).close()
    assert target.exists()
    target.unlink()
    (tmp_path / "evil.pkl").write_bytes(payload)
    with pytest.raises(ValueError, match="this is a pickle"):
        densumap.load(tmp_path / "evil.pkl")
    # Also as an array member inside an otherwise valid-looking model archive.
    m = densumap.UMAP(n_neighbors=5, n_epochs=5).fit(_blobs(60)[0])
    src = densumap.save(m, tmp_path / "m.npz")
    evil = np.empty(1, dtype=object)
    evil[0] = _Exploit(target)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(tmp_path / "evil.npz", "w") as zout:
        for info in zin.infolist():
            if info.filename == "state.embedding_.npy":
                with zout.open(info.filename, "w") as f:
                    np.lib.format.write_array(f, evil, allow_pickle=True)
            else:
                zout.writestr(info.filename, zin.read(info.filename))
    with pytest.raises(ValueError, match="is not a plain array"):
        densumap.load(tmp_path / "evil.npz")
    assert not target.exists()


# ------------------------------------------------------------------ atomic writes
def _leftovers(directory, keep):
    return sorted(set(os.listdir(directory)) - set(keep))


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".tsv"])
def test_failed_array_write_keeps_the_old_file(tmp_path, monkeypatch, suffix):
    path = tmp_path / f"emb{suffix}"
    save_array(path, np.arange(6.0).reshape(3, 2))
    before = path.read_bytes()

    def failing(f, *a, **k):
        f.write(b"partial")  # a write that got half way
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "save" if suffix == ".npy" else "savetxt", failing)
    with pytest.raises(OSError, match="No space left"):
        save_array(path, np.ones((1000, 2)))
    assert path.read_bytes() == before
    assert _leftovers(tmp_path, [path.name]) == []


def test_failed_model_write_keeps_the_old_file(models, tmp_path, monkeypatch):
    m, _ = models["umap"]
    path = densumap.save(m, tmp_path / "m.npz")
    before = path.read_bytes()
    real = np.lib.format.write_array
    calls = []

    def failing(fp, array, *a, **k):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(5, "Input/output error")
        return real(fp, array, *a, **k)

    monkeypatch.setattr(np.lib.format, "write_array", failing)
    with pytest.raises(OSError, match="Input/output error"):
        densumap.save(models["densmap"][0], path)
    assert path.read_bytes() == before
    assert _leftovers(tmp_path, [path.name]) == []


def test_interrupted_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt):
        with persist.atomic_write(path) as f:
            f.write(b"new, half")
            raise KeyboardInterrupt
    assert path.read_bytes() == b"old"
    assert _leftovers(tmp_path, ["out.bin"]) == []
    with persist.atomic_write(path) as f:
        f.write(b"new")
    assert path.read_bytes() == b"new"


def test_atomic_write_keeps_permissions_of_the_file_it_replaces(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)
    with persist.atomic_write(path) as f:
        f.write(b"new")
    assert os.stat(path).st_mode & 0o777 == 0o640
    fresh = tmp_path / "fresh.bin"
    with persist.atomic_write(fresh) as f:
        f.write(b"x")
    assert os.stat(fresh).st_mode & 0o777 == 0o666 & ~persist._umask()


def test_same_file_sees_links_and_relative_paths(tmp_path, monkeypatch):
    a = tmp_path / "a.npy"
    a.write_bytes(b"x")
    os.link(a, tmp_path / "hard.npy")
    os.symlink(a, tmp_path / "soft.npy")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    for other in ("../a.npy", tmp_path / "hard.npy", tmp_path / "soft.npy", "./../sub/../a.npy"):
        assert persist.same_file(a, other), other
    assert not persist.same_file(a, tmp_path / "b.npy")
    assert persist.same_file("new.npy", tmp_path / "sub" / "new.npy")  # neither exists


def test_failed_dask_store_keeps_the_old_file(tmp_path, monkeypatch):
    da = pytest.importorskip("dask.array")
    from densumap import dask as ddk

    path = tmp_path / "emb.npy"
    np.save(path, np.arange(4.0))
    before = path.read_bytes()

    def failing(sources, targets, **kw):
        targets[:2] = 1.0  # some blocks written, then the run dies
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(da, "store", failing)
    with pytest.raises(OSError, match="No space left"):
        ddk.store(da.ones((100, 2), chunks=10), path, client=None)
    assert path.read_bytes() == before
    assert _leftovers(tmp_path, [path.name]) == []
