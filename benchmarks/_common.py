"""Helpers shared by the benchmark scripts: paths, machine info, fresh-process runs."""
import collections
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
SRC_DIR = REPO_ROOT / "src"
WORKER = BENCH_DIR / "_worker.py"
DEFAULT_DATA = (REPO_ROOT / ".." / "shared" / "data" / "fashion-mnist").resolve()


def child_env(extra=None):
    """Environment for a child process that imports densumap from this checkout."""
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(SRC_DIR) + (os.pathsep + path if path else "")
    env.setdefault("PYTHONUNBUFFERED", "1")
    if extra:
        env.update(extra)
    return env


class TimedKernels:
    """Stands in for a kernel module (e.g. ``densumap._kernels.nndescent``) and adds the
    ``clock`` seconds of every compiled function it hands out to ``seconds[name]``
    (``calls[name]`` counts them). Calls from several threads add up their own spans."""

    def __init__(self, module, clock):
        self.module = module
        self.clock = clock
        self.seconds = collections.defaultdict(float)
        self.calls = collections.Counter()

    def __getattr__(self, name):
        func = getattr(self.module, name)
        if not hasattr(func, "py_func"):
            return func

        def timed(*args):
            start = self.clock()
            result = func(*args)
            self.seconds[name] += self.clock() - start
            self.calls[name] += 1
            return result
        return timed


def int_list(text):
    return [int(v) for v in text.split(",") if v.strip()] if text else []


def str_list(text):
    return [v.strip() for v in text.split(",") if v.strip()]


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _total_ram_gib():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def _version(module):
    try:
        mod = __import__(module)
    except Exception:  # noqa: BLE001 - report any import failure as absent
        return None
    return getattr(mod, "__version__", "?")


def _git_commit():
    try:
        out = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return out + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def machine_info():
    """Where and with what the benchmark ran (stored in every results file)."""
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M:%S UTC"),
        "command": " ".join(shlex.quote(a) for a in [Path(sys.executable).name] + sys.argv),
        "nproc": os.cpu_count(),
        "affinity_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else None,
        "cpu_model": _cpu_model(),
        "ram_gib": _total_ram_gib(),
        "load_avg_at_start": load,
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "numba": _version("numba"),
        "scipy": _version("scipy"),
        "sklearn": _version("sklearn"),
        "pynndescent": _version("pynndescent"),
        "umap-learn": _version("umap"),
        "densumap_commit": _git_commit(),
        "env": {k: os.environ[k] for k in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS",
                                            "NUMBA_CACHE_DIR") if k in os.environ},
    }


def run_worker(args, timeout=None, env=None):
    """Run ``_worker.py`` with ``args`` in a fresh interpreter; return its JSON or an error.

    The worker's stderr (progress bars, warnings) is kept only when it fails.
    """
    cmd = [sys.executable, str(WORKER)] + [str(a) for a in args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=env or child_env(), cwd=str(REPO_ROOT))
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s", "cmd": cmd}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                break
    return {"error": f"worker exited with status {proc.returncode}",
            "stderr_tail": proc.stderr[-3000:], "cmd": cmd}


def save_json(path, payload):
    """Write atomically, so an interrupted long run keeps the previous complete file."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1))
    tmp.replace(path)
