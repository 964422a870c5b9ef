"""A capture of a venue whose book payloads :mod:`._book_scan` parses, read once in blocks of whole
lines (the venues other than Binance; Binance's own reader is :mod:`.binance_lines`).

:func:`book_lines` passes over the (decompressed) bytes once, block by block: the capture scanner
(:mod:`._capture_scan`) finds each line's kind, receive time and payload; the book parser
(:func:`._book_scan.parse_books`, the venue's ``shape``) reads every book payload it takes exactly
into int64 / int8 buffers — symbol, snapshot flag, event time, checksum and the levels as exact
``(mantissa, decimals)`` pairs. Every other line, and a payload the parser leaves, is read by the
line format's ``record_of`` (a :class:`.capture.Record`, or the capture's quarantine) and kept when
``keep(record)`` says the venue module needs it: the venue translates those one by one, exactly
as on the per-message path. The parsed messages and levels are not held: each block's are appended
to a scratch file (:class:`~obrecon_pipeline.feeds.spill.Spill`, :data:`MESSAGE_COLUMNS` and the
level columns), and the pass keeps only what it found out about them (the symbols, each one's
first line and first snapshot's line, each symbol's largest mantissa per number of decimals, for
its scales). The result is cached per file version (path, size, modification time).

:func:`symbols_of` lists the symbols as the venue's ``symbols`` does; :func:`load_book` gives one
symbol's book, parsed messages and left records alike in file order: streamed from the spill
(:class:`~obrecon_pipeline.feeds.l2.spilled.SpilledBook`; in a capture of several symbols through
an index of each symbol's rows in the spill, :meth:`BookLines.rows_of`), or read back into memory
whole (:meth:`BookLines.parsed`, :func:`scaled_messages`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np
import polars as pl

from obrecon_pipeline.codes import NULL_ID
from obrecon_pipeline.feeds.cryptofeed._book_scan import parse_books
from obrecon_pipeline.feeds.cryptofeed._capture_scan import BLANK, RECV, scan_lines
from obrecon_pipeline.feeds.cryptofeed._common import first_seen
from obrecon_pipeline.feeds.cryptofeed.binance_lines import _blocks, _by_symbol
from obrecon_pipeline.feeds.cryptofeed.capture import CRYPTOFEED_LINES, Capture, LineFormat, Record, file_version, tracked
from obrecon_pipeline.feeds.l2.messages import SCALED_LEVEL_COLUMNS, BookMessages
from obrecon_pipeline.feeds.l2.spilled import SpilledBook, SpilledColumns, mantissa_max_by_symbol, raise_mantissa_max
from obrecon_pipeline.feeds.spill import Spill

#: the parsed messages' columns on disk (file order): symbol index, 1-based line, receive time
#: (ns), snapshot (1) or not (0), venue time (ns, NULL_ID: none, the receive time is used),
#: checksum (NULL_ID: none), the number of levels and the first level's index in the level columns
#: (``SCALED_LEVEL_COLUMNS``, bids then asks of each)
MESSAGE_COLUMNS = {"sym": np.int64, "line": np.int64, "ts_recv": np.int64, "snapshot": np.int8, "ts_event": np.int64,
                   "checksum": np.int64, "count": np.int64, "level_start": np.int64}
#: the parsed messages' columns :func:`_frame` takes
FRAME_COLUMNS = ("ts_recv", "ts_event", "line", "snapshot", "checksum")


@dataclass
class Parsed:
    """One read of the parsed messages' columns into memory (:meth:`BookLines.parsed`)."""

    sym: np.ndarray  #: per message: symbol index
    line: np.ndarray  #: 1-based line
    ts_recv: np.ndarray  #: receive time, ns
    snapshot: np.ndarray  #: 1: a snapshot
    ts_event: np.ndarray  #: venue time, ns (NULL_ID: none)
    checksum: np.ndarray  #: NULL_ID: none
    level_start: np.ndarray  #: message k's levels are ``[level_start[k], level_start[k + 1])``
    levels: dict[str, np.ndarray]  #: ``SCALED_LEVEL_COLUMNS``, bids then asks of each message


@dataclass
class BookLines:
    """The book messages of a capture, parsed (file order) and spilled to a scratch file
    (:attr:`spill`), what the pass found out about them, and the capture's other kept records."""

    path: str
    symbols: list[str]  #: symbol index -> symbol, in order of first appearance
    spill: Spill  #: the parsed messages (:data:`MESSAGE_COLUMNS`) and levels
    first_lines: dict[str, int]  #: ``{symbol: line of its first parsed message}``
    first_snapshots: dict[str, int]  #: ``{symbol: line of its first parsed snapshot}``
    #: ``{symbol: {"price"|"size": {decimals: largest mantissa written with that many decimals}}}``
    mantissa_max: dict[str, dict[str, dict[int, int]]]
    others: list[Record]  #: the other records ``keep`` kept, in file order
    quarantine: list[tuple[str, int, str]]  #: the capture's unreadable lines

    @property
    def n_messages(self) -> int:
        return self.spill.lengths["line"]

    def rows_of(self, symbol: str) -> tuple[Spill, int] | None:
        """Where ``symbol``'s messages are listed in file order: a spill and the symbol's index
        ``k``, whose columns ``rows_<k>`` (their rows in :attr:`spill`), ``ts_<k>`` and ``line_<k>``
        list them (:func:`.binance_lines._by_symbol`); None when every parsed message is the symbol's."""
        if self.symbols == [symbol]:
            return None
        return self._by_symbol, self.symbols.index(symbol)

    @cached_property
    def _by_symbol(self) -> Spill:
        return _by_symbol(self.spill, len(self.symbols), reorder=False)

    def columns_of(self, symbol: str) -> SpilledColumns:
        """``symbol``'s parsed messages as :class:`SpilledBook` reads them from the spill (file order)."""
        return SpilledColumns(self.spill, self.path, self.mantissa_max[symbol], self.rows_of(symbol),
                              FRAME_COLUMNS, _frame)

    def parsed(self) -> Parsed:
        """Every parsed message's columns, read from the spill into memory."""
        sp = self.spill
        start = np.concatenate([sp.read("level_start"), [sp.lengths["side"]]]).astype(np.int64)
        return Parsed(sp.read("sym"), sp.read("line"), sp.read("ts_recv"), sp.read("snapshot"), sp.read("ts_event"),
                      sp.read("checksum"), start, {k: sp.read(k) for k in SCALED_LEVEL_COLUMNS})


def _read(path: Path, shape: int, keep: Callable[[Record], bool], line_format: LineFormat) -> BookLines:
    """One pass over the capture (:func:`_scan`) into a new spill, removed at once if the pass fails."""
    spill = Spill({**MESSAGE_COLUMNS, **SCALED_LEVEL_COLUMNS})
    try:
        return _scan(path, shape, keep, line_format, spill)
    except BaseException:
        spill.close()
        raise


def _scan(path: Path, shape: int, keep: Callable[[Record], bool], line_format: LineFormat, spill: Spill) -> BookLines:
    """The capture's blocks parsed, their messages and levels appended to ``spill``."""
    name = str(path)
    symbols: dict[bytes, int] = {}
    first_lines: dict[int, int] = {}
    first_snapshots: dict[int, int] = {}
    mantissa_max: dict[str, dict[tuple[int, int], int]] = {"price": {}, "size": {}}
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
        sym, snap, count, line = sym[good], snap[good], count[good], parsed + first_line
        for firsts, pick in ((first_lines, slice(None)), (first_snapshots, snap == 1)):
            syms, at = np.unique(sym[pick], return_index=True)
            for s, k in zip(syms.tolist(), at.tolist()):
                firsts.setdefault(s, int(line[pick][k]))
        raise_mantissa_max(mantissa_max, np.repeat(sym, count), levels)
        spill.append({"sym": sym, "line": line, "ts_recv": lines["ts"][parsed], "snapshot": snap,
                      "ts_event": ts_event[good], "checksum": checksum[good], "count": count,
                      "level_start": spill.lengths["side"] + np.cumsum(count) - count, **levels})
        rest = kind != BLANK
        rest[parsed] = False
        for k in np.flatnonzero(rest):
            rec = line_format.record_of(block[lines["start"][k]:lines["end"][k]], name, int(k) + first_line, quarantine)
            if rec is not None and keep(rec):
                others.append(rec)
        first_line += len(kind)
    names = [s.decode("ascii") for s in symbols]
    return BookLines(name, names, spill, {names[s]: line for s, line in first_lines.items()},
                     {names[s]: line for s, line in first_snapshots.items()}, mantissa_max_by_symbol(mantissa_max, names),
                     others, quarantine)


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
    seen = [(line, name) for name, line in (bl.first_snapshots if snapshots else bl.first_lines).items()]
    seen += [(rec.line, name) for rec in bl.others for hit, name in [named(rec)] if hit]
    return first_seen(name for _, name in sorted(seen, key=lambda pair: pair[0]))


def load_book(ws: Capture, shape: int, symbol: str, keep: Callable[[Record], bool],
              translate: Callable[[BookMessages, Record, str], None], is_book: Callable[[Record, str], bool],
              options: dict, stream: bool = True) -> BookMessages:
    """``symbol``'s book (``BookMessages(symbol, **options)``) of the capture read by lines ``ws``,
    its messages in file order as the per-message path gives them: the records the parser left
    (kept by ``keep``) one by one through ``translate(book, rec, symbol)`` (the venue's per-message
    step); each that ``is_book`` of ``symbol`` (may add a message) is placed among the parsed
    messages by its line (a binary search of the symbol's lines), the others (quarantined, or
    giving nothing) split nothing. With ``stream`` and parsed messages of ``symbol``, those stay in
    the spill (:class:`SpilledBook`, :meth:`~SpilledBook.add_at`); else they are read into memory
    and added whole between the placed records (:meth:`BookMessages.add_scaled`)."""
    bl = book_lines(ws.path, shape, keep, ws.line_format)
    ws.read_whole(bl.quarantine)
    if stream and symbol in bl.symbols:
        columns = bl.columns_of(symbol)
        book = SpilledBook(symbol, columns, **options)
        for rec in tracked(bl.others):
            at = columns.search("line", rec.line, "left", 0, columns.n) if is_book(rec, symbol) else 0
            book.add_at(at, lambda: translate(book, rec, symbol))
        return book
    book = BookMessages(symbol, **options)
    p = bl.parsed() if symbol in bl.symbols else None
    mine = np.flatnonzero(p.sym == bl.symbols.index(symbol)) if p is not None else np.zeros(0, np.int64)
    lines = p.line[mine] if p is not None else mine
    done = 0
    for rec in tracked(bl.others):
        if is_book(rec, symbol):
            at = int(np.searchsorted(lines, rec.line))
            if at > done:
                book.add_scaled([bl.path], *scaled_messages(p, mine[done:at]))
                done = at
        translate(book, rec, symbol)
    if len(mine) > done:
        book.add_scaled([bl.path], *scaled_messages(p, mine[done:]))
    return book


def loader(shape: int, keep: Callable[[Record], bool], translate: Callable[[BookMessages, Record, str], None],
           is_book: Callable[[Record, str], bool], **options) -> Callable[..., BookMessages]:
    """A venue's ``load(ws, rest, symbol, stream=True)``: ``symbol``'s ``BookMessages(symbol,
    **options)``, a capture held as parsed records translated one by one, one read by lines through
    :func:`load_book` (streamed from its spill unless ``stream`` is false)."""

    def load(ws: Capture, rest: list[Capture], symbol: str, stream: bool = True) -> BookMessages:
        if ws.from_file:
            return load_book(ws, shape, symbol, keep, translate, is_book, options, stream)
        book = BookMessages(symbol, **options)
        for rec in ws.received():
            translate(book, rec, symbol)
        return book

    return load


def _frame(g: dict[str, np.ndarray]) -> pl.DataFrame:
    """Parsed messages (their :data:`FRAME_COLUMNS`) as
    :data:`~obrecon_pipeline.feeds.l2.messages.MESSAGE_SCHEMA` rows (``file`` 0: the capture;
    ``ts_event`` the receive time when the venue gives none; no update ids)."""
    ts_recv, e = g["ts_recv"], g["ts_event"]
    n = len(ts_recv)
    none = pl.repeat(None, n, dtype=pl.Int64, eager=True)
    return pl.DataFrame({
        "snapshot": g["snapshot"] == 1, "ts_event": np.where(e == NULL_ID, ts_recv, e), "ts_recv": ts_recv,
        "file": np.zeros(n, dtype=np.int64), "src_row": g["line"], "first": none, "last": none,
        "prev": none, "checksum": g["checksum"],
    }).with_columns(checksum=pl.when(pl.col("checksum") == NULL_ID).then(None).otherwise(pl.col("checksum")))


def scaled_messages(p: Parsed, index: np.ndarray) -> tuple[pl.DataFrame, np.ndarray, dict[str, np.ndarray]]:
    """The messages ``index`` (in that order) as :meth:`BookMessages.add_scaled` takes them: a
    :data:`~obrecon_pipeline.feeds.l2.messages.MESSAGE_SCHEMA` frame (:func:`_frame`), the levels
    of each and their columns (message k's levels ``level_start[k]`` to ``level_start[k + 1]``)."""
    messages = _frame({c: getattr(p, c)[index] for c in FRAME_COLUMNS})
    starts, stops = p.level_start[index], p.level_start[index + 1]
    counts = stops - starts
    at = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
    return messages, counts, {k: p.levels[k][at] for k in SCALED_LEVEL_COLUMNS}
