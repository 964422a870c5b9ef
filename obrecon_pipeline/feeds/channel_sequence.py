"""Venue sequence numbers (``update_id``) of a stream: skips as information, out-of-place numbers located.

For a channel sequence that is shared by many instruments (CME MDP 3.0 via Databento), a stream of
one instrument legitimately skips numbers, and several records of one packet share a number. What
cannot happen on a healthy channel is a number out of order, and one wrong number must be blamed on
itself, not on every record after it. So a number raises the high-water mark only once one of the
two records after it confirms it. With ``s_i`` the number of the ``i``-th record with a number in
its segment, a live record's confirmed value is ``c_i = min(s_i, max(s_{i+1}, s_{i+2}))`` (a
snapshot record's is ``s_i``), and record ``i`` is judged against the mark

``H_i = max(c_j : j <= i - 2) ∨ (s_{i-1} if s_{i-1} <= s_i)``

(only what is known at record ``i``: ``c_{i-2}`` needs ``s_i``). A live (non-snapshot) record is

* **out of place, behind** when ``s_i < H_i`` (a regression);
* **out of place, ahead** when ``s_i > s_{i+1}`` and the record after it is not behind: one
  number written too high (a plain running maximum would call every later record a regression);
* a **skip** otherwise when ``s_i > H_i + 1`` (``s_i - H_i - 1`` numbers belong to other
  instruments or were not sent): information, never a gap.

On a healthy channel ``c_i = s_i`` and ``H_i`` is the running maximum. Both kinds of out-of-place
number are counted as ``sequence_regressions`` and located (``high_water``: the highest number
seen before the record). Snapshot records carry their order's last sequence, so they are out of
order by design: they raise the mark but are never judged. A ``CLEAR`` starts a new segment (a
venue may restart its numbering after a reset, announced by a clear and a fresh snapshot). Rows
without an ``update_id`` are ignored.

An out-of-place number is information about the channel, located and counted; it does not by
itself make the book untrusted (a single out-of-place number is common and harmless to the book):
the replayer judges the book by its own state (unknown ids, negative sizes, crossed levels).

:class:`SequenceTracker` runs the analysis chunk by chunk: the segment's last two records go in
front of the next chunk (the last one is decided only when its successor is known), so any
chunking gives the same answer; its :meth:`~SequenceTracker.state` is JSON-able, so a resumed
stream continues exactly. At most :data:`LOCATED_MAX` out-of-place numbers are listed; all are
counted.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import polars as pl

from obrecon_pipeline.events import Action, Flag

LOCATION_SCHEMA = {"arrival": pl.Int64, "src_row": pl.Int64, "ts_event": pl.Int64, "update_id": pl.Int64, "high_water": pl.Int64}
#: out-of-place numbers listed with their location (the count is complete)
LOCATED_MAX = 1000
_NONE = np.iinfo(np.int64).min  # no mark yet (start of a segment)
_TOP = np.iinfo(np.int64).max
#: a record of the tracker's tail: number, live, then its location
_FIELDS = ("update_id", "live", "arrival", "src_row", "ts_event")


class SequenceTracker:
    """Skips and out-of-place numbers of a stream's ``update_id`` over consecutive chunks of events."""

    def __init__(self) -> None:
        self.mark = int(_NONE)  # max(c_j) over the segment's records before the tail
        self.seen = int(_NONE)  # the highest number before the tail
        self.tail: list[list[int]] = []  # the segment's last (at most) two records; the last is undecided
        self.skips = 0
        self.numbers_skipped = 0
        self.largest_skip = 0
        self.regressions = 0
        self.located: list[dict] = []

    def update(self, events: pl.DataFrame) -> None:
        """Judge the next chunk (columns ``arrival, src_row, ts_event, action, flags, update_id``)."""
        if events.height == 0:
            return
        ids = events["update_id"]
        rows = None if ids.null_count() == 0 else np.flatnonzero(ids.is_not_null().to_numpy())
        numbers = ids.to_numpy() if rows is None else ids.to_numpy()[rows]
        live = (events["flags"].to_numpy() & int(Flag.SNAPSHOT)) == 0
        live = live if rows is None else live[rows]
        clears = events["action"].to_numpy() == int(Action.CLEAR)
        if not clears.any():  # one segment, the usual chunk
            self._judge(numbers.astype(np.int64, copy=False), live, events, rows, closing=False)
            return
        segment = np.cumsum(clears)
        of_row = segment if rows is None else segment[rows]
        current = 0
        for g in np.unique(of_row):
            if g != current:
                self._close_segment()
                current = g
            pick = np.flatnonzero(of_row == g)
            self._judge(numbers[pick].astype(np.int64, copy=False), live[pick], events,
                        pick if rows is None else rows[pick], closing=False)
        if segment[-1] != current:
            self._close_segment()

    def _close_segment(self) -> None:
        """The segment ends: decide its last record (nothing after it), restart the marks."""
        self._judge(np.empty(0, np.int64), np.empty(0, bool), None, None, closing=True)
        self.mark = self.seen = int(_NONE)
        self.tail = []

    def _judge(self, new: np.ndarray, new_live: np.ndarray, events: pl.DataFrame | None,
               rows: np.ndarray | None, closing: bool) -> None:
        """The tail plus ``new`` records of one segment (``events`` rows ``rows``, None: all);
        decide every record whose successor is known (``closing``: all of them)."""
        t = len(self.tail)
        s = np.concatenate([np.array([r[0] for r in self.tail], np.int64), new])
        live = np.concatenate([np.array([bool(r[1]) for r in self.tail], bool), new_live])
        n, first = s.size, max(t - 1, 0)  # s[first] is the first undecided record
        if n == 0:
            return

        def where(k: int) -> list[int]:
            """arrival, src_row, ts_event of record ``k``."""
            if k < t:
                return self.tail[k][2:]
            row = (k - t) if rows is None else int(rows[k - t])
            return [int(events[c][row]) for c in _FIELDS[2:]]

        after = np.full(n, _TOP, np.int64)  # max(s_{k+1}, s_{k+2}), unknown (TOP) at the end
        np.maximum(s[1:-1], s[2:], out=after[:-2])
        c = np.empty(n + 1, np.int64)
        c[0] = self.mark
        np.minimum(s, after, out=c[1:])
        c[1:][~live] = s[~live]
        marks = np.maximum.accumulate(c)  # marks[j] = max(mark, c_0 .. c_{j-1})
        mark = np.full(n, self.mark, np.int64)
        pred = s[:-1].copy()
        pred[live[:-1] & (s[:-1] > s[1:])] = _NONE  # a predecessor above the record is unconfirmed
        np.maximum(marks[:n - 1], pred, out=mark[1:])
        judged = live & (mark != _NONE)
        behind = judged & (s < mark)
        ahead = np.zeros(n, bool)
        ahead[:-1] = judged[:-1] & live[1:] & (s[:-1] > s[1:]) & ~behind[1:]
        stop = n if closing else n - 1
        hits = np.flatnonzero(behind[first:stop] | ahead[first:stop]) + first
        self.regressions += int(hits.size)
        seen = None  # seen[k]: the highest number before s[k] (only where a location needs it)
        if hits.size and len(self.located) < LOCATED_MAX:
            seen = np.maximum.accumulate(np.concatenate([[self.seen], s]))
        for k in hits[: max(LOCATED_MAX - len(self.located), 0)]:
            arrival, src_row, ts_event = where(int(k))
            self.located.append({"arrival": arrival, "src_row": src_row, "ts_event": ts_event,
                                 "update_id": int(s[k]), "high_water": int(seen[k])})
        part = slice(first, stop)
        skip = np.where(judged[part] & ~behind[part] & ~ahead[part] & (s[part] > mark[part] + 1),
                        s[part] - mark[part] - 1, 0)
        if skip.any():
            self.skips += int(np.count_nonzero(skip))
            self.numbers_skipped += int(skip.sum())
            self.largest_skip = max(self.largest_skip, int(skip.max()))
        keep = max(n - 2, 0)
        self.mark = int(marks[keep])
        self.seen = int(max(self.seen, s[:keep].max())) if keep else self.seen
        self.tail = [[int(s[k]), int(live[k]), *where(k)] for k in range(keep, n)]

    def report(self) -> "SequenceReport":
        """The analysis so far, the segment's last record decided as if the stream ended here."""
        done = copy.deepcopy(self)
        done._close_segment()
        return SequenceReport(
            skips=done.skips,
            numbers_skipped=done.numbers_skipped,
            largest_skip=done.largest_skip,
            regressions=done.regressions,
            regression_rows=pl.DataFrame(done.located, schema=LOCATION_SCHEMA),
        )

    def state(self) -> dict:
        return dict(vars(self), located=list(self.located), tail=[list(r) for r in self.tail])

    def resume(self, state: dict) -> None:
        vars(self).update(state)
        self.located = list(state["located"])
        self.tail = [list(r) for r in state["tail"]]


def regression_mask(events: pl.DataFrame) -> pl.Series:
    """True for every live event whose number is out of place (``events`` whole)."""
    located = sequence_report(events).regression_rows["arrival"]
    return pl.Series("regression", events["arrival"].is_in(located.implode()).to_numpy())


@dataclass
class SequenceReport:
    skips: int  #: live records that skipped numbers
    numbers_skipped: int  #: total numbers skipped
    largest_skip: int
    regressions: int  #: live records whose number is out of place (behind or ahead)
    regression_rows: pl.DataFrame  #: where (the first :data:`LOCATED_MAX`): :data:`LOCATION_SCHEMA`

    def as_report(self) -> dict:
        """report.json extension keys."""
        return {
            "sequence_skips": self.skips,
            "sequence_numbers_skipped": self.numbers_skipped,
            "sequence_largest_skip": self.largest_skip,
            "sequence_regressions": self.regressions,
        }


def sequence_report(events: pl.DataFrame) -> SequenceReport:
    """The analysis of a whole event table."""
    tracker = SequenceTracker()
    tracker.update(events)
    return tracker.report()
