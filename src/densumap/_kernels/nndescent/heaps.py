"""Neighbour heaps.

The K smallest ``(distance, index)`` pairs of a row, duplicates refused, and the bounded
candidate selection.
"""
from .._config import kernel


@kernel()
def _greater(d1, i1, d2, i2):
    return d1 > d2 or (d1 == d2 and i1 > i2)


@kernel()
def _heap_replace_root(idx, dist, flag, d, j, f):
    """Put ``(d, j)`` in place of the largest entry and restore the max-heap order."""
    size = idx.shape[0]
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        right = child + 1
        if right < size and _greater(dist[right], idx[right], dist[child], idx[child]):
            child = right
        if _greater(dist[child], idx[child], d, j):
            idx[pos] = idx[child]
            dist[pos] = dist[child]
            flag[pos] = flag[child]
            pos = child
        else:
            break
    idx[pos] = j
    dist[pos] = d
    flag[pos] = f


@kernel()
def _heap_offer(idx, dist, flag, d, j, f):
    """Offer ``(d, j)``, known not to be in the heap; return 1 if it entered, else 0."""
    if _greater(d, j, dist[0], idx[0]) or (d == dist[0] and j == idx[0]):
        return 0
    _heap_replace_root(idx, dist, flag, d, j, f)
    return 1


@kernel()
def _heap_contains(idx, j):
    for m in range(idx.shape[0]):
        if idx[m] == j:
            return True
    return False


@kernel()
def _sort_row(idx, dist):
    """Sort one row by ``(distance, index)`` ascending (insertion sort; rows are short)."""
    for a in range(1, idx.shape[0]):
        ja = idx[a]
        da = dist[a]
        b = a - 1
        while b >= 0 and _greater(dist[b], idx[b], da, ja):
            idx[b + 1] = idx[b]
            dist[b + 1] = dist[b]
            b -= 1
        idx[b + 1] = ja
        dist[b + 1] = da


@kernel()
def _select_insert(cand, prio, count, cap, j, pr):
    """Keep in ``cand[:count]`` the ``cap`` entries of smallest ``(priority, index)``.

    ``cand`` is kept as a max-heap on ``(prio, cand)``; ``j`` must not be in it already
    (the caller offers distinct entries). Returns the new count.
    """
    if count < cap:
        # sift up
        pos = count
        while pos > 0:
            parent = (pos - 1) // 2
            if prio[parent] < pr or (prio[parent] == pr and cand[parent] < j):
                cand[pos] = cand[parent]
                prio[pos] = prio[parent]
                pos = parent
            else:
                break
        cand[pos] = j
        prio[pos] = pr
        return count + 1
    if pr > prio[0] or (pr == prio[0] and j > cand[0]):
        return count
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= count:
            break
        right = child + 1
        if right < count and (
            prio[right] > prio[child] or (prio[right] == prio[child] and cand[right] > cand[child])
        ):
            child = right
        if prio[child] > pr or (prio[child] == pr and cand[child] > j):
            cand[pos] = cand[child]
            prio[pos] = prio[child]
            pos = child
        else:
            break
    cand[pos] = j
    prio[pos] = pr
    return count
