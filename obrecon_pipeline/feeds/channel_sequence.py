"""Venue sequence numbers (``update_id``) of a stream: skips as information, regressions located.

For a channel sequence that is shared by many instruments (CME MDP 3.0 via Databento), a stream of
one instrument legitimately skips numbers, and several records of one packet share a number. What
cannot happen on a healthy channel is a number **lower** than one already seen. With ``s_i`` the
sequence of record ``i`` and ``H_i = max(s_j : j < i, j in the same segment)`` the high-water mark
before it, a live (non-snapshot) record is

* a **skip** when ``s_i > H_i + 1`` (``s_i - H_i - 1`` numbers belong to other instruments or
  were not sent): information, never a gap;
* a **regression** when ``s_i < H_i``: counted and located.

Snapshot records carry their order's last sequence, so they are out of order by design: they raise
the high-water mark but are never judged. A ``CLEAR`` starts a new segment (a venue may restart
its numbering after a reset, announced by a clear and a fresh snapshot). Rows without an
``update_id`` are ignored.

A regression is information about the channel, located and counted; it does not by itself make the
book untrusted (a single out-of-place number is common and harmless to the book): the replayer
judges the book by its own state (unknown ids, negative sizes, crossed levels).

:class:`SequenceTracker` runs the analysis chunk by chunk, carrying the high-water mark across
chunks; its :meth:`~SequenceTracker.state` is JSON-able, so a resumed stream continues exactly.
At most :data:`LOCATED_MAX` regressions are listed; all are counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from obrecon_pipeline.events import Action, Flag

LOCATION_SCHEMA = {"arrival": pl.Int64, "src_row": pl.Int64, "ts_event": pl.Int64, "update_id": pl.Int64, "high_water": pl.Int64}
#: regressions listed with their location (the count is complete)
LOCATED_MAX = 1000
_NONE = np.iinfo(np.int64).min  # no high-water mark yet (start of a segment)


class SequenceTracker:
    """Skips and regressions of a stream's ``update_id`` over consecutive chunks of events."""

    def __init__(self) -> None:
        self.high_water = int(_NONE)
        self.skips = 0
        self.numbers_skipped = 0
        self.largest_skip = 0
        self.regressions = 0
        self.located: list[dict] = []

    def update(self, events: pl.DataFrame) -> np.ndarray:
        """Judge the next chunk (columns ``arrival, src_row, ts_event, action, flags, update_id``);
        the mask of its regressions."""
        ids = events["update_id"]
        known = ids.is_not_null().to_numpy()
        ids = ids.fill_null(_NONE).to_numpy().astype(np.int64, copy=False)
        action = events["action"].to_numpy()
        live = ((events["flags"].to_numpy() & int(Flag.SNAPSHOT)) == 0) & known
        before = np.empty_like(ids)  # H_i, the high-water mark before each event
        carry = self.high_water
        clears = np.flatnonzero(action == int(Action.CLEAR))
        for start, stop in zip(np.r_[0, clears], np.r_[clears, len(ids)]):
            if start == stop:
                continue
            if action[start] == int(Action.CLEAR):
                carry = int(_NONE)  # a clear starts a new segment
            running = np.maximum.accumulate(np.where(known[start:stop], ids[start:stop], _NONE))
            before[start] = carry
            before[start + 1:stop] = np.maximum(running[:-1], carry)
            carry = max(carry, int(running[-1]))
        self.high_water = carry
        judged = live & (before != _NONE)
        skip = np.where(judged & (ids > before + 1), ids - before - 1, 0)
        regressed = judged & (ids < before)
        hits = np.flatnonzero(skip)
        if hits.size:
            self.skips += int(hits.size)
            self.numbers_skipped += int(skip.sum())
            self.largest_skip = max(self.largest_skip, int(skip.max()))
        hits = np.flatnonzero(regressed)
        self.regressions += int(hits.size)
        room = LOCATED_MAX - len(self.located)
        if hits.size and room > 0:
            where = events[hits[:room]].select("arrival", "src_row", "ts_event", "update_id")
            self.located += where.with_columns(high_water=pl.Series(before[hits[:room]])).to_dicts()
        return regressed

    def report(self) -> "SequenceReport":
        return SequenceReport(
            skips=self.skips,
            numbers_skipped=self.numbers_skipped,
            largest_skip=self.largest_skip,
            regressions=self.regressions,
            regression_rows=pl.DataFrame(self.located, schema=LOCATION_SCHEMA),
        )

    def state(self) -> dict:
        return dict(vars(self), located=list(self.located))

    def resume(self, state: dict) -> None:
        vars(self).update(state)
        self.located = list(state["located"])


def regression_mask(events: pl.DataFrame) -> pl.Series:
    """True for every live event whose sequence went backwards."""
    return pl.Series("regression", SequenceTracker().update(events))


@dataclass
class SequenceReport:
    skips: int  #: live records that skipped numbers
    numbers_skipped: int  #: total numbers skipped
    largest_skip: int
    regressions: int  #: live records whose sequence went backwards
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
