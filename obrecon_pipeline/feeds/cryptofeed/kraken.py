"""Kraken spot, WebSocket API v1 ``book`` channel (cryptofeed venue ``KRAKEN``).

Book messages are JSON arrays ``[channelID, payload, ..., channelName, pair]``:

* snapshot: one payload ``{"as": [[price, volume, timestamp], ...], "bs": [...]}``;
* update: one or two payloads ``{"a": [...]}`` / ``{"b": [...], "c": "<crc32>"}``; a level with a
  fourth element ``"r"`` is a republish of a level entering the subscribed depth; volume ``"0..."``
  removes the level. ``"c"`` is the CRC32 of the top 10 levels (verified by the replayer,
  :mod:`obrecon_pipeline.replay._checksum`, algorithm ``"kraken"``).

There are no sequence numbers: ``Sequencing(link="none")``; the checksum is the integrity check.
Object messages (``heartbeat``, ``systemStatus``, ``subscriptionStatus``) and the other public
channels (trade, ticker, spread, ohlc) carry no book data; any other channel is quarantined.

A capture read by lines (:func:`.capture.scanned`) is parsed by :mod:`.book_lines` (the ``KRAKEN``
shape of :mod:`._book_scan`, ``c`` read as the CRC32); the lines it leaves are translated one by
one in file order (:func:`_translate`, the per-message path of a capture held parsed).
"""

from __future__ import annotations

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._book_scan import KRAKEN as KRAKEN_SHAPE
from obrecon_pipeline.feeds.cryptofeed._common import first_seen
from obrecon_pipeline.feeds.cryptofeed.book_lines import loader, symbols_of
from obrecon_pipeline.feeds.cryptofeed.capture import Capture, Record
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

OTHER_CHANNELS = ("trade", "ticker", "spread", "ohlc")
EVENTS = ("heartbeat", "systemStatus", "subscriptionStatus", "pong")


def _book_message(body) -> tuple[str, list[dict]] | None:
    """``(pair, payloads)`` of a book message, None for any other message."""
    if isinstance(body, list) and len(body) >= 4 and isinstance(body[-2], str) and body[-2].startswith("book"):
        return body[-1], [p for p in body[1:-2] if isinstance(p, dict)]
    return None


def _problem(body) -> str | None:
    """Why a received message is neither book data nor something known to carry none."""
    if isinstance(body, dict):
        return None if body.get("event") in EVENTS else f"unknown event {body.get('event')!r}"
    if isinstance(body, list) and len(body) >= 4 and isinstance(body[-2], str):
        name = body[-2]
        if name.startswith("book") or name.split("-")[0] in OTHER_CHANNELS:
            return None
        return f"unknown channel {name!r}"
    return "not a Kraken websocket message"


def _pair(rec: Record) -> tuple[bool, object]:
    """Whether a record left by the parser is a book message, and the pair it names."""
    m = _book_message(rec.body)
    return m is not None, None if m is None else m[0]


def symbols(ws: Capture) -> list:
    """The pairs of the book messages, in order of appearance."""
    if ws.from_file:
        return symbols_of(ws, KRAKEN_SHAPE, _kept, _pair)
    books = (_book_message(rec.body) for rec in ws.received())
    return first_seen(m[0] for m in books if m is not None)


def _translate(book: BookMessages, rec: Record, symbol: str) -> None:
    """One received record into ``book`` (the per-message path)."""
    reason = _problem(rec.body)
    if reason is not None:
        book.quarantine(rec, reason)
        return
    m = _book_message(rec.body)
    if m is None or m[0] != symbol:
        return
    merged: dict[str, list] = {}
    for p in m[1]:
        for key, value in p.items():
            merged[key] = value
    if "as" in merged or "bs" in merged:
        book.snapshot(rec, merged.get("bs", []), merged.get("as", []))
    elif "a" in merged or "b" in merged:
        c = merged.get("c")
        if c is not None and not (isinstance(c, str) and c.isdigit()):
            book.quarantine(rec, f"checksum {c!r} is not an unsigned integer")
            return
        book.diff(rec, merged.get("b", []), merged.get("a", []), checksum=None if c is None else int(c))
    else:
        book.quarantine(rec, "book message without levels")


def _kept(rec: Record) -> bool:
    """The records the parser left that :func:`_translate` can use: received ones, but for the
    known events and other channels (they give nothing)."""
    if rec.kind != "recv":
        return False
    body = rec.body
    if isinstance(body, dict):
        return body.get("event") not in EVENTS
    return not (isinstance(body, list) and len(body) >= 4 and isinstance(body[-2], str)
                and body[-2].split("-")[0] in OTHER_CHANNELS)


def _is_book(rec: Record, symbol: str) -> bool:
    """Whether ``rec`` may be a message of ``symbol``'s book (its place among the parsed ones matters)."""
    m = _book_message(rec.body)
    return m is not None and m[0] == symbol


load = loader(KRAKEN_SHAPE, _kept, _translate, _is_book, sequencing=Sequencing(link="none"), checksum="kraken")


register_venue(Venue(names=("KRAKEN",), symbols=symbols, load=load))
