"""OKX, API v5 ``books`` channel (400 levels; cryptofeed venue ``OKX``).

Messages ``{"arg": {"channel": "books", "instId": ...}, "action": "snapshot"|"update",
"data": [{"asks": [[px, sz, liquidated, orders], ...], "bids": [...], "ts": ms, "checksum": n}]}``;
size ``"0"`` removes a level. ``checksum`` is the signed CRC32 of the top 25 levels, bid and ask
interleaved (verified by the replayer, algorithm ``"okx"``). This capture generation has no
``seqId``, so ``Sequencing(link="none")``: integrity comes from the checksum on every message.
``ts_event`` is the message's ``ts``. Event messages (``subscribe``, ``error``) and the
``tickers``/``trades`` channels carry no book data; any other channel is quarantined.

A capture read by lines (:func:`.capture.scanned`) is parsed by :mod:`.book_lines` (the ``OKX``
shape of :mod:`._book_scan`: one data item, ``ts`` a string of digits, ``checksum`` an integer); the
lines it leaves are translated one by one in file order (:func:`_translate`, the per-message path).
"""

from __future__ import annotations

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._book_scan import OKX as OKX_SHAPE
from obrecon_pipeline.feeds.cryptofeed._common import first_seen
from obrecon_pipeline.feeds.cryptofeed.book_lines import loader, symbols_of
from obrecon_pipeline.feeds.cryptofeed.capture import Capture, Record
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

BOOK_CHANNELS = ("books",)
OTHER_CHANNELS = ("tickers", "trades", "candle1m", "funding-rate", "open-interest", "liquidation-orders")


def _channel(body) -> tuple[str | None, str | None]:
    if isinstance(body, dict) and isinstance(body.get("arg"), dict):
        return body["arg"].get("channel"), body["arg"].get("instId")
    return None, None


def _named(rec: Record) -> tuple[bool, object]:
    """Whether a record is a book message with data, and the instrument it names."""
    channel, inst = _channel(rec.body)
    hit = channel in BOOK_CHANNELS and "data" in rec.body
    return hit, inst if hit else None


def symbols(ws: Capture) -> list:
    """The instruments of the book messages with data, in order of appearance."""
    if ws.from_file:
        return symbols_of(ws, OKX_SHAPE, _kept, _named)
    return first_seen(name for hit, name in map(_named, ws.received()) if hit)


def _translate(book: BookMessages, rec: Record, symbol: str) -> None:
    """One received record into ``book`` (the per-message path)."""
    body = rec.body
    channel, inst = _channel(body)
    if isinstance(body, dict) and "event" in body:
        return  # subscribe acknowledgements, errors: no book data
    if channel is None:
        book.quarantine(rec, "not an OKX channel message")
        return
    if channel not in BOOK_CHANNELS:
        if channel not in OTHER_CHANNELS:
            book.quarantine(rec, f"unknown channel {channel!r}")
        return
    if inst != symbol:
        return
    action = body.get("action")
    data = body.get("data")
    if action not in ("snapshot", "update") or not isinstance(data, list):
        book.quarantine(rec, f"books message with action {action!r} and no data list")
        return
    for d in data:
        if not isinstance(d, dict) or not str(d.get("ts", "")).isdigit() or not isinstance(d.get("checksum", 0), int):
            book.quarantine(rec, "books data item without an integer ts and checksum")
            continue
        ts = int(d["ts"]) * 1_000_000
        checksum = d.get("checksum")
        if action == "snapshot":
            book.snapshot(rec, d.get("bids", []), d.get("asks", []), checksum=checksum, ts_event=ts)
        else:
            book.diff(rec, d.get("bids", []), d.get("asks", []), checksum=checksum, ts_event=ts)


def _kept(rec: Record) -> bool:
    """The records the parser left that :func:`_translate` can use: received ones, but for events
    and the known other channels (they give nothing)."""
    if rec.kind != "recv" or (isinstance(rec.body, dict) and "event" in rec.body):
        return False
    return _channel(rec.body)[0] not in OTHER_CHANNELS


def _is_book(rec: Record, symbol: str) -> bool:
    """Whether ``rec`` may be a message of ``symbol``'s book (its place among the parsed ones matters)."""
    channel, inst = _channel(rec.body)
    return channel in BOOK_CHANNELS and inst == symbol


load = loader(OKX_SHAPE, _kept, _translate, _is_book, sequencing=Sequencing(link="none"), checksum="okx")


register_venue(Venue(names=("OKX",), symbols=symbols, load=load))
