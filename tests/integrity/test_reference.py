"""Cell-by-cell match of a replayed book with a reference book (:mod:`obrecon_pipeline.integrity.reference`):
hand-made cells with hand-counted answers, and the shipped AAPL level-10 replay against LOBSTER's
own book (every cell equal; one cell changed is found at its row and column)."""

from __future__ import annotations

import numpy as np

from obrecon_pipeline.codes import NULL_CELL, UNKNOWN_CELL
from obrecon_pipeline.feeds import get_feed
from obrecon_pipeline.integrity.reference import match_reference
from obrecon_pipeline.replay import replay
from tests.conftest import LOBSTER_DAY

# two levels: bid_price_1 bid_size_1 ask_price_1 ask_size_1 bid_price_2 ... ask_size_2
REFERENCE = np.array([
    [100, 5, 101, 7, 99, 2, 102, 3],
    [100, 4, 101, 7, 99, 2, NULL_CELL, NULL_CELL],
    [100, 4, 101, 7, 99, 2, 102, 1],
], dtype=np.int64)


def test_every_cell_equal_matches_and_unknown_cells_are_not_compared():
    ours = REFERENCE[[0, 2]].copy()
    ours[1, 7] = UNKNOWN_CELL  # the replay could not observe ask_size_2
    m = match_reference(ours, np.array([0, 2]), REFERENCE)
    assert (m.rows_compared, m.levels_compared, m.cells_compared, m.cells_matched, m.unknown_cells) == (2, 2, 15, 15, 1)
    assert (m.mismatched_rows, m.first_mismatch_row, m.first_mismatch_column, m.match_rate) == (0, None, None, 1.0)


def test_an_empty_level_matches_only_an_empty_level_and_the_first_mismatch_is_named():
    ours = REFERENCE.copy()
    ours[1, 6:8] = (102, 3)  # the reference's ask level 2 is empty
    ours[2, 1] = 5  # bid_size_1
    m = match_reference(ours, np.arange(3), REFERENCE)
    assert (m.cells_compared, m.cells_matched, m.mismatched_rows) == (24, 21, 2)
    assert (m.first_mismatch_row, m.first_mismatch_column) == (1, "ask_price_2")
    assert m.match_rate == 21 / 24
    assert m.to_dict()["match_rate"] == 21 / 24


def test_only_the_levels_both_books_have_are_compared():
    m = match_reference(REFERENCE[:, :4], np.arange(3), REFERENCE)
    assert (m.levels_compared, m.cells_compared, m.cells_matched) == (1, 12, 12)
    # a book row is compared with the reference row of its event
    m = match_reference(REFERENCE[[0]], np.array([1]), REFERENCE)
    assert (m.first_mismatch_row, m.first_mismatch_column, m.mismatched_rows) == (0, "bid_size_1", 1)


def test_aapl_replay_equals_lobsters_book_until_a_cell_is_changed():
    (stream,) = [s for s in get_feed("lobster").discover(LOBSTER_DAY, "2012-06-21") if s.name == "AAPL-L10"]
    loaded = get_feed("lobster").load(stream)
    result = replay(loaded.events, 10, loaded.options, reference=loaded.reference, seed=loaded.seed)
    m = match_reference(result.cells, result.row_event, loaded.reference)
    assert (m.rows_compared, m.cells_compared, m.cells_matched, m.match_rate) == (999, 39_960, 39_960, 1.0)
    changed = loaded.reference.copy()
    changed[500, 4 * 3 + 3] += 1  # ask_size_4 after event 500
    m = match_reference(result.cells, result.row_event, changed)
    assert (m.cells_matched, m.mismatched_rows, m.first_mismatch_row, m.first_mismatch_column) == (
        39_959, 1, int(np.searchsorted(result.row_event, 500)), "ask_size_4")
