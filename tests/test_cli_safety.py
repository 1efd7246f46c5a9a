"""The command line never destroys data and never runs code from a model file (issue 15).

Most cases call :func:`densumap.cli.main` in this process (fast); the signal
tests and the crafted pickle run ``densumap`` as a separate process.
"""
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import densumap
from densumap import cli

SRC = str(Path(densumap.__file__).resolve().parents[1])
FAST = ["--n-epochs", "5", "--n-neighbors", "8", "--seed", "0", "--quiet"]


@pytest.fixture
def work(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(0, 1, (40, 5)), rng.normal(8, 1, (40, 5))]).astype(np.float32)
    np.save(tmp_path / "x.npy", X)
    np.savetxt(tmp_path / "labels.txt", np.arange(80) % 2, fmt="%d")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_main(capsys, *args):
    status = cli.main([str(a) for a in args])
    err = capsys.readouterr().err
    return status, err


def assert_refused(status, err, *names):
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "refusing to overwrite an input" in lines[0] or "are the same file" in lines[0]
    for name in names:
        assert repr(str(name)) in lines[0], (name, lines[0])


def snapshot(directory):
    return {p.name: p.read_bytes() for p in Path(directory).iterdir() if p.is_file()}


@pytest.mark.parametrize("out", ["x.npy", "./x.npy", "sub/../x.npy", "soft.npy", "hard.npy"])
def test_embed_refuses_to_overwrite_its_input(work, capsys, out):
    (work / "sub").mkdir()
    os.symlink(work / "x.npy", work / "soft.npy")
    os.link(work / "x.npy", work / "hard.npy")
    before = snapshot(work)
    status, err = run_main(capsys, "embed", "x.npy", "--out", out, *FAST)
    assert_refused(status, err, out, "x.npy")
    assert "--out" in err and "INPUT" in err
    assert snapshot(work) == before


@pytest.mark.parametrize("args, names", [
    (["--labels", "labels.txt", "--out", "e.npy", "--model", "labels.txt"], ["labels.txt"]),
    (["--out", "e.npy", "--model", "x.npy"], ["x.npy"]),
    (["--out", "e.npy", "--plot", "p.png", "--density-plot", "p.png"], ["p.png"]),
    (["--out", "e.npy", "--model", "e.npy"], ["e.npy"]),
])
def test_embed_refuses_other_collisions(work, capsys, args, names):
    before = snapshot(work)
    status, err = run_main(capsys, "embed", "x.npy", *args, *FAST)
    assert_refused(status, err, *names)
    assert snapshot(work) == before


def test_radii_files_may_not_replace_an_input(work, capsys):
    os.rename(work / "x.npy", work / "e_rad_orig.npy")
    before = snapshot(work)
    status, err = run_main(capsys, "embed", "e_rad_orig.npy", "--out", "e.npy",
                           "--output-dens", *FAST)
    assert_refused(status, err, "e_rad_orig.npy")
    assert snapshot(work) == before


def test_transform_refuses_to_overwrite_model_or_input(work, capsys):
    assert run_main(capsys, "embed", "x.npy", "--out", "e.npy", "--model", "m.npz", *FAST)[0] == 0
    before = snapshot(work)
    for out, name in (("m.npz", "m.npz"), ("x.npy", "x.npy")):
        status, err = run_main(capsys, "transform", "m.npz", "x.npy", "--out", out, "--quiet")
        if out.endswith(".npz"):  # not an output type at all: refused even earlier
            assert status == 2 and "unknown file type" in err
            continue
        assert_refused(status, err, name)
    status, err = run_main(capsys, "transform", "m.npz", "x.npy", "--out", "t.npy",
                           "--output-dens", "--quiet")
    assert status == 0, err
    assert snapshot(work).items() >= before.items()


def test_model_written_by_embed_is_safe_and_transform_matches(work, capsys):
    assert run_main(capsys, "embed", "x.npy", "--out", "e.npy", "--model", "m.npz",
                    "--densmap", *FAST)[0] == 0
    model = densumap.load("m.npz")
    assert model.densmap
    assert run_main(capsys, "transform", "m.npz", "x.npy", "--out", "t.npy", "--quiet")[0] == 0
    X = np.load("x.npy")
    assert np.array_equal(np.load("t.npy"), model.transform(X))


def test_transform_refuses_pickles_unless_trusted(work, capsys):
    model = densumap.UMAP(n_neighbors=8, n_epochs=5, random_state=0).fit(np.load("x.npy"))
    with open("m.pkl", "wb") as f:
        pickle.dump(model, f)
    status, err = run_main(capsys, "transform", "m.pkl", "x.npy", "--out", "t.npy", "--quiet")
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert "m.pkl is a pickle" in err and "--trust-pickle" in err
    assert not Path("t.npy").exists()
    status, err = run_main(capsys, "transform", "m.pkl", "x.npy", "--out", "t.npy", "--quiet",
                           "--trust-pickle")
    assert status == 0, err
    assert np.array_equal(np.load("t.npy"), model.transform(np.load("x.npy")))


class _Exploit:
    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_crafted_pickle_never_runs_through_the_cli(work):
    target = work / "pwned"
    (work / "evil.pkl").write_bytes(pickle.dumps(_Exploit(target)))
    env = dict(os.environ, PYTHONPATH=SRC, MPLBACKEND="Agg")
    for extra in ([], ["--dask"]):
        proc = subprocess.run(
            [sys.executable, "-m", "densumap", "transform", "evil.pkl", "x.npy", "--out",
             "t.npy", *extra], cwd=work, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 2, proc.stderr
        assert "evil.pkl is a pickle" in proc.stderr and "Traceback" not in proc.stderr
        assert not target.exists()


# ------------------------------------------------------------------ failures mid-write
def test_failed_write_leaves_earlier_output(work, capsys, monkeypatch):
    assert run_main(capsys, "embed", "x.npy", "--out", "e.csv", "--output-dens", *FAST)[0] == 0
    before = snapshot(work)
    real_savetxt = np.savetxt
    calls = []

    def failing(f, arr, *a, **k):
        calls.append(1)
        if len(calls) == 2:  # the second file: the first is already replaced
            f.write(b"1.0,2.0\n3.0")
            raise OSError(28, "No space left on device")
        return real_savetxt(f, arr, *a, **k)

    monkeypatch.setattr(np, "savetxt", failing)
    status, err = run_main(capsys, "embed", "x.npy", "--out", "e.csv", "--output-dens",
                           "--dens-lambda", "1", "--densmap", *FAST)
    assert status == 2 and "No space left on device" in err
    assert len(err.strip().splitlines()) == 1
    after = snapshot(work)
    assert sorted(after) == sorted(before)  # no temporary file left
    assert after["e_rad_orig.csv"] == before["e_rad_orig.csv"]  # the failed one is intact
    assert after["x.npy"] == before["x.npy"]


def test_interrupt_mid_write_removes_the_temporary_file(work, capsys, monkeypatch):
    assert run_main(capsys, "embed", "x.npy", "--out", "e.npy", "--model", "m.npz", *FAST)[0] == 0
    before = snapshot(work)
    real = np.lib.format.write_array

    def interrupted(fp, array, *a, **k):
        real(fp, array, *a, **k)
        raise KeyboardInterrupt

    monkeypatch.setattr(np.lib.format, "write_array", interrupted)
    status, err = run_main(capsys, "embed", "x.npy", "--out", "e.npy", "--model", "m.npz",
                           "--seed", "1", "--n-epochs", "5", "--quiet")
    assert status == 130
    assert err.strip().splitlines() == ["densumap embed: interrupted (SIGINT); no partial "
                                        "output was left"]
    assert snapshot(work) == before


# ------------------------------------------------------------------ real signals
@pytest.mark.parametrize("sig, status, word", [(signal.SIGINT, 130, "interrupted"),
                                              (signal.SIGTERM, 143, "terminated")])
def test_signal_to_a_running_embed(work, sig, status, word):
    rng = np.random.default_rng(1)
    np.save(work / "big.npy", rng.normal(size=(1500, 8)).astype(np.float32))
    for name, content in (("e.npy", b"earlier embedding"), ("m.npz", b"earlier model")):
        (work / name).write_bytes(content)
    before = snapshot(work)
    env = dict(os.environ, PYTHONPATH=SRC, MPLBACKEND="Agg")
    proc = subprocess.Popen(
        [sys.executable, "-m", "densumap", "embed", "big.npy", "--out", "e.npy", "--model",
         "m.npz", "--n-epochs", "200000", "--seed", "0"],
        cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    chunks = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(
        lambda: proc.stderr.read1(256), b"")), daemon=True)
    reader.start()
    deadline = time.monotonic() + 240
    try:
        # The optimisation has started: the fit is under way, the outputs not yet written.
        while b"initialisation" not in b"".join(chunks):
            assert proc.poll() is None, b"".join(chunks).decode()
            assert time.monotonic() < deadline, "embed did not start in time"
            time.sleep(0.05)
        proc.send_signal(sig)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(timeout=10)
    err = b"".join(chunks).decode()
    assert proc.returncode == status, err
    assert "Traceback" not in err
    last = [ln for ln in err.replace("\r", "\n").splitlines() if ln.strip()][-1]
    assert last == f"densumap embed: {word} ({sig.name}); no partial output was left"
    assert err.count(word) == 1
    assert snapshot(work) == before  # earlier output unchanged, no temporary file


class _HalfBuilt:
    """Fails in its destructor, as llvmlite's objects do when a signal lands mid-construction."""

    def __del__(self):
        raise AttributeError("'ValueRef' object has no attribute '_as_parameter_'")


def test_destructor_errors_after_a_signal_go_to_the_debug_log(monkeypatch, caplog):
    from densumap._runtime import signals_raise

    seen = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    caplog.set_level("DEBUG", logger="densumap")
    with signals_raise(RuntimeError):
        _HalfBuilt()  # before any signal: reported as usual
        assert len(seen) == 1 and seen[0].exc_type is AttributeError
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)  # the handler raises before this ends
        _HalfBuilt()  # the interrupt's echo: logged, not printed
    assert len(seen) == 1
    assert sys.unraisablehook == seen.append  # restored
    logged = [r.getMessage() for r in caplog.records if r.levelname == "DEBUG"]
    assert len(logged) == 1 and "_as_parameter_" in logged[0]


class _SignalledWhileCollected:
    """The signal arrives while its destructor runs, where the handler's exception is lost."""

    def __del__(self):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)  # the handler runs (and raises) inside this destructor


def test_a_signal_swallowed_by_a_destructor_is_delivered_again(monkeypatch):
    from densumap._runtime import signals_raise

    seen = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    start = time.monotonic()
    with signals_raise(RuntimeError) as fired:
        with pytest.raises(KeyboardInterrupt):
            obj = _SignalledWhileCollected()
            del obj  # the KeyboardInterrupt raised in __del__ goes nowhere...
            time.sleep(10)  # ...but the signal is sent again and raises here
        assert fired == [signal.SIGINT]
    assert time.monotonic() - start < 5
    assert seen == []  # not printed: acted on


def test_a_signal_during_a_numba_compile_is_held_until_it_ends():
    from numba.core.compiler_lock import global_compiler_lock

    from densumap._runtime import signals_raise

    compiled = []
    with signals_raise(RuntimeError) as fired:
        with pytest.raises(KeyboardInterrupt):
            with global_compiler_lock:  # as numba holds it while it compiles
                with global_compiler_lock:  # nested, as a compile calling a compile
                    os.kill(os.getpid(), signal.SIGINT)
                    time.sleep(0.3)  # not raised here: inside the compile
                time.sleep(0.3)  # nor here: the outer compile still runs
                compiled.append(fired.copy())
            time.sleep(10)  # sent again once the lock is released: raises here
        assert compiled == [[]]  # the compile ran to its end, the signal not yet acted on
        assert fired == [signal.SIGINT]


@pytest.mark.parametrize("sig, status, word", [(signal.SIGINT, 130, "interrupted"),
                                              (signal.SIGTERM, 143, "terminated")])
def test_an_error_a_library_makes_of_the_signal_reports_the_signal(work, capsys, monkeypatch,
                                                                    caplog, sig, status, word):
    caplog.set_level("DEBUG", logger="densumap")

    def compiling(args):
        try:
            os.kill(os.getpid(), sig)
            time.sleep(5)  # the handler raises before this ends
        except BaseException as exc:  # a library can replace the exception
            raise RuntimeError("Failed in nopython mode pipeline") from exc

    monkeypatch.setattr(cli, "cmd_embed", compiling)
    status_got, err = run_main(capsys, "embed", "x.npy", "--out", "e.npy")
    assert status_got == status
    assert err.strip().splitlines() == [f"densumap embed: {word} ({sig.name}); no partial "
                                        f"output was left"]
    assert any(r.exc_info and "nopython" in str(r.exc_info[1]) for r in caplog.records)


def test_an_error_without_a_signal_is_not_taken_for_one(work, capsys, monkeypatch):
    def failing(args):
        raise RuntimeError("a real failure")

    monkeypatch.setattr(cli, "cmd_embed", failing)
    with pytest.raises(RuntimeError, match="a real failure"):
        cli.main(["embed", "x.npy", "--out", "e.npy"])


@pytest.mark.parametrize("status", [130, 0])
def test_the_executable_stays_quiet_at_shutdown_only_after_an_interrupt(tmp_path, status):
    script = tmp_path / "shut.py"
    script.write_text(
        "import sys\n"
        "from densumap import cli\n"
        "class HalfBuilt:\n"
        "    def __del__(self):\n"
        "        raise AttributeError('half built')\n"
        "def main(argv=None):\n"
        "    global kept\n"
        "    kept = HalfBuilt()  # collected at interpreter shutdown\n"
        f"    return {status}\n"
        "cli.main = main\n"
        "cli.run()\n")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=SRC), timeout=120)
    assert proc.returncode == status
    assert ("half built" in proc.stderr) == (status == 0), proc.stderr


def test_failed_plot_write_leaves_the_earlier_plot(work, capsys, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    (work / "p.png").write_bytes(b"earlier plot")
    before = snapshot(work)

    def failing(self, fname, **kw):
        with open(fname, "wb") as f:
            f.write(b"\x89PNG half")
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(Figure, "savefig", failing)
    status, err = run_main(capsys, "embed", "x.npy", "--out", "e.npy", "--plot", "p.png", *FAST)
    assert status == 2 and "Input/output error" in err
    after = snapshot(work)
    assert after["p.png"] == b"earlier plot"
    assert sorted(after) == sorted([*before, "e.npy"])  # no temporary file left
