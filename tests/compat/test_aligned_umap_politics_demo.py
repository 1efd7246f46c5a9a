"""umap-learn's "AlignedUMAP for Time Varying Data" page, its umap calls with
``import densumap as umap``.

The page's roll-call votes of the US House (CSV files it builds elsewhere) are
replaced by generated ones: 6 sessions of 150 legislators in two parties, about a
fifth replaced each session, each voting on 120 bills by party line plus their own
lean; each session is a DataFrame indexed by legislator, as on the page, and the
relations match legislators by name, partially. The page's fuzzy matching of
election results and its plotly curves (no umap calls) are left out.
"""
import numpy as np
import pytest

import densumap as umap

from ..helpers import knn_accuracy

pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def sessions():
    rng = np.random.default_rng(0)
    n_seats, n_bills, n_sessions = 150, 120, 6
    lean = {}  # legislator -> (party, lean in [-1, 1])
    members, next_id = [], 0
    votes, parties = [], []
    for s in range(n_sessions):
        if s:
            members = list(rng.choice(members, int(0.8 * n_seats), replace=False))
        while len(members) < n_seats:
            name = f"rep{next_id:04d}"
            next_id += 1
            party = str(rng.choice(["D", "R"]))
            lean[name] = (party, (-1 if party == "D" else 1) * rng.uniform(0.3, 1.0))
            members.append(name)
        members = sorted(members)
        bill_side = rng.choice([-1.0, 1.0], n_bills)
        partisan = rng.uniform(0, 1, n_bills)
        rows = []
        for name in members:
            p_aye = 0.5 + 0.5 * np.clip(lean[name][1] * bill_side * partisan, -1, 1)
            vote = np.where(rng.uniform(size=n_bills) < p_aye, 1.0, -1.0)
            vote[rng.uniform(size=n_bills) < 0.05] = 0.0  # not voting
            rows.append(vote)
        votes.append(pd.DataFrame(np.array(rows),
                                  index=pd.Index(members, name="legislator_index"),
                                  columns=[f"{s}-{b}" for b in range(n_bills)]))
        parties.append(np.array([lean[m][0] for m in members]))
    return votes, parties


def make_relation(from_df, to_df):
    left = pd.DataFrame(data=np.arange(len(from_df)), index=from_df.index)
    right = pd.DataFrame(data=np.arange(len(to_df)), index=to_df.index)
    merge = pd.merge(left, right, left_index=True, right_index=True)
    return dict(merge.values)


def test_page(sessions):
    import densumap.aligned_umap  # noqa: F401  (the page: "import umap.aligned_umap")
    import densumap.utils as utils  # noqa: F401

    votes, parties = sessions
    relations = [make_relation(x, y) for x, y in zip(votes[:-1], votes[1:])]
    assert all(110 <= len(r) <= 150 for r in relations)  # partial relations
    aligned_mapper = umap.aligned_umap.AlignedUMAP(
        metric="cosine",
        n_neighbors=20,
        alignment_regularisation=0.1,
        alignment_window_size=5,
        n_epochs=200,
        random_state=42,
    ).fit(votes, relations=relations)
    embeddings = aligned_mapper.embeddings_
    assert [e.shape for e in embeddings] == [(len(v), 2) for v in votes]
    df = pd.DataFrame(np.vstack(embeddings), columns=("x", "y"))
    df["z"] = np.concatenate([[s] * len(embeddings[s]) for s in range(len(votes))])
    df["representative_id"] = np.concatenate([v.index for v in votes])
    # Each session separates the parties, and a legislator who stays moves little.
    for emb, party in zip(embeddings, parties):
        assert knn_accuracy(emb, party) > 0.9
    for i, rel in enumerate(relations):
        a, b = np.array(list(rel)), np.array(list(rel.values()))
        moved = np.linalg.norm(embeddings[i][a] - embeddings[i + 1][b], axis=1)
        size = np.linalg.norm(embeddings[i] - embeddings[i].mean(axis=0), axis=1)
        assert np.median(moved) < 0.5 * np.median(size)
