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

The sequencer is stateful (:class:`Sequencer`): messages may be fed in blocks of any size
(:meth:`Sequencer.feed`, message ``j`` of a block being message ``j + (messages fed before)`` of
the day), the end of the day given by :meth:`Sequencer.finish`; what crosses a block boundary is
the state (last applied id, sync target, counters) and the ids of the messages it still holds
(the pending buffer, at most ``capacity``, and the diffs buffered for the next snapshot). The
application order, gaps and counters are the same for every way of cutting the day into blocks
(:func:`sequence` is one block: the whole day).
"""

from libc.stdint cimport int8_t, int64_t
from libc.stdlib cimport free, malloc, realloc

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

# statuses counted: S_APPLIED .. S_SNAPSHOT
cdef enum:
    N_STATUS = S_SNAPSHOT + 1


cdef struct Msg:
    int64_t i       # message index in the day
    int64_t first
    int64_t last
    int64_t prev


# a growable array of held messages
cdef struct Msgs:
    Msg* at
    Py_ssize_t n
    Py_ssize_t cap


cdef int reserve(Msgs* m, Py_ssize_t size) except -1:
    """Room for ``size`` messages in ``m`` (doubling)."""
    cdef Py_ssize_t cap
    cdef Msg* grown
    if size <= m.cap:
        return 0
    cap = max(size, 2 * m.cap, 16)
    grown = <Msg*> realloc(m.at, cap * sizeof(Msg))
    if grown == NULL:
        raise MemoryError()
    m.at = grown
    m.cap = cap
    return 0


cdef int push(Msgs* m, Msg x) except -1:
    if m.n == m.cap:
        reserve(m, m.n + 1)
    m.at[m.n] = x
    m.n += 1
    return 0


cdef class Sequencer:
    """The sequencer's state across blocks of messages (see the module docstring).

    ``statuses``: the number of messages of the day, to keep each message's status
    (:attr:`status`); -1 (a block-wise run) keeps only their counts (:attr:`status_counts`)."""

    cdef int link
    cdef int resync
    cdef int64_t offset
    cdef Py_ssize_t capacity
    cdef int state
    cdef int64_t target
    cdef int64_t last_id
    cdef int64_t n_seen
    cdef bint finished
    cdef int64_t[::1] order
    cdef Py_ssize_t n_order
    cdef bint keep_status
    cdef int8_t[::1] status_of
    cdef int64_t counts[N_STATUS]
    cdef Msgs pending
    cdef Msgs buffer
    cdef Msgs work
    cdef Msgs held
    cdef readonly list gaps
    cdef int64_t duplicates, reordered, stale

    def __cinit__(self):
        self.pending.at = self.buffer.at = self.work.at = self.held.at = NULL
        self.pending.n = self.buffer.n = self.work.n = self.held.n = 0
        self.pending.cap = self.buffer.cap = self.work.cap = self.held.cap = 0

    def __dealloc__(self):
        free(self.pending.at)
        free(self.buffer.at)
        free(self.work.at)
        free(self.held.at)

    def __init__(self, int link, int64_t sync_offset, Py_ssize_t capacity, int resync=RESYNC_SNAPSHOT,
                 Py_ssize_t statuses=-1):
        if link not in (LINK_NONE, LINK_FIRST, LINK_PREV):
            raise ValueError(f"unknown link rule {link}")
        if resync not in (RESYNC_SNAPSHOT, RESYNC_CONTINUE):
            raise ValueError(f"unknown resync rule {resync}")
        self.link = link
        self.resync = resync
        self.offset = sync_offset
        self.capacity = capacity if capacity > 0 else 1
        self.state = UNSYNCED
        self.target = NULL_ID
        self.last_id = NULL_ID
        self.n_seen = 0
        self.finished = False
        self.order = np.empty(16, dtype=np.int64)
        self.n_order = 0
        self.keep_status = statuses >= 0
        self.status_of = np.full(max(statuses, 0), S_UNSEEN, dtype=np.int8)
        for k in range(N_STATUS):
            self.counts[k] = 0
        reserve(&self.pending, self.capacity)
        reserve(&self.held, self.capacity)
        self.gaps = []
        self.duplicates = 0
        self.reordered = 0
        self.stale = 0

    # ------------------------------------------------------------------ the rules
    cdef void grow(self, Py_ssize_t size):
        """Room for ``size`` order items (at least doubled)."""
        grown = np.empty(max(size, 2 * self.order.shape[0]), dtype=np.int64)
        grown[:self.n_order] = self.order[:self.n_order]
        self.order = grown

    cdef inline void emit(self, int64_t item):
        if self.n_order == self.order.shape[0]:
            self.grow(self.n_order + 1)
        self.order[self.n_order] = item
        self.n_order += 1

    cdef inline void mark(self, Msg m, int8_t st):
        """Message ``m``'s status is ``st`` (each message gets exactly one)."""
        self.counts[st] += 1
        if self.keep_status:
            self.status_of[m.i] = st

    cdef inline bint straddles(self, Msg m):
        return m.first <= self.target and self.target <= m.last

    cdef inline bint links(self, Msg m):
        if self.state == AWAITING:
            return self.straddles(m)
        if self.last_id == NULL_ID:
            return True
        if self.link == LINK_FIRST:
            return m.first == self.last_id + 1
        return m.prev == self.last_id

    cdef inline bint is_old(self, Msg m):
        """Stale before the sync target, or a duplicate of what is already applied."""
        if self.state == AWAITING:
            return m.last < self.target
        return self.last_id != NULL_ID and m.last <= self.last_id

    cdef inline void apply(self, Msg m, int8_t st):
        self.emit(m.i)
        self.mark(m, st)
        self.last_id = m.last
        self.state = SYNCED

    cdef void drop_old(self, Msg m):
        if self.state == AWAITING:
            self.mark(m, S_STALE)
            self.stale += 1
        else:
            self.mark(m, S_DUPLICATE)
            self.duplicates += 1

    cdef void drain(self):
        """Apply held messages that now link, in id order; drop those that became old."""
        cdef Py_ssize_t k, j
        cdef bint progress = True
        cdef Msg m
        while progress and self.pending.n > 0:
            progress = False
            k = 0
            while k < self.pending.n:
                m = self.pending.at[k]
                if self.is_old(m):
                    self.drop_old(m)
                elif self.links(m):
                    self.apply(m, S_REORDERED)
                    self.reordered += 1
                else:
                    k += 1
                    continue
                for j in range(k, self.pending.n - 1):
                    self.pending.at[j] = self.pending.at[j + 1]
                self.pending.n -= 1
                progress = True

    cdef int gap(self) except -1:
        """The held messages cannot be linked: locate the gap, mark it, wait for a snapshot."""
        cdef Py_ssize_t k, n_held
        cdef Msg m = self.pending.at[0]
        cdef int64_t expected, received
        if self.state == AWAITING:
            expected = self.target
        elif self.link == LINK_PREV:
            expected = self.last_id
        else:
            expected = self.last_id + 1
        received = m.prev if (self.link == LINK_PREV and self.state != AWAITING) else m.first
        self.gaps.append((int(m.i), int(expected), int(received)))
        self.emit(-(m.i + 1))
        if self.resync == RESYNC_CONTINUE:
            # go on from the id received: the held messages are offered again in arrival order
            n_held = self.pending.n
            for k in range(n_held):
                self.held.at[k] = self.pending.at[k]
            self.pending.n = 0
            self.state = SYNCED
            self.last_id = NULL_ID
            for k in range(n_held):
                self.diff(self.held.at[k])
            return 0
        reserve(&self.buffer, self.buffer.n + self.pending.n)
        for k in range(self.pending.n):
            self.buffer.at[self.buffer.n] = self.pending.at[k]
            self.buffer.n += 1
        self.pending.n = 0
        self.state = UNSYNCED
        self.last_id = NULL_ID
        return 0

    cdef int diff(self, Msg m) except -1:
        if self.state == UNSYNCED:
            if self.resync == RESYNC_CONTINUE:
                if self.link != LINK_NONE:  # linked, yet nothing to link to: a gap of unknown size
                    self.gaps.append((int(m.i), int(NULL_ID), int(m.prev if self.link == LINK_PREV else m.first)))
                    self.emit(-(m.i + 1))
                self.apply(m, S_APPLIED)
            elif self.link == LINK_NONE:
                self.mark(m, S_UNSYNCED)
            else:
                push(&self.buffer, m)
            return 0
        if self.link == LINK_NONE:
            self.apply(m, S_APPLIED)
            return 0
        if self.is_old(m):
            self.drop_old(m)
            return 0
        if self.links(m):
            self.apply(m, S_APPLIED)
            self.drain()
            return 0
        if self.held_already(m):  # a re-send of a message waiting in the buffer takes no slot
            self.mark(m, S_DUPLICATE)
            self.duplicates += 1
            return 0
        self.pending.at[self.pending.n] = m
        self.pending.n += 1
        if self.pending.n == self.capacity:
            self.gap()
        return 0

    cdef inline bint held_already(self, Msg m):
        cdef Py_ssize_t k
        for k in range(self.pending.n):
            if self.pending.at[k].first == m.first and self.pending.at[k].last == m.last:
                return True
        return False

    cdef int snapshot(self, Msg m) except -1:
        cdef Py_ssize_t k, n_work = 0, a = 0, b = 0
        # messages held or buffered before the snapshot are offered to it in arrival order
        reserve(&self.work, self.pending.n + self.buffer.n)
        while a < self.pending.n or b < self.buffer.n:
            if b >= self.buffer.n or (a < self.pending.n and self.pending.at[a].i < self.buffer.at[b].i):
                self.work.at[n_work] = self.pending.at[a]
                a += 1
            else:
                self.work.at[n_work] = self.buffer.at[b]
                b += 1
            n_work += 1
        self.pending.n = 0
        self.buffer.n = 0
        self.emit(m.i)
        self.mark(m, S_SNAPSHOT)
        if m.last != NULL_ID and self.link != LINK_NONE:
            self.state = AWAITING
            self.target = m.last + self.offset
        else:
            self.state = SYNCED
        self.last_id = NULL_ID
        for k in range(n_work):
            self.diff(self.work.at[k])
        return 0

    # ------------------------------------------------------------------ the blocks
    cdef object taken(self):
        """The order items emitted since the last call (a copy), the buffer emptied."""
        out = np.asarray(self.order)[: self.n_order].copy()
        self.n_order = 0
        return out

    def feed(self, const int8_t[::1] is_snapshot, const int64_t[::1] first, const int64_t[::1] last,
             const int64_t[::1] prev):
        """Sequence the next block of messages (their ``is_snapshot`` and ids, arrival order).
        Returns the order items this block settles (message indices of the day): the messages
        applied, gap markers, and held messages of earlier blocks applied now."""
        cdef Py_ssize_t j, n = is_snapshot.shape[0]
        cdef Msg m
        if first.shape[0] != n or last.shape[0] != n or prev.shape[0] != n:
            raise ValueError("id arrays must have one entry per message")
        if self.finished:
            raise ValueError("the sequencer has finished: no message can follow the end of the day")
        if self.keep_status and self.n_seen + n > self.status_of.shape[0]:
            raise ValueError(f"more messages than the {self.status_of.shape[0]} whose statuses are kept")
        if self.n_order + n + self.pending.n + self.buffer.n + 1 > self.order.shape[0]:
            self.grow(self.n_order + n + self.pending.n + self.buffer.n + 1)  # a message applied or held each
        for j in range(n):
            m.i = self.n_seen + j
            m.first = first[j]
            m.last = last[j]
            m.prev = prev[j]
            if is_snapshot[j]:
                self.snapshot(m)
            else:
                self.diff(m)
        self.n_seen += n
        return self.taken()

    def finish(self):
        """The end of the day: a message still held ahead of a missing id is a gap, the diffs
        still buffered are unsynced. Returns the last order items."""
        cdef Py_ssize_t k
        if self.finished:
            raise ValueError("the sequencer has finished already")
        self.finished = True
        if self.pending.n > 0:
            self.gap()
        for k in range(self.buffer.n):
            self.mark(self.buffer.at[k], S_UNSYNCED)
        self.buffer.n = 0
        return self.taken()

    @property
    def messages(self) -> int:
        """Messages fed so far."""
        return int(self.n_seen)

    @property
    def held(self) -> int:
        """Messages held for later (pending, or buffered for the next snapshot)."""
        return int(self.pending.n + self.buffer.n)

    @property
    def status(self):
        """Each message's status (:class:`~obrecon_pipeline.codes.MessageStatus`), when kept."""
        if not self.keep_status:
            raise ValueError("statuses are not kept (statuses=-1): see status_counts")
        return np.asarray(self.status_of)

    @property
    def status_counts(self):
        """Messages per status so far, indexed by :class:`~obrecon_pipeline.codes.MessageStatus` (>= 0)."""
        return np.array([self.counts[k] for k in range(N_STATUS)], dtype=np.int64)

    def counters(self) -> dict:
        return {
            "gaps": len(self.gaps),
            "duplicates": int(self.duplicates),
            "reordered": int(self.reordered),
            "stale": int(self.stale),
            "unsynced": int(self.counts[S_UNSYNCED]),
        }


def sequence(const int8_t[::1] is_snapshot, const int64_t[::1] first, const int64_t[::1] last,
             const int64_t[::1] prev, int link, int64_t sync_offset, Py_ssize_t capacity,
             int resync=RESYNC_SNAPSHOT):
    """Sequence ``n`` messages, the whole day as one block (see the module docstring).

    ``resync``: :class:`~obrecon_pipeline.codes.Resync` (what follows a gap). Returns
    ``(order, status, gaps, counters)``: ``order`` int64 items (``i`` apply, ``-(i+1)`` gap
    marker), ``status`` int8 per message (:class:`~obrecon_pipeline.codes.MessageStatus`), ``gaps`` a list of
    ``(message, expected_id, received_id)``, ``counters`` a dict.
    """
    cdef Py_ssize_t n = is_snapshot.shape[0]
    s = Sequencer(link, sync_offset, capacity, resync, statuses=n)
    if first.shape[0] != n or last.shape[0] != n or prev.shape[0] != n:
        raise ValueError("id arrays must have one entry per message")
    body = s.feed(is_snapshot, first, last, prev)
    tail = s.finish()
    order = np.concatenate([body, tail]) if len(tail) else body
    return order, s.status, s.gaps, s.counters()
