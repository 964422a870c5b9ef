"""Binance diff-depth books: spot (``BINANCE``), Binance US, Binance TR, USDⓈ-M futures
(``BINANCE_FUTURES``) and COIN-M delivery (``BINANCE_DELIVERY``).

Websocket (combined streams ``{"stream": "<sym>@depth@100ms", "data": {...}}``):

* ``depthUpdate``: ``U`` first and ``u`` last update id of the batch (futures also ``pu``, the
  previous batch's ``u``), ``b``/``a`` levels ``[price, qty]``, qty ``"0"`` removes a level;
* ``bookTicker``: best bid/ask with its own update id ``u`` (an independent top-of-book reference,
  kept in :attr:`BookMessages.tickers`);
* ``aggTrade``, ``trade``, ``kline_*``, ``ticker``, ``miniTicker``, ``markPrice``: no book data.

The websocket capture is read once by :mod:`.binance_lines` (Cython: diffs straight into integer
buffers); the records it leaves — REST snapshots, ``bookTicker``, a message of another shape — are
translated here one by one, in receive-time order with the diffs.

REST (``VENUE.http.N.0``): ``/depth?symbol=SYM&limit=1000`` responses ``{"lastUpdateId", "bids",
"asks"}`` are snapshots, merged with the websocket by receive time.

Sync ("How to manage a local order book correctly", Binance spot and derivatives API docs),
done by :mod:`obrecon_pipeline.replay._sequencer`:

* spot family: drop diffs with ``u <= lastUpdateId``; the first applied has
  ``U <= lastUpdateId + 1 <= u``; then each ``U`` = previous ``u + 1``
  (``Sequencing(link="first", sync_offset=1)``);
* futures family: drop ``u < lastUpdateId``; the first applied has ``U <= lastUpdateId <= u``;
  then each ``pu`` = previous ``u`` (``Sequencing(link="prev", sync_offset=0)``).
"""

from __future__ import annotations

from typing import Callable
from urllib.parse import parse_qs, urlparse

import numpy as np

from obrecon_pipeline.errors import InputError
from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._common import first_seen
from obrecon_pipeline.feeds.cryptofeed.binance_lines import DepthLines, depth_lines, scaled_messages
from obrecon_pipeline.feeds.cryptofeed.capture import Capture, Record, tracked
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing
from obrecon_pipeline.feeds.l2.spilled import SpilledBook

SPOT = Sequencing(link="first", sync_offset=1)
FUTURES = Sequencing(link="prev", sync_offset=0)
OTHER_STREAMS = ("aggTrade", "trade", "kline", "ticker", "miniTicker", "markPrice", "forceOrder", "indexPrice")


def _stream_kind(body) -> str | None:
    """``depth``, ``bookTicker``, another known stream kind, or None for an unknown message."""
    if not isinstance(body, dict) or not isinstance(body.get("stream"), str) or not isinstance(body.get("data"), dict):
        return None
    kind = body["stream"].split("@", 1)[1] if "@" in body["stream"] else ""
    if kind.startswith("depth"):
        return "depth"
    if kind == "bookTicker":
        return "bookTicker"
    base = kind.split("_")[0].split("@")[0]
    return kind if base in OTHER_STREAMS else None


def _rest_symbol(rec: Record) -> str | None:
    """The symbol of a REST depth snapshot, None for other REST calls."""
    url = urlparse(rec.url or "")
    if not url.path.endswith("/depth"):
        return None
    return parse_qs(url.query).get("symbol", [None])[0]


def _kept(rec: Record) -> bool:
    """The records other than parsed diffs that :func:`symbols` or the loader can use: REST depth
    snapshots in the capture itself (hftbacktest's collector logs them beside the websocket) and
    websocket messages that are book data or may be quarantined (known other streams and
    subscription replies give nothing)."""
    if rec.kind == "rest":
        return True
    if rec.kind != "recv":
        return False
    kind = _stream_kind(rec.body)
    if kind is None:
        return not (isinstance(rec.body, dict) and "result" in rec.body and "id" in rec.body)
    return kind in ("depth", "bookTicker")


def _lines(ws: Capture) -> DepthLines:
    dl = depth_lines(ws.path, _kept, ws.line_format)
    ws.read_whole(dl.quarantine)
    return dl


def is_futures(ws: Capture) -> bool:
    """Whether the capture's diffs carry ``pu`` (Binance derivatives docs: the futures sync rule),
    parsed or left to the per-line reader."""
    dl = _lines(ws)
    return dl.has_prev or any(
        rec.body["data"].get("e") == "depthUpdate" and "pu" in rec.body["data"]
        for rec in dl.others if _stream_kind(rec.body) == "depth")


def _depth_symbols(records) -> list[tuple[int, str]]:
    """``(line, symbol)`` of the depth messages among ``records`` that name a symbol."""
    return [(rec.line, rec.body["data"]["s"]) for rec in records
            if _stream_kind(rec.body) == "depth" and isinstance(rec.body["data"].get("s"), str)]


def symbols(ws: Capture) -> list[str]:
    """The symbols of the depth messages, parsed or not, in order of first appearance."""
    if not ws.from_file:
        seen = _depth_symbols(ws.received())
    else:
        dl = _lines(ws)
        seen = sorted([*((line, sym) for sym, line in dl.first_lines.items()), *_depth_symbols(dl.others)])
    return first_seen(sym for _, sym in seen)


def _ids(rec, data: dict) -> tuple[int, int, int | None]:
    """``(U, u, pu)`` of a depthUpdate; an id that is missing or not a 64-bit integer is bad input
    at its line (the sequence cannot be judged without it)."""
    ids = []
    for key in ("U", "u", "pu"):
        if key == "pu" and key not in data:
            ids.append(None)
            continue
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not -(2**63) < value < 2**63:
            raise InputError(rec.path, rec.line, f"depthUpdate update id {key} {value!r} is not a 64-bit integer")
        ids.append(value)
    return ids[0], ids[1], ids[2]


def _translate(book: BookMessages, rec: Record, symbol: str) -> None:
    """One record (a REST response or a websocket message the parser left) into ``book``."""
    body = rec.body
    if rec.kind == "rest":
        if _rest_symbol(rec) != symbol:
            return
        if not isinstance(body, dict) or "lastUpdateId" not in body:
            book.quarantine(rec, f"depth snapshot response without lastUpdateId: {str(body)[:80]}")
            return
        ts = int(body["E"]) * 1_000_000 if "E" in body else None
        book.snapshot(rec, body.get("bids", []), body.get("asks", []),
                      update_id=int(body["lastUpdateId"]), ts_event=ts)
        return
    kind = _stream_kind(body)
    if kind is None:
        if isinstance(body, dict) and "result" in body and "id" in body:
            return  # reply to a SUBSCRIBE request
        stream = body.get("stream") if isinstance(body, dict) else None
        book.quarantine(rec, f"unknown channel {stream!r}" if stream else "not a Binance stream message")
        return
    data = body["data"]
    if kind in ("depth", "bookTicker") and not isinstance(data.get("s"), str):
        book.quarantine(rec, f"{kind} message without a symbol 's'")
        return
    if data.get("s") != symbol:
        return
    if kind == "depth":
        ids = _ids(rec, data)
        ts = int(data["E"]) * 1_000_000 if isinstance(data.get("E"), int) else None
        book.diff(rec, data.get("b", []), data.get("a", []), first_id=ids[0], last_id=ids[1],
                  prev_id=ids[2], ts_event=ts)
    elif kind == "bookTicker":
        if not all(isinstance(data.get(k), str) for k in ("b", "B", "a", "A")) or "u" not in data:
            book.quarantine(rec, "bookTicker without u/b/B/a/A")
            return
        book.ticker(rec, int(data["u"]), data["b"], data["B"], data["a"], data["A"])


def streams(dl: DepthLines, symbol: str) -> bool:
    """Whether ``symbol``'s book can be read from the spill as the replay goes
    (:class:`~obrecon_pipeline.feeds.l2.spilled.SpilledBook`): it is one of the capture's parsed
    symbols (read in receive-time order through :meth:`DepthLines.rows_of`, the others' messages
    skipped), the parsed messages can be listed in that order within a bounded window
    (:attr:`DepthLines.streamable`), and every bookTicker was parsed (read from the ticker spill,
    :meth:`SpilledBook.ticker_rows`, the other symbols' left out block by block)."""
    return (symbol in dl.symbols and dl.streamable
            and not any(_stream_kind(rec.body) == "bookTicker" for rec in dl.others))


def _others(dl: DepthLines, rest: list[Capture]) -> list[Record]:
    """The records to translate one by one: the capture's others and the REST responses, by
    receive time (stable: the websocket first on ties)."""
    responses = sorted((r for cap in rest for r in cap.records if r.kind == "rest"), key=lambda r: r.ts_ns)
    return sorted([*dl.others, *responses], key=lambda r: r.ts_ns)


def _is_message(rec: Record) -> bool:
    """Whether ``rec`` is a message placed among the parsed diffs (a snapshot, a diff the parser left)."""
    return rec.kind == "rest" or _stream_kind(rec.body) == "depth"


def _at(rec: Record, search: Callable[[str, int, str, int, int], int], n: int) -> int:
    """How many parsed diffs come before ``rec`` (a message): those received earlier and, at the
    same time, a REST response after all of them, a websocket line after the lines before it.
    ``search(column, value, side, lo, hi)`` is a binary search of the parsed ``ts``/``line``."""
    lo, hi = search("ts", rec.ts_ns, "left", 0, n), search("ts", rec.ts_ns, "right", 0, n)
    return hi if rec.kind == "rest" else search("line", rec.line, "left", lo, hi)


def _loader(sequencing: Sequencing):
    """The venue's ``load``: the websocket capture's parsed diffs (:mod:`.binance_lines`) and, one by
    one, the other records (REST snapshots, the websocket messages the parser left), in the order
    :meth:`Capture.merged_with` gives — receive time, the websocket first on ties, then file order:
    each record that is a message (a snapshot, a diff the parser left) is placed among the parsed
    diffs by binary search; a ``bookTicker`` or a quarantined line goes to a list of its own and
    splits nothing. When :func:`streams` says so the parsed diffs stay in the spill
    (:class:`SpilledBook`, :meth:`~SpilledBook.add_at`); else they are read into memory and the
    diffs before each placed record are added whole (:meth:`BookMessages.add_scaled`), the parsed
    bookTickers as one table (the spilled book reads them from the ticker spill when asked). A capture held as parsed records (a small one) is translated record
    by record."""

    def load(ws: Capture, rest: list[Capture], symbol: str, stream: bool = True) -> BookMessages:
        if not ws.from_file:  # held as parsed records: one by one
            book = BookMessages(symbol, sequencing, checksum=None)
            for rec in ws.merged_with(rest):
                _translate(book, rec, symbol)
            return book
        dl = _lines(ws)
        if stream and streams(dl, symbol):
            return _spilled(dl, rest, symbol)
        return _whole_day(dl, rest, symbol)

    def _spilled(dl: DepthLines, rest: list[Capture], symbol: str) -> SpilledBook:
        diffs = dl.columns_of(symbol)
        book = SpilledBook(symbol, diffs, lambda size: dl.ticker_blocks(symbol, size), sequencing=sequencing,
                           checksum=None)
        for rec in tracked(_others(dl, rest)):
            at = _at(rec, diffs.search, diffs.n) if _is_message(rec) else 0
            book.add_at(at, lambda: _translate(book, rec, symbol))
        return book

    def _whole_day(dl: DepthLines, rest: list[Capture], symbol: str) -> BookMessages:
        book = BookMessages(symbol, sequencing, checksum=None)
        p = dl.parsed()
        if dl.symbols == [symbol]:  # the capture's only symbol: every parsed message, views not copies
            mine, ts, line = np.arange(len(p.sym)), p.ts_recv, p.line
        else:
            ids = [i for i, name in enumerate(dl.symbols) if name == symbol]
            mine = np.flatnonzero(p.sym == ids[0]) if ids else np.zeros(0, dtype=np.int64)
            ts, line = p.ts_recv[mine], p.line[mine]
        if len(mine) > 1 and np.any(ts[1:] < ts[:-1]):  # received out of order: by (time, line)
            order = np.lexsort((line, ts))
            mine, ts, line = mine[order], ts[order], line[order]
        columns = {"ts": ts, "line": line}
        done = 0
        for rec in tracked(_others(dl, rest)):
            if _is_message(rec):
                at = _at(rec, lambda c, v, side, lo, hi: lo + int(np.searchsorted(columns[c][lo:hi], v, side)), len(mine))
                if at > done:
                    book.add_scaled([dl.path], *scaled_messages(p, mine[done:at]))
                    done = at
            _translate(book, rec, symbol)  # tickers and quarantines are lists of their own
        if len(mine) > done:
            book.add_scaled([dl.path], *scaled_messages(p, mine[done:]))
        book.add_tickers(dl.tickers_of(symbol))
        return book

    return load


register_venue(Venue(names=("BINANCE", "BINANCE_US", "BINANCE_TR"), symbols=symbols, load=_loader(SPOT)))
register_venue(Venue(names=("BINANCE_FUTURES", "BINANCE_DELIVERY"), symbols=symbols, load=_loader(FUTURES)))
