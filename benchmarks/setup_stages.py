"""The steps between the kNN and the SGD epochs at scale, old formulation against new.

Usage::

    PYTHONPATH=src python benchmarks/setup_stages.py /tmp/fmnist_aug_1m.npz 1000000

On the first N rows of an ``.npz`` (``make_fmnist_1m.py``; the kNN is cached in
``/tmp/setup_knn_NAME_N.npz`` after the first run) times, one after the other in this
process:

* the fuzzy graph: scipy's float32 sparse algebra (the formulation densumap used
  until the sixth session) against ``graph.membership_graph`` + ``graph.fuzzy_union``,
  and checks that the two graphs are the same to the last bit;
* the spectral initialisation: ARPACK on scipy's float64 product against the float32
  product on row blocks that ``init`` uses for graphs above ``init._POOLED_NNZ``
  entries, with the cosines of the principal angles between the two layouts;
* the layout setup: ``layout.make_schedule`` (the edges' sample rates) and
  ``partition.bisect``.

Fresh memory is slow to touch on this project's virtual machines (the first touch of
160 MB took 1.25 s, the next 0.03 s), so read single timings as +-30%.
"""
import os
import sys
import time

import numpy as np
import scipy.sparse as sp

from densumap import graph as G
from densumap import init, layout, partition
from densumap.nndescent import approximate_knn


def scipy_fuzzy_graph(knn_i, knn_d, sigmas, rhos):
    n, k = knn_i.shape
    vals = G._k.membership_strengths(knn_i, knn_d, sigmas, rhos)
    rows = np.repeat(np.arange(n, dtype=np.int32), k)
    keep = (knn_i.ravel() >= 0) & (vals.ravel() > 0)
    a = sp.csr_matrix((vals.ravel()[keep], (rows[keep], knn_i.ravel()[keep])), shape=(n, n),
                      dtype=np.float32)
    a.sum_duplicates()
    t = a.T.tocsr()
    prod = a.multiply(t)
    out = sp.csr_matrix(1.0 * (a + t - prod) + 0.0 * prod, dtype=np.float32)
    out.eliminate_zeros()
    out.sort_indices()
    return out


def timed(label, f):
    t = time.perf_counter()
    out = f()
    print(f"{label}: {time.perf_counter() - t:.2f} s", flush=True)
    return out


def main():
    path, n = sys.argv[1], int(sys.argv[2])
    name = os.path.splitext(os.path.basename(path))[0]
    cache = f"/tmp/setup_knn_{name}_{n}.npz"
    if os.path.exists(cache):
        with np.load(cache) as z:
            knn_i, knn_d = z["i"], z["d"]
    else:
        with np.load(path) as z:
            X = np.ascontiguousarray(z["X"][:n], dtype=np.float32)
        knn_i, knn_d = timed("kNN (cached afterwards)",
                             lambda: approximate_knn(X, 15, random_state=42))
        np.savez(cache, i=knn_i, d=knn_d)
    knn_i = np.ascontiguousarray(knn_i, dtype=np.int32)
    knn_d = np.ascontiguousarray(knn_d, dtype=np.float32)
    sigmas, rhos = timed("smooth_knn_dist", lambda: G.smooth_knn_dist(knn_d, 15))
    # Compile the new kernels on a slice first.
    G.fuzzy_union(G.membership_graph(knn_i[:1000] % 1000, knn_d[:1000], sigmas[:1000],
                                     rhos[:1000]))
    old = timed("fuzzy graph, scipy sparse algebra", lambda: scipy_fuzzy_graph(
        knn_i, knn_d, sigmas, rhos))
    new = timed("fuzzy graph, membership_graph + fuzzy_union", lambda: G.fuzzy_union(
        G.membership_graph(knn_i, knn_d, sigmas, rhos)))
    same = (np.array_equal(old.indptr, new.indptr) and np.array_equal(old.indices, new.indices)
            and np.array_equal(old.data.view(np.uint32), new.data.view(np.uint32)))
    print(f"  same graph bit for bit: {same}; {new.nnz} entries")
    del old

    pooled_nnz, shared_nnz = init._POOLED_NNZ, init._SHARED_NNZ
    init._POOLED_NNZ = init._SHARED_NNZ = 1 << 62
    ref = timed("spectral init, scipy float64 product",
                lambda: init.spectral_layout(new, 2, np.random.default_rng(0)))
    init._POOLED_NNZ, init._SHARED_NNZ = pooled_nnz, shared_nnz
    got = timed("spectral init, float32 product on row blocks (used above "
                f"{pooled_nnz} entries)",
                lambda: init.spectral_layout(new, 2, np.random.default_rng(0)))
    q_ref, _ = np.linalg.qr(ref)
    q_got, _ = np.linalg.qr(got)
    cosines = np.linalg.svd(q_ref.T @ q_got, compute_uv=False)
    print(f"  subspace cosines {np.round(cosines, 7)}, largest coordinate difference "
          f"{np.abs(got - ref).max() / np.abs(ref).max():.1e} of the range")

    lg = G.layout_graph(new, 120)
    layout.make_schedule(lg[:1000][:, :1000].tocsr(), 5.0)
    timed("layout.make_schedule", lambda: layout.make_schedule(lg, 5.0))
    timed("partition.bisect", lambda: partition.bisect(
        got.astype(np.float32), lg, partition.n_levels_for(n), 42))


if __name__ == "__main__":
    main()
