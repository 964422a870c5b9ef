"""The ``bookTicker`` check block by block (:func:`compare_ticker_blocks` over
:meth:`SpilledBook.ticker_blocks`, against the written book a row group at a time) gives exactly
the whole-day check (:func:`compare_tickers` on the day's ticker table and the book in memory) on
the shipped hftbacktest captures, clean and damaged, whatever the blocks' size and order."""

import gzip

import polars as pl
import pytest

from obrecon_pipeline.events import scales
from obrecon_pipeline.feeds import get_feed
from obrecon_pipeline.feeds.l2 import source as l2_source
from obrecon_pipeline.feeds.l2.messages import diff_ends
from obrecon_pipeline.feeds.l2.spilled import SpilledBook, _AppliedEnds
from obrecon_pipeline.integrity.tickers import WrittenLevelOne, compare_tickers, compare_tickers_written
from obrecon_pipeline.outputs import OutputPaths
from obrecon_pipeline.pipeline import RunOptions, run_stream
from obrecon_pipeline.replay import replay
from tests.feeds.hftbacktest_captures import SPOT, USDM, raw_lines, wrong_best_bid_capture
from tests.feeds.test_hftbacktest_spill import books

FEED = get_feed("hftbacktest")


def wrong_bid_sizes_capture(tmp_path):
    """The spot capture with a ``9`` put before the bid size of every bookTicker from line 9,001 on."""
    lines = raw_lines(SPOT)
    for i in range(9000, len(lines)):
        if "@bookTicker" in lines[i]:
            lines[i] = lines[i].replace('"B":"', '"B":"9', 1)
    faulty = tmp_path / SPOT.name
    faulty.write_bytes(gzip.compress("".join(lines).encode()))
    return faulty


def disagreement(path, src_row, ts_recv, update_id, row, ours, theirs):
    names = ("bid_price", "bid_size", "ask_price", "ask_size")
    return {"file": str(path), "src_row": src_row, "ts_recv": ts_recv, "update_id": update_id, "row": row,
            "ours": dict(zip(names, ours)), "theirs": dict(zip(names, theirs))}


CASES = {
    "spot": (lambda tmp: SPOT, (13041, 278, 278, 0), None),
    "usdm": (lambda tmp: USDM, (28854, 277, 277, 0), None),
    "wrong best bid": (lambda tmp: wrong_best_bid_capture(tmp)[0], (13041, 278, 277, 1),
                       (259, 1723161254835842367, 50093240368, 8, (61828.01, 0.03448, 61828.02, 3.12617),
                        (61828.01, 0.12755, 61828.02, 3.12617))),
    "wrong bid sizes": (wrong_bid_sizes_capture, (13041, 278, 153, 125),
                        (9003, 1723161335866375905, 50093277428, 816, (61822.01, 1.4508, 61822.02, 4.23545),
                         (61822.01, 91.4508, 61822.02, 4.23545))),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_ticker_check_block_by_block_is_the_whole_day_check(tmp_path, monkeypatch, case):
    make, (tickers, compared, agree, disagree), first = CASES[case]
    path = make(tmp_path).resolve()
    spilled, whole = books(path)
    assert isinstance(spilled, SpilledBook)
    events, _ = whole.events()
    price_scale, size_scale = scales(events)
    day = whole.ticker_rows()
    cells = replay(events, 10, whole.options()).cells
    expected = {"tickers": tickers, "compared": compared, "agree": agree, "disagree": disagree,
                "first_disagreement": None if first is None else disagreement(path, *first)}
    assert compare_tickers(cells[day["row"].drop_nulls().to_numpy(), :4], price_scale, size_scale, day) == expected
    (stream,) = FEED.from_files([path])
    book = tmp_path / "book.parquet"
    report = run_stream("hftbacktest", stream, OutputPaths(book), RunOptions(chunk_events=1000))
    assert report["ticker_reference"] == expected
    assert WrittenLevelOne(book, price_scale, size_scale)._file.num_row_groups == (211 if path == USDM else 53)
    for block in (l2_source.BLOCK_MESSAGES, 7):  # one block of tickers, or 1,863 / 4,122 blocks
        monkeypatch.setattr(l2_source, "BLOCK_MESSAGES", block)
        blocks = list(spilled.ticker_blocks())
        assert len(blocks) == -(-tickers // block)
        for order in (blocks, blocks[::-1]):
            assert compare_tickers_written(book, price_scale, size_scale, order) == expected


def test_applied_ends_read_only_the_ids_asked_and_hold_the_day_when_out_of_order():
    """:class:`_AppliedEnds`: the diffs' last ids (snapshots and diffs without an id left out) in
    sequencer order; ids never decreasing, the ends of a ticker block's ids are one run of the
    spill (each id's last row); one id below an earlier one, the whole day's ends, exactly
    :func:`diff_ends`."""
    def frame(rows):
        return pl.DataFrame(rows, schema={"snapshot": pl.Boolean, "update_id": pl.Int64, "row": pl.Int64}, orient="row")

    blocks = [frame([(False, 5, 0), (True, 7, 1), (False, 7, 2), (False, 7, 3), (False, 9, 4)]),
              frame([(False, 9, 5), (False, None, 6), (False, 12, 7)])]
    ends = _AppliedEnds()
    for block in blocks:
        ends.append(block)
    assert ends.in_order and ends.spill.lengths["row"] == 6
    assert ends.of(pl.Series([9, 7, None, 8])).sort("update_id").rows() == [(7, 3), (9, 5)]
    assert ends.of(pl.Series([5])).rows() == [(5, 0)] and ends.of(pl.Series([4, 13])).height == 4
    assert ends.of(pl.Series([None], dtype=pl.Int64)).height == 0
    ends.append(frame([(False, 3, 8)]))
    assert not ends.in_order
    day = diff_ends(pl.concat([*blocks, frame([(False, 3, 8)])])).sort("update_id")
    assert ends.of(pl.Series([7])).sort("update_id").equals(day) and day.height == 5
