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
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.cryptofeed.messages import BookMessages, Sequencing

SIDES = {"buy": 0, "sell": 1}


def symbols(ws: Capture) -> list[str]:
    found: dict[str, None] = {}
    for rec in ws.received():
        if isinstance(rec.body, dict) and "order_books" in rec.body:
            found.setdefault(rec.body.get("market_id"))
    return list(found)


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="none"))
    for rec in ws.received():
        body = rec.body
        if not isinstance(body, dict):
            book.quarantine(rec, "not a ProBit JSON object")
            continue
        if body.get("status") not in (None, "ok"):
            book.quarantine(rec, f"status {body.get('status')!r}: {body.get('message', '')}")
            continue
        if body.get("market_id") != symbol or "order_books" not in body:
            continue
        try:
            sides: tuple[list, list] = ([], [])
            for level in body["order_books"]:
                sides[SIDES[level["side"]]].append((level["price"], level["quantity"]))
        except (KeyError, TypeError) as exc:
            book.quarantine(rec, f"malformed order_books ({type(exc).__name__}: {exc})")
            continue
        if body.get("reset"):
            book.snapshot(rec, *sides)
        else:
            book.diff(rec, *sides)
    return book


register_venue(Venue(names=("PROBIT",), symbols=symbols, load=load))
