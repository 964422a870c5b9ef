"""The Coinbase, Kraken and OKX readers streaming their spilled messages (:class:`SpilledBook`,
:mod:`.book_lines`) against the whole-day book read into memory, on the shipped captures (several
symbols each, and one cut to a single symbol): identical messages, events, counters and checksum
results with the sequencer fed 1, 7 or 65,536 messages at a time, the capture scanned in small
byte blocks and the symbols' index read a few rows at a time, so that every boundary is crossed;
a record the parser leaves is placed among the spilled messages by its line; bad input gives the
same quarantine and the same located error, and a pass that fails leaves no scratch file."""

import re
import tempfile

import polars as pl
import pytest

from cfhelpers import KRAKEN, OKX, lines, stream, write_capture
from obrecon_pipeline.errors import InputError
from obrecon_pipeline.feeds.cryptofeed import binance_lines, book_lines, capture, coinbase, get_venue, kraken, okx
from obrecon_pipeline.feeds.cryptofeed._book_scan import COINBASE as COINBASE_SHAPE
from obrecon_pipeline.feeds.cryptofeed._book_scan import KRAKEN as KRAKEN_SHAPE
from obrecon_pipeline.feeds.cryptofeed._book_scan import OKX as OKX_SHAPE
from obrecon_pipeline.feeds.l2 import source as l2_source
from obrecon_pipeline.feeds.l2.source import L2Source
from obrecon_pipeline.feeds.l2.spilled import SpilledBook
from obrecon_pipeline.replay import replay
from tests.feeds.cryptofeed.test_cryptofeed_bad_input import COINBASE

#: per venue: its shipped capture and module, the levels its checksum covers (replayed that
#: deep) and, per symbol (in order), book messages (one snapshot, the rest updates) and the replayed
#: checksums ``(verified, failed)`` (Coinbase sends none)
CAPTURES = {
    "coinbase": (COINBASE, coinbase, 10, {
        "BAND-GBP": (472, 0), "SKL-GBP": (290, 0), "NU-GBP": (77, 0), "YFI-BTC": (488, 0), "SKL-BTC": (1540, 0),
        "CRV-EUR": (671, 0), "BAND-BTC": (1006, 0), "DASH-BTC": (1926, 0), "NMR-EUR": (666, 0), "SKL-USD": (2593, 0)}),
    "kraken": (KRAKEN, kraken, 10, {
        "ADA/XBT": (348, 347), "XBT/CHF": (290, 289), "OMG/USD": (574, 573), "OCEAN/XBT": (149, 148),
        "ETH/CHF": (318, 317), "SC/EUR": (819, 818), "GRT/ETH": (21, 20), "KSM/XBT": (336, 335),
        "XMR/USD": (847, 846), "WAVES/EUR": (577, 576)}),
    "okx": (OKX, okx, 25, {"BTC-USD-220527": (99, 99), "UNI-USD-SWAP": (93, 93), "BTC-USDT": (98, 98)}),
}
SHAPES = {"coinbase": COINBASE_SHAPE, "kraken": KRAKEN_SHAPE, "okx": OKX_SHAPE}
#: (sequencer block, chunk sizes) a symbol is replayed with from the spill: every one of
#: :data:`BLOCKS` for the venue's :data:`FULL` symbol, :data:`SOME` for the others
BLOCKS = ((1, (7,)), (7, (1, 1 << 40)), (1 << 16, (7, 1 << 40)))
SOME = ((7, (7,)),)
FULL = {"coinbase": "NU-GBP", "kraken": "OCEAN/XBT", "okx": "UNI-USD-SWAP"}


def fresh():
    """Every cached pass dropped (the next read passes over the capture again)."""
    capture._read_capture.cache_clear()
    book_lines._cache.clear()


def books(path, symbol):
    """``(spilled, whole day)`` books of ``symbol`` of the capture at ``path`` read by lines."""
    venue = get_venue(path.name.split(".")[0])
    ws = capture.scanned(path)
    return venue.load(ws, [], symbol), venue.load(ws, [], symbol, stream=False)


def replayed(st, book, chunk):
    src = L2Source(st, book)
    return pl.concat([c.events for c in src.chunks(chunk)]), src.stats(), src.expected_events


def checksums(events, book, levels) -> tuple[int, int]:
    counters = replay(events, levels, book.options()).counters
    return counters["checksum_ok"], counters["checksum_failed"]


def same_books(path, symbol, levels, blocks=BLOCKS, monkeypatch=None):
    """The spilled and whole-day books of ``symbol``: equal messages and, replayed with every
    sequencer block and chunk of ``blocks``, equal events and counters; ``(spilled, whole, events,
    stats)``."""
    spilled, whole = books(path, symbol)
    assert isinstance(spilled, SpilledBook) and not isinstance(whole, SpilledBook)
    assert spilled.n_messages == whole.n_messages
    assert spilled.snapshot_flags().tolist() == whole.snapshot_flags().tolist()
    assert spilled.first_line() == whole.first_line()
    assert spilled.messages().equals(whole.messages())
    st = stream([path], symbol)
    events, stats, n = replayed(st, whole, 1 << 40)
    assert n == events.height > 0
    for block, chunks in blocks:
        monkeypatch.setattr(l2_source, "BLOCK_MESSAGES", block)
        for chunk in chunks:
            got = replayed(st, spilled, chunk)
            assert got[0].equals(events) and got[1] == stats and got[2] == n, (symbol, block, chunk)
    assert checksums(got[0], spilled, levels) == checksums(events, whole, levels)
    return spilled, whole, events, stats


@pytest.mark.parametrize("small", [False, True], ids=["16 MiB blocks", "700-byte blocks, index 7 rows"])
@pytest.mark.parametrize("venue", CAPTURES)
def test_every_symbol_streams_from_the_spill_as_the_whole_day(monkeypatch, venue, small):
    """Each symbol of the shipped capture (several symbols' messages between its own, read through
    the index of its rows) gives the whole-day book's messages, events, counters and checksums;
    Kraken's 4,269 and OKX's 290 checksums all verify."""
    path, module, levels, expected = CAPTURES[venue]
    if small:
        monkeypatch.setattr(binance_lines, "BLOCK", 700)  # a few lines a block
        monkeypatch.setattr(binance_lines, "INDEX_ROWS", 7)
    fresh()
    bl = book_lines.book_lines(path, SHAPES[venue], module._kept)
    assert bl.symbols == list(expected) and bl.n_messages == sum(m for m, _ in expected.values())
    ok = 0
    for symbol, (messages, verified) in expected.items():
        blocks = BLOCKS if symbol == FULL[venue] else SOME
        spilled, whole, events, stats = same_books(path, symbol, levels, blocks, monkeypatch)
        assert spilled.n_messages == messages and int(spilled.snapshot_flags().sum()) == 1
        assert stats["gaps"] == stats["quarantined"] == 0
        assert checksums(events, whole, levels) == (verified, 0)
        ok += verified
    assert ok == {"coinbase": 0, "kraken": 4269, "okx": 290}[venue]


def test_a_capture_of_one_symbol_streams_the_spill_rows(tmp_path, monkeypatch):
    """A capture of one pair (Kraken cut to XMR/USD): its messages are the spill's rows, no index."""
    content = [t for t in lines(KRAKEN) if not t[0].isdigit() or '"XMR/USD"]' in t or '"event"' in t]
    path = write_capture(tmp_path, KRAKEN, content)
    fresh()
    assert book_lines.book_lines(path, KRAKEN_SHAPE, kraken._kept).rows_of("XMR/USD") is None
    _, whole, events, _ = same_books(path, "XMR/USD", 10, BLOCKS, monkeypatch)
    assert whole.n_messages == 847 and checksums(events, whole, 10) == (846, 0)


def edited(tmp_path, venue):
    """The venue's capture with lines the parser leaves (placed among the spilled messages by line),
    a quarantined line and a parsed update whose checksum is wrong; the path and its symbol."""
    path, symbol = CAPTURES[venue][0], FULL[venue]
    content = lines(path)
    if venue == "coinbase":
        mine = [i for i, t in enumerate(content) if f'"l2update","product_id":"{symbol}"' in t]
        content[mine[3]] = content[mine[3]].replace('"product_id":"NU-GBP"', '"product_id":"NU\\u002dGBP"')  # left
        content[mine[5]] = re.sub(r'"time":"[^"]+"', '"time":"yesterday"', content[mine[5]])  # quarantined
    elif venue == "kraken":
        mine = [i for i, t in enumerate(content) if f'"{symbol}"]' in t and '"c":"' in t]
        content[mine[3]] = content[mine[3]].replace(f'"{symbol}"]', '"OCEAN\\/XBT"]')  # an escape: left
        content[mine[5]] = re.sub(r'"c":"\d+"', '"c":"12x"', content[mine[5]])  # quarantined: bad checksum
        content[mine[7]] = re.sub(r'"c":"(\d+)"', lambda m: f'"c":"{int(m[1]) ^ 1}"', content[mine[7]])  # wrong CRC
    else:
        mine = [i for i, t in enumerate(content) if f'"instId":"{symbol}"}},"action":"update"' in t]
        content[mine[3]] = re.sub(r'"ts":"(\d+)"', r'"ts":\1', content[mine[3]])  # ts a number: left, taken
        content[mine[5]] = content[mine[5]].replace('"action":"update"', '"action":"partial"')  # quarantined
        content[mine[7]] = re.sub(r'"checksum":(-?\d+)', lambda m: f'"checksum":{int(m[1]) ^ 1}', content[mine[7]])
    content.insert(mine[1], content[mine[1]].split(": ", 1)[0] + ": not json\n")
    return write_capture(tmp_path, path, content), symbol


#: per venue: the edited symbol's messages, the records left to the per-message path that add one
#: (placed among the spilled messages), its quarantined lines and replayed checksums (the update
#: quarantined is lost, so the book differs from the venue's and checksums fail after it: Kraken
#: 39, OKX 56 of the 92 left, the wrong checksum's among them, on both paths alike)
EDITED = {"coinbase": (76, 1, 2, (0, 0)), "kraken": (148, 1, 2, (108, 39)), "okx": (92, 1, 2, (36, 56))}


@pytest.mark.parametrize("venue", CAPTURES)
def test_left_records_are_placed_among_the_spilled_messages(tmp_path, monkeypatch, venue):
    """Records the parser leaves are translated one by one and placed by their line among the
    spilled messages (:meth:`SpilledBook.add_at`); the quarantine and the checksums (a wrong one
    fails) are the whole day's."""
    path, symbol = edited(tmp_path, venue)
    fresh()
    spilled, whole, events, stats = same_books(path, symbol, CAPTURES[venue][2], BLOCKS[:2], monkeypatch)
    messages, added, quarantined, sums = EDITED[venue]
    assert spilled.n_messages == messages and len(spilled._added_at) == added
    assert spilled.quarantined == whole.quarantined and len(spilled.quarantined) == quarantined - 1  # + the capture's
    assert stats["quarantined"] == len(whole.quarantined)
    assert checksums(events, whole, CAPTURES[venue][2]) == sums


@pytest.mark.parametrize("edit, reason", [
    (lambda t: re.sub(r'("changes":\[\["(?:buy|sell)",")', r"\g<1>1e", t, count=1), "is not a decimal number"),
    (lambda t: re.sub(r'("changes":\[\["(?:buy|sell)","[^"]+",")[^"]+"', r'\g<1>123456789012345678"', t, count=1),
     "does not fit a 64-bit integer")], ids=["left: not a decimal", "parsed: beyond int64 at the scale"])
def test_bad_input_is_the_whole_days_located_error(tmp_path, edit, reason):
    """A level the text path rejects (left by the parser, added one by one) or one the parser took
    that does not fit int64 at the symbol's scale (found from the pass's largest mantissas): the
    spilled book gives the whole-day book's located error."""
    content = lines(COINBASE)
    k = next(i for i, t in enumerate(content) if '"l2update","product_id":"SKL-USD"' in t)
    content[k] = edit(content[k])
    path = write_capture(tmp_path, COINBASE, content)
    fresh()
    spilled, whole = books(path, "SKL-USD")
    assert isinstance(spilled, SpilledBook)
    errors = []
    for book in (spilled, whole):
        with pytest.raises(InputError) as err:
            L2Source(stream([path], "SKL-USD"), book)
        errors.append((err.value.path, err.value.row, err.value.reason))
    assert errors[0] == errors[1] and reason in errors[0][2]
    # the bad value's row, or (beyond int64) the finest value's, naming the bad one's
    assert errors[0][1] == k + 1 or f"(row {k + 1})" in errors[0][2]


def test_a_failed_pass_removes_its_spill(tmp_path, monkeypatch):
    cut = tmp_path / KRAKEN.name
    data = KRAKEN.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # the gzip stream ends early
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr(binance_lines, "BLOCK", 700)  # some blocks spilled before the error
    fresh()
    with pytest.raises(InputError, match="truncated or corrupt gzip"):
        book_lines.book_lines(cut, KRAKEN_SHAPE, kraken._kept)
    assert list(scratch.iterdir()) == []
    bl = book_lines.book_lines(KRAKEN, KRAKEN_SHAPE, kraken._kept)  # a pass that succeeds keeps its spill
    assert [p.name for p in scratch.iterdir()] == [bl.spill._dir.name.rsplit("/", 1)[1]]
