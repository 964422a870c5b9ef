"""The Binance reader streaming its spilled diffs (:class:`SpilledBook`) against the whole-day book
read into memory, on the shipped spot and futures captures cut to one symbol without bookTickers
(clean, and edited to hold swapped, re-sent and lost diffs): identical events, counters, gaps and
quarantine with the sequencer fed 1, 3 or 7 messages at a time and the capture scanned in small
byte blocks, so that every boundary is crossed; bad lines give the same quarantine and the same
located error, and a pass that fails leaves no scratch file."""

import gzip
import tempfile

import polars as pl
import pytest

from cfhelpers import binance_files, lines, stream, write_capture
from obrecon_pipeline.errors import InputError
from obrecon_pipeline.feeds.cryptofeed import binance_lines, get_venue
from obrecon_pipeline.feeds.cryptofeed.capture import read_capture
from obrecon_pipeline.feeds.l2 import source as l2_source
from obrecon_pipeline.feeds.l2.source import L2Source
from obrecon_pipeline.feeds.l2.spilled import SpilledBook
from obrecon_pipeline.feeds.cryptofeed.binance import _kept
from obrecon_pipeline.replay import replay
from test_cryptofeed_sequencer_blocks import CASES, depth_lines, lose, swap


def resend(ws, d):
    """Diff 20 sent again after diff 25, received at diff 25's time (receive times stay in order)."""
    ws.insert(d[25] + 1, ws[d[25]].split(": ", 1)[0] + ": " + ws[d[20]].split(": ", 1)[1])


EDITS = {"clean": lambda ws, d: None, "swap": swap, "resend": resend, "lose": lose}

#: messages of each edited capture's symbol: its one REST snapshot and its diff lines (spot 150,
#: futures 255; one more re-sent, one fewer lost)
MESSAGES = {"BINANCE": {"clean": 151, "swap": 151, "resend": 152, "lose": 150},
            "BINANCE_FUTURES": {"clean": 256, "swap": 256, "resend": 257, "lose": 255}}

#: the counters each edit moves: two swapped pairs are 2 reordered diffs, a re-sent diff 1
#: duplicate, a lost diff 1 gap; the diffs before the snapshot's id (spot 1, futures 3) are stale
STALE = {"BINANCE": 1, "BINANCE_FUTURES": 3}
MOVED = {"clean": {}, "swap": {"reordered": 2}, "resend": {"duplicates": 1}, "lose": {"gaps": 1}}


def one_symbol(tmp_path, venue, edit, extra=lambda ws: None):
    """The venue's shipped capture cut to its case's symbol's diffs (no bookTicker, no other
    symbol), with ``edit`` applied; the files and the stream."""
    ws_path, rest_path = binance_files(venue)
    ws = lines(ws_path)
    keep = set(depth_lines(ws, CASES[venue]))
    ws = [t for i, t in enumerate(ws) if i in keep or '"stream"' not in t]
    edit(ws, depth_lines(ws, CASES[venue]))
    extra(ws)
    files = [write_capture(tmp_path, ws_path, ws), rest_path]
    return files, stream(files, CASES[venue])


def every_symbol(tmp_path, venue, edit, extra=lambda ws: None):
    """The venue's whole shipped capture (every symbol, bookTickers, trades; receive times in order)
    with ``edit`` applied to its case's symbol's diffs; the files and the case's stream."""
    ws_path, rest_path = binance_files(venue)
    ws = lines(ws_path)
    edit(ws, depth_lines(ws, CASES[venue]))
    extra(ws)
    files = [write_capture(tmp_path, ws_path, ws), rest_path]
    return files, stream(files, CASES[venue])


def books(files, symbol):
    venue = get_venue(files[0].name.split(".")[0])
    ws, rest = read_capture(files[0]), [read_capture(p) for p in files[1:]]
    out = venue.load(ws, rest, symbol), venue.load(ws, rest, symbol, stream=False)
    for book in out:  # the capture's unreadable lines, as the feed adds them
        for cap in (ws, *rest):
            book.quarantined.extend(cap.quarantine)
    return out


def replayed(st, book, chunk):
    src = L2Source(st, book)
    return pl.concat([c.events for c in src.chunks(chunk)]), src.stats(), src.expected_events


@pytest.mark.parametrize("venue", CASES)
@pytest.mark.parametrize("name", EDITS)
def test_spilled_book_replays_as_the_whole_day(tmp_path, monkeypatch, venue, name):
    files, st = one_symbol(tmp_path, venue, EDITS[name])
    spilled, whole = books(files, st.symbol)
    assert isinstance(spilled, SpilledBook) and not isinstance(whole, SpilledBook)
    assert spilled.n_messages == whole.n_messages == MESSAGES[venue][name]
    assert spilled.snapshot_flags().tolist() == whole.snapshot_flags().tolist()
    assert spilled.first_line() == whole.first_line()
    assert spilled.messages().equals(whole.messages())
    events, stats, n = replayed(st, whole, 1 << 40)
    assert n == events.height > 0
    expected = {"gaps": 0, "duplicates": 0, "reordered": 0, "stale": STALE[venue], **MOVED[name]}
    assert {k: stats[k] for k in expected} == expected
    for block, chunks in ((1, (1, 1 << 40)), (3, (7,)), (7, (1 << 40,)), (1 << 16, (7, 1 << 40))):
        monkeypatch.setattr(l2_source, "BLOCK_MESSAGES", block)
        for chunk in chunks:
            got = replayed(st, spilled, chunk)
            assert got[0].equals(events) and got[1] == stats and got[2] == n, (block, chunk)
    assert spilled.to_loaded(st).events.equals(whole.to_loaded(st).events)


def test_small_byte_blocks_spill_the_same_day(tmp_path, monkeypatch):
    files, st = one_symbol(tmp_path, "BINANCE_FUTURES", EDITS["swap"])
    events, stats, _ = replayed(st, books(files, st.symbol)[1], 1 << 40)
    monkeypatch.setattr(binance_lines, "BLOCK", 700)  # a few lines a block
    binance_lines._cache.clear()
    spilled = books(files, st.symbol)[0]
    assert isinstance(spilled, SpilledBook)
    got = replayed(st, spilled, 7)
    assert got[0].equals(events) and got[1] == stats


def test_a_failed_pass_removes_its_spill(tmp_path, monkeypatch):
    files, _ = one_symbol(tmp_path, "BINANCE", EDITS["clean"])
    cut = tmp_path / "cut.ws.1.0.gz"
    cut.write_bytes(gzip.compress(files[0].read_bytes())[:-4000])  # the gzip stream ends early
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr(binance_lines, "BLOCK", 700)  # some blocks spilled before the error
    with pytest.raises(InputError) as exc:
        binance_lines.depth_lines(cut, lambda rec: True)
    assert str(cut) in str(exc.value) and list(scratch.iterdir()) == []
    dl = binance_lines.depth_lines(files[0], lambda rec: True)  # a pass that succeeds keeps its spill
    assert [p.name for p in scratch.iterdir()] == [dl.spill._dir.name.rsplit("/", 1)[1]]


@pytest.mark.parametrize("capture", [one_symbol, every_symbol], ids=["one symbol", "every symbol"])
def test_bad_lines_quarantine_and_fail_as_the_whole_day(tmp_path, capture):
    garbage = lambda ws: ws.insert(5, "1633998512.5: not json\n")  # noqa: E731
    files, st = capture(tmp_path, "BINANCE", EDITS["clean"], garbage)
    spilled, whole = books(files, st.symbol)
    assert spilled.quarantined == whole.quarantined
    assert [(f, row) for f, row, _ in spilled.quarantined] == [(str(files[0].resolve()), 6)]
    assert L2Source(st, spilled).stats()["quarantine_first"] == L2Source(st, whole).stats()["quarantine_first"]
    # a REST snapshot whose price is not a decimal: the same located error from either book
    rest = lines(files[1])
    bad = tmp_path / "bad"
    bad.mkdir()
    cut = [t for t in rest if "NKNUSDT" in t][0]
    i = rest.index(cut)
    rest[i] = cut.replace('["0.', '["x.', 1)
    ws_bad = write_capture(bad, files[0], files[0].read_text().splitlines(keepends=True))
    rest_bad = write_capture(bad, files[1], rest)
    spilled, whole = books([ws_bad, rest_bad], st.symbol)
    assert isinstance(spilled, SpilledBook)
    errors = []
    for book in (spilled, whole):
        with pytest.raises(InputError) as exc:
            L2Source(st, book)
        errors.append(str(exc.value))
    assert errors[0] == errors[1] and f"{rest_bad}, row {i + 1}: " in errors[0]


#: per venue and symbol of the whole capture: messages (REST snapshot and diffs; the case's symbol
#: as in :data:`MESSAGES`), stale diffs, bookTickers and bookTickers ending an applied diff (the
#: case's symbol's lost diff leaves its book invalid until the end: 3 / none of 19 / 12 compared)
EVERY_SYMBOL = {
    "BINANCE": {"NKNUSDT": (151, 1, 74, 19), "BLZETH": (11, 1, 1, 1), "LRCBTC": (16, 2, 9, 6), "RUNEEUR": (3, 1, 0, 0)},
    "BINANCE_FUTURES": {"SUSHIUSDT": (256, 3, 305, 12), "AKROUSDT": (190, 1, 88, 7), "KEEPUSDT": (136, 3, 75, 13),
                        "CTKUSDT": (186, 5, 145, 18)},
}
COMPARED_AFTER_LOSS = {"BINANCE": 3, "BINANCE_FUTURES": 0}
#: (sequencer block, chunk sizes) replayed: every symbol of the clean capture, the edited symbol of
#: the others (whose other symbols are replayed with blocks and chunks of 7 only)
BLOCKS = ((1, (7, 1 << 40)), (7, (1, 7)), (1 << 16, (7, 1 << 40)))


@pytest.mark.parametrize("venue", CASES)
@pytest.mark.parametrize("name", EDITS)
def test_every_symbol_of_a_capture_streams_from_the_spill(tmp_path, monkeypatch, venue, name):
    """Each symbol of a capture of several (the others' diffs and bookTickers between its own) is
    read from the spill through the index of its rows and gives the whole-day book's events,
    counters, gaps, bookTicker rows and top-10 book; the edit moves only its symbol's counters."""
    files, _ = every_symbol(tmp_path, venue, EDITS[name])
    dl = binance_lines.depth_lines(files[0], _kept)
    assert dl.symbols == list(EVERY_SYMBOL[venue]) and dl.recv_in_order and len(dl.ticker_symbols) > 1
    for symbol, (messages, stale, tickers, compared) in EVERY_SYMBOL[venue].items():
        st = stream(files, symbol)
        spilled, whole = books(files, symbol)
        assert isinstance(spilled, SpilledBook) and not isinstance(whole, SpilledBook)
        mine = symbol == CASES[venue]
        assert spilled.n_messages == whole.n_messages == (MESSAGES[venue][name] if mine else messages)
        assert spilled.messages().equals(whole.messages()) and spilled.first_line() == whole.first_line()
        events, stats, n = replayed(st, whole, 1 << 40)
        assert n == events.height > 0
        expected = {"gaps": 0, "duplicates": 0, "reordered": 0, "stale": stale, **(MOVED[name] if mine else {})}
        assert {k: stats[k] for k in expected} == expected
        for block, chunks in BLOCKS if mine or name == "clean" else ((7, (7,)),):
            monkeypatch.setattr(l2_source, "BLOCK_MESSAGES", block)
            for chunk in chunks:
                streamed = replayed(st, spilled, chunk)
                assert streamed[0].equals(events) and streamed[1] == stats and streamed[2] == n, (symbol, block, chunk)
            rows = spilled.ticker_rows()
            assert rows.equals(whole.ticker_rows())
        lost = mine and name == "lose"
        assert (rows.height, rows["row"].is_not_null().sum()) == (tickers, COMPARED_AFTER_LOSS[venue] if lost else compared)
        assert replay(events, 10, whole.options()).book.equals(replay(streamed[0], 10, spilled.options()).book)


#: a symbol of each capture other than its case's
OTHER = {"BINANCE": "BLZETH", "BINANCE_FUTURES": "AKROUSDT"}


def late(venue):
    """Whole lines (receive times with them) out of file order: the case symbol's diff 10 after its
    diff 14, and another symbol's first diff at the end of the capture."""
    def edit(ws, d):
        ws.insert(d[14], ws.pop(d[10]))
        other = depth_lines(ws, OTHER[venue])[0]
        ws.append(ws.pop(other))
    return edit


@pytest.mark.parametrize("venue", CASES)
def test_receive_times_out_of_order_stream_in_receive_time_order(tmp_path, monkeypatch, venue):
    """Out of order, each symbol's messages are listed in receive-time order (ties in file order)
    through the held-back window and give the whole-day book, the index read 7 rows at a time or
    whole; beyond the window (5 messages held back) the whole-day path reads the capture."""
    files, _ = every_symbol(tmp_path, venue, late(venue))
    for rows in (7, 1 << 20):
        monkeypatch.setattr(binance_lines, "INDEX_ROWS", rows)
        binance_lines._cache.clear()
        assert not binance_lines.depth_lines(files[0], _kept).recv_in_order
        for symbol, (messages, stale, tickers, compared) in EVERY_SYMBOL[venue].items():
            st = stream(files, symbol)
            spilled, whole = books(files, symbol)
            assert isinstance(spilled, SpilledBook) and spilled.n_messages == whole.n_messages == messages
            assert spilled.messages().equals(whole.messages())
            events, stats, n = replayed(st, whole, 1 << 40)
            assert stats["stale"] == stale and stats["gaps"] == stats["reordered"] == 0
            for block, chunk in ((7, 7), (1 << 16, 1 << 40)):
                monkeypatch.setattr(l2_source, "BLOCK_MESSAGES", block)
                got = replayed(st, spilled, chunk)
                assert got[0].equals(events) and got[1] == stats and got[2] == n, (symbol, rows, block)
            ticks = spilled.ticker_rows()
            assert ticks.equals(whole.ticker_rows()) and ticks["row"].is_not_null().sum() == compared
    monkeypatch.setattr(binance_lines, "INDEX_ROWS", 7)
    monkeypatch.setattr(binance_lines, "REORDER_WINDOW", 5)
    binance_lines._cache.clear()
    spilled, whole = books(files, CASES[venue])
    assert not isinstance(spilled, SpilledBook) and spilled.messages().equals(whole.messages())
