"""Venue sequence numbers (``update_id``) of a stream: skips as information, regressions as failures.

For a channel sequence that is shared by many instruments (CME MDP 3.0 via Databento), a stream of
one instrument legitimately skips numbers, and several records of one packet share a number. What
cannot happen on a healthy channel is a number **lower** than one already seen. With ``s_i`` the
sequence of record ``i`` and ``H_i = max(s_j : j < i, j in the same segment)`` the high-water mark
before it, a live (non-snapshot) record is

* a **skip** when ``s_i > H_i + 1`` (``s_i - H_i - 1`` numbers belong to other instruments or
  were not sent): information, never a gap;
* a **regression** when ``s_i < H_i``: an integrity failure (the book is not trusted until the next
  clear + snapshot).

Snapshot records carry their order's last sequence, so they are out of order by design: they raise
the high-water mark but are never judged. A ``CLEAR`` starts a new segment (a venue may restart
its numbering after a reset, announced by a clear and a fresh snapshot). Rows without an
``update_id`` are ignored. Everything is one Polars pass (cumulative max over segments).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from obrecon_pipeline.events import Action, Flag

LOCATION_SCHEMA = {"arrival": pl.Int64, "src_row": pl.Int64, "ts_event": pl.Int64, "update_id": pl.Int64, "high_water": pl.Int64}


def _judged(events: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Adds ``high_water`` (H_i), ``skip`` (numbers skipped, 0 if none) and ``regression`` (bool)."""
    segment = (pl.col("action") == Action.CLEAR).cum_sum()
    high_water = pl.col("update_id").cum_max().shift(1).over(segment)
    live = ((pl.col("flags") & Flag.SNAPSHOT) == 0) & pl.col("update_id").is_not_null()
    return (
        events.lazy()
        .with_columns(high_water.alias("high_water"), live.alias("_live"))
        .with_columns(
            pl.when(pl.col("_live") & (pl.col("update_id") > pl.col("high_water") + 1))
            .then(pl.col("update_id") - pl.col("high_water") - 1)
            .otherwise(0)
            .alias("skip"),
            (pl.col("_live") & (pl.col("update_id") < pl.col("high_water"))).fill_null(False).alias("regression"),
        )
        .drop("_live")
    )


def regression_mask(events: pl.DataFrame) -> pl.Series:
    """True for every live event whose sequence went backwards."""
    return _judged(events.select("action", "flags", "update_id")).select("regression").collect().to_series()


@dataclass
class SequenceReport:
    skips: int  #: live records that skipped numbers
    numbers_skipped: int  #: total numbers skipped
    largest_skip: int
    regressions: int  #: live records whose sequence went backwards (integrity failures)
    regression_rows: pl.DataFrame  #: where: :data:`LOCATION_SCHEMA`

    def as_report(self) -> dict:
        """report.json extension keys."""
        return {
            "sequence_skips": self.skips,
            "sequence_numbers_skipped": self.numbers_skipped,
            "sequence_largest_skip": self.largest_skip,
            "sequence_regressions": self.regressions,
        }


def sequence_report(events: pl.DataFrame) -> SequenceReport:
    judged = _judged(events.select("arrival", "src_row", "ts_event", "action", "flags", "update_id")).collect()
    skips = judged.filter(pl.col("skip") > 0)["skip"]
    regressions = judged.filter(pl.col("regression")).select(list(LOCATION_SCHEMA)).cast(LOCATION_SCHEMA)
    return SequenceReport(
        skips=skips.len(),
        numbers_skipped=int(skips.sum()),
        largest_skip=int(skips.max() or 0),
        regressions=regressions.height,
        regression_rows=regressions,
    )
