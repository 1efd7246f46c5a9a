"""Time of ``import densumap`` and of the first fit in a fresh process, cold and warm cache.

    python benchmarks/import_time.py --out import_time.json
    python benchmarks/report.py import_time.json

For each library (densumap, and umap-learn for comparison):

* import: ``import <module>`` timed with ``time.perf_counter`` inside a fresh
  interpreter (start-up excluded), median of ``--import-repeats`` (default 5) processes,
  after one untimed import so that bytecode files exist;
* first fit, empty cache: a fresh process with ``NUMBA_CACHE_DIR`` pointing at a new
  empty directory fits sklearn's digits (1,797 x 64, bundled with scikit-learn); every
  ``cache=True`` kernel is compiled and written there;
* first fit, warm cache: the same again with the now-filled ``NUMBA_CACHE_DIR``,
  followed by a second fit in the same process (the steady state).

Kernels that numba does not cache (``cache=False``, or that cannot be cached) are
compiled in every fresh process; the warm-cache first fit shows what that costs.
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time

from _common import child_env, machine_info, save_json, str_list

MODULES = {"densumap": "densumap", "umap-learn": "umap"}

IMPORT_SNIPPET = """
import time
t = time.perf_counter()
import {module}
print(time.perf_counter() - t)
"""

FIT_SNIPPET = """
import json, time, warnings
t = time.perf_counter()
import {module}
import_s = time.perf_counter() - t
from sklearn.datasets import load_digits
X = load_digits().data.astype("float32")
warnings.simplefilter("ignore")
t = time.perf_counter()
{module}.UMAP(densmap={densmap}, random_state=42).fit(X)
fit_s = time.perf_counter() - t
second = None
if {second}:
    t = time.perf_counter()
    {module}.UMAP(densmap={densmap}, random_state=42).fit(X)
    second = time.perf_counter() - t
print(json.dumps({{"import_s": import_s, "fit_s": fit_s, "second_fit_s": second}}))
"""


def run_snippet(code, env, timeout):
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=timeout)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"snippet failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc.stdout.strip().splitlines()[-1], wall


def measure(lib, args):
    module = MODULES[lib]
    env = child_env()
    res = {}
    run_snippet(IMPORT_SNIPPET.format(module=module), env, args.timeout)  # write .pyc
    times = [float(run_snippet(IMPORT_SNIPPET.format(module=module), env, args.timeout)[0])
             for _ in range(args.import_repeats)]
    res["import_s_all"] = times
    res["import_s_median"] = statistics.median(times)
    with tempfile.TemporaryDirectory(prefix=f"numba-cache-{module}-") as cache:
        env = child_env({"NUMBA_CACHE_DIR": cache})
        for label, second in (("cold", False), ("warm", True)):
            code = FIT_SNIPPET.format(module=module, densmap=args.mode == "densmap",
                                      second=second)
            line, wall = run_snippet(code, env, args.timeout)
            res[label] = dict(json.loads(line), process_s=wall)
    return res


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--libs", default="densumap,umap-learn", type=str_list)
    p.add_argument("--mode", default="umap", choices=["umap", "densmap"])
    p.add_argument("--import-repeats", type=int, default=5)
    p.add_argument("--timeout", type=float, default=1800)
    p.add_argument("--out", default="import_time.json")
    args = p.parse_args(argv)
    payload = {"kind": "import_time", "meta": machine_info(),
               "import_repeats": args.import_repeats,
               "fit_description": f"UMAP(densmap={args.mode == 'densmap'}, random_state=42)"
                                  ".fit(load_digits().data.astype('float32'))",
               "results": {}}
    for lib in args.libs:
        if lib not in MODULES:
            p.error(f"--libs: unknown library {lib!r}")
        print(f"{lib} ...", end=" ", flush=True, file=sys.stderr)
        r = measure(lib, args)
        payload["results"][lib] = r
        save_json(args.out, payload)
        print(f"import {r['import_s_median']:.3f} s, first fit cold {r['cold']['fit_s']:.2f} s,"
              f" warm {r['warm']['fit_s']:.2f} s", file=sys.stderr)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
