"""A Tardis ``incremental_book_L2`` file read block by block into a spill (``tardis_blocks``) is the
whole-day reader's book: the same events cell for cell and the same counters, with blocks so small
that a snapshot and a run of equal timestamp are cut by block boundaries; bad input gives the
whole-day reader's located error.

The file is the real Deribit sample with the constructed reconnect rows of ``tests/conftest.py``
(rows 2-16 one snapshot, 17-18 a live update at one timestamp, 19-20 a second snapshot).
"""

from __future__ import annotations

import gzip

import polars as pl
import pytest

from obrecon_pipeline.errors import InputError
from obrecon_pipeline.feeds import get_feed, tardis, tardis_blocks
from obrecon_pipeline.feeds.l2.source import L2Source
from obrecon_pipeline.feeds.l2.spilled import SpilledBook
from obrecon_pipeline.feeds.tardis import read_book_messages
from obrecon_pipeline.feeds.tardis_blocks import _line_blocks, spilled_book
from tests.feeds.test_tardis import BAD_ROWS, INCREMENTAL

#: decompressed bytes per block: a byte and 100 (each row a block of its own), 250 (3 rows), the whole file
BLOCKS = (1, 100, 250, 1 << 20)


def _same_book(path, block_size, symbol=None):
    """The spilled book of ``path`` has the whole-day book's events and counters; the spilled one."""
    whole = read_book_messages(path, symbol)
    spilled = spilled_book(path, symbol, block_size=block_size)
    assert isinstance(spilled, SpilledBook)
    events, sq = whole.events()
    streamed, ssq = spilled.events()
    assert streamed.equals(events)
    assert spilled.report_stats(ssq) == whole.report_stats(sq)
    return spilled


def _block_starts(path, block_size):
    return [first for _, first in _line_blocks(path, block_size)]


@pytest.mark.parametrize("block_size", BLOCKS)
def test_spilled_equals_the_whole_day(tardis_reconnect, block_size):
    book = _same_book(tardis_reconnect, block_size)
    assert (book.n_messages, book.spilled.n) == (3, 3)
    starts = _block_starts(tardis_reconnect, block_size)
    if block_size == 1 << 20:
        assert starts == [1]
    else:  # the first snapshot cut by block boundaries; in blocks of a row the live run at one timestamp too
        assert {4, 16} <= set(starts) and (18 in starts) == (block_size <= 100)


def test_counters_of_other_symbols_and_misdated_rows(tmp_path):
    """Another symbol's row inside the snapshot (row 6), a snapshot row dated 1 µs early (row 10):
    counted as the whole day counts them, the snapshot kept whole across blocks."""
    lines = INCREMENTAL.read_text().splitlines()
    lines.insert(5, lines[4].replace("BTC-PERPETUAL", "ETH-PERPETUAL"))
    lines[9] = lines[9].replace("1585699200245000", "1585699200244999", 1)
    path = tmp_path / INCREMENTAL.name
    path.write_text("\n".join(lines) + "\n")
    for block_size in BLOCKS:
        book = _same_book(path, block_size, "BTC-PERPETUAL")
        assert {k: book.stats[k] for k in ("other_symbol_rows", "other_symbol_first", "snapshot_rows_misdated")} == {
            "other_symbol_rows": 1, "other_symbol_first": f"{path}, row 6: symbol 'ETH-PERPETUAL'",
            "snapshot_rows_misdated": 1}


def test_gzip_file(tardis_reconnect, tmp_path):
    path = tmp_path / (tardis_reconnect.name + ".gz")
    path.write_bytes(gzip.compress(tardis_reconnect.read_bytes()))
    _same_book(path, 100)


def test_the_feed_streams_a_large_file_in_chunks(tardis_reconnect, monkeypatch):
    """Above ``STREAM_ABOVE`` the feed's source reads the spill: its chunks of 3 events and its
    counters are the whole-day source's."""
    feed = get_feed("tardis")
    (stream,) = feed.from_files([tardis_reconnect])
    whole = L2Source(stream, read_book_messages(tardis_reconnect, stream.symbol, "deribit"))
    monkeypatch.setattr(tardis, "STREAM_ABOVE", 0)
    monkeypatch.setattr(tardis_blocks, "BLOCK", 100)
    source = feed.open(stream)
    assert isinstance(source._book, SpilledBook)
    chunks = [c.events for c in source.chunks(3)]
    assert [c.height for c in chunks] == [17, 2, 4]  # a message is never split
    assert pl.concat(chunks).equals(pl.concat([c.events for c in whole.chunks(3)]))
    assert source.stats() == whole.stats()


def _bad(tmp_path, changes: dict[int, str]):
    lines = INCREMENTAL.read_text().splitlines()
    for line, text in changes.items():
        lines[line - 1] = text
    path = tmp_path / INCREMENTAL.name
    path.write_text("\n".join(lines) + "\n")
    return path


def _same_error(path, monkeypatch):
    """The feed's source of ``path`` fails as the whole day fails (the file read whole: its size is
    below ``STREAM_ABOVE``) when it is streamed in blocks of a row, whose pass fails too."""
    feed = get_feed("tardis")
    (stream,) = feed.from_files([path])
    with pytest.raises(InputError) as whole:
        feed.open(stream)
    with pytest.raises(InputError):
        spilled_book(path, "BTC-PERPETUAL", "deribit", block_size=1)
    monkeypatch.setattr(tardis, "STREAM_ABOVE", 0)
    monkeypatch.setattr(tardis_blocks, "BLOCK", 1)
    with pytest.raises(InputError) as streamed:
        feed.open(stream)
    assert (streamed.value.path, streamed.value.row, streamed.value.reason) == (
        whole.value.path, whole.value.row, whole.value.reason)
    return streamed.value


@pytest.mark.parametrize("line, bad, row, reason", BAD_ROWS)
def test_bad_rows_give_the_whole_day_error(tmp_path, monkeypatch, line, bad, row, reason):
    err = _same_error(_bad(tmp_path, {line: bad}), monkeypatch)
    assert err.row == row and reason in err.reason


def test_the_first_rule_broken_is_named_not_the_first_bad_block(tmp_path, monkeypatch):
    """A bad side at row 4 and a short row 15: the whole day names the field count first (every
    row is split before any is read), though the pass meets the side first."""
    lines = INCREMENTAL.read_text().splitlines()
    err = _same_error(_bad(tmp_path, {4: lines[3].replace(",ask,", ",buy,"), 15: lines[14].rsplit(",", 1)[0]}),
                      monkeypatch)
    assert (err.row, err.reason) == (15, "expected 8 comma-separated fields, found 7")


def test_a_value_beyond_int64_at_the_day_scale(tmp_path, monkeypatch):
    """An 18-digit amount (row 3) fits its block's scale, but not the day's (row 16 has a decimal)."""
    lines = INCREMENTAL.read_text().splitlines()
    err = _same_error(_bad(tmp_path, {3: lines[2].rsplit(",", 1)[0] + ",123456789012345678",
                                      16: lines[15].rsplit(",", 1)[0] + ",0.5"}), monkeypatch)
    assert err.row == 16 and "does not fit a 64-bit integer" in err.reason


def test_a_small_gzip_file_of_a_large_day_streams(tardis_reconnect, tmp_path, monkeypatch):
    """The choice is made on the decompressed size (``held_bytes``), not the bytes on disk: a limit
    between the two streams the gzip file; one at the decompressed size holds it whole."""
    text = tardis_reconnect.read_bytes()
    path = tmp_path / (tardis_reconnect.name + ".gz")
    path.write_bytes(gzip.compress(text))
    (stream,) = get_feed("tardis").from_files([path])
    monkeypatch.setattr(tardis, "STREAM_ABOVE", path.stat().st_size)
    assert isinstance(tardis.stream_messages(stream), SpilledBook)
    monkeypatch.setattr(tardis, "STREAM_ABOVE", len(text))
    assert not isinstance(tardis.stream_messages(stream), SpilledBook)
