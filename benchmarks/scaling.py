"""densumap's time and peak memory against n, each fit in a fresh process.

    python benchmarks/scaling.py --out scaling.json
    python benchmarks/report.py scaling.json

Real sizes are the first n rows of Fashion-MNIST (784 dimensions); synthetic sizes
are points of a 20-component Gaussian mixture in 50 dimensions (see
``_worker.synthetic_mixture``). UMAP mode, random_state=42, the same worker as
``run.py`` (warm-up fit first, peak RSS of the fit alone, data included). Quality
metrics are skipped unless ``--metrics``. ``--npz F --npz-sizes ...`` adds the first
n rows of a prepared set, e.g. the augmented Fashion-MNIST million of
``make_fmnist_1m.py``. ``--libs densumap,umap-learn`` runs both libraries back to back on
each data set, and ``--seeds 42,none`` adds unseeded runs (``--timeout`` stops a fit that
does not finish and records that).
"""
import argparse
import sys
import time

from _common import DEFAULT_DATA, int_list, machine_info, run_worker, save_json


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(DEFAULT_DATA), help="Fashion-MNIST directory")
    p.add_argument("--sizes", default="10000,20000,70000", type=int_list,
                   help="Fashion-MNIST sizes ('' for none)")
    p.add_argument("--synthetic-sizes", default="200000,1000000", type=int_list,
                   help="synthetic sizes, 50-dimensional ('' for none)")
    p.add_argument("--synthetic-dim", type=int, default=50)
    p.add_argument("--npz", default=None, help=".npz with X and y (make_fmnist_1m.py)")
    p.add_argument("--npz-sizes", default="", type=int_list, help="sizes taken from --npz")
    p.add_argument("--mode", default="umap", choices=["umap", "densmap"])
    p.add_argument("--libs", default="densumap",
                   help="comma-separated: densumap, umap-learn")
    p.add_argument("--seeds", default="42",
                   help="comma-separated random_state values; 'none' for unseeded")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--metrics", action="store_true", help="also compute the quality metrics")
    p.add_argument("--timeout", type=float, default=None)
    p.add_argument("--out", default="scaling.json")
    args = p.parse_args(argv)
    payload = {"kind": "scaling", "meta": machine_info(), "runs": []}
    payload["meta"]["settings"] = {
        "data": args.data, "sizes": args.sizes, "synthetic_sizes": args.synthetic_sizes,
        "synthetic_dim": args.synthetic_dim, "mode": args.mode, "repeats": args.repeats,
        "libs": args.libs, "seeds": args.seeds, "npz": args.npz, "npz_sizes": args.npz_sizes,
    }
    jobs = ([(n, False) for n in args.sizes] + [(n, True) for n in args.synthetic_sizes]
            + [(n, "npz") for n in (args.npz_sizes if args.npz else [])])
    t_all = time.perf_counter()
    libs = [lib for lib in args.libs.split(",") if lib]
    seeds = [seed for seed in args.seeds.split(",") if seed]
    runs = [(n, synthetic, seed, lib, rep) for n, synthetic in jobs for seed in seeds
            for rep in range(args.repeats) for lib in libs]
    for n, synthetic, seed, lib, rep in runs:
        cmd = ["--lib", lib, "--mode", args.mode, "--seed", seed, "--n", n]
        if synthetic == "npz":
            cmd += ["--npz", args.npz]
        elif synthetic:
            cmd += ["--synthetic", "--synthetic-dim", args.synthetic_dim]
        else:
            cmd += ["--data", args.data]
        if not args.metrics:
            cmd.append("--no-metrics")
        family = {"npz": "npz", True: "synthetic", False: "fashion-mnist"}[synthetic]
        print(f"{family} n={n} {lib} seed={seed} "
              f"repeat={rep + 1} ...", end=" ", flush=True, file=sys.stderr)
        res = run_worker(cmd, timeout=args.timeout)
        res.setdefault("n", n)
        res.setdefault("data", family)
        res.setdefault("lib", lib)
        res.setdefault("seed", seed)
        res["repeat"] = rep
        payload["runs"].append(res)
        payload["meta"]["total_s"] = time.perf_counter() - t_all
        save_json(args.out, payload)
        if "error" in res:
            print("FAILED:", res["error"], res.get("stderr_tail", ""), file=sys.stderr)
        else:
            print(f"fit {res['fit_s']:.2f} s, peak RSS {res['peak_rss_mb']:.0f} MiB",
                  file=sys.stderr)
    print(f"wrote {args.out}", file=sys.stderr)
    return 1 if any("error" in r for r in payload["runs"]) else 0


if __name__ == "__main__":
    sys.exit(main())
