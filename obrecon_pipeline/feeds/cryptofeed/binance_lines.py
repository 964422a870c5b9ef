"""A Binance websocket capture read once, in blocks of whole lines, by the Cython scanner and parser
(a cryptofeed ``VENUE.ws.N.0`` or an hftbacktest collector file: the capture's :class:`.capture.LineFormat`).

:func:`depth_lines` passes over the (decompressed) bytes of ``VENUE.ws.N.0`` once, block by block
(:data:`BLOCK` bytes, so a day of any length costs a block of text): the capture scanner
(:mod:`._capture_scan`) finds each line's kind, receive time, payload and ``stream`` channel; the
diff-depth parser (:mod:`._binance_scan`) reads every ``<sym>@depth...`` payload straight into
int64 buffers — symbol, ``E``, ``U``, ``u``, ``pu`` and the levels as exact ``(mantissa,
decimals)`` pairs — and every ``<sym>@bookTicker`` payload into a table (symbol, ``u`` and the four
price and size strings as Arrow string columns: no Python object per ticker). Every other line,
and a payload the parsers leave, is read by the line format's ``record_of`` (cryptofeed:
:func:`.capture.record_of`; a :class:`.capture.Record`, or the capture's quarantine), and kept
when ``keep(record)`` says the venue module needs it. The result is cached per file version
(path, size, modification time): one pass serves the venue's ``symbols`` and each symbol's
``load``. Once every parsed symbol has been loaded (:func:`loaded`), the cached pass drops its
columns and keeps the listing (symbols, their first lines, the other records, the quarantine):
each symbol's messages are then held by its book alone, not twice. Asking for the columns again
(a book loaded a second time) reads the file again.

:func:`scaled_messages` turns one symbol's parsed messages into the columns of
:meth:`~obrecon_pipeline.feeds.l2.messages.BookMessages.add_scaled`.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import polars as pl
import pyarrow as pa

from obrecon_pipeline.codes import NULL_ID
from obrecon_pipeline.errors import InputError
from obrecon_pipeline.feeds.cryptofeed._binance_scan import parse_depth, parse_tickers
from obrecon_pipeline.feeds.cryptofeed._capture_scan import BLANK, RECV, scan_lines
from obrecon_pipeline.feeds.cryptofeed.capture import CRYPTOFEED_LINES, LineFormat, Record, file_version, read_lines
from obrecon_pipeline.feeds.l2.messages import SCALED_LEVEL_COLUMNS

#: bytes of decompressed capture scanned at a time
BLOCK = 16 << 20
LEVEL_COLUMNS = tuple(SCALED_LEVEL_COLUMNS)


@dataclass
class DepthLines:
    """The diff-depth messages of a capture, parsed (file order), and its other records."""

    path: str
    symbols: list[str]  #: symbol index -> symbol, in order of first appearance
    sym: np.ndarray  #: per message: symbol index
    line: np.ndarray  #: 1-based line
    ts_recv: np.ndarray  #: receive time, ns
    event_ms: np.ndarray  #: ``E`` (NULL_ID: absent)
    first: np.ndarray  #: ``U``
    last: np.ndarray  #: ``u``
    prev: np.ndarray  #: ``pu`` (NULL_ID: absent)
    level_start: np.ndarray  #: message k's levels are ``[level_start[k], level_start[k + 1])``
    levels: dict[str, np.ndarray]  #: :data:`LEVEL_COLUMNS`, bids then asks of each message
    tickers: pl.DataFrame  #: the parsed bookTickers (file order): ``sym``, ``src_row``, ``ts_recv``, ``update_id``, the strings
    ticker_symbols: list[str]  #: ticker symbol index -> symbol
    others: list[Record]  #: the other records ``keep`` kept, in file order
    quarantine: list[tuple[str, int, str]]  #: the capture's unreadable lines
    first_lines: dict[str, int] = field(init=False)  #: ``{symbol: line of its first parsed message}``
    loaded: set[str] = field(default_factory=set)  #: the symbols whose books have been loaded
    released: bool = False  #: the message and level columns are dropped (:meth:`release`)

    def __post_init__(self):
        _, at = np.unique(self.sym, return_index=True)
        self.first_lines = {self.symbols[s]: int(self.line[i]) for s, i in zip(self.sym[at], at)}

    def release(self) -> None:
        """Drop the message and level columns (empty arrays, not views, so that their memory goes)."""
        for name in ("sym", "line", "ts_recv", "event_ms", "first", "last", "prev", "level_start"):
            setattr(self, name, np.zeros(0, dtype=np.int64))
        self.levels = {k: np.zeros(0, dtype=dt) for k, dt in SCALED_LEVEL_COLUMNS.items()}
        self.tickers = self.tickers.clear()
        self.released = True

    def tickers_of(self, symbol: str) -> pl.DataFrame:
        """``symbol``'s parsed bookTickers as :data:`~obrecon_pipeline.feeds.l2.messages.TICKER_SCHEMA` rows."""
        at = self.ticker_symbols.index(symbol) if symbol in self.ticker_symbols else -1
        return self.tickers.filter(pl.col("sym") == at).drop("sym").with_columns(file=pl.lit(self.path))


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


#: the parsed bookTickers of a capture: the ticker symbol's index, then the ticker's columns
TICKER_TABLE = {"sym": pl.Int64, "src_row": pl.Int64, "ts_recv": pl.Int64, "update_id": pl.Int64,
                "bid_price": pl.String, "bid_size": pl.String, "ask_price": pl.String, "ask_size": pl.String}


def _tickers(buf: np.ndarray, lines: dict, candidates: np.ndarray, symbols: dict[bytes, int]) -> tuple[np.ndarray, pl.DataFrame]:
    """The bookTicker payloads among the lines ``candidates`` of a block (:func:`parse_tickers`):
    the lines parsed and their table (``src_row`` the 0-based line in the block)."""
    ok, sym, u, text = parse_tickers(buf, lines["body"][candidates], lines["end"][candidates], symbols)
    good = ok == 1
    rows = candidates[good]
    strings = [pl.from_arrow(pa.LargeStringArray.from_buffers(len(rows), pa.py_buffer(offsets), pa.py_buffer(data)))
               for offsets, data in text.values()]  # b, B, a, A: the order of TICKER_TABLE's strings
    columns = [sym[good], rows, lines["ts"][rows], u[good], *strings]
    return rows, pl.DataFrame(dict(zip(TICKER_TABLE, columns)), schema=TICKER_TABLE)


#: at least this many bytes of capture per level (``["1","1"],``) and per diff line
LEVEL_BYTES, LINE_BYTES = 10, 64


def _read(path: Path, keep: Callable[[Record], bool], line_format: LineFormat) -> DepthLines:
    name = str(path)
    text_bytes = path.stat().st_size * (8 if path.name.endswith(".gz") else 1)  # gzip: a guess, grown if short
    symbols: dict[bytes, int] = {}
    messages = _Columns({k: np.int64 for k in ("sym", "line", "ts", "E", "U", "u", "pu", "count")},
                        text_bytes // LINE_BYTES)
    level_columns = _Columns(SCALED_LEVEL_COLUMNS, text_bytes // LEVEL_BYTES)
    others: list[Record] = []
    quarantine: list[tuple[str, int, str]] = []
    ticker_symbols: dict[bytes, int] = {}
    tickers: list[pl.DataFrame] = []
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
        messages.append({"sym": sym[good], "line": parsed + first_line, "ts": lines["ts"][parsed], "E": e_ms[good],
                         "U": first[good], "u": last[good], "pu": prev[good], "count": count[good]})
        level_columns.append(levels)
        ticked, ticker_table = _tickers(buf, lines, depth[~good], ticker_symbols)
        tickers.append(ticker_table.with_columns(pl.col("src_row") + first_line))
        rest = np.ones(len(kind), dtype=bool)
        rest[parsed] = False
        rest[ticked] = False
        rest &= kind != BLANK
        for k in np.flatnonzero(rest):
            rec = line_format.record_of(block[lines["start"][k]:lines["end"][k]], name, int(k) + first_line, quarantine)
            if rec is not None and keep(rec):
                others.append(rec)
        first_line += len(kind)
    cols = messages.columns()
    return DepthLines(
        name, [s.decode("ascii") for s in symbols], cols["sym"], cols["line"], cols["ts"], cols["E"], cols["U"],
        cols["u"], cols["pu"], np.concatenate([[0], np.cumsum(cols["count"])]).astype(np.int64),
        level_columns.columns(), pl.concat(tickers) if tickers else pl.DataFrame(schema=TICKER_TABLE),
        [s.decode("ascii") for s in ticker_symbols], others, quarantine)


#: file versions whose pass is kept (the oldest read goes first)
CACHED = 4
_cache: dict[tuple, DepthLines] = {}


def depth_lines(path: str | Path, keep: Callable[[Record], bool], columns: bool = True,
                line_format: LineFormat = CRYPTOFEED_LINES) -> DepthLines:
    """The capture's diff-depth messages and kept records (read once per file version). With
    ``columns=False`` only the listing is needed (symbols, first lines, other records, quarantine):
    a pass whose columns were released serves it without reading again."""
    key = (*file_version(path), keep, line_format)
    dl = _cache.get(key)
    if dl is None or (columns and dl.released):
        dl = _read(key[0], keep, line_format)
        _cache.pop(key, None)
        _cache[key] = dl
        while len(_cache) > CACHED:
            del _cache[next(iter(_cache))]
    return dl


def loaded(dl: DepthLines, symbol: str) -> None:
    """``symbol``'s book is built from ``dl``: once every parsed symbol's is, ``dl`` drops its
    columns (:meth:`DepthLines.release`; the books hold what they use of them)."""
    dl.loaded.add(symbol)
    if not dl.released and dl.loaded.issuperset(dl.symbols):
        dl.release()


def scaled_messages(dl: DepthLines, index: np.ndarray) -> tuple[pl.DataFrame, np.ndarray, dict[str, np.ndarray]]:
    """The messages ``index`` (in that order) as :meth:`BookMessages.add_scaled` takes them: a
    :data:`~obrecon_pipeline.feeds.l2.messages.MESSAGE_SCHEMA` frame (``file`` 0: the capture;
    ``ts_event`` = ``E`` in ns, the receive time when absent), the levels of each and their
    columns (views of the parsed arrays, not copies, when the messages are a run of them)."""
    if len(index) and index[-1] - index[0] + 1 == len(index) and np.all(np.diff(index) == 1):
        index = slice(int(index[0]), int(index[-1]) + 1)  # a run of messages: views, not copies
    ts_recv = dl.ts_recv[index]
    e_ms = dl.event_ms[index]
    n = len(ts_recv)
    messages = pl.DataFrame({
        "snapshot": np.zeros(n, dtype=bool),
        "ts_event": np.where(e_ms == NULL_ID, ts_recv, e_ms * 1_000_000),
        "ts_recv": ts_recv,
        "file": np.zeros(n, dtype=np.int64),
        "src_row": dl.line[index],
        "first": dl.first[index],
        "last": dl.last[index],
        "prev": dl.prev[index],
        "checksum": pl.repeat(None, n, dtype=pl.Int64, eager=True),
    }).with_columns(prev=pl.when(pl.col("prev") == NULL_ID).then(None).otherwise(pl.col("prev")))
    starts = dl.level_start[index]
    stops = dl.level_start[index.start + 1:index.stop + 1] if isinstance(index, slice) else dl.level_start[index + 1]
    counts = stops - starts
    if n and np.all(starts[1:] == stops[:-1]):  # consecutive messages: one slice
        at = slice(int(starts[0]), int(stops[-1]))
    else:
        at = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
    return messages, counts, {k: dl.levels[k][at] for k in LEVEL_COLUMNS}
