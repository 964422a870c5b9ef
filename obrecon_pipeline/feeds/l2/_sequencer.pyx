# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Message sequencing for feeds with update ids: sync to a snapshot, drop duplicates, hold
reordered messages in a bounded pending buffer, detect and locate real gaps.

Input: one entry per venue message in arrival (receive-time) order, ``is_snapshot`` and the ids
``first`` (Binance ``U``), ``last`` (``u``) and ``prev`` (``pu``), ``NULL`` (int64 min) when absent.
Output: the application order, where ``i >= 0`` applies message ``i`` and ``-(i + 1)`` is a *gap
marker* at message ``i`` (a no-op row flagged BAD_BOOK: the book is invalid from there until the
next snapshot), a status per message (:class:`obrecon_pipeline.codes.MessageStatus`), the gap locations and the counters.

Link rules (``link``, :class:`obrecon_pipeline.codes.Link`):

* ``LINK_NONE`` (0): the feed has no ids (Kraken, OKX without ``seqId``): diffs apply in arrival
  order after the first snapshot; integrity comes from checksums in the replayer.
* ``LINK_FIRST`` (1): message ``i`` follows the last applied id ``L`` when ``first[i] == L + 1``
  (Binance spot ``U == previous u + 1``; Bybit/Bitfinex with ``first == last``).
* ``LINK_PREV`` (2): message ``i`` follows when ``prev[i] == L`` (Binance futures ``pu``).

Sync to a snapshot carrying id ``S`` (REST ``lastUpdateId``), with ``t = S + sync_offset``: diffs
with ``last < t`` are stale and dropped; the first diff applied must satisfy
``first <= t <= last``. Binance spot uses ``sync_offset = 1`` (drop ``u <= lastUpdateId``, then
``U <= lastUpdateId + 1 <= u``), the futures venues ``sync_offset = 0`` (drop ``u < lastUpdateId``,
then ``U <= lastUpdateId <= u``). A snapshot without an id accepts the next diff as the base.
Diffs that arrive while no snapshot is applied (before the first one, or after a gap) are
buffered and offered to the next snapshot, because REST snapshots are taken while the stream runs
(Binance, "How to manage a local order book correctly").

A diff that does not link is a duplicate when ``last <= L`` (dropped, counted); when it is ahead
(an id in between is missing) it waits in the pending buffer of ``capacity`` messages; whenever a
message links, the buffer is drained in id order (each message applied late is counted as
reordered). When the buffer is full, or the capture ends, with the missing id still absent, that is
a real gap: counted, located at the earliest-arrived held message (its index, the expected id
``L + 1`` (``L`` for LINK_PREV) and the id received instead) and a gap marker is emitted. What
follows depends on ``resync`` (:class:`obrecon_pipeline.codes.Resync`):

* ``RESYNC_SNAPSHOT`` (0, live captures): the held messages go to the buffer for the next snapshot;
* ``RESYNC_CONTINUE`` (1, history files, which carry no snapshot to request): the held messages
  are applied from the id received on (the book stays invalid until the next snapshot); a linked
  diff before the first snapshot is a gap too (expected id unknown, ``NULL``) and is applied; an
  unlinked feed's diffs before the first snapshot are applied as they come.
"""

from libc.stdint cimport int8_t, int64_t

import numpy as np

from obrecon_pipeline.codes cimport (
    NULL_ID, LINK_NONE, LINK_FIRST, LINK_PREV, RESYNC_SNAPSHOT, RESYNC_CONTINUE,
    S_UNSEEN, S_APPLIED, S_REORDERED, S_STALE, S_DUPLICATE, S_UNSYNCED, S_SNAPSHOT,
)

# sequencer states
cdef enum:
    UNSYNCED = 0
    AWAITING = 1   # snapshot applied, first diff must straddle the sync target
    SYNCED = 2


cdef class _Seq:
    cdef const int8_t[::1] snap
    cdef const int64_t[::1] first
    cdef const int64_t[::1] last
    cdef const int64_t[::1] prev
    cdef int link
    cdef int resync
    cdef int64_t offset
    cdef Py_ssize_t capacity
    cdef int state
    cdef int64_t target
    cdef int64_t last_id
    cdef int64_t[::1] order
    cdef Py_ssize_t n_order
    cdef int8_t[::1] status
    cdef int64_t[::1] pending
    cdef Py_ssize_t n_pending
    cdef int64_t[::1] buffer
    cdef Py_ssize_t n_buffer
    cdef int64_t[::1] work
    cdef int64_t[::1] held
    cdef list gaps
    cdef int64_t duplicates, reordered, stale

    def __init__(self, snap, first, last, prev, int link, int64_t offset, Py_ssize_t capacity, int resync):
        cdef Py_ssize_t n = snap.shape[0]
        self.snap = snap
        self.first = first
        self.last = last
        self.prev = prev
        self.link = link
        self.resync = resync
        self.offset = offset
        self.capacity = capacity if capacity > 0 else 1
        self.state = UNSYNCED
        self.target = NULL_ID
        self.last_id = NULL_ID
        # a gap marker and a message can both be emitted per message at most once each
        self.order = np.empty(2 * n + 1, dtype=np.int64)
        self.n_order = 0
        self.status = np.full(n, S_UNSEEN, dtype=np.int8)
        self.pending = np.empty(self.capacity, dtype=np.int64)
        self.n_pending = 0
        self.buffer = np.empty(n + 1, dtype=np.int64)
        self.n_buffer = 0
        self.work = np.empty(n + 1, dtype=np.int64)
        self.held = np.empty(self.capacity, dtype=np.int64)
        self.gaps = []
        self.duplicates = 0
        self.reordered = 0
        self.stale = 0

    cdef inline void emit(self, int64_t item):
        self.order[self.n_order] = item
        self.n_order += 1

    cdef inline bint straddles(self, Py_ssize_t i):
        return self.first[i] <= self.target and self.target <= self.last[i]

    cdef inline bint links(self, Py_ssize_t i):
        if self.state == AWAITING:
            return self.straddles(i)
        if self.last_id == NULL_ID:
            return True
        if self.link == LINK_FIRST:
            return self.first[i] == self.last_id + 1
        return self.prev[i] == self.last_id

    cdef inline bint is_old(self, Py_ssize_t i):
        """Stale before the sync target, or a duplicate of what is already applied."""
        if self.state == AWAITING:
            return self.last[i] < self.target
        return self.last_id != NULL_ID and self.last[i] <= self.last_id

    cdef inline void apply(self, Py_ssize_t i, int8_t st):
        self.emit(i)
        self.status[i] = st
        self.last_id = self.last[i]
        self.state = SYNCED

    cdef void drop_old(self, Py_ssize_t i):
        if self.state == AWAITING:
            self.status[i] = S_STALE
            self.stale += 1
        else:
            self.status[i] = S_DUPLICATE
            self.duplicates += 1

    cdef void drain(self):
        """Apply held messages that now link, in id order; drop those that became old."""
        cdef Py_ssize_t k, j
        cdef bint progress = True
        cdef int64_t i
        while progress and self.n_pending > 0:
            progress = False
            k = 0
            while k < self.n_pending:
                i = self.pending[k]
                if self.is_old(i):
                    self.drop_old(i)
                elif self.links(i):
                    self.apply(i, S_REORDERED)
                    self.reordered += 1
                else:
                    k += 1
                    continue
                for j in range(k, self.n_pending - 1):
                    self.pending[j] = self.pending[j + 1]
                self.n_pending -= 1
                progress = True

    cdef void gap(self):
        """The held messages cannot be linked: locate the gap, mark it, wait for a snapshot."""
        cdef Py_ssize_t k, n_held
        cdef int64_t i = self.pending[0]
        cdef int64_t expected, received
        if self.state == AWAITING:
            expected = self.target
        elif self.link == LINK_PREV:
            expected = self.last_id
        else:
            expected = self.last_id + 1
        received = self.prev[i] if (self.link == LINK_PREV and self.state != AWAITING) else self.first[i]
        self.gaps.append((int(i), int(expected), int(received)))
        self.emit(-(i + 1))
        if self.resync == RESYNC_CONTINUE:
            # go on from the id received: the held messages are offered again in arrival order
            n_held = self.n_pending
            for k in range(n_held):
                self.held[k] = self.pending[k]
            self.n_pending = 0
            self.state = SYNCED
            self.last_id = NULL_ID
            for k in range(n_held):
                self.diff(self.held[k])
            return
        for k in range(self.n_pending):
            self.buffer[self.n_buffer] = self.pending[k]
            self.n_buffer += 1
        self.n_pending = 0
        self.state = UNSYNCED
        self.last_id = NULL_ID

    cdef void diff(self, Py_ssize_t i):
        if self.state == UNSYNCED:
            if self.resync == RESYNC_CONTINUE:
                if self.link != LINK_NONE:  # linked, yet nothing to link to: a gap of unknown size
                    self.gaps.append((int(i), int(NULL_ID), int(self.prev[i] if self.link == LINK_PREV else self.first[i])))
                    self.emit(-(i + 1))
                self.apply(i, S_APPLIED)
            elif self.link == LINK_NONE:
                self.status[i] = S_UNSYNCED
            else:
                self.buffer[self.n_buffer] = i
                self.n_buffer += 1
            return
        if self.link == LINK_NONE:
            self.apply(i, S_APPLIED)
            return
        if self.is_old(i):
            self.drop_old(i)
            return
        if self.links(i):
            self.apply(i, S_APPLIED)
            self.drain()
            return
        if self.held_already(i):  # a re-send of a message waiting in the buffer takes no slot
            self.status[i] = S_DUPLICATE
            self.duplicates += 1
            return
        self.pending[self.n_pending] = i
        self.n_pending += 1
        if self.n_pending == self.capacity:
            self.gap()

    cdef inline bint held_already(self, Py_ssize_t i):
        cdef Py_ssize_t k
        cdef int64_t j
        for k in range(self.n_pending):
            j = self.pending[k]
            if self.first[j] == self.first[i] and self.last[j] == self.last[i]:
                return True
        return False

    cdef void snapshot(self, Py_ssize_t i):
        cdef Py_ssize_t k, n_work = 0, a = 0, b = 0
        # messages held or buffered before the snapshot are offered to it in arrival order
        while a < self.n_pending or b < self.n_buffer:
            if b >= self.n_buffer or (a < self.n_pending and self.pending[a] < self.buffer[b]):
                self.work[n_work] = self.pending[a]
                a += 1
            else:
                self.work[n_work] = self.buffer[b]
                b += 1
            n_work += 1
        self.n_pending = 0
        self.n_buffer = 0
        self.emit(i)
        self.status[i] = S_SNAPSHOT
        if self.last[i] != NULL_ID and self.link != LINK_NONE:
            self.state = AWAITING
            self.target = self.last[i] + self.offset
        else:
            self.state = SYNCED
        self.last_id = NULL_ID
        for k in range(n_work):
            self.diff(self.work[k])

    cdef void run(self):
        cdef Py_ssize_t i, n = self.snap.shape[0]
        for i in range(n):
            if self.snap[i]:
                self.snapshot(i)
            else:
                self.diff(i)
        if self.n_pending > 0:
            self.gap()
        for i in range(self.n_buffer):
            self.status[self.buffer[i]] = S_UNSYNCED


def sequence(const int8_t[::1] is_snapshot, const int64_t[::1] first, const int64_t[::1] last,
             const int64_t[::1] prev, int link, int64_t sync_offset, Py_ssize_t capacity,
             int resync=RESYNC_SNAPSHOT):
    """Sequence ``n`` messages (see the module docstring).

    ``resync``: :class:`~obrecon_pipeline.codes.Resync` (what follows a gap). Returns
    ``(order, status, gaps, counters)``: ``order`` int64 items (``i`` apply, ``-(i+1)`` gap
    marker), ``status`` int8 per message (:class:`~obrecon_pipeline.codes.MessageStatus`), ``gaps`` a list of
    ``(message, expected_id, received_id)``, ``counters`` a dict.
    """
    if link not in (LINK_NONE, LINK_FIRST, LINK_PREV):
        raise ValueError(f"unknown link rule {link}")
    if resync not in (RESYNC_SNAPSHOT, RESYNC_CONTINUE):
        raise ValueError(f"unknown resync rule {resync}")
    cdef Py_ssize_t n = is_snapshot.shape[0]
    if first.shape[0] != n or last.shape[0] != n or prev.shape[0] != n:
        raise ValueError("id arrays must have one entry per message")
    cdef _Seq s = _Seq(is_snapshot, first, last, prev, link, sync_offset, capacity, resync)
    s.run()
    status = np.asarray(s.status)
    counters = {
        "gaps": len(s.gaps),
        "duplicates": int(s.duplicates),
        "reordered": int(s.reordered),
        "stale": int(s.stale),
        "unsynced": int((status == S_UNSYNCED).sum()),
    }
    return np.asarray(s.order)[: s.n_order].copy(), status, s.gaps, counters
