"""Numba's on-disk cache, invalidated by a change to any kernel's source.

Numba checks a cached function against the source file it was defined in, and no
other. A kernel that calls a kernel of another module carries the callee's machine code
in its own cache entry, so after the callee's module changes (a ``git pull``, an
editable install, an upgrade that leaves the old ``__pycache__`` behind) the caller
would go on running the old callee. The results stay valid numbers but are no longer
the ones this source gives, which breaks bit-for-bit reproducibility (seen with the
kNN's tree kernels: BENCHMARKS.md, "A finding about numba's on-disk cache").

Here every function defined under a registered directory (densumap's ``_kernels``) is
stamped with a digest of all the ``.py`` files under that directory as well as its own
file, so any change there makes numba refuse every old entry of the directory, compile
once and overwrite it. The locators are numba's own (``NUMBA_CACHE_DIR``, then the
module's ``__pycache__``, then the user-wide cache directory), in numba's order; they
are put in front of numba's list and decline every function defined elsewhere. If
``NUMBA_CACHE_LOCATOR_CLASSES`` is set, numba uses that list and this module changes
nothing.
"""
import functools
import hashlib
import os

_ROOTS = []


def register_root(path):
    """Stamp the cache of every function defined under ``path`` with its sources' digest.

    Parameters
    ----------
    path : str
        A directory; every ``.py`` file below it (sub-packages included) is part of
        the digest. Call before the functions under it are compiled with
        ``cache=True``.
    """
    root = os.path.realpath(path)
    if root not in _ROOTS:
        _ROOTS.append(root)
    _install()


@functools.lru_cache(maxsize=None)
def sources_digest(root):
    """SHA-256 of the relative paths and contents of every ``.py`` file under ``root``.

    Computed once per process and root (the sources a process runs do not change
    under it).
    """
    digest = hashlib.sha256()
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d != "__pycache__")
        for name in sorted(f for f in files if f.endswith(".py")):
            path = os.path.join(directory, name)
            digest.update(os.path.relpath(path, root).replace(os.sep, "/").encode())
            digest.update(b"\0")
            with open(path, "rb") as handle:
                digest.update(hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()


def _root_of(py_file):
    path = os.path.realpath(py_file)
    for root in _ROOTS:
        if path.startswith(root + os.sep):
            return root
    return None


class _DigestStamp:
    """Mixin for numba's source-file locators: decline files outside the registered
    roots, and add the root's digest to the file's own stamp."""

    _root = None

    @classmethod
    def from_function(cls, py_func, py_file):
        root = _root_of(py_file)
        if root is None:
            return None
        locator = super().from_function(py_func, py_file)
        if locator is not None:
            locator._root = root
        return locator

    def get_source_stamp(self):
        return (super().get_source_stamp(), sources_digest(self._root))


@functools.lru_cache(maxsize=None)
def _install():
    """Put the stamping locators in front of numba's (once per process)."""
    try:
        from numba.core import caching

        bases = (caching.UserProvidedCacheLocator, caching.InTreeCacheLocator,
                 caching.UserWideCacheLocator)
        # ``CacheImpl`` in numba 0.68, ``_CacheImpl`` in older releases.
        impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl
        classes = impl._locator_classes
    except (ImportError, AttributeError):  # another numba layout: its defaults apply
        return False
    ours = [type("Stamped" + base.__name__, (_DigestStamp, base), {}) for base in bases]
    impl._locator_classes = ours + list(classes)
    return True
