"""ProBit WebSocket ``marketdata`` channel, ``order_books`` filter (cryptofeed venue ``PROBIT``).

Messages (ProBit API, "Market Data"): ``{"channel": "marketdata", "market_id", "status": "ok",
"reset": true (first message), "order_books": [{"side": "buy" | "sell", "price", "quantity"}, ...],
...}``. A message with ``reset`` carries the whole book (the snapshot); the others set the listed
levels (quantity ``"0"`` removes a level).

ProBit sends no sequence numbers or checksums (``Sequencing(link="none")``); ``ts_event`` is the
receive time. Messages without ``order_books`` (trades, ticker only) carry no book data; a status
other than ``ok`` is quarantined.
"""

from __future__ import annotations

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._common import first_seen, malformed, split_sides, triaged
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing


def _problem(body) -> str | None:
    if not isinstance(body, dict):
        return "not a ProBit JSON object"
    if body.get("status") not in (None, "ok"):
        return f"status {body.get('status')!r}: {body.get('message', '')}"
    return None


def symbols(ws: Capture) -> list[str]:
    return first_seen(rec.body.get("market_id") for rec in ws.received()
                      if isinstance(rec.body, dict) and "order_books" in rec.body)


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="none"))
    for rec in triaged(book, ws.received(), _problem):
        body = rec.body
        if body.get("market_id") != symbol or "order_books" not in body:
            continue
        try:
            sides = split_sides((level["side"], level["price"], level["quantity"]) for level in body["order_books"])
        except (KeyError, TypeError) as exc:
            book.quarantine(rec, malformed("order_books", exc))
            continue
        book.message(rec, bool(body.get("reset")), *sides)
    return book


register_venue(Venue(names=("PROBIT",), symbols=symbols, load=load))
