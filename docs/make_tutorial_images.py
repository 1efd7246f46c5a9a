"""Regenerate the images of docs/tutorial.md (DensMAP on Fashion-MNIST).

Run from the repository root:

    PYTHONPATH=src python docs/make_tutorial_images.py --data /path/to/fashion-mnist --n 5000

``--data`` is a directory with the four Fashion-MNIST IDX files (read with
``densumap.datasets.load_fashion_mnist``; nothing is downloaded). ``--n`` keeps a
random subset of that many training images (default: all 60,000) and a fifth as
many held-out test images (at most the 10,000 there are).

The script writes the subset to a work directory as ``train.npy``,
``train_labels.txt``, ``test.npy`` and ``test_labels.txt``, then runs there exactly
the ``densumap`` commands quoted in the tutorial (adding ``--quiet``), printing each
one, and copies the PNGs they make into docs/images/.
"""
import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
IMAGES = HERE / "images"
SRC = HERE.parent / "src"
sys.path.insert(0, str(SRC))

from densumap.datasets import load_fashion_mnist  # noqa: E402

CLASSES = np.array([
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
])
COMMON = "--labels train_labels.txt --seed 42"

# (command, images it makes); run in this order, in the work directory.
COMMANDS = [
    (f"densumap embed train.npy {COMMON} --out umap.npy --plot fmnist_umap.png",
     ["fmnist_umap.png"]),
    (f"densumap embed train.npy {COMMON} --densmap --out densmap.npy "
     "--plot fmnist_densmap.png --output-dens --density-plot fmnist_density.png",
     ["fmnist_densmap.png", "fmnist_density.png"]),
    (f"densumap embed train.npy {COMMON} --densmap --dens-lambda 0.1 --out l01.npy "
     "--plot fmnist_lambda_0.1.png", ["fmnist_lambda_0.1.png"]),
    (f"densumap embed train.npy {COMMON} --densmap --dens-lambda 5 --out l5.npy "
     "--plot fmnist_lambda_5.png", ["fmnist_lambda_5.png"]),
    (f"densumap embed train.npy {COMMON} --supervised --densmap --model supervised.npz "
     "--out supervised.npy --plot fmnist_supervised.png", ["fmnist_supervised.png"]),
    ("densumap transform supervised.npz test.npy --labels test_labels.txt "
     "--out test_emb.npy --plot fmnist_transform.png", ["fmnist_transform.png"]),
]


def prepare(data, n, work, seed):
    X, y = load_fashion_mnist(data)
    train, test = np.arange(60_000), np.arange(60_000, 70_000)
    rng = np.random.default_rng(seed)
    n_test = min(len(test), max(n // 5, 1))
    if n < len(train):
        train = np.sort(rng.choice(train, n, replace=False))
    if n_test < len(test):
        test = np.sort(rng.choice(test, n_test, replace=False))
    np.save(work / "train.npy", X[train])
    np.save(work / "test.npy", X[test])
    np.savetxt(work / "train_labels.txt", CLASSES[y[train]], fmt="%s")
    np.savetxt(work / "test_labels.txt", CLASSES[y[test]], fmt="%s")
    print(f"# {len(train)} training and {len(test)} held-out images in {work}", flush=True)


def run(command, work):
    print(f"$ {command}", flush=True)
    argv = shlex.split(command)
    assert argv[0] == "densumap"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "densumap", *argv[1:], "--quiet"], cwd=work,
                   env=env, check=True)
    print(f"# {time.perf_counter() - start:.0f} s", flush=True)


def transform_accuracy(work):
    """Share of held-out images whose 10 nearest training points (in the supervised
    embedding) mostly have their class: how well transform placed them."""
    from sklearn.neighbors import KNeighborsClassifier

    from densumap.datasets import load_labels

    clf = KNeighborsClassifier(n_neighbors=10).fit(
        np.load(work / "supervised.npy"), load_labels(work / "train_labels.txt"))
    score = clf.score(np.load(work / "test_emb.npy"), load_labels(work / "test_labels.txt"))
    print(f"# 10-NN accuracy of the placed held-out images: {score:.3f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None,
                        help="directory with the Fashion-MNIST IDX files (default: "
                             "load_fashion_mnist's search: $DENSUMAP_DATA, Debian's package)")
    parser.add_argument("--n", type=int, default=60_000,
                        help="training images to use (default: all 60,000)")
    parser.add_argument("--work", default=None, help="work directory (default: a temporary one)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the subsample")
    args = parser.parse_args()

    IMAGES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work or tmp)
        work.mkdir(parents=True, exist_ok=True)
        prepare(args.data, args.n, work, args.seed)
        for command, images in COMMANDS:
            run(command, work)
            for image in images:
                shutil.copy(work / image, IMAGES / image)
                size = (IMAGES / image).stat().st_size
                print(f"# wrote docs/images/{image} ({size // 1024} KB)", flush=True)
        if (work / "test_emb.npy").exists():
            transform_accuracy(work)


if __name__ == "__main__":
    main()
