"""Databento read in chunks (``Feed.open``): chunks end after F_LAST, equal the whole file, resume
exactly, and the sequence analysis carries its high-water mark across chunks."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from obrecon_pipeline.events import Flag
from obrecon_pipeline.feeds import get_feed
from obrecon_pipeline.feeds.channel_sequence import SequenceTracker, sequence_report
from obrecon_pipeline.feeds.databento import DatabentoSource, discover, load
from tests.conftest import RAW

DAY_DIR = RAW / "databento" / "2023-12-25"


@pytest.fixture(scope="module")
def esh4():
    (stream,) = discover(DAY_DIR, "2023-12-25")
    return stream, load(stream)


@pytest.mark.parametrize("max_events,count", [(1, 3_000), (7, 3_000), (4096, None)])
def test_chunks_end_after_f_last_and_equal_the_whole_file(esh4, max_events, count):
    """``count``: only the first chunks (one chunk per event costs Polars' per-frame overhead)."""
    stream, whole = esh4
    src = get_feed("databento").open(stream, True)
    assert (src.seed, src.reference_depth) == (None, 0)
    chunks = list(itertools.islice(src.chunks(max_events), count))
    assert all(c.reference is None for c in chunks)
    ends = [c.events["flags"][-1] & Flag.END_OF_MESSAGE for c in chunks]
    assert all(ends)  # a venue event is never split
    # longer than max_events only when one event alone is (the opening snapshot has 8,726 records)
    assert all((c.events["flags"] & Flag.END_OF_MESSAGE).sum() == 1 for c in chunks if c.events.height > max_events)
    assert chunks[0].events.height == (8_726 if max_events < 8_726 else 4096)
    joined = pl.concat([c.events for c in chunks])
    assert joined.equals(whole.events.head(joined.height))
    if count is None:
        assert joined.height == 68_792 and src.stats() == whole.stats


def test_resume_after_a_chunk_yields_the_rest_and_the_same_stats(esh4):
    stream, whole = esh4
    first = DatabentoSource(stream)
    it = first.chunks(10_000)
    done = sum(next(it).events.height for _ in range(3))
    again = DatabentoSource(stream)
    again.resume(first.state())
    rest = pl.concat([c.events for c in again.chunks(10_000)])
    assert rest.equals(whole.events.slice(done)) and again.stats() == whole.stats


def test_high_water_mark_carries_across_chunks(esh4):
    _, whole = esh4
    events = whole.events.with_columns(
        pl.when(pl.col("arrival") == 40_000).then(pl.col("update_id") - 10_000).otherwise(pl.col("update_id")).alias("update_id"))
    tracker = SequenceTracker()
    for start in range(0, events.height, 999):
        tracker.update(events.slice(start, 999))
    assert tracker.report().as_report() == sequence_report(events).as_report()
    assert tracker.regressions == 1 and tracker.located[0]["arrival"] == 40_000
