"""A UMAP that records each time it is pickled (importable by dask worker processes)."""
import densumap


class CountingUMAP(densumap.UMAP):
    """Appends a line to ``self.count_path`` (when set) every time it is serialised."""

    def __getstate__(self):
        path = getattr(self, "count_path", None)
        if path:
            with open(path, "a") as f:
                f.write("pickled\n")
        return super().__getstate__()
