"""The kernels' on-disk cache is refused after a change to any kernel module.

A cached kernel holds the machine code of the kernels it calls, and numba checks a
cache entry against its own module's source only. ``densumap._kernels._cache`` adds a
digest of the whole kernel package to every entry's stamp.
"""
import json
import os
import subprocess
import sys
import textwrap

from densumap._kernels import _cache
from densumap._kernels._config import kernel

_CHILD = textwrap.dedent("""
    import json, sys
    from densumap._kernels._cache import register_root
    register_root(sys.argv[1])
    sys.path.insert(0, sys.argv[1])
    import caller
    value = caller.twice_callee(3.0)
    hits = sum(caller.twice_callee.stats.cache_hits.values())
    print(json.dumps({"value": value, "hits": hits}))
""")


def _write_package(root, factor):
    (root / "callee.py").write_text(textwrap.dedent(f"""
        from densumap._kernels._config import kernel

        @kernel()
        def callee(x):
            return {factor} * x
    """))
    (root / "caller.py").write_text(textwrap.dedent("""
        from densumap._kernels._config import kernel
        from callee import callee

        @kernel()
        def twice_callee(x):
            return 2.0 * callee(x)
    """))


def _run(root, cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    env.pop("NUMBA_CACHE_LOCATOR_CLASSES", None)
    done = subprocess.run([sys.executable, "-c", _CHILD, str(root)], env=env,
                          capture_output=True, text=True, timeout=300, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_cache_is_refused_after_a_callee_module_changes(tmp_path):
    root = tmp_path / "kernels"
    root.mkdir()
    cache_dir = tmp_path / "numba_cache"
    _write_package(root, 1.0)
    assert _run(root, cache_dir) == {"value": 6.0, "hits": 0}
    # The same sources: the entry is used (so the cache works at all).
    assert _run(root, cache_dir) == {"value": 6.0, "hits": 1}
    # Only the callee's module changes; numba alone would load the caller's stale
    # entry (value 6.0, one hit).
    _write_package(root, 5.0)
    assert _run(root, cache_dir) == {"value": 30.0, "hits": 0}
    assert _run(root, cache_dir) == {"value": 30.0, "hits": 1}


def test_digest_covers_every_source_and_nothing_else(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "sub" / "b.py").write_text("y = 1\n")
    (tmp_path / "notes.txt").write_text("not a source\n")

    def digest():
        _cache.sources_digest.cache_clear()
        return _cache.sources_digest(str(tmp_path))

    first = digest()
    (tmp_path / "notes.txt").write_text("changed\n")
    assert digest() == first
    (tmp_path / "sub" / "b.py").write_text("y = 2\n")
    second = digest()
    assert second != first
    (tmp_path / "sub" / "b.py").rename(tmp_path / "b.py")
    assert digest() != second


def test_package_kernels_are_stamped_with_the_package_digest():
    @kernel()
    def outside(x):  # defined in the tests: numba's own locator, not ours
        return x + 1

    from densumap._kernels.nndescent import trees

    compiled = [getattr(trees, name) for name in dir(trees)
                if hasattr(getattr(trees, name), "_cache")]
    assert compiled
    root = os.path.dirname(os.path.abspath(_cache.__file__))
    for dispatcher in compiled:
        stamp = dispatcher._cache._impl.locator.get_source_stamp()
        assert stamp[1] == _cache.sources_digest(os.path.realpath(root))
    assert not isinstance(outside._cache._impl.locator, _cache._DigestStamp)
