"""The local join.

All pairs among one hub's candidates measured, offers written to a buffer while no heap
changes.
"""
from .._config import kernel
from .common import MANHATTAN, SQEUCLIDEAN
from .distances import _manhattan_four, _reduced_distance, _sqeuclidean_four
from .rows import _gather_rows


@kernel()
def _hub_offers(m_new, m_old):
    """Most offers one hub can write: two per new-new and new-old pair."""
    return m_new * (m_new - 1) + 2 * m_new * m_old


@kernel()
def _local_join(data32, data16, is_float, metric, p, u, new_cand, old_cand, n_new, n_old,
                roots, rows, ids, thresholds, out_target, out_source, out_dist, start):
    """The local join of hub ``u``: compare its new candidates with each other and with
    its old ones, writing offers from ``start``; return the number written.

    The candidates' rows are first copied to the float32 scratch ``rows``; the pairs are
    then measured from cache, four at a time. Loading each row once per hub rather than
    once per pair is what makes the join cheap: it is bound by memory traffic.
    ``thresholds`` are the rows' current worst distances, from ``roots`` (a compact copy
    of ``heap_dist[:, 0]``: one cache line serves eight rows); heaps are not written while
    offers are produced, so they are read without races.
    """
    m_new = n_new[u]
    m = m_new + n_old[u]
    for a in range(m):
        if a < m_new:
            ids[a] = new_cand[u, a]
        else:
            ids[a] = old_cand[u, a - m_new]
        thresholds[a] = roots[ids[a]]
    _gather_rows(data32, data16, is_float, ids, m, rows)
    pos = start
    four = metric == SQEUCLIDEAN or metric == MANHATTAN
    for a in range(m_new):
        ia = ids[a]
        ta = thresholds[a]
        b = a + 1
        while b < m:
            if four and b + 4 <= m:
                t0 = max(ta, thresholds[b])
                t1 = max(ta, thresholds[b + 1])
                t2 = max(ta, thresholds[b + 2])
                t3 = max(ta, thresholds[b + 3])
                if metric == SQEUCLIDEAN:
                    d0, d1, d2, d3 = _sqeuclidean_four(rows, a, rows, b, b + 1, b + 2, b + 3,
                                                       t0, t1, t2, t3)
                else:
                    d0, d1, d2, d3 = _manhattan_four(rows, a, rows, b, b + 1, b + 2, b + 3,
                                                     t0, t1, t2, t3)
                width = 4
            else:
                d0 = _reduced_distance(rows, a, rows, b, metric, p, max(ta, thresholds[b]))
                d1 = d2 = d3 = d0
                width = 1
            # The offers of each pair that may enter a row: to ``ia``'s row first.
            for q in range(width):
                d = d0 if q == 0 else (d1 if q == 1 else (d2 if q == 2 else d3))
                ib = ids[b + q]
                if ia == ib:
                    continue
                if d <= ta:
                    out_target[pos] = ia
                    out_source[pos] = ib
                    out_dist[pos] = d
                    pos += 1
                if d <= thresholds[b + q]:
                    out_target[pos] = ib
                    out_source[pos] = ia
                    out_dist[pos] = d
                    pos += 1
            b += width
    return pos - start
