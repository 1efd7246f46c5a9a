"""A UMAP that records each time it is pickled or unpickled (importable by dask workers)."""
import os

import densumap


class CountingUMAP(densumap.UMAP):
    """Appends ``pickled <pid>`` / ``unpickled <pid>`` to ``self.count_path`` (when set)."""

    def _record(self, what):
        path = getattr(self, "count_path", None)
        if path:
            with open(path, "a") as f:
                f.write(f"{what} {os.getpid()}\n")

    def __getstate__(self):
        self._record("pickled")
        return super().__getstate__()

    def __setstate__(self, state):
        super().__setstate__(state)
        self._record("unpickled")
