"""Sequence analysis on small hand-built event tables (the real file is in tests/feeds/test_databento.py)."""

from __future__ import annotations

import polars as pl
import pytest

from obrecon_pipeline.events import Action, Flag
from obrecon_pipeline.feeds.channel_sequence import SequenceTracker, regression_mask, sequence_report

S, E = int(Flag.SNAPSHOT), int(Flag.END_OF_MESSAGE)


def events(rows: list[tuple[int, int, int | None]]) -> pl.DataFrame:
    """(action, flags, update_id) per event."""
    return pl.DataFrame(
        {
            "arrival": list(range(len(rows))),
            "src_row": [i + 1 for i in range(len(rows))],
            "ts_event": [10 * i for i in range(len(rows))],
            "action": [a for a, _, _ in rows],
            "flags": [f for _, f, _ in rows],
            "update_id": [u for _, _, u in rows],
        },
        schema={"arrival": pl.Int64, "src_row": pl.Int64, "ts_event": pl.Int64, "action": pl.Int8, "flags": pl.UInt8, "update_id": pl.Int64},
    )


A, C, R = int(Action.ADD), int(Action.CANCEL), int(Action.CLEAR)


def test_snapshot_out_of_order_is_not_judged_and_skips_are_counted():
    ev = events([(A, S, 700), (A, S, 690), (A, S, 787), (A, E, 4957), (C, 0, 4957), (C, E, 4960), (A, E, 4961)])
    report = sequence_report(ev)
    assert (report.skips, report.numbers_skipped, report.largest_skip, report.regressions) == (2, 4169 + 2, 4169, 0)
    assert not regression_mask(ev).any()


def test_regression_is_located():
    ev = events([(A, E, 10), (A, E, 11), (C, E, 9), (A, E, 12)])
    report = sequence_report(ev)
    assert report.regressions == 1
    assert report.regression_rows.rows() == [(2, 3, 20, 9, 11)]
    assert regression_mask(ev).to_list() == [False, False, True, False]


def test_clear_starts_a_new_segment_and_null_ids_are_ignored():
    # the venue restarts its numbering after a clear + snapshot: not a regression
    ev = events([(A, E, 500), (R, S, 0), (A, S, 3), (A, S | E, 4), (A, E, 5), (A, E, None), (A, E, 6)])
    report = sequence_report(ev)
    assert (report.regressions, report.skips) == (0, 0)


def test_one_number_written_too_high_is_blamed_on_itself_not_on_every_later_record():
    ev = events([(A, E, 10), (A, E, 11), (C, E, 10**9), (A, E, 13), (A, E, 14), (C, E, 15)])
    report = sequence_report(ev)
    # before: records 4-6 were all "regressions" below the high-water mark 10**9
    assert report.regressions == 1
    assert report.regression_rows.rows() == [(2, 3, 20, 10**9, 11)]
    assert (report.skips, report.numbers_skipped) == (1, 1)  # 12 is missing: 11 -> 13
    assert regression_mask(ev).to_list() == [False, False, True, False, False, False]


@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_any_chunking_gives_the_same_answer(size):
    ev = events([(A, S, 7), (A, S, 3), (A, E, 10), (A, E, 11), (C, E, 10**9), (A, E, 13), (A, E, 4), (A, E, 15),
                 (A, E, None), (R, S, 0), (A, S, 2), (A, E, 3), (A, E, 9), (A, E, 5), (A, E, 10)])
    whole = sequence_report(ev)
    tracker = SequenceTracker()
    for start in range(0, ev.height, size):
        tracker.update(ev.slice(start, size))
        tracker.resume(tracker.state())
    chunked = tracker.report()
    assert chunked.as_report() == whole.as_report() and chunked.regression_rows.equals(whole.regression_rows)
    # 10**9 ahead, 4 behind; after the clear 9 ahead (5 follows, in order), 5 not blamed
    assert whole.regression_rows["src_row"].to_list() == [5, 7, 13]
