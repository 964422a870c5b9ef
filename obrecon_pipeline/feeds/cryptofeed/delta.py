"""Delta Exchange WebSocket ``l2_orderbook`` channel (cryptofeed venue ``DELTA``).

Messages (Delta Exchange API, "l2_orderbook"): ``{"type": "l2_orderbook", "symbol",
"last_sequence_no", "timestamp": µs, "buy": [{"limit_price", "size", "depth"}, ...], "sell":
[...]}``. Every message is the whole visible book, so every message is a snapshot (``CLEAR`` +
levels); ``size`` arrives as a JSON integer. ``ts_event`` is ``timestamp``.

A full book per message needs no chaining (``Sequencing(link="none")``). Subscription and
candlestick messages carry no book data; anything else is quarantined.
"""

from __future__ import annotations

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.cryptofeed.messages import BookMessages, Sequencing

OTHER_TYPES = ("subscriptions", "heartbeat", "all_trades", "all_trades_snapshot", "v2/ticker", "mark_price")


def _levels(raw) -> list[tuple[str, str]]:
    return [(str(level["limit_price"]), str(level["size"])) for level in raw]


def symbols(ws: Capture) -> list[str]:
    found: dict[str, None] = {}
    for rec in ws.received():
        if isinstance(rec.body, dict) and rec.body.get("type") == "l2_orderbook":
            found.setdefault(rec.body.get("symbol"))
    return list(found)


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="none"))
    for rec in ws.received():
        body = rec.body
        kind = body.get("type") if isinstance(body, dict) else None
        if kind in OTHER_TYPES or str(kind).startswith("candlestick_"):
            continue
        if kind != "l2_orderbook":
            book.quarantine(rec, f"message type {kind!r}")
            continue
        if body.get("symbol") != symbol:
            continue
        try:
            book.snapshot(rec, _levels(body["buy"]), _levels(body["sell"]), ts_event=int(body["timestamp"]) * 1000)
        except (KeyError, TypeError, ValueError) as exc:
            book.quarantine(rec, f"malformed l2_orderbook ({type(exc).__name__}: {exc})")
    return book


register_venue(Venue(names=("DELTA",), symbols=symbols, load=load))
