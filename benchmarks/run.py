"""densumap vs umap-learn on Fashion-MNIST, every fit in a fresh process.

Example (tiny, for checking the harness)::

    python benchmarks/run.py --sizes 2000 --repeats 1 --out /tmp/results.json
    python benchmarks/report.py /tmp/results.json

The full benchmark is in ``benchmarks/README.md``. Each (n, mode, seeded, repeat)
runs both libraries one after the other, so that any drift in the machine's load
hits both alike. Results are written after every fit.
"""
import argparse
import subprocess
import sys
import time

from _common import DEFAULT_DATA, int_list, machine_info, run_worker, save_json, str_list

LIBS = ("densumap", "umap-learn")
MODES = ("umap", "densmap")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(DEFAULT_DATA),
                   help="Fashion-MNIST directory (default: ../shared/data/fashion-mnist "
                        "relative to the repository root)")
    p.add_argument("--sizes", default="10000,20000,70000", type=int_list,
                   help="comma-separated numbers of points (first n rows)")
    p.add_argument("--libs", default=",".join(LIBS), type=str_list)
    p.add_argument("--modes", default=",".join(MODES), type=str_list)
    p.add_argument("--seeded", dest="seeded", action="store_true", default=None,
                   help="run seeded fits (random_state=42); with neither --seeded nor "
                        "--unseeded both are run")
    p.add_argument("--unseeded", dest="unseeded", action="store_true", default=None,
                   help="run unseeded fits (random_state=None)")
    p.add_argument("--repeats", type=int, default=1,
                   help="fits per configuration; report.py shows the median")
    p.add_argument("--sample-size", type=int, default=5000,
                   help="points in the quality-metric sample")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds after which a worker is killed (default: none)")
    p.add_argument("--load", default="0", type=int_list,
                   help="comma-separated numbers of competing CPU-bound processes to run "
                        "during each fit (0 = idle machine; 1 = one busy loop, as a "
                        "notebook or a browser beside the fit); each fit is run in each "
                        "condition, both libraries back to back")
    p.add_argument("--out", default="results.json")
    args = p.parse_args(argv)
    for lib in args.libs:
        if lib not in LIBS:
            p.error(f"--libs: unknown library {lib!r}; choose from {', '.join(LIBS)}")
    for mode in args.modes:
        if mode not in MODES:
            p.error(f"--modes: unknown mode {mode!r}; choose from {', '.join(MODES)}")
    if args.seeded is None and args.unseeded is None:
        args.seedings = [True, False]
    else:
        args.seedings = [s for s, on in ((True, args.seeded), (False, args.unseeded)) if on]
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    return args


class competing_load:
    """``k`` CPU-bound busy loops (separate processes, default priority, not pinned)
    running for the duration of the ``with`` block."""

    def __init__(self, k):
        self.k = k
        self.procs = []

    def __enter__(self):
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                      for _ in range(self.k)]
        return self

    def __exit__(self, *exc):
        for proc in self.procs:
            proc.kill()
            proc.wait()
        return False


def main(argv=None):
    args = parse_args(argv)
    payload = {"kind": "compare", "meta": machine_info(), "runs": []}
    payload["meta"]["settings"] = {
        "data": args.data, "sizes": args.sizes, "libs": args.libs, "modes": args.modes,
        "seedings": args.seedings, "repeats": args.repeats, "sample_size": args.sample_size,
    }
    payload["meta"]["settings"]["load"] = args.load
    jobs = [(n, mode, seeded, rep, load, lib)
            for n in args.sizes for mode in args.modes for seeded in args.seedings
            for rep in range(args.repeats) for load in args.load for lib in args.libs]
    t_all = time.perf_counter()
    for i, (n, mode, seeded, rep, load, lib) in enumerate(jobs, 1):
        label = f"[{i}/{len(jobs)}] {lib} {mode} {'seeded' if seeded else 'unseeded'} " \
                f"n={n} load={load} repeat={rep + 1}"
        print(label, "...", end=" ", flush=True, file=sys.stderr)
        with competing_load(load):
            res = run_worker(["--lib", lib, "--mode", mode,
                              "--seed", 42 if seeded else "none", "--n", n,
                              "--data", args.data, "--sample-size", args.sample_size],
                             timeout=args.timeout)
        res["load"] = load
        res.setdefault("lib", lib)
        res.setdefault("mode", mode)
        res.setdefault("seeded", seeded)
        res.setdefault("n", n)
        res["repeat"] = rep
        payload["runs"].append(res)
        payload["meta"]["total_s"] = time.perf_counter() - t_all
        save_json(args.out, payload)
        if "error" in res:
            print("FAILED:", res["error"], file=sys.stderr)
            print(res.get("stderr_tail", ""), file=sys.stderr)
        else:
            print(f"fit {res['fit_s']:.2f} s, peak RSS {res['peak_rss_mb']:.0f} MiB, "
                  f"acc {res.get('knn_acc', float('nan')):.3f}", file=sys.stderr)
    print(f"wrote {args.out}", file=sys.stderr)
    return 1 if any("error" in r for r in payload["runs"]) else 0


if __name__ == "__main__":
    sys.exit(main())
