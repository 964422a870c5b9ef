"""Bitget WebSocket v1 ``books`` channel, spot (``sp``) and futures (``mc``) (cryptofeed venue ``BITGET``).

Messages (Bitget API v1, "Depth Channel"):
``{"action": "snapshot"|"update", "arg": {"instType", "channel": "books", "instId"},
"data": [{"asks": [[price, size], ...], "bids": [...], "checksum": int, "ts": "ms"}]}``.
A snapshot replaces the book; an update sets each listed level (size ``"0"`` removes it). Every
message carries ``checksum``: the signed CRC32 of ``bid1_px:bid1_sz:ask1_px:ask1_sz:...`` over the
top 25 levels with the strings as sent, verified by the replayer (algorithm ``"bitget"`` in
:mod:`obrecon_pipeline.replay._checksum`). There are no sequence numbers
(``Sequencing(link="none")``): the checksum is the integrity check. ``ts_event`` is ``ts``.

Subscription acknowledgements and the other channels (ticker, trade, candles) carry no book data;
an ``error`` event or an unknown channel is quarantined.
"""

from __future__ import annotations

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._common import first_seen, triaged
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

OTHER_CHANNELS = ("ticker", "trade")


def _book_symbol(body) -> str | None:
    if isinstance(body, dict) and "action" in body and isinstance(body.get("arg"), dict):
        if body["arg"].get("channel") == "books":
            return body["arg"].get("instId")
    return None


def _problem(body) -> str | None:
    """Why a received message is neither book data nor known to carry none."""
    if not isinstance(body, dict):
        return "not a Bitget JSON object"
    if "event" in body:
        return None if body["event"] in ("subscribe", "unsubscribe", "login") else f"event {body['event']!r}: {body.get('msg')}"
    channel = (body.get("arg") or {}).get("channel", "")
    if channel == "books" or channel in OTHER_CHANNELS or channel.startswith("candle"):
        return None
    return f"unknown channel {channel!r}"


def symbols(ws: Capture) -> list[str]:
    books = (_book_symbol(rec.body) for rec in ws.received())
    return first_seen(sym for sym in books if sym is not None)


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="none"), checksum="bitget")
    for rec in triaged(book, ws.received(), _problem):
        if _book_symbol(rec.body) != symbol:
            continue
        action = rec.body["action"]
        for part in rec.body.get("data") or []:
            try:
                checksum = int(part["checksum"]) if "checksum" in part else None
                ts = int(part["ts"]) * 1_000_000
            except (KeyError, TypeError, ValueError):
                book.quarantine(rec, "books data without an integer ts / checksum")
                continue
            if action in ("snapshot", "update"):
                book.message(rec, action == "snapshot", part.get("bids", []), part.get("asks", []), checksum=checksum,
                             ts_event=ts)
            else:
                book.quarantine(rec, f"books action {action!r}")
    return book


register_venue(Venue(names=("BITGET",), symbols=symbols, load=load))
