"""The ``cryptofeed`` format: raw captures recorded by cryptofeed's raw-data recorder.

A capture day folder (``data/raw/cryptofeed/<YYYY-MM-DD>/``) holds, per venue, a websocket session
``VENUE.ws.N.0`` and the REST calls of the same run, ``VENUE.http.N.0`` and ``VENUE.0`` (plain or
``.gz``; the line layout is described in :mod:`.capture`). Every symbol with a book channel in a
websocket file is its own :class:`~obrecon_pipeline.feeds.Stream` (name ``VENUE-SYMBOL``,
``files = (ws_file, *rest_files)``, ``symbol = SYMBOL``).

Venue module interface
======================

A venue is a module ``obrecon_pipeline/feeds/cryptofeed/<venue>.py`` that calls
:func:`register_venue` at import time with a :class:`Venue`, and whose import is listed in
:data:`VENUE_MODULES` (one line). A venue module only *translates* the venue's JSON into book
messages; decimal scaling, sequencing (sync, duplicates, reordering, gaps), event assembly and
checksums are done once for all venues by this package and the replayer::

    from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
    from obrecon_pipeline.feeds.cryptofeed.capture import Capture
    from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

    def symbols(ws: Capture) -> list[str]:
        # the symbols that have book messages in this websocket capture (venue spelling)
        ...

    def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
        book = BookMessages(symbol, sequencing=Sequencing(link="first", sync_offset=1),
                            checksum=None)          # or "kraken" / "okx" (see replay._checksum)
        for rec in ws.merged_with(rest):            # ws + REST records by receive time
            if <snapshot for symbol>:
                book.snapshot(rec, bids, asks, update_id=..., checksum=...)
            elif <diff for symbol>:
                book.diff(rec, bids, asks, first_id=U, last_id=u, prev_id=pu, checksum=...)
            elif <top-of-book reference for symbol>:
                book.ticker(rec, update_id, bid_px, bid_sz, ask_px, ask_sz)
            elif <channel the venue does not know>:
                book.quarantine(rec, "unknown channel 'xyz'")
        return book

    register_venue(Venue(names=("MYVENUE",), symbols=symbols, load=load))

* ``rec`` is a :class:`.capture.Record` (``kind``, ``ts_ns`` receive time, ``line``, ``url``,
  ``body`` = decoded JSON with every JSON float kept as its exact literal **string**).
* ``bids`` / ``asks`` are sequences of ``(price, size)`` **decimal strings** exactly as sent
  (``"0.00002290"``, ``"8"``); size ``"0"`` removes the level. They become scaled integers with one
  scale per symbol (``10**max decimals seen``), never floats; a malformed decimal raises
  :class:`~obrecon_pipeline.errors.InputError` naming file, line and reason.
* ``snapshot`` replaces the whole book (``CLEAR`` + levels, flagged ``SNAPSHOT``); ``diff`` sets the
  given levels. ``first_id``/``last_id``/``prev_id`` are the venue's update ids (``None`` when the
  venue has none); :class:`.messages.Sequencing` says how they chain (see there).
  ``book.message(rec, is_snapshot, ...)`` is ``snapshot`` or ``diff`` by a flag.
* Steps several venues share are in :mod:`._common`: ``first_seen`` (``symbols()``), ``triaged``
  with a ``problem(body)`` (quarantine what is neither book data nor known to carry none),
  ``split_sides``, ``rest_symbol`` and ``MALFORMED``/``malformed`` (missing or mistyped fields).
* ``ts_event`` may be passed to ``snapshot``/``diff`` (ns, venue time); the receive time is used
  otherwise.

* Levels may also be JSON integers (taken by their digits); anything else is an ``InputError``.

The resulting :class:`~obrecon_pipeline.feeds.LoadedStream` has ``emit="message"`` options (one
book row per venue message, plus one invalid row per gap), the checksum algorithm, the quarantine
(file, line, reason) of lines that could not be used, and ``stats`` for ``report.json``:
``gaps``, ``duplicates``, ``reordered``, ``stale`` (diffs older than the snapshot they were
offered to), ``unsynced`` (diffs never applied: no snapshot followed), ``messages``,
``messages_<status>``, ``quarantined``, ``quarantine_first``, ``first_gap_*`` and ``gap_list``
(every gap: book row, file, line, venue and receive time, expected and received id), and
``symbols_without_snapshot`` (``{symbol: book messages}`` of the capture's symbols that never meet
a snapshot: they are no stream, since nothing of theirs can be applied; when no symbol of a capture
has one, that is an :class:`~obrecon_pipeline.errors.InputError` at the first message). The replayer adds
``checksum_ok``, ``checksum_failed``, ``first_checksum_failure``, ``resyncs``, ``crossed_rows``,
``locked_rows`` and ``first_crossed``.

Command line: ``obrecon replay --format cryptofeed WS_FILE [REST_FILE ...] [--symbol SYM]``
(:func:`from_files`); Dagster partitions: :func:`discover` on a landing-zone day folder.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from obrecon_pipeline.errors import InputError
from obrecon_pipeline.feeds import Feed, held_in, register
from obrecon_pipeline.streams import Held, LoadedStream, Stream
from obrecon_pipeline.feeds.cryptofeed.capture import Capture, read_capture, translating
from obrecon_pipeline.feeds.l2.messages import BookMessages
from obrecon_pipeline.feeds.l2.source import source_opener

SOURCE = "cryptofeed"


@dataclass(frozen=True)
class Venue:
    """One venue family's translator (see the module docstring)."""

    names: tuple[str, ...]  #: capture-file prefixes it reads (``BINANCE``, ``BINANCE_US``, ...)
    symbols: Callable[[Capture], list[str]]
    load: Callable[[Capture, list[Capture], str], BookMessages]


VENUES: dict[str, Venue] = {}

#: venue modules imported when the format is first used (one line per module)
VENUE_MODULES = (
    "obrecon_pipeline.feeds.cryptofeed.kraken",
    "obrecon_pipeline.feeds.cryptofeed.okx",
    "obrecon_pipeline.feeds.cryptofeed.binance",
    "obrecon_pipeline.feeds.cryptofeed.bitfinex",
    "obrecon_pipeline.feeds.cryptofeed.bitget",
    "obrecon_pipeline.feeds.cryptofeed.coinbase",
    "obrecon_pipeline.feeds.cryptofeed.gemini",
    "obrecon_pipeline.feeds.cryptofeed.gateio",
    "obrecon_pipeline.feeds.cryptofeed.kucoin",
    "obrecon_pipeline.feeds.cryptofeed.bitstamp",
    "obrecon_pipeline.feeds.cryptofeed.okcoin",
    "obrecon_pipeline.feeds.cryptofeed.deribit",
    "obrecon_pipeline.feeds.cryptofeed.hitbtc",
    "obrecon_pipeline.feeds.cryptofeed.poloniex",
    "obrecon_pipeline.feeds.cryptofeed.kraken_futures",
    "obrecon_pipeline.feeds.cryptofeed.bybit",
    "obrecon_pipeline.feeds.cryptofeed.blockchain",
    "obrecon_pipeline.feeds.cryptofeed.bitmex",
    "obrecon_pipeline.feeds.cryptofeed.fmfw",
    "obrecon_pipeline.feeds.cryptofeed.bitcom",
    "obrecon_pipeline.feeds.cryptofeed.ascendex",
    "obrecon_pipeline.feeds.cryptofeed.delta",
    "obrecon_pipeline.feeds.cryptofeed.probit",
    "obrecon_pipeline.feeds.cryptofeed.bitflyer",
    "obrecon_pipeline.feeds.cryptofeed.phemex",
    "obrecon_pipeline.feeds.cryptofeed.dydx",
    "obrecon_pipeline.feeds.cryptofeed.huobi",
    "obrecon_pipeline.feeds.cryptofeed.upbit",
)


def register_venue(venue: Venue) -> Venue:
    for name in venue.names:
        VENUES[name] = venue
    return venue


def _load_venues() -> None:
    import importlib

    for module in VENUE_MODULES:
        importlib.import_module(module)


_WS_FILE = re.compile(r"^(?P<venue>.+)\.ws\.\d+\.0(\.gz)?$")
_REST_FILE = re.compile(r"^(?P<venue>.+?)(\.http\.\d+)?\.0(\.gz)?$")


def venue_of(path: Path) -> str:
    """``BINANCE_US`` for ``.../BINANCE_US.ws.1.0.gz`` (websocket or REST capture file names)."""
    m = _WS_FILE.match(path.name) or _REST_FILE.match(path.name)
    if m is None:
        raise InputError(path, None, "not a cryptofeed capture file name (VENUE.ws.N.0, VENUE.http.N.0, VENUE.0)")
    return m.group("venue")


def get_venue(name: str, path: Path | None = None) -> Venue:
    _load_venues()
    try:
        return VENUES[name]
    except KeyError:
        raise InputError(path or name, None, f"no cryptofeed venue module for {name!r}; known: {', '.join(sorted(VENUES))}") from None


def _rest_among(venue: str, paths) -> tuple[Path, ...]:
    """The REST captures of ``venue`` among ``paths`` (sorted)."""
    found = []
    for p in sorted(paths):
        if _WS_FILE.match(p.name):
            continue
        m = _REST_FILE.match(p.name)
        if m and m.group("venue") == venue:
            found.append(p)
    return tuple(found)


def rest_files_for(ws_file: Path) -> tuple[Path, ...]:
    """The REST captures of the same venue beside a websocket capture."""
    return _rest_among(venue_of(ws_file), ws_file.parent.iterdir())


def stream_name(venue: str, symbol: str) -> str:
    return f"{venue}-{re.sub(r'[^A-Za-z0-9]+', '-', symbol).strip('-')}"


def book_symbols(ws_file: Path) -> list[str]:
    """The symbols with book messages in a websocket capture (the venue's ``symbols`` over the
    whole capture). Its header does not say: the subscriptions it sends name symbols that may
    never get a book message (the shipped ``BINANCE_TR.ws.1.0.gz`` subscribes ``elfbusd@depth``
    and receives none), so only a full read lists exactly the streams there are."""
    symbols = translating(ws_file, "listing symbols", get_venue(venue_of(ws_file), ws_file).symbols, read_capture(ws_file))
    for sym in symbols:
        if not isinstance(sym, str) or not sym.strip():
            raise InputError(ws_file, None, f"a book message names symbol {sym!r}, which is not a symbol string")
    return symbols


def synced(ws_file: Path, rest_files: tuple[Path, ...], symbols: list[str]) -> list[str]:
    """The symbols that have a snapshot to sync to. A symbol whose book messages never meet one (a
    stray line) would replay to an empty book, so it is no stream but is counted in its siblings'
    ``report.json`` (``symbols_without_snapshot``). When no symbol of the capture has a snapshot (a
    capture without its REST snapshots), every symbol is a stream and reading it is the error
    (:func:`load_messages`), so that the partition shows it. Reads the capture's messages (cached)."""
    unsynced = _without_snapshot(Path(ws_file), tuple(map(Path, rest_files)))
    return [sym for sym in symbols if sym not in unsynced] or symbols


def streams_of(ws_file: Path, rest_files: tuple[Path, ...], day: str) -> list[Stream]:
    """One stream per symbol of the websocket capture that has a snapshot to sync to (:func:`synced`)."""
    venue = venue_of(ws_file)
    return [Stream(SOURCE, stream_name(venue, sym), day, (ws_file, *rest_files), symbol=sym)
            for sym in synced(ws_file, rest_files, book_symbols(ws_file))]


@functools.lru_cache(maxsize=32)
def _messages(ws_file: Path, rest_files: tuple[Path, ...], symbol: str, stamp: tuple) -> BookMessages:
    venue = get_venue(venue_of(ws_file), ws_file)
    ws = read_capture(ws_file)
    rest = [read_capture(p) for p in rest_files]
    book = translating(ws_file, f"reading {symbol}", venue.load, ws, rest, symbol)
    for cap in (ws, *rest):
        book.quarantined.extend(cap.quarantine)
    return book


def _stamp(files) -> tuple:
    """What the cached messages of ``files`` are valid for: their sizes and modification times."""
    try:
        return tuple((st.st_size, st.st_mtime_ns) for st in (Path(p).stat() for p in files))
    except FileNotFoundError as exc:
        raise InputError(exc.filename, None, "file not found") from None


def book_messages(ws_file: Path, rest_files: tuple[Path, ...], symbol: str) -> BookMessages:
    """One symbol's book messages (read once per file version; callers must not mutate them)."""
    return _messages(Path(ws_file), tuple(map(Path, rest_files)), symbol, _stamp((ws_file, *rest_files)))


def _without_snapshot(ws_file: Path, rest_files: tuple[Path, ...]) -> dict[str, tuple[int, int]]:
    """``{symbol: (book messages, line of the first)}`` of the capture's symbols without a snapshot."""
    venue = get_venue(venue_of(ws_file), ws_file)
    out = {}
    for sym in translating(ws_file, "listing symbols", venue.symbols, read_capture(ws_file)):
        book = book_messages(ws_file, rest_files, sym)
        if book.n_messages and not book.snapshot_flags().any():
            out[sym] = (book.n_messages, book.first_line())
    return out


def capture_day(ws_file: Path, cap: Capture | None = None) -> str:
    """UTC date (``YYYY-MM-DD``) of a capture's first timed record."""
    import datetime as dt

    cap = cap or read_capture(ws_file)
    for rec in cap.records:
        if rec.ts_ns:
            return dt.datetime.fromtimestamp(rec.ts_ns // 1_000_000_000, dt.timezone.utc).date().isoformat()
    raise InputError(ws_file, None, "capture has no timestamped line")


def from_files(paths: list[Path]) -> list[Stream]:
    """``obrecon replay --format cryptofeed WS_FILE [REST_FILE ...]``: one stream per book symbol."""
    paths = [Path(p) for p in paths]
    ws = [p for p in paths if _WS_FILE.match(p.name)]
    if len(ws) != 1:
        raise InputError(paths[0] if paths else "<no file>", None,
                         f"expected exactly one websocket capture VENUE.ws.N.0[.gz], got {len(ws)}")
    rest = tuple(p for p in paths if p != ws[0])
    for p in rest:
        if venue_of(p) != venue_of(ws[0]):
            raise InputError(p, None, f"REST capture of venue {venue_of(p)!r} given with a {venue_of(ws[0])!r} websocket capture")
    return streams_of(ws[0], rest, capture_day(ws[0], read_capture(ws[0])))


def holds(path: Path, day: str) -> list[Held]:
    """The book streams of a websocket capture whose venue has a module (:func:`book_symbols`);
    a REST capture or any other file holds none."""
    if not _WS_FILE.match(path.name):
        return []
    _load_venues()
    venue = venue_of(path)
    if venue not in VENUES:
        return []
    return [Held(stream_name(venue, sym), sym) for sym in book_symbols(path)]


def assemble(day: str, holdings: dict[Path, list[Held]]) -> list[Stream]:
    """Each websocket capture's streams, with the REST captures of its venue in the folder (only
    the symbols with a snapshot, :func:`synced`: the one step of discovery that reads captures
    again, once per new or changed day, cached for the replay)."""
    out: list[Stream] = []
    for ws, held in holdings.items():
        if held:
            rest = _rest_among(venue_of(ws), holdings)
            keep = set(synced(ws, rest, [h.symbol for h in held]))
            out.extend(Stream(SOURCE, h.name, day, (ws, *rest), symbol=h.symbol) for h in held if h.symbol in keep)
    return out


def discover(source_dir: Path, day: str) -> list[Stream]:
    """Every book stream of every websocket capture with a venue module in a day folder
    (``source_dir`` is the day folder ``data/raw/cryptofeed/<day>/`` itself)."""
    return assemble(day, held_in(source_dir, day, holds))


def load_messages(stream: Stream) -> BookMessages:
    """The venue's book messages of one stream, before sequencing."""
    ws_file, *rest_files = stream.files
    if stream.symbol is None:
        raise InputError(ws_file, None, "a cryptofeed stream needs a symbol")
    book = book_messages(ws_file, tuple(rest_files), stream.symbol)
    unsynced = _without_snapshot(Path(ws_file), tuple(map(Path, rest_files)))
    if stream.symbol in unsynced:
        n, line = unsynced[stream.symbol]
        others = [sym for sym in unsynced if sym != stream.symbol]
        raise InputError(ws_file, line, f"no book snapshot (websocket or REST) for {stream.symbol!r}: none of its {n} "
                         "book messages can be applied" + (f"; nor for {', '.join(others)}" if others else ""))
    if unsynced:
        book.stats["symbols_without_snapshot"] = {sym: n for sym, (n, _) in unsynced.items()}
    return book


def load(stream: Stream) -> LoadedStream:
    return load_messages(stream).to_loaded(stream)


def reference_tickers(stream: Stream):
    """The stream's top-of-book tickers (Binance ``bookTicker``, Gate.io futures ``book_ticker``,
    KuCoin ``ticker``) at the book rows where they are exact, in blocks (:meth:`BookMessages.ticker_blocks`)."""
    return load_messages(stream).ticker_blocks()


FEED = register(Feed(SOURCE, discover, load, from_files, open=source_opener(load_messages), holds=holds,
                     assemble=assemble, reference_tickers=reference_tickers))
