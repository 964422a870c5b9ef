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
from obrecon_pipeline.feeds.cryptofeed._common import MALFORMED, malformed, symbols_where, triaged, type_problem
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

OTHER_TYPES = ("subscriptions", "heartbeat", "all_trades", "all_trades_snapshot", "v2/ticker", "mark_price")


def _levels(raw) -> list[tuple[str, str]]:
    return [(str(level["limit_price"]), str(level["size"])) for level in raw]


_problem = type_problem(("l2_orderbook", *OTHER_TYPES), prefixes=("candlestick_",))


symbols = symbols_where("symbol", type=("l2_orderbook",))


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="none"))
    for rec in triaged(book, ws.received(), _problem):
        body = rec.body
        if body["type"] != "l2_orderbook" or body.get("symbol") != symbol:
            continue
        try:
            book.snapshot(rec, _levels(body["buy"]), _levels(body["sell"]), ts_event=int(body["timestamp"]) * 1000)
        except MALFORMED as exc:
            book.quarantine(rec, malformed("l2_orderbook", exc))
    return book


register_venue(Venue(names=("DELTA",), symbols=symbols, load=load))
