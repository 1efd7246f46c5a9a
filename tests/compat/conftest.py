"""Local stand-ins for the data umap-learn's documentation pages download.

Nothing here touches the network or ../shared: MNIST-like data sets are written as
the four standard IDX files (from the format's description, independently of
densumap's reader) and read back with ``densumap.datasets``, as a user with the
real files would.
"""
import gzip
import struct
import types

import numpy as np
import pytest
from sklearn.datasets import load_digits

import densumap.datasets

_IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
              "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def write_idx(path, arr):
    """Write a uint8 array as a gzip-compressed IDX file (magic 0x0000 08 ndim)."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + arr.tobytes())


def digit_images(seed, flip=False):
    """The 1,797 scikit-learn digits as 28 x 28 uint8 images in random order.

    Each 8 x 8 image (values 0..16) is blown up 3x to 24 x 24, padded to 28 x 28,
    scaled to 0..255 and given a little pixel noise, so the images look like MNIST's
    (784 pixels, mostly black background). ``flip`` mirrors them left to right, to
    make a second, different data set of the same shape.
    """
    d = load_digits()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(d.target))
    img = np.kron(d.images[order], np.ones((3, 3)))          # (n, 24, 24)
    img = np.pad(img, ((0, 0), (2, 2), (2, 2))) * (255.0 / 16.0)
    if flip:
        img = img[:, :, ::-1]
    img = np.clip(img + rng.normal(0.0, 8.0, img.shape), 0, 255)
    return img.astype(np.uint8), d.target[order].astype(np.uint8)


def write_mnist_like(directory, images, labels, n_train):
    """Write ``images``/``labels`` as the four IDX files, the first ``n_train`` as training."""
    directory.mkdir(parents=True, exist_ok=True)
    parts = (images[:n_train], labels[:n_train], images[n_train:], labels[n_train:])
    for name, arr in zip(_IDX_FILES, parts):
        write_idx(directory / (name + ".gz"), arr)
    return directory


@pytest.fixture(scope="session")
def mnist_dir(tmp_path_factory):
    """A directory with MNIST-like IDX files: 1,500 training and 297 test images."""
    images, labels = digit_images(seed=0)
    return write_mnist_like(tmp_path_factory.mktemp("mnist"), images, labels, 1500)


@pytest.fixture(scope="session")
def fashion_dir(tmp_path_factory):
    """A second MNIST-like set (mirrored digits) standing in for Fashion-MNIST."""
    images, labels = digit_images(seed=1, flip=True)
    return write_mnist_like(tmp_path_factory.mktemp("fashion-mnist"), images, labels, 1500)


@pytest.fixture(scope="session")
def mnist(mnist_dir):
    """``(data, target)`` read with densumap.datasets.load_mnist: (1797, 784) and (1797,)."""
    return densumap.datasets.load_mnist(mnist_dir)


@pytest.fixture(scope="session")
def fmnist(fashion_dir):
    """``(data, target)`` read with densumap.datasets.load_fashion_mnist."""
    return densumap.datasets.load_fashion_mnist(fashion_dir)


@pytest.fixture(scope="session")
def digits_bunch():
    """scikit-learn's digits as the pages use them (``.data``, ``.target``, ``.images``)."""
    return load_digits()


@pytest.fixture(scope="session")
def colour_cube():
    """The "UMAP parameters" page's data: 800 random points of the 4-D unit cube, seed 42."""
    return np.random.default_rng(42).random((800, 4))


@pytest.fixture(scope="session")
def three_blobs():
    """Three shifted copies of one random 60-D cloud, as on the "Precomputed k-NN" page.

    Smaller than the page's (300 points per copy instead of 1,700).
    """
    y = np.random.default_rng(0).random((300, 60))
    X = np.concatenate((y + 20, y, y - 20))
    return X, np.repeat([1, 2, 3], 300)


@pytest.fixture(scope="session")
def newsgroups_like():
    """Generated word-count documents in 6 topics, standing in for 20 newsgroups.

    Each topic draws words mostly from its own 40-word vocabulary and partly from a
    shared one; returns a namespace with ``data`` (list of str), ``target`` and
    ``target_names``, as ``fetch_20newsgroups`` does.
    """
    rng = np.random.default_rng(0)
    n_topics, per_topic = 6, 80
    shared = [f"common{i}" for i in range(60)]
    docs, target = [], []
    for t in range(n_topics):
        own = [f"topic{t}word{i}" for i in range(40)]
        for _ in range(per_topic):
            n_words = rng.integers(40, 120)
            mine = rng.choice(own, size=int(n_words * 0.6))
            common = rng.choice(shared, size=n_words - len(mine))
            docs.append(" ".join(rng.permutation(np.concatenate([mine, common]))))
            target.append(t)
    order = rng.permutation(len(docs))
    return types.SimpleNamespace(
        data=[docs[i] for i in order], target=np.asarray(target)[order],
        target_names=[f"topic.{t}" for t in range(n_topics)])
