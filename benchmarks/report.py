"""Markdown tables from the JSON files of run.py, scaling.py and import_time.py.

    python benchmarks/report.py results.json [scaling.json] [import_time.json] > report.md

Each file says what it holds (its ``"kind"``); the output starts with the command,
date and machine each file was produced with, so it can be pasted into BENCHMARKS.md
as it is. With ``--repeats`` > 1 every number is the median over the repeats.
"""
import argparse
import json
import statistics
import sys
from collections import OrderedDict, defaultdict

STAGE_LEGEND = {
    "nearest neighbours": "kNN",
    "fuzzy graph": "graph",
    "input radii": "density (input radii)",
    "initialisation": "init",
    "optimisation": "SGD (+ density gradient in DensMAP)",
}


def stage_order(names):
    """Stage names in pipeline order (kNN, graph, density, init, SGD), unknown ones last."""
    known = list(STAGE_LEGEND)
    return sorted(names, key=lambda s: (known.index(s) if s in known else len(known)))


def fmt(value, spec):
    if value is None:
        return "–"
    if isinstance(value, float) and value != value:  # NaN
        return "–"
    return format(value, spec)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---:" if i else ":---" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def _load(values):
    if not values:
        return "?"
    return " / ".join(f"{v:.2f}" for v in values) + " (1 / 5 / 15 min)"


def meta_block(meta, title):
    settings = meta.get("settings", {})
    lines = [f"### {title}", "",
             f"- command: `{meta.get('command', '?')}`",
             f"- date: {meta.get('date_utc', '?')}",
             f"- machine: {meta.get('nproc', '?')} CPUs "
             f"({meta.get('affinity_cpus', '?')} usable), {meta.get('cpu_model', '?')}, "
             f"{meta.get('ram_gib', '?')} GiB RAM; load average at start "
             f"{_load(meta.get('load_avg_at_start'))}",
             f"- {meta.get('os', '?')}",
             "- versions: " + ", ".join(
                 f"{k} {meta.get(k)}" for k in ("python", "numpy", "numba", "scipy", "sklearn",
                                                "pynndescent", "umap-learn")),
             f"- densumap commit: {meta.get('densumap_commit', '?')}"]
    if meta.get("env"):
        lines.append("- environment: " + ", ".join(f"{k}={v}" for k, v in meta["env"].items()))
    if "total_s" in meta:
        lines.append(f"- total run time: {meta['total_s'] / 60:.1f} min")
    if settings:
        lines.append("- settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    return "\n".join(lines)


# --------------------------------------------------------------------------- compare


def group_runs(runs):
    """{(mode, seeded, load): {n: {lib: [run, ...]}}} of the successful runs."""
    groups = OrderedDict()
    for r in runs:
        if "error" in r:
            continue
        key = (r["mode"], r["seeded"], r.get("load", 0))
        groups.setdefault(key, defaultdict(lambda: defaultdict(list)))
        groups[key][r["n"]][r["lib"]].append(r)
    return groups


def agg(runs, field):
    return median([r.get(field) for r in runs])


def compare_report(payload):
    runs = payload["runs"]
    libs = list(OrderedDict.fromkeys(r["lib"] for r in runs))
    repeats = payload["meta"].get("settings", {}).get("repeats", 1)
    out = [meta_block(payload["meta"], "densumap vs umap-learn (Fashion-MNIST)"), ""]
    if repeats > 1:
        out += [f"Each number is the median of {repeats} fits, each in a fresh process.", ""]
    cols = [("fit_s", "time s", ".2f"), ("peak_rss_mb", "RSS MiB", ".0f"),
            ("knn_acc", "10-NN acc", ".3f"), ("trustworthiness", "trust", ".3f"),
            ("dens_corr", "dens corr", ".3f")]
    both = "densumap" in libs and "umap-learn" in libs
    for (mode, seeded, load), by_n in group_runs(runs).items():
        busy = (", idle machine" if load == 0 else
                f", busy machine ({load} competing CPU-bound process{'es' * (load > 1)})")
        out += [f"#### {mode.upper() if mode == 'umap' else 'DensMAP'}, "
                f"{'seeded (random_state=42)' if seeded else 'unseeded (random_state=None)'}"
                f"{busy}", ""]
        header = ["n"] + [f"{lib} {name}" for lib in libs for _, name, _ in cols]
        if both:
            header += ["time ratio d/u", "RSS ratio d/u"]
        rows = []
        for n in sorted(by_n):
            row = [f"{n:,}"]
            for lib in libs:
                for field, _, spec in cols:
                    row.append(fmt(agg(by_n[n].get(lib, []), field), spec))
            if both:
                d, u = by_n[n].get("densumap", []), by_n[n].get("umap-learn", [])
                for field in ("fit_s", "peak_rss_mb"):
                    a, b = agg(d, field), agg(u, field)
                    row.append(fmt(a / b if a is not None and b else None, ".2f"))
            rows.append(row)
        out += [table(header, rows), ""]

    stage_rows, stage_names = [], []
    for (mode, seeded, load), by_n in group_runs(runs).items():
        for n in sorted(by_n):
            d = by_n[n].get("densumap", [])
            if not d or not any(r.get("stages") for r in d):
                continue
            for r in d:
                for name in r.get("stages") or {}:
                    if name not in stage_names:
                        stage_names.append(name)
            stage_rows.append((mode, seeded, load, n, d))
    stage_names = stage_order(stage_names)
    if stage_rows:
        out += ["#### densumap time by stage (s)", ""]
        header = ["mode", "seeded", "load", "n"] + \
            [STAGE_LEGEND.get(s, s) for s in stage_names] + ["other", "total"]
        rows = []
        for mode, seeded, load, n, d in stage_rows:
            vals = [median([(r.get("stages") or {}).get(s) for r in d]) for s in stage_names]
            total = agg(d, "fit_s")
            other = median([r["fit_s"] - sum((r.get("stages") or {}).values()) for r in d])
            rows.append([mode, "yes" if seeded else "no", str(load), f"{n:,}"]
                        + [fmt(v, ".2f") for v in vals] + [fmt(other, ".2f"),
                                                           fmt(total, ".2f")])
        out += [table(header, rows), "",
                "\"other\" is the fit time outside the logged stages (validation, "
                "a/b curve fit, graph pruning).", ""]

    notes = set()
    for r in runs:
        if "error" in r:
            notes.add(f"FAILED: {r['lib']} {r['mode']} seeded={r['seeded']} n={r['n']}: "
                      f"{r['error']}")
        for w in r.get("warnings", []):
            notes.add(f"{r['lib']}: {w}")
        if r.get("peak_rss_reset") is False:
            notes.add("peak RSS could not be reset before the fit: it includes data "
                      "loading and the warm-up")
    threads = sorted({(r["lib"], r.get("numba_threads")) for r in runs if "error" not in r})
    notes.add("numba threads available to each worker: " + ", ".join(f"{lib} {t}" for lib, t in threads))
    out += ["Notes:", ""] + [f"- {n}" for n in sorted(notes)] + [""]
    return "\n".join(out)


# --------------------------------------------------------------------------- scaling


def scaling_report(payload):
    settings = payload["meta"].get("settings", {})
    libs = settings.get("libs", "densumap")
    title = ("densumap scaling (UMAP, seeded)" if libs == "densumap"
             else f"scaling ({settings.get('mode', 'umap')})")
    out = [meta_block(payload["meta"], title), ""]
    by_key = OrderedDict()
    for r in payload["runs"]:
        seed = str(r.get("seed", r.get("random_state", 42)))
        key = (r.get("data", "?"), r["n"], r.get("lib", "densumap"), seed)
        by_key.setdefault(key, []).append(r)
    stage_names = []
    for rs in by_key.values():
        for r in rs:
            for s in r.get("stages") or {}:
                if s not in stage_names:
                    stage_names.append(s)
    stage_names = stage_order(stage_names)
    metric_names = [m for m in ("knn_acc", "trustworthiness", "dens_corr")
                    if any(m in r for rs in by_key.values() for r in rs)]
    header = (["data", "n", "dim", "library", "random_state", "time s", "peak RSS MiB",
               "RSS before fit MiB"] + metric_names
              + [STAGE_LEGEND.get(s, s) for s in stage_names])
    rows = []
    for (data, n, lib, seed), rs in sorted(by_key.items(), key=lambda kv: kv[0][1]):
        ok = [r for r in rs if "error" not in r]
        if not ok:
            rows.append([data, f"{n:,}", "–", lib, seed, "FAILED: " + rs[0]["error"]] +
                        [""] * (len(header) - 6))
            continue
        rows.append([data, f"{n:,}", str(ok[0].get("dim", "?")), lib, seed,
                     fmt(agg(ok, "fit_s"), ".2f"), fmt(agg(ok, "peak_rss_mb"), ".0f"),
                     fmt(agg(ok, "rss_before_fit_mb"), ".0f")]
                    + [fmt(median([r.get(m) for r in ok]), ".3f") for m in metric_names]
                    + [fmt(median([(r.get("stages") or {}).get(s) for r in ok]), ".2f")
                       for s in stage_names])
    out += [table(header, rows), ""]
    return "\n".join(out)


# --------------------------------------------------------------------------- import time


def import_time_report(payload):
    out = [meta_block(payload["meta"], "Import and first-fit time"), ""]
    rows = []
    for lib, r in payload["results"].items():
        rows.append([lib,
                     fmt(r.get("import_s_median"), ".3f"),
                     fmt(r.get("cold", {}).get("fit_s"), ".2f"),
                     fmt(r.get("cold", {}).get("process_s"), ".2f"),
                     fmt(r.get("warm", {}).get("fit_s"), ".2f"),
                     fmt(r.get("warm", {}).get("process_s"), ".2f"),
                     fmt(r.get("warm", {}).get("second_fit_s"), ".2f")])
    header = ["library", "import s (median of %d)" % payload.get("import_repeats", 5),
              "first fit, empty cache s", "process, empty cache s",
              "first fit, warm cache s", "process, warm cache s", "second fit s"]
    out += [table(header, rows), "",
            f"First fit: `{payload.get('fit_description', '')}`. \"process\" is the wall "
            "time of the whole fresh interpreter (start-up, imports, data, fit); "
            "\"second fit\" is a second identical fit in the warm-cache process.", ""]
    return "\n".join(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("files", nargs="+", help="JSON files from run.py, scaling.py, import_time.py")
    args = p.parse_args(argv)
    handlers = {"compare": compare_report, "scaling": scaling_report,
                "import_time": import_time_report}
    parts = []
    for path in args.files:
        with open(path) as f:
            payload = json.load(f)
        kind = payload.get("kind")
        if kind not in handlers:
            sys.exit(f"{path}: unknown kind {kind!r}")
        parts.append(handlers[kind](payload))
    sys.stdout.write("\n".join(parts))


if __name__ == "__main__":
    main()
