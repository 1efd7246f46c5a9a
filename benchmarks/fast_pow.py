"""Fit the polynomials of ``densumap._kernels.fastpow`` and measure the power's error
and speed against libm's ``powf``.

Usage::

    python benchmarks/fast_pow.py

Prints the least-squares coefficients (which the module holds), the largest relative
error of ``fast_pow`` over ``|b * log2(x)| <= 40`` for a few exponents, and the time
per call of both powers in a loop over 2,000,000 values.
"""
import time

import numba
import numpy as np

from densumap._kernels.fastpow import fast_pow

t = 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, 4001))
A = np.vander(t, 6, increasing=True) * t[:, None]
log_coef, *_ = np.linalg.lstsq(A, np.log2(1.0 + t), rcond=None)
B = np.vander(t, 6, increasing=True)[:, 1:]
exp_coef, *_ = np.linalg.lstsq(B, 2.0 ** t - 1.0, rcond=None)
print("log2(1 + t) / t coefficients:", ", ".join(f"{c:.16g}" for c in log_coef))
print("(2**t - 1) / t coefficients: ", ", ".join(f"{c:.16g}" for c in exp_coef))


@numba.njit(fastmath=True)
def _fast(x, b, out):
    for i in range(x.shape[0]):
        out[i] = fast_pow(x[i], b)


@numba.njit(fastmath=True)
def _libm(x, b, out):
    for i in range(x.shape[0]):
        out[i] = x[i] ** b


rng = np.random.default_rng(0)
for b in (0.5, 0.79, 1.0, 1.58):
    span = min(int(40 / b), 120)
    x = np.exp2(rng.uniform(-span, span, 2_000_000)).astype(np.float32)
    out = np.empty_like(x)
    _fast(x, np.float32(b), out)
    rel = np.abs(out / (x.astype(np.float64) ** b) - 1.0).max()
    times = {}
    for name, f in (("fast_pow", _fast), ("powf", _libm)):
        f(x, np.float32(b), out)
        t0 = time.perf_counter()
        for _ in range(5):
            f(x, np.float32(b), out)
        times[name] = (time.perf_counter() - t0) / (5 * x.shape[0]) * 1e9
    print(f"b={b}: max relative error {rel:.2e}; ns per call: fast_pow {times['fast_pow']:.2f},"
          f" powf {times['powf']:.2f}")
