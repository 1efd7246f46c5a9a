"""The SGD's single-precision power (``densumap._kernels.fastpow``) against float64."""
import numpy as np
import numba
import pytest

from densumap._kernels.fastpow import fast_pow


@numba.njit
def _apply(x, b, out):
    for i in range(x.shape[0]):
        out[i] = fast_pow(x[i], b)


@pytest.mark.parametrize("b", [0.3, 0.5, 0.79, 1.0, 1.58, 2.0])
def test_fast_pow_relative_error(b):
    rng = np.random.default_rng(0)
    # Every normal x with |b * log2(x)| <= 40 (squared distances in an embedding span far
    # fewer decades); exact powers of two and their neighbours included, where the
    # exponent/mantissa split changes.
    span = min(int(40 / b), 120)
    x = np.exp2(rng.uniform(-span, span, 200_000)).astype(np.float32)
    two = np.float32(2.0) ** np.arange(-span + 1, span, dtype=np.float32)
    x = np.concatenate([x, two, np.nextafter(two, 0), np.nextafter(two, np.inf)])
    out = np.empty_like(x)
    _apply(x, np.float32(b), out)
    ref = x.astype(np.float64) ** b
    rel = np.abs(out.astype(np.float64) / ref - 1.0)
    assert rel.max() < 1e-5  # measured: at most 5.8e-6


def test_fast_pow_clamps_instead_of_overflowing():
    out = np.empty(3, dtype=np.float32)
    _apply(np.array([0.0, 1e-38, 3e38], dtype=np.float32), np.float32(2.0), out)
    assert np.all(np.isfinite(out)) and np.all(out > 0)
    assert out[2] >= np.float32(2.0) ** 126
