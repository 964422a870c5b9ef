"""Checkpoint -> restore -> continue equals never stopping: rows, counters, located failures.

Each case is replayed once uninterrupted; then, for each cut, a replayer takes the events before
the cut, is saved with ``state()``, restored with ``Replayer.from_state`` and given the rest. The
cuts are where state crosses the boundary: a pending seed (LOBSTER, before event 0 is consumed),
the middle of the day, the middle of a crossed episode and the stretch after its last crossed row
whose trades still count for it (Databento ESH4), the middle of a message, the middle of a snapshot
being judged for drift (Phemex), right after a checksum failure (Kraken, faulty capture).
"""

from __future__ import annotations

import numpy as np
import pytest

import replay_cases as cases
from obrecon_pipeline.errors import ReplayError
from obrecon_pipeline.events import Flag
from obrecon_pipeline.replay import Replayer, replay


def feed(r: Replayer, case, start: int, stop: int) -> list:
    ref = case.kwargs.get("reference")
    block = r.apply(case.events.slice(start, stop - start), None if ref is None else ref[start:stop])
    return [np.array(block.cells), np.array(block.valid), np.array(block.row_event)]


def assert_resumes_exactly(case, cuts: list[int]) -> dict:
    whole = replay(case.events, case.levels, case.options, **case.kwargs)
    n = case.events.height
    for cut in cuts:
        first = cases.replayer_for(case)
        before = feed(first, case, 0, cut)
        saved = first.state()
        restored = Replayer.from_state(saved)
        assert restored.state() == saved and restored.events == cut
        after = feed(restored, case, cut, n)
        cells, valid, row_event = (np.concatenate([b, a]) for b, a in zip(before, after))
        assert np.array_equal(cells, whole.cells), cut
        assert np.array_equal(valid.astype(bool), whole.book["book_valid"].to_numpy()), cut
        assert np.array_equal(row_event, whole.row_event), cut
        assert cases.without_wall_time(restored.counters()) == cases.without_wall_time(whole.counters), cut
        assert restored.integrity_failures().equals(whole.integrity), cut
    return whole.counters


def test_lobster_pending_seed_and_mid_day():
    counters = assert_resumes_exactly(cases.lobster("LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"),
                                      [0, 1, 2, 73_958, 147_915])
    assert counters["reseeds"] == 44_451 and counters["reference"]["cells_matched"] == 147_916 * 40


def test_databento_mid_crossed_episode_and_mid_message():
    case = cases.databento()
    flags = case.events["flags"].to_numpy()
    mid_message = int(np.flatnonzero((flags & Flag.END_OF_MESSAGE) == 0)[1000]) + 1
    assert not flags[mid_message - 1] & Flag.END_OF_MESSAGE
    # the episode's rows are at events 8,759..9,649, its end at 9,713 (36 trades in between)
    counters = assert_resumes_exactly(case, [mid_message, 9_000, 9_649, 9_680])
    (episode,) = counters["crossed_books"]["crossed_episode_list"]
    assert (episode["first_seq"], episode["last_seq"], episode["end_seq"], episode["trades_at_uncross"]) == (
        8_759, 9_649, 9_713, 36)


def test_kraken_after_a_checksum_failure(tmp_path):
    case = cases.kraken_checksum_failures_and_resync(tmp_path)
    whole = replay(case.events, case.levels, case.options)
    first = whole.counters["first_checksum_failure"]["event"]
    counters = assert_resumes_exactly(case, [first + 1, first + 40])
    assert (counters["checksum_failed"], counters["resyncs"]) == (28, 1)


def test_phemex_mid_snapshot_being_judged():
    case = cases.cryptofeed(cases.phemex_files(), "sGRTUSDT")
    flags = case.events["flags"].to_numpy()
    starts = cases.snapshot_starts(flags)
    second = int(starts[1])
    counters = assert_resumes_exactly(case, [second + 1, second + 5])
    assert counters["snapshot_drift"]["snapshots_agree"] == 1


def test_state_is_checked_on_restore():
    with pytest.raises(ReplayError, match="not a replayer checkpoint"):
        Replayer.from_state(b"not a checkpoint")
