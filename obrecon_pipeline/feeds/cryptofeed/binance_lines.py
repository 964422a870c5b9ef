"""A Binance websocket capture read once, in blocks of whole lines, by the Cython scanner and parser
(a cryptofeed ``VENUE.ws.N.0`` or an hftbacktest collector file: the capture's :class:`.capture.LineFormat`).

:func:`depth_lines` passes over the (decompressed) bytes of ``VENUE.ws.N.0`` once, block by block
(:data:`BLOCK` bytes, so a day of any length costs a block of text): the capture scanner
(:mod:`._capture_scan`) finds each line's kind, receive time, payload and ``stream`` channel; the
diff-depth parser (:mod:`._binance_scan`) reads every ``<sym>@depth...`` payload straight into
int64 buffers — symbol, ``E``, ``U``, ``u``, ``pu`` and the levels as exact ``(mantissa,
decimals)`` pairs — and every ``<sym>@bookTicker`` payload (symbol, ``u`` and the four price and
size strings as their bytes and ends: no Python object per ticker). Every other line,
and a payload the parsers leave, is read by the line format's ``record_of`` (cryptofeed:
:func:`.capture.record_of`; a :class:`.capture.Record`, or the capture's quarantine), and kept
when ``keep(record)`` says the venue module needs it. The parsed messages, levels and tickers are
not held: each block's are appended to a scratch file (:class:`~obrecon_pipeline.feeds.spill.Spill`),
and the pass keeps only what it found out about them (symbols and their first lines, whether a
diff carries ``pu``, whether receive times are in order, each symbol's largest mantissa per number
of decimals, for its scales). The result is cached per file version (path, size, modification
time): one pass serves the venue's ``symbols`` and each symbol's ``load``, which reads the spill
back (:meth:`DepthLines.parsed`, the whole day) or streams it (:class:`~.l2.spilled.SpilledBook`;
in a capture of several symbols or received out of order, through an index of each symbol's rows
in the spill in receive-time order, :meth:`DepthLines.rows_of`).

:func:`scaled_messages` turns one symbol's parsed messages (read into memory) into the columns of
:meth:`~obrecon_pipeline.feeds.l2.messages.BookMessages.add_scaled`.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import polars as pl
import pyarrow as pa

from obrecon_pipeline.codes import NULL_ID
from obrecon_pipeline.errors import InputError
from obrecon_pipeline.feeds.cryptofeed._binance_scan import parse_depth, parse_tickers
from obrecon_pipeline.feeds.cryptofeed._capture_scan import BLANK, RECV, scan_lines
from obrecon_pipeline.feeds.cryptofeed.capture import CRYPTOFEED_LINES, LineFormat, Record, file_version, read_lines
from obrecon_pipeline.feeds.l2.messages import SCALED_LEVEL_COLUMNS
from obrecon_pipeline.feeds.l2.spilled import SpilledColumns, mantissa_max_by_symbol, raise_mantissa_max
from obrecon_pipeline.feeds.spill import Spill

#: bytes of decompressed capture scanned at a time
BLOCK = 16 << 20
#: rows of the spill read at a time to list each symbol's messages in receive-time order (:func:`_by_symbol`)
INDEX_ROWS = 1 << 20
#: the most messages :func:`_by_symbol` holds back for an earlier receive time still to come;
#: a capture further out of order is left to the whole-day path
REORDER_WINDOW = 1 << 20
LEVEL_COLUMNS = tuple(SCALED_LEVEL_COLUMNS)


#: the parsed messages' columns on disk (file order): symbol index, 1-based line, receive time
#: (ns), ``E`` (NULL_ID: absent), ``U``, ``u``, ``pu`` (NULL_ID: absent), the number of levels and
#: the first level's index in the level columns (:data:`LEVEL_COLUMNS`, bids then asks of each)
MESSAGE_COLUMNS = {"sym": np.int64, "line": np.int64, "ts_recv": np.int64, "event_ms": np.int64, "first": np.int64,
                   "last": np.int64, "prev": np.int64, "count": np.int64, "level_start": np.int64}


@dataclass
class Parsed:
    """One read of the parsed messages' columns into memory (:meth:`DepthLines.parsed`)."""

    sym: np.ndarray  #: per message: symbol index
    line: np.ndarray  #: 1-based line
    ts_recv: np.ndarray  #: receive time, ns
    event_ms: np.ndarray  #: ``E`` (NULL_ID: absent)
    first: np.ndarray  #: ``U``
    last: np.ndarray  #: ``u``
    prev: np.ndarray  #: ``pu`` (NULL_ID: absent)
    level_start: np.ndarray  #: message k's levels are ``[level_start[k], level_start[k + 1])``
    levels: dict[str, np.ndarray]  #: :data:`LEVEL_COLUMNS`, bids then asks of each message


@dataclass
class DepthLines:
    """The diff-depth messages of a capture, parsed (file order) and spilled to a scratch file
    (:attr:`spill`, :data:`MESSAGE_COLUMNS` and :data:`LEVEL_COLUMNS`, the bookTickers
    :data:`TICKER_COLUMNS`), what the pass found out
    about them, and the capture's other records."""

    path: str
    symbols: list[str]  #: symbol index -> symbol, in order of first appearance
    spill: Spill  #: the parsed messages, levels and bookTickers
    first_lines: dict[str, int]  #: ``{symbol: line of its first parsed message}``
    has_prev: bool  #: some parsed diff carries ``pu``
    recv_in_order: bool  #: the parsed messages' receive times never decrease (file order)
    #: ``{symbol: {"price"|"size": {decimals: largest mantissa written with that many decimals}}}``
    mantissa_max: dict[str, dict[str, dict[int, int]]]
    ticker_symbols: list[str]  #: ticker symbol index -> symbol
    others: list[Record]  #: the other records ``keep`` kept, in file order
    quarantine: list[tuple[str, int, str]]  #: the capture's unreadable lines

    @property
    def n_messages(self) -> int:
        return self.spill.lengths["line"]

    def rows_of(self, symbol: str) -> tuple[Spill, int] | None:
        """Where ``symbol``'s messages are listed in receive-time order (ties: file order, as the
        whole-day path sorts them): a spill and the symbol's index ``k``, whose columns ``rows_<k>``
        (their rows in :attr:`spill`), ``ts_<k>`` and ``line_<k>`` list them
        (:func:`_by_symbol`); None when every parsed message is the symbol's, in order."""
        if self.symbols == [symbol] and self.recv_in_order:
            return None
        return self._by_symbol, self.symbols.index(symbol)

    @property
    def streamable(self) -> bool:
        """Whether each symbol's messages can be read from the spill in receive-time order: the
        capture's are in order, or :func:`_by_symbol` ordered them within :data:`REORDER_WINDOW`."""
        return self.recv_in_order or self._by_symbol is not None

    @cached_property
    def _by_symbol(self) -> Spill | None:
        return _by_symbol(self.spill, len(self.symbols), not self.recv_in_order)

    def columns_of(self, symbol: str) -> SpilledColumns:
        """``symbol``'s parsed diffs as :class:`~obrecon_pipeline.feeds.l2.spilled.SpilledBook` reads
        them from the spill, in receive-time order (:meth:`rows_of`)."""
        return SpilledColumns(self.spill, self.path, self.mantissa_max[symbol], self.rows_of(symbol),
                              FRAME_COLUMNS, _frame)

    def parsed(self) -> Parsed:
        """Every parsed message's columns, read from the spill into memory."""
        sp = self.spill
        start = np.concatenate([sp.read("level_start"), [sp.lengths["side"]]]).astype(np.int64)
        return Parsed(sp.read("sym"), sp.read("line"), sp.read("ts_recv"), sp.read("event_ms"), sp.read("first"),
                      sp.read("last"), sp.read("prev"), start, {k: sp.read(k) for k in LEVEL_COLUMNS})

    @property
    def n_tickers(self) -> int:
        return self.spill.lengths["ticker_src_row"]

    def _ticker_table(self, rows: slice) -> pl.DataFrame:
        """The parsed bookTickers ``rows`` (a range, file order, :data:`TICKER_TABLE`), read from the
        spill: a string column is the bytes between the range's first and last value's end."""
        sp = self.spill
        out = {k: sp.gather(f"ticker_{k}", rows) for k in TICKER_TABLE if k not in TICKER_STRINGS}
        for name in TICKER_STRINGS:
            end = f"ticker_{name}_end"
            start = int(sp.gather(end, slice(rows.start - 1, rows.start))[0]) if rows.start else 0
            offsets = np.concatenate([[start], sp.gather(end, rows)]).astype(np.int64)
            data = sp.gather(f"ticker_{name}", slice(start, int(offsets[-1])))
            out[name] = pl.from_arrow(pa.LargeStringArray.from_buffers(
                len(offsets) - 1, pa.py_buffer(offsets - start), pa.py_buffer(data)))
        return pl.DataFrame(out, schema=TICKER_TABLE)

    @property
    def tickers(self) -> pl.DataFrame:
        """The parsed bookTickers (file order, :data:`TICKER_TABLE`), read from the spill into memory."""
        return self._ticker_table(slice(0, self.n_tickers))

    def ticker_blocks(self, symbol: str, size: int) -> Iterator[pl.DataFrame]:
        """``symbol``'s parsed bookTickers, read from the spill ``size`` at a time (file order), as
        :data:`~obrecon_pipeline.feeds.l2.messages.TICKER_SCHEMA` rows (one empty block if none)."""
        at = self.ticker_symbols.index(symbol) if symbol in self.ticker_symbols else -1
        for lo in range(0, max(self.n_tickers, 1), size):
            block = self._ticker_table(slice(lo, min(lo + size, self.n_tickers)))
            yield block.filter(pl.col("sym") == at).drop("sym").with_columns(file=pl.lit(self.path))

    def tickers_of(self, symbol: str) -> pl.DataFrame:
        """``symbol``'s parsed bookTickers, read from the spill, as
        :data:`~obrecon_pipeline.feeds.l2.messages.TICKER_SCHEMA` rows."""
        return next(self.ticker_blocks(symbol, max(self.n_tickers, 1)))


def _by_symbol(sp: Spill, n_symbols: int, reorder: bool) -> Spill | None:
    """Each symbol ``k``'s parsed messages of the spill ``sp`` (columns ``sym``, ``ts_recv``,
    ``line``; ``k < n_symbols``) as the columns ``rows_<k>``, ``ts_<k>``, ``line_<k>`` of a new
    spill: in file order, or with ``reorder`` in receive-time order, ties in file order (sorted by
    ``(ts_recv, row)``); None when that needs more than :data:`REORDER_WINDOW` messages held back.

    The spill is read :data:`INDEX_ROWS` rows at a time. With ``reorder``, a pass first finds each
    block's smallest receive time, hence ``later[b]``, the smallest of every block after ``b``;
    then block ``b`` joins the messages held back, is sorted by ``(ts_recv, row)``, and those with
    ``ts_recv <= later[b]`` are written: every message still to come has a receive time at least
    ``later[b]`` and a larger row, so it sorts after them; the rest are held back. Without,
    ``later`` is unbounded and every block is written as read."""
    n = sp.lengths["line"]
    starts = range(0, n, INDEX_ROWS)
    later = np.full(len(starts), np.iinfo(np.int64).max, dtype=np.int64)
    if reorder:
        mins = np.array([sp.gather("ts_recv", slice(lo, lo + INDEX_ROWS)).min() for lo in starts], dtype=np.int64)
        later[:-1] = np.minimum.accumulate(mins[::-1])[::-1][1:]
    index = Spill({f"{c}_{k}": np.int64 for k in range(n_symbols) for c in ("rows", "ts", "line")})
    held = dict.fromkeys(("rows", "sym", "ts", "line"), np.zeros(0, dtype=np.int64))
    for b, lo in enumerate(starts):
        part = slice(lo, min(lo + INDEX_ROWS, n))
        block = {"rows": np.arange(part.start, part.stop, dtype=np.int64), "sym": sp.gather("sym", part),
                 "ts": sp.gather("ts_recv", part), "line": sp.gather("line", part)}
        block = {c: np.concatenate([held[c], v]) for c, v in block.items()}
        if reorder:
            order = np.lexsort((block["rows"], block["ts"]))
            block = {c: v[order] for c, v in block.items()}
        cut = int(np.searchsorted(block["ts"], later[b], "right"))
        held = {c: v[cut:] for c, v in block.items()}
        if len(held["rows"]) > REORDER_WINDOW:
            index.close()
            return None
        order = np.argsort(block["sym"][:cut], kind="stable")
        present, at = np.unique(block["sym"][:cut][order], return_index=True)
        for k, mine in zip(present.tolist(), np.split(order, at[1:])):
            index.append({f"{c}_{k}": block[c][:cut][mine] for c in ("rows", "ts", "line")})
    return index


def _blocks(path: Path):
    """Blocks of whole lines of a plain or gzip file (``InputError`` as :func:`.capture.read_lines`)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    carry = b""
    try:
        with opener(path, "rb") as fh:
            while True:
                data = fh.read(BLOCK)
                if not data:
                    break
                data = carry + data
                cut = data.rfind(b"\n") + 1
                carry = data[cut:]
                if cut:
                    yield data[:cut]
    except FileNotFoundError:
        raise InputError(path, None, "file not found") from None
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError):
        for _ in read_lines(path):  # the line where reading stops, as a reader by lines finds it
            pass
        raise
    if carry:
        yield carry


#: the parsed bookTickers of a capture: the ticker symbol's index, then the ticker's columns
TICKER_TABLE = {"sym": pl.Int64, "src_row": pl.Int64, "ts_recv": pl.Int64, "update_id": pl.Int64,
                "bid_price": pl.String, "bid_size": pl.String, "ask_price": pl.String, "ask_size": pl.String}
TICKER_STRINGS = tuple(k for k, dt in TICKER_TABLE.items() if dt == pl.String)
#: the parsed bookTickers on disk (file order), beside the diffs: the integer columns of
#: :data:`TICKER_TABLE` (``ticker_<name>``), and each string column as its bytes
#: (``ticker_<name>``, uint8) and each value's end in them (``ticker_<name>_end``)
TICKER_COLUMNS = {**{f"ticker_{k}": np.int64 for k, dt in TICKER_TABLE.items() if dt != pl.String},
                  **{f"ticker_{k}": np.uint8 for k in TICKER_STRINGS},
                  **{f"ticker_{k}_end": np.int64 for k in TICKER_STRINGS}}


def _tickers(buf: np.ndarray, lines: dict, candidates: np.ndarray, symbols: dict[bytes, int], first_line: int,
             spill: Spill) -> np.ndarray:
    """The bookTicker payloads among the lines ``candidates`` of a block (:func:`parse_tickers`)
    appended to the capture's spill (:data:`TICKER_COLUMNS`, ``src_row`` the 1-based line: the block's
    lines start at ``first_line``); the lines parsed."""
    ok, sym, u, text = parse_tickers(buf, lines["body"][candidates], lines["end"][candidates], symbols)
    good = ok == 1
    rows = candidates[good]
    columns = {"sym": sym[good], "src_row": rows + first_line, "ts_recv": lines["ts"][rows], "update_id": u[good]}
    for name, (offsets, data) in zip(TICKER_STRINGS, text.values()):  # b, B, a, A: the order of TICKER_STRINGS
        columns[f"{name}_end"] = spill.lengths[f"ticker_{name}"] + offsets[1:]
        columns[name] = data
    spill.append({f"ticker_{k}": v for k, v in columns.items()})
    return rows


def _read(path: Path, keep: Callable[[Record], bool], line_format: LineFormat) -> DepthLines:
    """One pass over the capture (:func:`_scan`) into a new spill, removed at once if the pass fails."""
    spill = Spill({**MESSAGE_COLUMNS, **SCALED_LEVEL_COLUMNS, **TICKER_COLUMNS})
    try:
        return _scan(path, keep, line_format, spill)
    except BaseException:
        spill.close()
        raise


def _scan(path: Path, keep: Callable[[Record], bool], line_format: LineFormat, spill: Spill) -> DepthLines:
    """The capture's blocks parsed, their diffs, levels and bookTickers appended to ``spill``."""
    name = str(path)
    symbols: dict[bytes, int] = {}
    first_lines: dict[int, int] = {}
    has_prev, in_order, last_ts = False, True, np.iinfo(np.int64).min
    mantissa_max: dict[str, dict[tuple[int, int], int]] = {"price": {}, "size": {}}
    others: list[Record] = []
    quarantine: list[tuple[str, int, str]] = []
    ticker_symbols: dict[bytes, int] = {}
    first_line = 1
    for block in _blocks(path):
        buf = np.frombuffer(block, dtype=np.uint8)
        lines = scan_lines(buf, line_format.layout)
        kind, chan = lines["kind"], lines["chan"]
        depth = np.flatnonzero((kind == RECV) & (chan >= 0))  # the parser takes the depth streams
        ok, sym, e_ms, first, last, prev, count, levels = parse_depth(
            buf, lines["body"][depth], lines["end"][depth], symbols, block.count(b"["))
        good = ok == 1
        parsed = depth[good]
        ts, sym, count = lines["ts"][parsed], sym[good], count[good]
        if len(parsed):
            syms, at = np.unique(sym, return_index=True)
            for s, k in zip(syms.tolist(), at.tolist()):
                first_lines.setdefault(s, int(parsed[k]) + first_line)
            has_prev = has_prev or bool(np.any(prev[good] != NULL_ID))
            in_order = in_order and ts[0] >= last_ts and bool(np.all(ts[1:] >= ts[:-1]))
            last_ts = int(ts[-1])
        raise_mantissa_max(mantissa_max, np.repeat(sym, count), levels)
        spill.append({"sym": sym, "line": parsed + first_line, "ts_recv": ts, "event_ms": e_ms[good],
                      "first": first[good], "last": last[good], "prev": prev[good], "count": count,
                      "level_start": spill.lengths["side"] + np.cumsum(count) - count, **levels})
        ticked = _tickers(buf, lines, depth[~good], ticker_symbols, first_line, spill)
        rest = np.ones(len(kind), dtype=bool)
        rest[parsed] = False
        rest[ticked] = False
        rest &= kind != BLANK
        for k in np.flatnonzero(rest):
            rec = line_format.record_of(block[lines["start"][k]:lines["end"][k]], name, int(k) + first_line, quarantine)
            if rec is not None and keep(rec):
                others.append(rec)
        first_line += len(kind)
    names = [s.decode("ascii") for s in symbols]
    return DepthLines(
        name, names, spill, {names[s]: line for s, line in first_lines.items()}, has_prev, in_order,
        mantissa_max_by_symbol(mantissa_max, names),
        [s.decode("ascii") for s in ticker_symbols], others, quarantine)


#: file versions whose pass is kept (the oldest read goes first)
CACHED = 4
_cache: dict[tuple, DepthLines] = {}


def depth_lines(path: str | Path, keep: Callable[[Record], bool], line_format: LineFormat = CRYPTOFEED_LINES) -> DepthLines:
    """The capture's diff-depth messages (spilled) and kept records (read once per file version)."""
    key = (*file_version(path), keep, line_format)
    dl = _cache.get(key)
    if dl is None:
        dl = _cache[key] = _read(key[0], keep, line_format)
        while len(_cache) > CACHED:
            del _cache[next(iter(_cache))]
    return dl


def scaled_messages(dl: Parsed, index: np.ndarray) -> tuple[pl.DataFrame, np.ndarray, dict[str, np.ndarray]]:
    """The messages ``index`` (in that order) as :meth:`BookMessages.add_scaled` takes them: a
    :data:`~obrecon_pipeline.feeds.l2.messages.MESSAGE_SCHEMA` frame (``file`` 0: the capture;
    ``ts_event`` = ``E`` in ns, the receive time when absent), the levels of each and their
    columns (views of the parsed arrays, not copies, when the messages are a run of them)."""
    if len(index) and index[-1] - index[0] + 1 == len(index) and np.all(np.diff(index) == 1):
        index = slice(int(index[0]), int(index[-1]) + 1)  # a run of messages: views, not copies
    messages = _frame({c: getattr(dl, c)[index] for c in FRAME_COLUMNS})
    starts = dl.level_start[index]
    stops = dl.level_start[index.start + 1:index.stop + 1] if isinstance(index, slice) else dl.level_start[index + 1]
    counts = stops - starts
    if len(counts) and np.all(starts[1:] == stops[:-1]):  # consecutive messages: one slice
        at = slice(int(starts[0]), int(stops[-1]))
    else:
        at = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
    return messages, counts, {k: dl.levels[k][at] for k in LEVEL_COLUMNS}


#: the parsed diffs' columns :func:`_frame` takes
FRAME_COLUMNS = ("ts_recv", "event_ms", "line", "first", "last", "prev")


def _frame(g: dict[str, np.ndarray]) -> pl.DataFrame:
    """Parsed diffs (their :data:`FRAME_COLUMNS`) as :data:`~obrecon_pipeline.feeds.l2.messages.MESSAGE_SCHEMA`
    rows (``file`` 0: the capture; ``ts_event`` = ``E`` in ns, the receive time when absent)."""
    n = len(g["ts_recv"])
    return pl.DataFrame({
        "snapshot": np.zeros(n, dtype=bool),
        "ts_event": np.where(g["event_ms"] == NULL_ID, g["ts_recv"], g["event_ms"] * 1_000_000),
        "ts_recv": g["ts_recv"],
        "file": np.zeros(n, dtype=np.int64),
        "src_row": g["line"],
        "first": g["first"],
        "last": g["last"],
        "prev": g["prev"],
        "checksum": pl.repeat(None, n, dtype=pl.Int64, eager=True),
    }).with_columns(prev=pl.when(pl.col("prev") == NULL_ID).then(None).otherwise(pl.col("prev")))
