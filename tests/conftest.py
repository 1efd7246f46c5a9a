import numpy as np
import pytest
from sklearn.datasets import load_digits


@pytest.fixture(scope="session")
def digits():
    X, y = load_digits(return_X_y=True)
    return X.astype(np.float32), y


@pytest.fixture
def count_searches(monkeypatch):
    """Count every kNN search of a fit (exact, approximate and the dispatcher)."""
    calls = []

    def counting(name, func):
        def wrapper(*args, **kwargs):
            calls.append(name)
            return func(*args, **kwargs)
        return wrapper

    from densumap import estimator as estimator_mod
    from densumap import neighbors as neighbors_mod

    monkeypatch.setattr(estimator_mod, "nearest_neighbors",
                        counting("nearest_neighbors", estimator_mod.nearest_neighbors))
    for name in ("_exact", "_approximate"):
        monkeypatch.setattr(neighbors_mod, name, counting(name, getattr(neighbors_mod, name)))
    return calls
