"""Regenerate the images of docs/tutorial.md (DensMAP on Fashion-MNIST) by running the page.

Run from the repository root:

    PYTHONPATH=src nice -n 19 python docs/make_tutorial_images.py --data /path/to/fashion-mnist

The script reads docs/tutorial.md, takes its ```python blocks in order and runs
each one exactly as written, in one shared namespace (as the cells of a
notebook). ``--data`` (a directory with the four Fashion-MNIST IDX files) is
passed to the page's ``load_fashion_mnist()`` through ``$DENSUMAP_DATA``;
nothing is downloaded. Every matplotlib figure a block opens is saved, in the
order opened, as the images the page shows between that block and the next one
(``![...](images/NAME.png)``), into docs/images/ (or ``--images``). A block's
last expression is printed, as a notebook would show it.

Before the page runs, a warm-up on 5,000 of the images makes numba compile (or
load from its disk cache) every kernel the page uses, so the block times printed
are those of a warm process. After the page, each model fitted on all the data
is measured as ``benchmarks/run.py`` measures it (``quality_metrics`` of
``benchmarks/_worker.py``: 10-NN accuracy and trustworthiness on a fixed sample
of 5,000 points, and a density correlation), plus the Pearson correlation of
``rad_orig_`` and ``rad_emb_`` for a model that has them. The script ends with a
summary of the block times, the load average and the measurements.

``python_blocks`` and ``run_blocks`` are importable, for a test that runs the page
on small generated data.
"""
import argparse
import ast
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

_BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
_IMAGE = re.compile(r"!\[[^\]]*\]\(images/([^)\s]+\.png)\)")


def python_blocks(markdown):
    """The page's Python blocks, each with the images shown after it.

    Returns
    -------
    blocks : list of (code, images)
        ``code`` is the block's text; ``images`` the file names (under images/) of
        the images between the end of this block and the start of the next one.
    """
    matches = list(_BLOCK.finditer(markdown))
    blocks = []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(markdown)
        blocks.append((m.group(1), _IMAGE.findall(markdown, m.end(), end)))
    return blocks


def _run_cell(code, namespace):
    """exec ``code``; evaluate and return its last expression (None if it has none)."""
    tree = ast.parse(code)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    exec(compile(tree, "<tutorial>", "exec"), namespace)
    if last is not None:
        return eval(compile(last, "<tutorial>", "eval"), namespace)
    return None


def run_blocks(blocks, images_dir, namespace=None, echo=print):
    """Run the blocks in one namespace and save the figures each opens.

    Returns
    -------
    namespace : dict
        The variables the page defined.
    timings : list of (last line of the block, wall seconds, CPU seconds of this process
        (all its threads), 1-minute load average before the block)
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    namespace = {"__name__": "__tutorial__"} if namespace is None else namespace
    images_dir = Path(images_dir)
    images_dir.mkdir(parents=True, exist_ok=True)
    timings = []
    for code, images in blocks:
        last_line = code.strip().splitlines()[-1] if code.strip() else ""
        echo("\n>>> " + "\n... ".join(code.rstrip().splitlines()))
        before = set(plt.get_fignums())
        load = os.getloadavg()[0]
        start, cpu_start = time.perf_counter(), time.process_time()
        value = _run_cell(code, namespace)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        timings.append((last_line, seconds, cpu, load))
        if value is not None:
            echo(repr(value))
        echo(f"# {seconds:.1f} s wall, {cpu:.1f} s CPU (1-min load average before: {load:.2f})")
        new = [n for n in plt.get_fignums() if n not in before]
        if len(new) != len(images):
            raise RuntimeError(
                f"the block ending {last_line!r} drew {len(new)} figure(s) but the page shows "
                f"{len(images)} image(s) after it: {images}")
        for num, name in zip(new, images):
            fig = plt.figure(num)
            path = images_dir / name
            fig.savefig(path, facecolor=fig.get_facecolor())
            plt.close(fig)
            echo(f"# wrote {path} ({path.stat().st_size // 1024} KB)")
    return namespace, timings


def _warm_up(data, target):
    """Compile (or load) every kernel the page runs, on 5,000 images."""
    import numpy as np

    import densumap

    rng = np.random.default_rng(0)
    idx = np.sort(rng.choice(data.shape[0], 5000, replace=False))
    X, y = data[idx], target[idx]
    start = time.perf_counter()
    densumap.UMAP(n_epochs=10, random_state=0).fit(X)
    densumap.UMAP(densmap=True, output_dens=True, n_epochs=10, random_state=0).fit(X)
    sup = densumap.UMAP(densmap=True, n_epochs=10, random_state=0).fit(X[:4000], y[:4000])
    sup.transform(X[4000:])
    return time.perf_counter() - start


def _measure(namespace, data, target):
    """Quality of every model in the namespace fitted on all of ``data``."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from _worker import quality_metrics

    from densumap.demo import density_correlation
    from densumap.estimator import UMAP

    rows = []
    for name, obj in namespace.items():
        if isinstance(obj, UMAP) and getattr(obj, "embedding_", None) is not None \
                and obj.embedding_.shape[0] == data.shape[0]:
            q = quality_metrics(data, target, obj.embedding_, 5000)
            if getattr(obj, "rad_orig_", None) is not None:
                q["radii_pearson"] = density_correlation(obj.rad_orig_, obj.rad_emb_)
            rows.append((name, q))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None,
                        help="directory with the four Fashion-MNIST IDX files (default: "
                             "load_fashion_mnist's search: $DENSUMAP_DATA, Debian's package)")
    parser.add_argument("--page", default=str(HERE / "tutorial.md"), help="the page to run")
    parser.add_argument("--images", default=str(HERE / "images"),
                        help="where to write the images (default: docs/images)")
    parser.add_argument("--no-measure", action="store_true",
                        help="skip the quality measurements after the page")
    args = parser.parse_args()

    if args.data is not None:
        os.environ["DENSUMAP_DATA"] = str(Path(args.data).resolve())
    from densumap.datasets import load_fashion_mnist

    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    print(f"# densumap at {commit}; {platform.platform()}; {os.cpu_count()} CPUs; "
          f"python {platform.python_version()}; {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    data, target = load_fashion_mnist()
    print(f"# warm-up on 5,000 images: {_warm_up(data, target):.1f} s", flush=True)

    blocks = python_blocks(Path(args.page).read_text())
    namespace, timings = run_blocks(blocks, args.images,
                                    echo=lambda s: print(s, flush=True))

    print("\n# block times: wall s, CPU s (all threads), 1-minute load average before")
    for last_line, seconds, cpu, load in timings:
        print(f"# {seconds:8.1f} {cpu:8.1f}  load {load:5.2f}  {last_line}")
    if not args.no_measure:
        print("\n# quality, as benchmarks/run.py measures it (5,000-point sample)")
        for name, q in _measure(namespace, data, target):
            extra = (f", radii Pearson r {q['radii_pearson']:.3f}"
                     if "radii_pearson" in q else "")
            print(f"# {name}: 10-NN acc {q['knn_acc']:.3f}, trustworthiness "
                  f"{q['trustworthiness']:.3f}, density corr {q['dens_corr']:.3f}{extra}")


if __name__ == "__main__":
    main()
