"""Distributed transform benchmark (issue 7): LocalCluster against one process.

Writes synthetic data (a mixture of Gaussians, ``--dim`` dimensions, float32) to a
``.npy`` file, fits a model on ``--train`` rows drawn from it with
``densumap.dask.fit_sample``, then transforms all ``--n`` rows twice, each in a
fresh process:

* ``single``: ``UMAP.transform`` of the memory-mapped file in one process (the
  block loop of ``densumap._blocks``, all numba threads);
* ``cluster``: ``densumap.dask.transform_file``-style on a ``LocalCluster`` of
  ``--workers`` worker processes with one thread each (the model scattered once),
  writing the embedding to ``.npy`` from the client.

Each phase first transforms a few thousand rows so that numba's compiled kernels
are loaded (from the on-disk cache) before the clock starts.  Memory is sampled
every 0.1 s from ``/proc/self/status`` in every process: ``RssAnon`` (private
memory: what must really fit) and ``VmHWM`` (peak resident set, which also counts
pages of the memory-mapped input that the process touched; the kernel can drop
those at any time).  The two results are compared with ``np.array_equal``.

Usage (from the repository root; needs the ``dask`` extra)::

    python benchmarks/dask_transform.py --n 2000000 --train 10000 --out dask_transform.json
"""
import argparse
import json
import os
import pickle
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO_ROOT, SRC_DIR, child_env, machine_info, save_json  # noqa: E402

# This checkout's densumap, here and in the dask worker processes started below.
sys.path.insert(0, str(SRC_DIR))
os.environ.update({"PYTHONPATH": child_env()["PYTHONPATH"]})


# ------------------------------------------------------------------ memory
class MemorySampler:
    """Peak ``RssAnon`` and ``VmHWM`` of this process, sampled in a daemon thread."""

    def __init__(self, period=0.1):
        self.period = period
        self.peak_anon_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def status():
        out = {}
        with open("/proc/self/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("RssAnon", "VmHWM", "VmRSS"):
                    out[key] = int(value.split()[0])
        return out

    def _run(self):
        while not self._stop.is_set():
            self.peak_anon_kib = max(self.peak_anon_kib, self.status().get("RssAnon", 0))
            self._stop.wait(self.period)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join()
        self.peak_anon_kib = max(self.peak_anon_kib, self.status().get("RssAnon", 0))
        return {"peak_rss_anon_mib": round(self.peak_anon_kib / 1024, 1),
                "peak_rss_hwm_mib": round(self.status()["VmHWM"] / 1024, 1)}


def cpu_seconds():
    """User + system CPU time of this process, all threads."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _start_worker_sampler(dask_worker=None):
    dask_worker._densumap_sampler = MemorySampler().start()
    dask_worker._densumap_cpu = cpu_seconds()
    return True


def _stop_worker_sampler(dask_worker=None):
    out = dask_worker._densumap_sampler.stop()
    out["cpu_s"] = round(cpu_seconds() - dask_worker._densumap_cpu, 2)
    return out


# ------------------------------------------------------------------ phases
def prepare(args, work):
    """Synthetic data on disk and a model fitted on a sample of it."""
    import joblib

    import densumap
    import densumap.dask as ddk

    data = work / "X.npy"
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=3.0, size=(20, args.dim)).astype(np.float32)
    X = np.lib.format.open_memmap(data, mode="w+", dtype=np.float32, shape=(args.n, args.dim))
    for start in range(0, args.n, 100_000):
        stop = min(start + 100_000, args.n)
        labels = rng.integers(0, len(centres), stop - start)
        X[start:stop] = centres[labels] + rng.normal(size=(stop - start, args.dim))
    X.flush()
    del X
    t0 = time.perf_counter()
    model, _ = ddk.fit_sample(
        densumap.UMAP(n_epochs=args.n_epochs, random_state=0, densmap=args.densmap),
        np.load(data, mmap_mode="r"), args.train, seed=0)
    fit_s = time.perf_counter() - t0
    joblib.dump(model, work / "model.joblib")
    return {"fit_s": round(fit_s, 2), "model_pickle_mib": round(len(pickle.dumps(model)) / 2**20, 2),
            "data_mib": round(data.stat().st_size / 2**20, 1)}


def phase_single(args, work):
    import joblib

    model = joblib.load(work / "model.joblib")
    X = np.load(work / "X.npy", mmap_mode="r")
    model.transform(np.ascontiguousarray(X[:2000]))  # load the compiled kernels
    out = np.lib.format.open_memmap(work / "single.npy", mode="w+", dtype=np.float32,
                                    shape=(X.shape[0], model.embedding_.shape[1]))
    from densumap import _blocks

    sampler = MemorySampler().start()
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    _blocks.transform_in_blocks(model, X, out=out, chunk_rows=args.chunk_rows)
    out.flush()
    seconds, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    mem = sampler.stop()
    return {"seconds": round(seconds, 2), "points_per_s": round(X.shape[0] / seconds, 1),
            "cpu_s": round(cpu, 2), "points_per_cpu_s": round(X.shape[0] / cpu, 1),
            "numba_threads": __import__("numba").get_num_threads(), **mem}


def phase_cluster(args, work):
    import joblib
    from distributed import Client, LocalCluster

    import densumap.dask as ddk

    model = joblib.load(work / "model.joblib")
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0", memory_limit=None) as cluster, \
            Client(cluster) as client:
        client.run(lambda: sys.path.insert(0, str(Path(__file__).resolve().parent)))
        warm = ddk.as_dask_array(work / "X.npy", chunk_rows=1000)[:1000 * args.workers]
        ddk.transform(model, warm).compute()  # kernels loaded on every worker
        client.run(_start_worker_sampler)
        sampler = MemorySampler().start()
        cpu0, t0 = cpu_seconds(), time.perf_counter()
        X = ddk.as_dask_array(work / "X.npy", chunk_rows=args.chunk_rows)
        emb = ddk.transform(model, X, n_jobs=1)
        ddk.store(emb, work / "cluster.npy")
        seconds, client_cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
        client_mem = sampler.stop()
        client_mem["cpu_s"] = round(client_cpu, 2)
        workers = client.run(_stop_worker_sampler)
    cpu = client_cpu + sum(w["cpu_s"] for w in workers.values())
    return {"seconds": round(seconds, 2), "points_per_s": round(args.n / seconds, 1),
            "cpu_s": round(cpu, 2), "points_per_cpu_s": round(args.n / cpu, 1),
            "workers": args.workers, "threads_per_worker": 1, "blocks": len(X.chunks[0]),
            "client": client_mem, "per_worker": list(workers.values())}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=2_000_000)
    p.add_argument("--train", type=int, default=10_000)
    p.add_argument("--dim", type=int, default=50)
    p.add_argument("--n-epochs", type=int, default=200)
    p.add_argument("--densmap", action="store_true")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--chunk-rows", type=int, default=50_000)
    p.add_argument("--workdir", default="/tmp/densumap-bench-dask")
    p.add_argument("--phase", choices=["all", "single", "cluster"], default="all")
    p.add_argument("--repeats", type=int, default=1,
                   help="alternate single and cluster runs this many times")
    p.add_argument("--out", default="dask_transform.json")
    args = p.parse_args(argv)
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    if args.phase != "all":
        fn = phase_single if args.phase == "single" else phase_cluster
        print(json.dumps(fn(args, work)))
        return
    result = {"machine": machine_info(), "params": vars(args)}
    result["prepare"] = prepare(args, work)
    print("prepared:", result["prepare"], flush=True)
    # Alternating the two keeps a change in the (shared) machine's load from
    # favouring one of them.
    result["single"], result["cluster"] = [], []
    for _ in range(args.repeats):
        for phase in ("single", "cluster"):
            cmd = [sys.executable, __file__] + (argv if argv is not None else sys.argv[1:]) \
                + ["--phase", phase]
            proc = subprocess.run(cmd, capture_output=True, text=True, env=child_env(),
                                  cwd=str(REPO_ROOT))
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
            run = json.loads(lines[-1]) if lines else {
                "error": proc.returncode, "stderr_tail": proc.stderr[-3000:]}
            result[phase].append(run)
            print(phase, run, flush=True)
            save_json(args.out, result)
    a = np.load(work / "single.npy", mmap_mode="r")
    b = np.load(work / "cluster.npy", mmap_mode="r")
    result["identical"] = bool(all(np.array_equal(a[s:s + 100_000], b[s:s + 100_000])
                                   for s in range(0, a.shape[0], 100_000)))
    print("identical:", result["identical"])
    save_json(args.out, result)


if __name__ == "__main__":
    main()
