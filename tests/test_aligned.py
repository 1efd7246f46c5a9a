"""AlignedUMAP: umap-learn's "How to use AlignedUMAP" flow on digits, DensMAP per slice,
determinism, update(), relations checks, and the alignment numerics against references."""
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.stats import ortho_group

import densumap
import densumap as umap
from densumap import alignment
from densumap._kernels.aligned_sgd import pair_jaccard

from .helpers import density_correlation, knn_accuracy

STEP, SIZE, N_SLICES = 100, 300, 4
EPOCHS = 100


@pytest.fixture(scope="module")
def doc_slices():
    """The basic-usage page's data: digits sorted by total ink, overlapping slices,
    each relation mapping the last SIZE - STEP rows of a slice to the first of the next."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    order = np.argsort(X.sum(axis=1), kind="stable")
    X, y = X[order].astype(np.float32), y[order]
    slices = [X[STEP * i:STEP * i + SIZE] for i in range(N_SLICES)]
    targets = [y[STEP * i:STEP * i + SIZE] for i in range(N_SLICES)]
    relation = {i + STEP: i for i in range(SIZE - STEP)}
    relations = [relation.copy() for _ in range(N_SLICES - 1)]
    return slices, targets, relations


def related_distance(embeddings, relations):
    """Mean distance between related points of consecutive slices (raw coordinates)."""
    out = []
    for s, rel in enumerate(relations):
        keys = np.fromiter(rel.keys(), dtype=np.int64)
        values = np.fromiter(rel.values(), dtype=np.int64)
        out.append(np.linalg.norm(embeddings[s][keys] - embeddings[s + 1][values],
                                  axis=1).mean())
    return np.array(out)


@pytest.fixture(scope="module")
def fitted(doc_slices):
    slices, _, relations = doc_slices
    return umap.AlignedUMAP(n_epochs=EPOCHS, random_state=0).fit(slices, relations=relations)


def test_names_as_umap_learn_imports_them():
    import densumap.aligned_umap

    assert densumap.AlignedUMAP is densumap.aligned_umap.AlignedUMAP
    assert "AlignedUMAP" in dir(densumap)


def test_each_slice_keeps_classes_apart(doc_slices, fitted):
    slices, targets, _ = doc_slices
    assert fitted.n_models_ == N_SLICES and len(fitted.mappers_) == N_SLICES
    for s in range(N_SLICES):
        emb = fitted.embeddings_[s]
        assert emb.shape == (SIZE, 2) and emb.dtype == np.float32
        assert np.all(np.isfinite(emb))
        assert fitted.mappers_[s].embedding_ is emb
        # Measured 0.89-0.95 per slice (umap-learn's AlignedUMAP: 0.90-0.95 on the
        # same slices); plain UMAP on one slice: 0.92.
        assert knn_accuracy(emb, targets[s]) > 0.85, s


def test_slice_models_are_complete_umap_models(doc_slices, fitted):
    """What UMAP.fit leaves on a model, each slice's UMAP has too: transform of its
    own rows gives their aligned positions, graph_dists_ lines up with graph_."""
    slices, targets, relations = doc_slices
    m = fitted.mappers_[1]
    np.testing.assert_array_equal(m.transform(slices[1]), fitted.embeddings_[1])
    np.testing.assert_array_equal(m.graph_dists_.indptr, m.graph_.indptr)
    np.testing.assert_array_equal(m.graph_dists_.indices, m.graph_.indices)
    supervised = umap.AlignedUMAP(n_epochs=5, random_state=0).fit(
        slices[:2], targets[:2], relations=relations[:1])
    with pytest.raises(ValueError, match="supervised"):
        supervised.mappers_[0].update(slices[0][:10] + 0.5)


def test_alignment_regularisation_pulls_related_points_together(doc_slices, fitted):
    slices, targets, relations = doc_slices
    kw = dict(n_epochs=EPOCHS, random_state=0)
    free = umap.AlignedUMAP(alignment_regularisation=1e-6, **kw).fit(slices, relations=relations)
    strong = umap.AlignedUMAP(alignment_regularisation=1.0, **kw).fit(slices, relations=relations)
    d_free = related_distance(free.embeddings_, relations)
    d_default = related_distance(fitted.embeddings_, relations)
    d_strong = related_distance(strong.embeddings_, relations)
    # Measured on these slices: ~3.5 (free), ~0.5 (0.01, the default), ~0.08 (1.0), in
    # embeddings about 15 wide; umap-learn: 2.8-4.1, 0.46-0.72, 0.07-0.12.
    assert np.all(d_default < 0.3 * d_free), (d_default, d_free)
    assert np.all(d_strong < 0.3 * d_default), (d_strong, d_default)
    assert np.all(d_strong < 0.05 * d_free)
    # A strong pull does not wreck each slice's layout (measured 0.91-0.95).
    for s in range(N_SLICES):
        assert knn_accuracy(strong.embeddings_[s], targets[s]) > 0.85


def test_densmap_slices_preserve_density(doc_slices, fitted):
    slices, targets, relations = doc_slices
    model = umap.AlignedUMAP(n_epochs=EPOCHS, random_state=0, densmap=True, output_dens=True)
    embs, rad_orig, rad_emb = model.fit_transform(slices, relations=relations)
    for s in range(N_SLICES):
        plain = density_correlation(slices[s], fitted.embeddings_[s])
        dens = density_correlation(slices[s], embs[s])
        # Measured 0.85-0.90 with DensMAP against 0.51-0.62 without (plain DensMAP on
        # one slice: 0.89).
        assert dens > plain + 0.2, (s, dens, plain)
        assert dens > 0.75
        assert knn_accuracy(embs[s], targets[s]) > 0.75  # measured 0.83-0.87
        assert rad_orig[s].shape == rad_emb[s].shape == (SIZE,)
        assert np.corrcoef(rad_orig[s], rad_emb[s])[0, 1] > 0.7  # measured 0.87-0.88
    assert related_distance(embs, relations).max() < 1.5


@pytest.mark.parametrize("densmap", [False, True])
def test_seeded_fit_identical_for_any_thread_count(doc_slices, densmap):
    slices, _, relations = doc_slices
    kw = dict(n_epochs=30, random_state=3, densmap=densmap, dens_frac=0.5)
    one = umap.AlignedUMAP(n_jobs=1, **kw).fit(slices[:3], relations=relations[:2])
    two = umap.AlignedUMAP(n_jobs=2, **kw).fit(slices[:3], relations=relations[:2])
    for a, b in zip(one.embeddings_, two.embeddings_):
        assert np.array_equal(a, b)
    other = umap.AlignedUMAP(n_jobs=2, **dict(kw, random_state=4)).fit(
        slices[:3], relations=relations[:2])
    assert not np.array_equal(one.embeddings_[0], other.embeddings_[0])


def test_update_adds_an_aligned_slice(doc_slices):
    slices, targets, relations = doc_slices
    model = umap.AlignedUMAP(n_epochs=EPOCHS, random_state=0).fit(slices[:2],
                                                                  relations=relations[:1])
    before = [e.copy() for e in model.embeddings_]
    for i in range(2, N_SLICES):
        # The page passes each relation inverted: rows of the new slice -> last slice.
        model.update(slices[i], relations={v: k for k, v in relations[i - 1].items()})
    assert model.n_models_ == N_SLICES and len(model.embeddings_) == N_SLICES
    for a, b in zip(before, model.embeddings_[:2]):
        assert np.array_equal(a, b)  # fitted slices do not move
    d = related_distance(model.embeddings_, relations)
    emb = model.embeddings_[-1]
    # Reference: distance between unrelated points of the two slices.
    rng = np.random.default_rng(0)
    chance = np.linalg.norm(model.embeddings_[-2][rng.integers(0, SIZE, 500)]
                            - emb[rng.integers(0, SIZE, 500)], axis=1).mean()
    assert np.all(d < 0.15 * chance), (d, chance)  # measured d ~0.55, chance ~7
    for s in range(2, N_SLICES):
        assert knn_accuracy(model.embeddings_[s], targets[s]) > 0.85  # measured 0.93-0.95
    assert model.dict_relations_[-1] == {v: k for k, v in relations[-1].items()}
    # The new slice's model places new points in the aligned embedding of its slice
    # (rows near its own land near them; its own rows land exactly on them).
    placed = model.mappers_[-1].transform(slices[-1][:50] + 0.25)
    assert np.median(np.linalg.norm(placed - emb[:50], axis=1)) < 1.0
    np.testing.assert_array_equal(model.mappers_[-1].transform(slices[-1][:50]), emb[:50])


def test_update_takes_per_slice_parameters(doc_slices):
    slices, _, relations = doc_slices
    model = umap.AlignedUMAP(n_neighbors=[10, 12], n_epochs=20, random_state=0)
    model.fit(slices[:2], relations=relations[:1])
    with pytest.raises(ValueError, match="n_neighbors is a list of 2 values, with none for "
                                         "slice 2"):
        model.update(slices[2], relations={0: STEP})
    model.update(slices[2], relations={0: STEP}, n_neighbors=8)
    assert [m.n_neighbors for m in model.mappers_] == [10, 12, 8]
    assert model.n_neighbors == [10, 12]  # the hyper-parameter is not rewritten
    with pytest.raises(TypeError, match="cannot vary per slice: \\['metric'\\]"):
        model.update(slices[3], relations={0: STEP}, metric="cosine")
    # init arrays for the fitted slices; the added slice has no relation at all.
    inits = [np.random.default_rng(s).uniform(0, 10, (SIZE, 2)) for s in range(2)]
    model = umap.AlignedUMAP(init=inits, n_epochs=10, random_state=0)
    model.fit(slices[:2], relations=relations[:1]).update(slices[2], relations={})
    assert model.mappers_[2].init == "spectral" and np.all(np.isfinite(model.embeddings_[2]))


def test_varying_parameters_over_the_same_data(doc_slices):
    # The page's "Aligning varying parameters": the same data, identity relations, a
    # list per parameter (n_neighbors one longer than needed, as on the page).
    X = doc_slices[0][0]
    same = {i: i for i in range(X.shape[0])}
    model = umap.AlignedUMAP(n_neighbors=[4, 8, 16, 30], min_dist=[0.01, 0.2, 0.4],
                             alignment_window_size=2, alignment_regularisation=1e-3,
                             n_epochs=30, random_state=0).fit([X] * 3, relations=[same] * 2)
    assert [m.n_neighbors_ for m in model.mappers_] == [4, 8, 16]
    assert [m.min_dist for m in model.mappers_] == [0.01, 0.2, 0.4]
    assert len({float(m.a_) for m in model.mappers_}) == 3
    with pytest.raises(ValueError, match="min_dist is a list of 2 values but there are 3"):
        umap.AlignedUMAP(min_dist=[0.1, 0.2]).fit([X] * 3, relations=[same] * 2)
    with pytest.raises(ValueError, match="n_components must be one integer"):
        umap.AlignedUMAP(n_components=[2, 2, 2]).fit([X] * 3, relations=[same] * 2)


def test_politics_page_call_with_dataframes_and_partial_relations(doc_slices):
    # The politics page: DataFrame slices indexed by an entity id, relations from an
    # inner join of the indices (partial: entities come and go), cosine metric.
    slices = doc_slices[0][:3]
    rng = np.random.default_rng(1)
    frames = []
    for s, X in enumerate(slices):
        ids = np.arange(STEP * s, STEP * s + SIZE)
        keep = np.sort(rng.choice(SIZE, SIZE - 30, replace=False))
        frames.append(pd.DataFrame(X[keep], index=pd.Index(ids[keep], name="id")))

    def make_relation(from_df, to_df):
        left = pd.DataFrame(data=np.arange(len(from_df)), index=from_df.index)
        right = pd.DataFrame(data=np.arange(len(to_df)), index=to_df.index)
        return dict(pd.merge(left, right, left_index=True, right_index=True).values)

    relations = [make_relation(x, z) for x, z in zip(frames[:-1], frames[1:])]
    model = umap.aligned_umap.AlignedUMAP(metric="cosine", n_neighbors=20,
                                          alignment_regularisation=0.1,
                                          alignment_window_size=5, n_epochs=60,
                                          random_state=42).fit(frames, relations=relations)
    embeddings = model.embeddings_
    assert [e.shape[0] for e in embeddings] == [SIZE - 30] * 3
    free = related_distance(embeddings, relations)
    rng = np.random.default_rng(0)
    chance = np.linalg.norm(embeddings[0][rng.integers(0, SIZE - 30, 500)]
                            - embeddings[1][rng.integers(0, SIZE - 30, 500)], axis=1).mean()
    assert np.all(free < 0.1 * chance), (free, chance)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("relations, error, message", [
    (None, ValueError, "needs relations="),
    ({0: 0}, TypeError, "relations must be a list of dicts"),
    ([{0: 0}], ValueError, "3 slices need 2; got 1"),
    ([{0: 0}, {0: 0}, {0: 0}], ValueError, "3 slices need 2; got 3"),
    ([{0: 0}, [(0, 0)]], TypeError, "relations\\[1\\] must be a dict"),
    ([{0: 0}, {SIZE: 0}], ValueError, "relations\\[1\\] has key 300 .*\\[0, 300\\)"),
    ([{0: 0}, {-1: 0}], ValueError, "relations\\[1\\] has key -1"),
    ([{5: SIZE + 7}, {0: 0}], ValueError, "relations\\[0\\] has value 307 .*\\[0, 300\\)"),
    ([{0.5: 1}, {0: 0}], TypeError, "key 0.5 .* is a float"),
    ([{0: "1"}, {0: 0}], TypeError, "value '1' .* is a str"),
])
def test_bad_relations_raise_clear_errors(doc_slices, relations, error, message):
    slices = doc_slices[0][:3]
    with pytest.raises(error, match=message):
        umap.AlignedUMAP(n_epochs=5).fit(slices, relations=relations)


def test_bad_update_relations_and_inputs(doc_slices):
    slices, _, relations = doc_slices
    model = umap.AlignedUMAP(n_epochs=10, random_state=0).fit(slices[:2],
                                                              relations=relations[:1])
    with pytest.raises(ValueError, match="has value 300"):
        model.update(slices[2], relations={0: SIZE})
    with pytest.raises(ValueError, match="needs relations="):
        model.update(slices[2])
    assert model.n_models_ == 2 and len(model.embeddings_) == 2  # nothing appended
    with pytest.raises(TypeError, match="X must be a list"):
        umap.AlignedUMAP().fit(slices[0], relations=[])
    with pytest.raises(ValueError, match="slice 1: .*n_neighbors"):
        umap.AlignedUMAP(n_neighbors=[15, 1]).fit(slices[:2], relations=relations[:1])
    with pytest.raises(ValueError, match="alignment_regularisation"):
        umap.AlignedUMAP(alignment_regularisation=-1.0).fit(slices[:2],
                                                            relations=relations[:1])


# ---------------------------------------------------------- numerics vs references
def test_pair_jaccard_matches_python_sets():
    rng = np.random.default_rng(0)
    A = sp.random(40, 30, density=0.2, random_state=1, format="csr")
    C = sp.random(25, 30, density=0.2, random_state=2, format="csr")
    A.sort_indices()
    C.sort_indices()
    rows, cols = rng.integers(0, 40, 200), rng.integers(0, 25, 200)
    got = pair_jaccard(A.indptr.astype(np.int64), A.indices.astype(np.int64),
                       C.indptr.astype(np.int64), C.indices.astype(np.int64), rows, cols)
    for p, (i, k) in enumerate(zip(rows, cols)):
        a, c = set(A[i].indices), set(C[k].indices)
        want = 1.0 if not (a | c) else len(a & c) / len(a | c)
        assert got[p] == pytest.approx(want)


def test_window_links_chain_relations_through_slices():
    # Three slices; relations that shuffle rows and drop some. The link from slice 0
    # to slice 2 must follow d0 then d1 (umap-learn once re-applied one of them).
    # Graphs without edges make every neighbourhood similarity 1 (two empty sets),
    # so each link weighs exactly strength * exp(-(k - 1)) at k slices apart.
    rng = np.random.default_rng(0)
    n = 12
    d0 = {i: int(v) for i, v in enumerate(rng.permutation(n)) if i % 4}
    d1 = {i: int(v) for i, v in enumerate(rng.permutation(n)) if i % 3}
    rel = [alignment.relation_matrix(*map(np.array, zip(*d.items())), n, n) for d in (d0, d1)]
    empty = sp.csr_matrix((n, n))
    starts = np.array([0, n, 2 * n, 3 * n])
    L = alignment.window_links(rel, [empty] * 3, starts, 2, 0.3).todok()
    want = {}
    for i, j in d0.items():
        want[i, n + j] = want[n + j, i] = 0.3
        if j in d1:
            want[i, 2 * n + d1[j]] = want[2 * n + d1[j], i] = 0.3 * np.exp(-1.0)
    for j, k in d1.items():
        want[n + j, 2 * n + k] = want[2 * n + k, n + j] = 0.3
    assert set(L.keys()) == set(want)
    for key, value in want.items():
        assert L[key] == pytest.approx(value)
    # A window of 1 drops the two-slice links.
    L1 = alignment.window_links(rel, [empty] * 3, starts, 1, 0.3).tocoo()
    assert not np.any((L1.row < n) & (L1.col >= 2 * n))


def test_neighbourhood_similarity_matches_definition():
    # Jaccard of {neighbours of i carried through P} and {neighbours of j that P
    # reaches}, for every related pair (i, j); umap-learn's weighting.
    rng = np.random.default_rng(3)
    n_s, n_t = 30, 25
    G_s = sp.random(n_s, n_s, density=0.15, random_state=4, format="csr")
    G_t = sp.random(n_t, n_t, density=0.15, random_state=5, format="csr")
    keys = rng.choice(n_s, 20, replace=False)
    values = rng.integers(0, n_t, 20)  # many-to-one allowed
    P = alignment.relation_matrix(keys, values, n_s, n_t)
    rows, cols, sim = alignment.neighbourhood_similarity(P, G_s, G_t)
    image = set(values.tolist())
    pairs = dict(zip(keys.tolist(), values.tolist()))
    assert sorted(zip(rows.tolist(), cols.tolist())) == sorted(pairs.items())
    for i, j, got in zip(rows, cols, sim):
        carried = {pairs[k] for k in G_s[i].indices if k in pairs}
        kept = {k for k in G_t[j].indices if k in image}
        union = carried | kept
        assert got == pytest.approx(1.0 if not union else len(carried & kept) / len(union))


def test_procrustes_recovers_a_rotation_and_shift():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(50, 3)).astype(np.float32)
    R = ortho_group.rvs(3, random_state=1)
    moved = (base @ R.T + np.array([5.0, -2.0, 1.0])).astype(np.float32)
    rows = np.arange(0, 50, 2)
    out = alignment.procrustes_onto(base, moved, rows, rows)
    np.testing.assert_allclose(out, base, atol=1e-4)
