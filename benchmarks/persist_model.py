"""Save/load time and file size of densumap's safe model format against pickle.

    python benchmarks/persist_model.py --out persist_model.json
    python benchmarks/persist_model.py --data /path/to/fashion-mnist --repeats 5

Fits one DensMAP model on all 70,000 Fashion-MNIST images (train + test, 784
uint8 pixels each, read with ``densumap.datasets.load_fashion_mnist`` and
converted to float32, so the model keeps 70,000 x 784 float32 training rows),
then, ``--repeats`` times each, into a fresh temporary directory beside
``--tmpdir``:

* ``densumap.save(model, path)`` and ``densumap.load(path)`` (atomic write with
  fsync of the file and its directory, zip CRC check on reading);
* ``pickle.dump`` (protocol 5, to an open file, no fsync) and ``pickle.load``.

Reported: the median and every sample of each time, both file sizes, and a check
that the loaded model's ``transform`` of 1,000 test images is bit-identical to the
original's.  Times are wall-clock (``time.perf_counter``); files are read back from
the page cache, as when a model is reused right after it was written.
"""
import argparse
import os
import pickle
import statistics
import sys
import tempfile
import time

import numpy as np

from _common import DEFAULT_DATA, SRC_DIR, machine_info, save_json

sys.path.insert(0, str(SRC_DIR))

import densumap  # noqa: E402
from densumap.datasets import load_fashion_mnist  # noqa: E402


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="Fashion-MNIST directory")
    ap.add_argument("--n", type=int, default=70_000, help="training points (default all)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--tmpdir", default=None, help="where the files are written")
    ap.add_argument("--out", default=None, help="JSON results file")
    args = ap.parse_args(argv)

    X, _ = load_fashion_mnist(args.data)
    X = np.ascontiguousarray(X.reshape(X.shape[0], -1)[: args.n], dtype=np.float32)
    t_fit, model = timed(lambda: densumap.UMAP(densmap=True, random_state=args.seed)
                         .fit(X))
    print(f"fit {X.shape[0]} x {X.shape[1]} DensMAP: {t_fit:.1f} s", flush=True)
    probe = X[:1000] + 1.0  # new points (shifted so none is a training row)

    res = {"save": [], "load": [], "pickle_dump": [], "pickle_load": []}
    with tempfile.TemporaryDirectory(dir=args.tmpdir) as d:
        safe, pkl = os.path.join(d, "model.npz"), os.path.join(d, "model.pkl")
        for _ in range(args.repeats):
            res["save"].append(timed(lambda: densumap.save(model, safe))[0])
            t, loaded = timed(lambda: densumap.load(safe))
            res["load"].append(t)

            def dump():
                with open(pkl, "wb") as f:
                    pickle.dump(model, f, protocol=5)

            def undump():
                with open(pkl, "rb") as f:
                    return pickle.load(f)

            res["pickle_dump"].append(timed(dump)[0])
            res["pickle_load"].append(timed(undump)[0])
        sizes = {"densumap": os.path.getsize(safe), "pickle": os.path.getsize(pkl)}
        identical = bool(np.array_equal(model.transform(probe), loaded.transform(probe)))

    summary = {k: {"median_s": statistics.median(v), "samples_s": v} for k, v in res.items()}
    for k, v in summary.items():
        print(f"{k:12s} median {v['median_s']:.3f} s  samples "
              + ", ".join(f"{s:.3f}" for s in v["samples_s"]))
    print(f"size: densumap {sizes['densumap']:,} bytes, pickle {sizes['pickle']:,} bytes "
          f"({sizes['densumap'] / sizes['pickle']:.4f} x)")
    print(f"transform of 1,000 new points bit-identical after load: {identical}")
    if args.out:
        save_json(args.out, {"machine": machine_info(), "n": int(X.shape[0]),
                             "d": int(X.shape[1]), "fit_s": t_fit, "times": summary,
                             "sizes_bytes": sizes, "transform_identical": identical})
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
