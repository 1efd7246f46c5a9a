"""The ``densumap`` command line, run as a separate process on small generated files.

Each fit uses a few dozen points and a handful of epochs: these tests are about
plumbing (formats, shapes, messages, exit codes), not embedding quality.
"""
import gzip
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import densumap

SRC = str(Path(densumap.__file__).resolve().parents[1])
N, D = 60, 5
FAST = ["--n-epochs", "5", "--n-neighbors", "8", "--seed", "0"]


def run(*args, cwd, module="densumap.cli"):
    """Run ``python -m densumap.cli ARGS`` with this checkout's ``src`` importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, env.get("PYTHONPATH")) if p)
    env["MPLBACKEND"] = "Agg"
    return subprocess.run(
        [sys.executable, "-m", module, *map(str, args)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )


def assert_ok(proc):
    assert proc.returncode == 0, proc.stderr


def assert_user_error(proc, fragment):
    """Exit status 2, one line on stderr that contains ``fragment``, no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert fragment in lines[0], lines[0]
    assert proc.stdout == ""


def idx_bytes(arr):
    """IDX encoding of a uint8 array, straight from the format's description."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    header = struct.pack(">BBBB", 0, 0, 0x08, arr.ndim)
    header += struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.tobytes()


@pytest.fixture(scope="module")
def data():
    """Two well separated groups of points, as uint8 values (so IDX can hold them)."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], N // 2)
    X = np.clip(60 + 120 * y[:, None] + rng.normal(0, 12, size=(N, D)), 0, 255)
    return X.round().astype(np.uint8), y


def write_input(fmt, directory, X):
    """Write ``X`` in format ``fmt``; returns the file name."""
    d = Path(directory)
    header = ",".join(f"f{i}" for i in range(X.shape[1]))
    if fmt == "npy":
        np.save(d / "x.npy", X.astype(np.float32))
        return "x.npy"
    if fmt == "npz":
        np.savez(d / "x.npz", X=X.astype(np.float64), other=np.arange(3))
        return "x.npz"
    if fmt == "csv":
        np.savetxt(d / "x.csv", X, fmt="%d", delimiter=",", header=header, comments="")
        return "x.csv"
    if fmt == "tsv":
        np.savetxt(d / "x.tsv", X, fmt="%d", delimiter="\t")
        return "x.tsv"
    if fmt == "csv.gz":
        np.savetxt(d / "x.csv.gz", X, fmt="%d", delimiter=",", header=header, comments="")
        return "x.csv.gz"
    # IDX images of 1 x D pixels, as MNIST ships n x 28 x 28.
    raw = idx_bytes(X.reshape(X.shape[0], 1, X.shape[1]))
    if fmt == "idx":
        (d / "x-idx3-ubyte").write_bytes(raw)
        return "x-idx3-ubyte"
    (d / "x-idx3-ubyte.gz").write_bytes(gzip.compress(raw))
    return "x-idx3-ubyte.gz"


# --------------------------------------------------------------------------- inputs


@pytest.mark.parametrize("fmt", ["npy", "npz", "csv", "tsv", "csv.gz", "idx", "idx.gz"])
def test_embed_every_input_format(tmp_path, data, fmt):
    X, _ = data
    name = write_input(fmt, tmp_path, X)
    proc = run("embed", name, "--out", "emb.npy", "--quiet", *FAST, cwd=tmp_path)
    assert_ok(proc)
    assert proc.stderr == ""  # --quiet: no progress bar, no messages
    emb = np.load(tmp_path / "emb.npy")
    assert emb.shape == (N, 2)
    assert np.isfinite(emb).all()


def test_embed_h5ad_writes_obsm(tmp_path, data):
    anndata = pytest.importorskip("anndata")
    X, y = data
    adata = anndata.AnnData(X.astype(np.float32))
    adata.obs["group"] = y.astype(str)
    settings = anndata.settings
    if hasattr(settings, "allow_write_nullable_strings"):  # pandas 3 strings
        with settings.override(allow_write_nullable_strings=True):
            adata.write_h5ad(tmp_path / "x.h5ad")
    else:
        adata.write_h5ad(tmp_path / "x.h5ad")
    # Written back into the input file itself, with the radii as obs columns.
    proc = run("embed", "x.h5ad", "--out", "x.h5ad", "--densmap", "--output-dens",
               "--quiet", *FAST, cwd=tmp_path)
    assert_ok(proc)
    back = anndata.read_h5ad(tmp_path / "x.h5ad")
    assert back.obsm["X_densmap"].shape == (N, 2)
    assert back.obs["densmap_rad_orig"].shape == (N,)
    assert back.obs["densmap_rad_emb"].shape == (N,)
    assert back.uns["densmap"]["params"]["use_rep"] == "X"
    assert list(back.obs["group"]) == list(y.astype(str))
    # Or to an array file, and under a chosen key.
    proc = run("embed", "x.h5ad", "--out", "e.csv", "--quiet", *FAST, cwd=tmp_path)
    assert_ok(proc)
    assert np.loadtxt(tmp_path / "e.csv", delimiter=",").shape == (N, 2)
    proc = run("embed", "x.h5ad", "--out", "y.h5ad", "--obsm-key", "X_mine", "--quiet",
               *FAST, cwd=tmp_path)
    assert_ok(proc)
    assert anndata.read_h5ad(tmp_path / "y.h5ad").obsm["X_mine"].shape == (N, 2)


# --------------------------------------------------------------------------- outputs


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, data):
    """One DensMAP run writing every kind of output, without --quiet."""
    X, y = data
    d = tmp_path_factory.mktemp("fitted")
    np.save(d / "x.npy", X.astype(np.float32))
    np.savetxt(d / "labels.txt", np.where(y == 0, "left", "right"), fmt="%s")
    proc = run(
        "embed", "x.npy", "--out", "emb.csv", "--labels", "labels.txt", "--densmap",
        "--dens-lambda", "0.5", "--n-components", "2", "--output-dens", "--plot", "emb.png",
        "--density-plot", "dens.png", "--model", "model.npz", *FAST, cwd=d,
    )
    assert_ok(proc)
    return d, proc


def test_embed_writes_embedding_radii_model_and_plots(fitted):
    d, _ = fitted
    emb = np.loadtxt(d / "emb.csv", delimiter=",")
    assert emb.shape == (N, 2)
    for name in ("emb_rad_orig.csv", "emb_rad_emb.csv"):
        assert np.loadtxt(d / name).shape == (N,)
    for name in ("emb.png", "dens.png"):
        assert (d / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    model = densumap.load(d / "model.npz")
    assert type(model) is densumap.UMAP
    assert model.densmap and model.dens_lambda == 0.5
    np.testing.assert_allclose(model.embedding_, emb, rtol=1e-6)


def test_progress_on_stderr_without_quiet(fitted):
    _, proc = fitted
    assert "epoch" in proc.stderr  # the tqdm bar
    assert "[densumap] optimisation" in proc.stderr
    assert "wrote emb.csv" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_embed_tsv_output_and_three_components(tmp_path, data):
    X, _ = data
    np.save(tmp_path / "x.npy", X)
    proc = run("embed", "x.npy", "--out", "e.tsv", "--n-components", "3", "--metric",
               "cosine", "--min-dist", "0.3", "--quiet", *FAST, cwd=tmp_path)
    assert_ok(proc)
    assert np.loadtxt(tmp_path / "e.tsv", delimiter="\t").shape == (N, 3)


def test_supervised_with_string_labels(tmp_path, data):
    X, y = data
    np.save(tmp_path / "x.npy", X)
    # No header: above text labels, a header line cannot be told from a label.
    np.savetxt(tmp_path / "y.csv", np.where(y == 0, "cat", "dog"), fmt="%s")
    proc = run("embed", "x.npy", "--labels", "y.csv", "--supervised", "--target-weight", "0.8",
               "--out", "e.npy", "--plot", "e.png", "--quiet", *FAST, cwd=tmp_path)
    assert_ok(proc)
    supervised = np.load(tmp_path / "e.npy")
    assert supervised.shape == (N, 2)
    # Without --supervised the same labels only colour the plot: another fit.
    proc = run("embed", "x.npy", "--labels", "y.csv", "--out", "u.npy", "--quiet", *FAST,
               cwd=tmp_path)
    assert_ok(proc)
    assert not np.allclose(np.load(tmp_path / "u.npy"), supervised)


def test_transform_applies_saved_model(fitted, data):
    d, _ = fitted
    X, y = data
    new = X[::3].astype(np.float32) + 1
    np.save(d / "new.npy", new)
    np.save(d / "new_labels.npy", y[::3])
    proc = run("transform", "model.npz", "new.npy", "--out", "new_emb.npy", "--labels",
               "new_labels.npy", "--plot", "new.png", "--quiet", cwd=d)
    assert_ok(proc)
    assert np.load(d / "new_emb.npy").shape == (new.shape[0], 2)
    assert not (d / "new_emb_rad_orig.npy").exists()
    assert (d / "new.png").read_bytes()[:4] == b"\x89PNG"
    proc = run("transform", "model.npz", "new.npy", "--out", "new_emb.csv", "--output-dens",
               "--quiet", cwd=d)
    assert_ok(proc)
    assert np.loadtxt(d / "new_emb.csv", delimiter=",").shape == (new.shape[0], 2)
    for name in ("new_emb_rad_orig.csv", "new_emb_rad_emb.csv"):
        assert np.loadtxt(d / name).shape == (new.shape[0],)


@pytest.mark.slow  # 7 s; test_dask.py compares the Dask transform with the in-memory one
def test_transform_with_dask_equals_in_memory(fitted, data):
    pytest.importorskip("dask")
    d, _ = fitted
    X, _ = data
    new = X[1::3].astype(np.float32) + 1
    np.save(d / "dnew.npy", new)
    assert_ok(run("transform", "model.npz", "dnew.npy", "--out", "mem.npy", "--quiet", cwd=d))
    assert_ok(run("transform", "model.npz", "dnew.npy", "--out", "dsk.npy", "--dask",
                  "--chunk-rows", "7", "--quiet", cwd=d))
    assert np.array_equal(np.load(d / "mem.npy"), np.load(d / "dsk.npy"))


def test_transform_with_dask_errors(fitted, data):
    pytest.importorskip("dask")
    d, _ = fitted
    X, _ = data
    bad = X[:20].astype(np.float32)
    bad[12, 3] = np.nan
    np.save(d / "bad.npy", bad)
    assert_user_error(run("transform", "model.npz", "bad.npy", "--out", "b.npy", "--dask",
                          "--chunk-rows", "10", cwd=d), "rows 10-19")
    assert_user_error(run("transform", "model.npz", "bad.npy", "--out", "b.npy", "--dask",
                          "--plot", "p.png", cwd=d), "--plot cannot be combined with --dask")


def test_transform_wrong_number_of_features(fitted):
    d, _ = fitted
    np.save(d / "narrow.npy", np.zeros((4, D - 1), dtype=np.float32))
    proc = run("transform", "model.npz", "narrow.npy", "--out", "o.npy", cwd=d)
    assert_user_error(proc, "narrow.npy")


def test_python_m_densumap(tmp_path):
    proc = run("--version", cwd=tmp_path, module="densumap")
    assert_ok(proc)
    assert proc.stdout.strip() == f"densumap {densumap.__version__}"


def test_demo(tmp_path):
    proc = run("demo", "--out", "demo.png", "--n-epochs", "10", "--quiet", cwd=tmp_path)
    assert_ok(proc)
    for figure in ("kNN accuracy", "trustworthiness", "density corr.", "fit time"):
        assert figure in proc.stdout
    assert "UMAP" in proc.stdout and "DensMAP" in proc.stdout
    assert (tmp_path / "demo.png").read_bytes()[:4] == b"\x89PNG"


# --------------------------------------------------------------------------- errors


@pytest.fixture
def files(tmp_path, data):
    X, y = data
    np.save(tmp_path / "x.npy", X)
    np.savetxt(tmp_path / "ten.txt", y[:10], fmt="%d")
    (tmp_path / "x.xyz").write_text("1,2\n")
    (tmp_path / "words.csv").write_text("a,b\n1,2\n3,oops\n")
    np.save(tmp_path / "strings.npy", np.array([["a", "b"], ["c", "d"]]))
    (tmp_path / "junk.pkl").write_bytes(b"not a pickle")
    return tmp_path


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["embed", "missing.npy", "--out", "o.npy"], "No such file: 'missing.npy'"),
        (["embed", "x.xyz", "--out", "o.npy"], "unknown file type 'x.xyz'"),
        (["embed", "words.csv", "--out", "o.npy"], "'words.csv': row 3, column 2 ('b')"),
        (["embed", "strings.npy", "--out", "o.npy"], "strings.npy: data must be numeric"),
        (["embed", "x.npy", "--labels", "ten.txt", "--out", "o.npy"],
         f"ten.txt holds 10 labels but x.npy has {N} rows"),
        (["embed", "x.npy", "--labels", "nolabels.csv", "--out", "o.npy"],
         "No such file: 'nolabels.csv'"),
        (["embed", "x.npy", "--out", "o.npy", "--n-neighbors", "1"],
         "'n_neighbors' parameter of UMAP must be an int in the range [2, inf)"),
        (["embed", "x.npy", "--out", "o.npy", "--dens-frac", "1.5"], "'dens_frac'"),
        (["embed", "x.npy", "--out", "o.npy", "--metric", "nope"], "'metric' parameter"),
        (["embed", "x.npy", "--out", "o.npy", "--min-dist", "abc"],
         "argument --min-dist: invalid float value: 'abc'"),
        (["embed", "x.npy", "--out", "o.npy", "--supervised"], "--supervised needs --labels"),
        (["embed", "x.npy", "--out", "o.npy", "--target-weight", "2"], "'target_weight'"),
        (["embed", "x.npy", "--out", "o.txt"], "unknown file type '.txt'"),
        (["embed", "x.npy", "--out", "nodir/o.npy"], "no such directory 'nodir'"),
        (["embed", "x.npy", "--out", "o.h5ad"], "INPUT must be .h5ad too"),
        (["embed", "x.npy", "--out", "o.npy", "--plot", "p.png", "--n-components", "3"],
         "--plot draws 2-D embeddings"),
        (["embed", "x.npy"], "the following arguments are required: --out"),
        (["transform", "nomodel.pkl", "x.npy", "--out", "o.npy"],
         "No such model file: 'nomodel.pkl'"),
        (["transform", "junk.pkl", "x.npy", "--out", "o.npy"],
         "junk.pkl: not a densumap model file (it is not a zip archive)"),
        (["demo", "--out", "demo.gif"], "unknown file type '.gif'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_errors_exit_2_with_one_line(files, args, fragment):
    proc = run(*args, cwd=files)
    assert_user_error(proc, fragment)
    assert not (files / "o.npy").exists()


def test_traceback_flag_shows_the_traceback(files):
    proc = run("--traceback", "embed", "missing.npy", "--out", "o.npy", cwd=files)
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "No such file" in proc.stderr
