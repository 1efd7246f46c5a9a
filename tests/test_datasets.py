"""Tests for densumap.datasets on small files written by the tests themselves."""
import gzip
import struct

import numpy as np
import pytest

from densumap import datasets
from densumap.datasets import (
    load_array,
    load_fashion_mnist,
    load_idx,
    load_labels,
    load_mnist,
    save_array,
)

_CODES = {
    np.dtype("u1"): 0x08,
    np.dtype("i1"): 0x09,
    np.dtype("i2"): 0x0B,
    np.dtype("i4"): 0x0C,
    np.dtype("f4"): 0x0D,
    np.dtype("f8"): 0x0E,
}


def idx_bytes(arr):
    """Encode ``arr`` as IDX: independent of the reader, straight from the spec."""
    arr = np.asarray(arr)
    header = bytes([0, 0, _CODES[arr.dtype], arr.ndim])
    header += b"".join(struct.pack(">I", d) for d in arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write_idx(path, arr, gz=False):
    data = idx_bytes(arr)
    if gz:
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)
    return path


@pytest.fixture(autouse=True)
def no_env_data(monkeypatch):
    # A developer's own $DENSUMAP_DATA must not leak into the search tests.
    monkeypatch.delenv("DENSUMAP_DATA", raising=False)


# ----------------------------------------------------------------------------- IDX


@pytest.mark.parametrize("gz", [False, True])
def test_idx_round_trip_images_and_labels(tmp_path, gz):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 4, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, size=5, dtype=np.uint8)
    suffix = ".gz" if gz else ""
    got_images = load_idx(write_idx(tmp_path / f"img-idx3-ubyte{suffix}", images, gz))
    got_labels = load_idx(write_idx(tmp_path / f"lab-idx1-ubyte{suffix}", labels, gz))
    assert got_images.dtype == np.uint8 and got_images.shape == (5, 4, 3)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


@pytest.mark.parametrize("dtype", ["i1", "i2", "i4", "f4", "f8"])
def test_idx_other_types_native_byte_order(tmp_path, dtype):
    arr = (np.arange(12).reshape(3, 4) - 5).astype(dtype)
    got = load_idx(write_idx(tmp_path / "a.idx", arr))
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative
    np.testing.assert_array_equal(got, arr)


def test_idx_bad_magic_names_file(tmp_path):
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(b"\x01\x02\x08\x01" + b"\x00" * 8)
    with pytest.raises(ValueError, match=r"bad-idx3-ubyte.*not an IDX file: bad magic"):
        load_idx(path)


def test_idx_unknown_type_code(tmp_path):
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00")
    with pytest.raises(ValueError, match="bad magic"):
        load_idx(path)


def test_idx_truncated_names_file(tmp_path):
    data = idx_bytes(np.zeros((4, 2, 2), dtype=np.uint8))
    path = tmp_path / "short-idx3-ubyte"
    path.write_bytes(data[:-3])
    with pytest.raises(ValueError, match=r"short-idx3-ubyte.*truncated.*needs 16 data bytes.*13"):
        load_idx(path)
    path.write_bytes(data[:6])  # cut inside the dimension list
    with pytest.raises(ValueError, match="truncated"):
        load_idx(path)


def test_idx_missing_file():
    with pytest.raises(FileNotFoundError, match="nope-idx1-ubyte"):
        load_idx("/nonexistent/nope-idx1-ubyte")


# ----------------------------------------------------------------------------- MNIST


def write_mnist_dir(directory, n_train=6, n_test=4, gz=True, skip=()):
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for name, arr in arrays.items():
        if name not in skip:
            write_idx(directory / (name + (".gz" if gz else "")), arr, gz)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_load_fashion_mnist_from_path(tmp_path, gz):
    arrays = write_mnist_dir(tmp_path, gz=gz)
    X, y = load_fashion_mnist(tmp_path)
    assert X.dtype == np.float32 and X.shape == (10, 784)
    assert y.dtype == np.int64 and y.shape == (10,)
    expected_X = np.concatenate(
        [arrays["train-images-idx3-ubyte"], arrays["t10k-images-idx3-ubyte"]]
    ).reshape(10, 784)
    np.testing.assert_array_equal(X, expected_X.astype(np.float32))
    np.testing.assert_array_equal(
        y, np.concatenate([arrays["train-labels-idx1-ubyte"], arrays["t10k-labels-idx1-ubyte"]])
    )
    assert X.max() > 1  # raw 0..255 values, not rescaled


def test_load_mnist_from_env_subfolder(tmp_path, monkeypatch):
    write_mnist_dir(tmp_path / "mnist", n_train=3, n_test=2)
    monkeypatch.setenv("DENSUMAP_DATA", str(tmp_path))
    X, y = load_mnist()
    assert X.shape == (5, 784) and y.shape == (5,)


def test_load_fashion_mnist_env_and_explicit_path_order(tmp_path, monkeypatch):
    write_mnist_dir(tmp_path / "mine", n_train=2, n_test=1)
    write_mnist_dir(tmp_path / "env" / "fashion-mnist", n_train=3, n_test=2)
    monkeypatch.setenv("DENSUMAP_DATA", str(tmp_path / "env"))
    assert load_fashion_mnist(tmp_path / "mine")[0].shape[0] == 3
    assert load_fashion_mnist()[0].shape[0] == 5


def test_not_found_lists_every_place(tmp_path, monkeypatch):
    write_mnist_dir(tmp_path / "partial", skip=("t10k-labels-idx1-ubyte",))
    monkeypatch.setenv("DENSUMAP_DATA", str(tmp_path / "env"))
    monkeypatch.setattr(
        datasets, "_load_mnist_like", _with_system_dirs(datasets._load_mnist_like, tmp_path)
    )
    with pytest.raises(FileNotFoundError) as info:
        load_fashion_mnist(tmp_path / "partial")
    msg = str(info.value)
    assert str(tmp_path / "partial") in msg and "missing t10k-labels-idx1-ubyte" in msg
    assert str(tmp_path / "env" / "fashion-mnist") in msg
    assert str(tmp_path / "env") + " (no such directory)" in msg
    assert str(tmp_path / "system") in msg
    assert "apt-get install dataset-fashion-mnist" in msg and "path=" in msg


def _with_system_dirs(func, tmp_path):
    # Replace the Debian directory by one under tmp_path so the test does not
    # depend on what this machine has installed.
    def wrapper(name, path, subdirs, system_dirs, how_to_get):
        return func(name, path, subdirs, (str(tmp_path / "system"),), how_to_get)

    return wrapper


def test_not_found_without_env_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"(?s)Looked in:.*DENSUMAP_DATA \(not set\)"):
        load_mnist(tmp_path)


def test_mismatched_image_and_label_counts(tmp_path):
    write_mnist_dir(tmp_path, gz=False)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(3, dtype=np.uint8))
    with pytest.raises(ValueError, match="holds 3 labels"):
        load_mnist(tmp_path)


# ----------------------------------------------------------------------------- load_array


def test_csv_without_header(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("1,2,3\n4.5,-6,7e1\n")
    X = load_array(path)
    np.testing.assert_array_equal(X, [[1, 2, 3], [4.5, -6, 70]])
    assert X.dtype == np.float64


def test_csv_with_header_and_tsv(tmp_path):
    (tmp_path / "x.csv").write_text('"a","b"\n1,2\n3,4\n')
    np.testing.assert_array_equal(load_array(tmp_path / "x.csv"), [[1, 2], [3, 4]])
    (tmp_path / "x.tsv").write_text("a\tb\n1\t2\n")
    np.testing.assert_array_equal(load_array(tmp_path / "x.tsv"), [[1, 2]])


def test_csv_gz(tmp_path):
    with gzip.open(tmp_path / "x.csv.gz", "wt") as f:
        f.write("x,y\n1,2\n")
    np.testing.assert_array_equal(load_array(tmp_path / "x.csv.gz"), [[1, 2]])


def test_csv_non_numeric_cell_names_row_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b,c\n1,2,3\n4,oops,6\n")
    with pytest.raises(ValueError, match=r"bad\.csv.*row 3, column 2 \('b'\).*'oops'"):
        load_array(path)
    path.write_text("1,2\n3,\n")
    with pytest.raises(ValueError, match=r"row 2, column 2.*''"):
        load_array(path)
    path.write_text("1,2\n3,4,5\n")
    with pytest.raises(ValueError, match="row 2 has 3 columns, expected 2"):
        load_array(path)


def test_csv_header_only(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("a,b\n")
    with pytest.raises(ValueError, match="no data rows"):
        load_array(path)


def test_npy_and_images_flattened(tmp_path):
    arr = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    np.save(tmp_path / "x.npy", arr)
    X = load_array(tmp_path / "x.npy")
    assert X.shape == (2, 12) and X.dtype == np.float32
    write_idx(tmp_path / "im-idx3-ubyte.gz", arr.astype(np.uint8), gz=True)
    assert load_array(tmp_path / "im-idx3-ubyte.gz").shape == (2, 12)


def test_npy_1d_is_rejected(tmp_path):
    np.save(tmp_path / "v.npy", np.arange(3))
    with pytest.raises(ValueError, match=r"shape \(3,\).*2-D.*load_labels"):
        load_array(tmp_path / "v.npy")


def test_npz_single_named_and_ambiguous(tmp_path):
    a = np.ones((2, 2))
    np.savez(tmp_path / "one.npz", anything=a)
    np.testing.assert_array_equal(load_array(tmp_path / "one.npz"), a)
    np.savez(tmp_path / "named.npz", X=a, y=np.zeros(2))
    np.testing.assert_array_equal(load_array(tmp_path / "named.npz"), a)
    np.savez(tmp_path / "data.npz", data=a, y=np.zeros(2))
    np.testing.assert_array_equal(load_array(tmp_path / "data.npz"), a)
    np.savez(tmp_path / "two.npz", p=a, q=a)
    with pytest.raises(ValueError, match=r"two\.npz.*2 arrays \('p', 'q'\).*'X' or 'data'"):
        load_array(tmp_path / "two.npz")


def test_unknown_extension_lists_formats(tmp_path):
    path = tmp_path / "x.parquet"
    path.write_text("")
    with pytest.raises(ValueError, match=r"x\.parquet.*Supported formats: \.npy, \.npz, \.csv"):
        load_array(path)


def test_missing_file_named():
    with pytest.raises(FileNotFoundError, match="missing_file.csv"):
        load_array("/nonexistent/missing_file.csv")


def test_h5ad_needs_anndata_or_reads(tmp_path):
    try:
        import anndata
    except ImportError:
        path = tmp_path / "x.h5ad"
        path.write_bytes(b"")
        with pytest.raises(ImportError, match="pip install anndata"):
            load_array(path)
    else:
        path = tmp_path / "x.h5ad"
        anndata.AnnData(np.eye(3, dtype=np.float32)).write_h5ad(path)
        np.testing.assert_array_equal(load_array(path), np.eye(3))


# ----------------------------------------------------------------------------- labels, save


def test_load_labels_formats(tmp_path):
    (tmp_path / "y.txt").write_text("cat\ndog\ncat\n\n")
    np.testing.assert_array_equal(load_labels(tmp_path / "y.txt"), ["cat", "dog", "cat"])
    (tmp_path / "y.csv").write_text("label\n3\n1\n")
    y = load_labels(tmp_path / "y.csv")
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, [3, 1])
    (tmp_path / "f.csv").write_text("0.5\n1\n")
    assert load_labels(tmp_path / "f.csv").dtype == np.float64
    np.save(tmp_path / "y.npy", np.array([[1], [2]]))
    np.testing.assert_array_equal(load_labels(tmp_path / "y.npy"), [1, 2])
    write_idx(tmp_path / "l-idx1-ubyte", np.array([7, 8], dtype=np.uint8))
    np.testing.assert_array_equal(load_labels(tmp_path / "l-idx1-ubyte"), [7, 8])


def test_load_labels_errors(tmp_path):
    (tmp_path / "y.csv").write_text("1,2\n")
    with pytest.raises(ValueError, match="row 1 has 2 columns"):
        load_labels(tmp_path / "y.csv")
    (tmp_path / "e.txt").write_text("a\n\nb\n")
    with pytest.raises(ValueError, match="row 2 is empty"):
        load_labels(tmp_path / "e.txt")
    np.save(tmp_path / "m.npy", np.ones((2, 2)))
    with pytest.raises(ValueError, match="1-D"):
        load_labels(tmp_path / "m.npy")
    with pytest.raises(ValueError, match="Supported formats"):
        load_labels(tmp_path / "y.json")


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".tsv"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_save_array_round_trip(tmp_path, suffix, dtype):
    arr = np.random.default_rng(2).normal(size=(5, 2)).astype(dtype)
    path = save_array(tmp_path / f"emb{suffix}", arr)
    back = load_array(path)
    np.testing.assert_array_equal(back.astype(dtype), arr)


def test_save_array_errors(tmp_path):
    with pytest.raises(ValueError, match=r"emb\.txt.*Supported formats: \.npy, \.csv"):
        save_array(tmp_path / "emb.txt", np.ones((2, 2)))
    with pytest.raises(ValueError, match="use .npy"):
        save_array(tmp_path / "emb.csv", np.ones((2, 2, 2)))


@pytest.mark.slow
def test_real_fashion_mnist_if_installed():
    try:
        X, y = load_fashion_mnist()
    except FileNotFoundError:
        pytest.skip("Fashion-MNIST files not installed")
    assert X.shape == (70000, 784) and X.dtype == np.float32
    assert y.shape == (70000,) and set(np.unique(y)) == set(range(10))
    assert X.min() == 0 and X.max() == 255
