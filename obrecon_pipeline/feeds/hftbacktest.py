"""``--format hftbacktest``: Binance captures written by hftbacktest's collector.

The collector (GitHub ``nkaz001/hftbacktest``, ``collector/``) writes one gzip file per symbol and
UTC day, ``<symbol>_<YYYYMMDD>.gz`` (``collector/src/file.rs``), one record a line::

    <receive time, ns since the epoch> <JSON exactly as Binance sent it>

* combined-stream websocket messages ``{"stream": "btcusdt@depth@100ms", "data": {...}}``: depth
  diffs (``U``/``u``, futures also ``pu``), ``bookTicker`` (best bid/ask at update id ``u``),
  trades;
* the REST ``/depth?symbol=SYM&limit=1000`` snapshot it fetches when it (re)connects,
  ``{"lastUpdateId", "bids", "asks"}`` (futures add ``E``/``T``), without its URL.

In the landing zone (``data/raw/hftbacktest/<YYYY-MM-DD>/``) the collector's file name may carry a
market prefix so that one symbol on several venues can sit in one day folder:
``[<market>_]<symbol>_<YYYYMMDD>.gz`` is the stream ``<market>-<SYMBOL>`` (``spot-BTCUSDT``,
``usdm-BTCUSDT``) or ``<SYMBOL>`` without a prefix.

Nothing Binance-specific is done here. The file is read once, in blocks, by the Cython capture
scanner in the collector's line layout and the Binance diff-depth parser
(:mod:`.cryptofeed.binance_lines`, as a cryptofeed Binance capture is: :data:`LINES`); every other
line becomes a :class:`~.cryptofeed.capture.Record` (:func:`record_of`): a websocket message a
``recv`` record, the snapshot a ``rest`` record with the URL the collector requested
(``collector/src/binance*/http.rs``: ``https://api.binance.com/api/v3/depth?symbol=SYM`` for
spot, ``https://fapi.binance.com/fapi/v1/depth?symbol=SYM`` for USDⓈ-M, whose response carries
``E``/``T``). The capture is translated by the cryptofeed Binance venue module
(:mod:`.cryptofeed.binance`) and sequenced by the one L2 path (:mod:`.l2.messages`). The market follows from the diffs: a diff carrying ``pu``
is a futures diff (Binance derivatives docs), so the stream syncs by the futures rule
(``U <= lastUpdateId <= u``, then ``pu`` = previous ``u``), otherwise by the spot rule
(``U <= lastUpdateId + 1 <= u``, then ``U`` = previous ``u + 1``).

Every ``bookTicker`` whose ``u`` ends an applied diff is the exact best bid/ask after that diff:
:func:`reference_tickers` hands them to the pipeline, which compares them with the rebuilt top of
book (:mod:`obrecon_pipeline.integrity.tickers`, report.json ``ticker_reference``).

A line that is not ``<integer> <JSON object>`` is an :class:`~obrecon_pipeline.errors.InputError`
naming file, line and reason (the collector writes whole lines; a damaged one means a damaged
file). A well-formed message Binance's translator does not know is a counted quarantine.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Iterator

import polars as pl

from obrecon_pipeline.errors import InputError
from obrecon_pipeline.feeds import Feed, held_in, register
from obrecon_pipeline.feeds.cryptofeed import get_venue
from obrecon_pipeline.feeds.cryptofeed._capture_scan import HFTBACKTEST
from obrecon_pipeline.feeds.cryptofeed.binance import is_futures
from obrecon_pipeline.feeds.cryptofeed.capture import LineFormat, Record, file_version, scanned, translating
from obrecon_pipeline.feeds.l2.messages import BookMessages
from obrecon_pipeline.feeds.l2.source import source_opener
from obrecon_pipeline.streams import Held, LoadedStream, Stream

SOURCE = "hftbacktest"
FILE_NAME = re.compile(r"^(?:(?P<market>[A-Za-z0-9]+)_)?(?P<symbol>[A-Za-z0-9]+)_(?P<date>\d{8})\.gz$")
#: the snapshot request of hftbacktest's collector, per market (its ``fetch_depth_snapshot``)
DEPTH_URL = {"BINANCE": "https://api.binance.com/api/v3/depth?symbol={}&limit=1000",
             "BINANCE_FUTURES": "https://fapi.binance.com/fapi/v1/depth?symbol={}&limit=1000"}


def _match(path: Path) -> re.Match:
    m = FILE_NAME.match(path.name)
    if m is None:
        raise InputError(path, None, "not an hftbacktest capture name [<market>_]<symbol>_<YYYYMMDD>.gz")
    return m


def stream_of(path: Path) -> Stream:
    m = _match(path)
    symbol = m["symbol"].upper()
    name = f"{m['market']}-{symbol}" if m["market"] else symbol
    day = f"{m['date'][:4]}-{m['date'][4:6]}-{m['date'][6:]}"
    return Stream(SOURCE, name, day, (path,), symbol=symbol)


def holds(path: Path, day: str) -> list[Held]:
    """The stream of a capture in a landing-zone day folder, from its name alone (nothing is read)."""
    if not FILE_NAME.match(path.name):
        return []
    stream = stream_of(path)
    return [Held(stream.name, stream.symbol)]


def assemble(day: str, holdings: dict[Path, list[Held]]) -> list[Stream]:
    return [Stream(SOURCE, h.name, day, (path,), symbol=h.symbol) for path, held in holdings.items() for h in held]


def discover(day_dir: Path, day: str) -> list[Stream]:
    """Every capture in a landing-zone day folder (names only; nothing is read)."""
    return assemble(day, held_in(day_dir, day, holds))


def from_files(paths: list[Path]) -> list[Stream]:
    """``obrecon replay --format hftbacktest FILE [FILE ...]``: one stream per capture file."""
    return [stream_of(Path(p)) for p in paths]


def _body(text: str, path: str, line: int):
    ts, sep, body = text.partition(" ")
    if not (sep and ts.isdigit()):
        raise InputError(path, line, f"not '<receive ns> <JSON>': {text[:60]!r}")
    try:
        return int(ts), json.loads(body, parse_float=str)  # floats kept as their literal text
    except json.JSONDecodeError as exc:
        raise InputError(path, line, f"malformed JSON: {exc}") from None


def record_of(raw: bytes, path: str, line: int, quarantine: list) -> Record:
    """One line the scanner leaves as a :class:`Record` (the REST snapshot a ``rest`` record with
    its URL); a line that is not ``<integer> <JSON object>`` is an :class:`InputError`: the
    collector writes whole lines, so a damaged one means a damaged file."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, line, f"not UTF-8: {exc}") from None
    ts, body = _body(text, path, line)
    if not isinstance(body, dict):
        raise InputError(path, line, f"the JSON is a {type(body).__name__}, not an object")
    if "lastUpdateId" not in body:
        return Record("recv", ts, line, None, body, path)
    url = DEPTH_URL["BINANCE_FUTURES" if "T" in body else "BINANCE"].format(stream_of(Path(path)).symbol)
    return Record("rest", ts, line, url, body, path)


#: the collector's lines: ``<receive ns> <JSON>``
LINES = LineFormat(HFTBACKTEST, record_of)


def load_messages(stream: Stream) -> BookMessages:
    """The stream's book messages (snapshots, diffs, tickers), before sequencing. Cached per file
    (path, size, modification time): the pipeline reads the tickers after the events; callers must
    not mutate the result."""
    return _messages(*file_version(stream.files[0]), stream.symbol)


@functools.lru_cache(maxsize=2)
def _messages(path: Path, size: int, mtime_ns: int, symbol: str) -> BookMessages:
    cap = scanned(path, LINES)
    venue = "BINANCE_FUTURES" if is_futures(cap) else "BINANCE"
    return translating(path, f"reading {symbol}", get_venue(venue, path).load, cap, [], symbol)


def load(stream: Stream) -> LoadedStream:
    return load_messages(stream).to_loaded(stream)


def reference_tickers(stream: Stream) -> Iterator[pl.DataFrame]:
    """The stream's bookTickers at the book rows where they are exact, in blocks
    (:meth:`BookMessages.ticker_blocks`: read from the spill a block at a time)."""
    return load_messages(stream).ticker_blocks()


FEED = register(Feed(SOURCE, discover, load, from_files, open=source_opener(load_messages),
                     reference_tickers=reference_tickers, holds=holds, assemble=assemble))
