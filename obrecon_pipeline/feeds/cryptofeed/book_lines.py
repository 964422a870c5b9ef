"""A capture of a venue whose book payloads :mod:`._book_scan` parses, read once in blocks of whole
lines (the venues other than Binance; Binance's own reader is :mod:`.binance_lines`).

:func:`book_lines` passes over the (decompressed) bytes once, block by block: the capture scanner
(:mod:`._capture_scan`) finds each line's kind, receive time and payload; the book parser
(:func:`._book_scan.parse_books`, the venue's ``shape``) reads every book payload it takes exactly
into int64 / int8 buffers — symbol, snapshot flag, event time, checksum and the levels as exact
``(mantissa, decimals)`` pairs. Every other line, and a payload the parser leaves, is read by the
line format's ``record_of`` (a :class:`.capture.Record`, or the capture's quarantine) and kept when
``keep(record)`` says the venue module needs it: the venue translates those one by one, exactly
as on the per-message path. The result is cached per file version (path, size, modification time).

:func:`symbols_of` lists the symbols as the venue's ``symbols`` does; :func:`load_into` adds one symbol's messages to its book, parsed and left alike, in file order;
:func:`scaled_messages` turns parsed messages into the columns of
:meth:`~obrecon_pipeline.feeds.l2.messages.BookMessages.add_scaled`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import polars as pl

from obrecon_pipeline.codes import NULL_ID
from obrecon_pipeline.feeds.cryptofeed._book_scan import parse_books
from obrecon_pipeline.feeds.cryptofeed._capture_scan import BLANK, RECV, scan_lines
from obrecon_pipeline.feeds.cryptofeed._common import first_seen
from obrecon_pipeline.feeds.cryptofeed.binance_lines import _blocks
from obrecon_pipeline.feeds.cryptofeed.capture import CRYPTOFEED_LINES, Capture, LineFormat, Record, file_version, tracked
from obrecon_pipeline.feeds.l2.messages import SCALED_LEVEL_COLUMNS, BookMessages


#: at least this many bytes of capture per level (``["1","1"],``) and per message line
LEVEL_BYTES, LINE_BYTES = 10, 64


class _Columns:
    """Growing int arrays filled block by block: reserved at a size read from the file's (the
    pages never written cost no memory), doubled when full, so that the blocks' temporaries are
    not interleaved on the heap with a list of parts to join (which kept freed memory resident)."""

    def __init__(self, dtypes: dict[str, type], capacity: int):
        self.n = 0
        self.arrays = {k: np.empty(max(capacity, 1), dtype=dt) for k, dt in dtypes.items()}

    def append(self, values: dict[str, np.ndarray]) -> None:
        size = len(next(iter(values.values())))
        cap = len(next(iter(self.arrays.values())))
        if self.n + size > cap:
            for k, arr in self.arrays.items():
                grown = np.empty(max(2 * cap, self.n + size), dtype=arr.dtype)
                grown[:self.n] = arr[:self.n]
                self.arrays[k] = grown
        for k, v in values.items():
            self.arrays[k][self.n:self.n + size] = v
        self.n += size

    def columns(self) -> dict[str, np.ndarray]:
        return {k: arr[:self.n] for k, arr in self.arrays.items()}


@dataclass
class BookLines:
    """The parsed book messages of a capture (file order) and its other kept records."""

    path: str
    symbols: list[str]  #: symbol index -> symbol, in order of first appearance
    sym: np.ndarray  #: per message: symbol index
    line: np.ndarray  #: 1-based line
    ts_recv: np.ndarray  #: receive time, ns
    snapshot: np.ndarray  #: bool
    ts_event: np.ndarray  #: venue time, ns (NULL_ID: none, the receive time is used)
    checksum: np.ndarray  #: NULL_ID: none
    level_start: np.ndarray  #: message k's levels are ``[level_start[k], level_start[k + 1])``
    levels: dict[str, np.ndarray]  #: ``SCALED_LEVEL_COLUMNS``, bids then asks of each message
    others: list[Record]  #: the other records ``keep`` kept, in file order
    quarantine: list[tuple[str, int, str]]  #: the capture's unreadable lines


def _read(path: Path, shape: int, keep: Callable[[Record], bool], line_format: LineFormat) -> BookLines:
    name = str(path)
    text_bytes = path.stat().st_size * (8 if path.name.endswith(".gz") else 1)  # gzip: a guess, grown if short
    symbols: dict[bytes, int] = {}
    messages = _Columns({k: np.int64 for k in ("sym", "line", "ts", "snap", "E", "sum", "count")},
                        text_bytes // LINE_BYTES)
    level_columns = _Columns(SCALED_LEVEL_COLUMNS, text_bytes // LEVEL_BYTES)
    others: list[Record] = []
    quarantine: list[tuple[str, int, str]] = []
    first_line = 1
    for block in _blocks(path):
        buf = np.frombuffer(block, dtype=np.uint8)
        lines = scan_lines(buf, line_format.layout)
        kind = lines["kind"]
        recv = np.flatnonzero(kind == RECV)
        ok, sym, snap, ts_event, checksum, count, levels = parse_books(
            buf, lines["body"][recv], lines["end"][recv], shape, symbols, block.count(b"["))
        good = ok == 1
        parsed = recv[good]
        messages.append({"sym": sym[good], "line": parsed + first_line, "ts": lines["ts"][parsed],
                         "snap": snap[good], "E": ts_event[good], "sum": checksum[good], "count": count[good]})
        level_columns.append(levels)
        rest = kind != BLANK
        rest[parsed] = False
        for k in np.flatnonzero(rest):
            rec = line_format.record_of(block[lines["start"][k]:lines["end"][k]], name, int(k) + first_line, quarantine)
            if rec is not None and keep(rec):
                others.append(rec)
        first_line += len(kind)
    cols = messages.columns()
    return BookLines(
        name, [s.decode("ascii") for s in symbols], cols["sym"], cols["line"], cols["ts"], cols["snap"] == 1,
        cols["E"], cols["sum"], np.concatenate([[0], np.cumsum(cols["count"])]).astype(np.int64),
        level_columns.columns(), others, quarantine)


#: file versions whose pass is kept (the oldest read goes first)
CACHED = 4
_cache: dict[tuple, BookLines] = {}


def book_lines(path: str | Path, shape: int, keep: Callable[[Record], bool],
               line_format: LineFormat = CRYPTOFEED_LINES) -> BookLines:
    """The capture's parsed book messages and kept records (read once per file version)."""
    key = (*file_version(path), shape, keep, line_format)
    bl = _cache.get(key)
    if bl is None:
        bl = _cache[key] = _read(key[0], shape, keep, line_format)
        while len(_cache) > CACHED:
            del _cache[next(iter(_cache))]
    return bl


def symbols_of(ws: Capture, shape: int, keep: Callable[[Record], bool],
               named: Callable[[Record], tuple[bool, object]], snapshots: bool = False) -> list:
    """A venue's ``symbols(ws)`` over a capture read by lines: the distinct symbols in order of
    first appearance (by line) among the parsed messages (with ``snapshots``, the parsed snapshots
    only) and the records the parser left that name one (``named(rec)``: ``(True, symbol)``, the
    symbol as the message gives it, perhaps not a string; ``(False, None)`` for the others)."""
    bl = book_lines(ws.path, shape, keep, ws.line_format)
    ws.read_whole(bl.quarantine)
    pick = bl.snapshot if snapshots else np.ones(len(bl.sym), dtype=bool)
    sym, line = bl.sym[pick], bl.line[pick]
    _, at = np.unique(sym, return_index=True)
    seen = [(int(line[i]), bl.symbols[int(sym[i])]) for i in at]
    seen += [(rec.line, name) for rec in bl.others for hit, name in [named(rec)] if hit]
    return first_seen(name for _, name in sorted(seen, key=lambda pair: pair[0]))


def load_into(book: BookMessages, ws: Capture, shape: int, symbol: str, keep: Callable[[Record], bool],
              translate: Callable[[BookMessages, Record, str], None],
              is_book: Callable[[Record, str], bool]) -> None:
    """``symbol``'s messages of the capture read by lines ``ws`` into ``book``, in file order as the
    per-message path gives them: the records the parser left (kept by ``keep``) one by one through
    ``translate(book, rec, symbol)`` (the venue's per-message step); each that ``is_book`` of
    ``symbol`` (may add a message) is placed among the parsed messages by its line, and the parsed
    ones before it are added whole (:meth:`BookMessages.add_scaled`); the others (quarantined, or
    giving nothing) split nothing."""
    bl = book_lines(ws.path, shape, keep, ws.line_format)
    ws.read_whole(bl.quarantine)
    mine = np.flatnonzero(bl.sym == bl.symbols.index(symbol)) if symbol in bl.symbols else np.zeros(0, np.int64)
    lines = bl.line[mine]
    done = 0
    for rec in tracked(bl.others):
        if is_book(rec, symbol):
            at = int(np.searchsorted(lines, rec.line))
            if at > done:
                book.add_scaled([bl.path], *scaled_messages(bl, mine[done:at]))
                done = at
        translate(book, rec, symbol)
    if len(mine) > done:
        book.add_scaled([bl.path], *scaled_messages(bl, mine[done:]))


def scaled_messages(bl: BookLines, index: np.ndarray) -> tuple[pl.DataFrame, np.ndarray, dict[str, np.ndarray]]:
    """The messages ``index`` (in that order) as :meth:`BookMessages.add_scaled` takes them: a
    :data:`~obrecon_pipeline.feeds.l2.messages.MESSAGE_SCHEMA` frame (``file`` 0: the capture;
    ``ts_event`` the receive time when the venue gives none; no update ids), the levels of each
    and their columns (message k's levels ``level_start[k]`` to ``level_start[k + 1]``)."""
    ts_recv, e = bl.ts_recv[index], bl.ts_event[index]
    n = len(index)
    none = pl.repeat(None, n, dtype=pl.Int64, eager=True)
    messages = pl.DataFrame({
        "snapshot": bl.snapshot[index], "ts_event": np.where(e == NULL_ID, ts_recv, e), "ts_recv": ts_recv,
        "file": np.zeros(n, dtype=np.int64), "src_row": bl.line[index], "first": none, "last": none,
        "prev": none, "checksum": bl.checksum[index],
    }).with_columns(checksum=pl.when(pl.col("checksum") == NULL_ID).then(None).otherwise(pl.col("checksum")))
    starts, stops = bl.level_start[index], bl.level_start[index + 1]
    counts = stops - starts
    at = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
    return messages, counts, {k: bl.levels[k][at] for k in SCALED_LEVEL_COLUMNS}
