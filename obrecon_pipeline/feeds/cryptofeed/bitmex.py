"""BitMEX realtime ``orderBookL2`` table (cryptofeed venue ``BITMEX``).

Messages (BitMEX API, "Subscriptions / orderBookL2"): ``{"table": "orderBookL2", "action":
"partial" | "insert" | "update" | "delete", "data": [{"symbol", "id", "side": "Buy" | "Sell",
"size", "price"}, ...]}``. A level is keyed by ``id``, which stands for one price of one symbol:
``partial`` (the full book of a symbol) and ``insert`` carry the price, ``update`` (new size) and
``delete`` carry only the id. The translator therefore keeps the venue's ``id -> price`` key table
(learned from partial/insert, a decoding table, not book state) and emits each entry as a level
``(price, size)``, size ``"0"`` for a delete; an update or delete of an id never announced is
quarantined. A ``partial`` is the snapshot.

The table has no sequence numbers or checksums: ``Sequencing(link="none")``; ``ts_event`` is the
receive time. ``info``/``success`` replies and the quote / trade tables carry no book data; an
``error`` reply is quarantined.
"""

from __future__ import annotations

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.cryptofeed.messages import BookMessages, Sequencing

TABLE = "orderBookL2"
OTHER_TABLES = ("quote", "trade", "instrument", "funding", "liquidation")
SIDES = {"Buy": 0, "Sell": 1}


def symbols(ws: Capture) -> list[str]:
    found: dict[str, None] = {}
    for rec in ws.received():
        body = rec.body
        if isinstance(body, dict) and body.get("table") == TABLE and body.get("action") == "partial":
            for entry in body.get("data", []):
                found.setdefault(entry["symbol"])
    return list(found)


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="none"))
    price_of: dict[int, str] = {}  # the venue's level key table: id -> price text
    for rec in ws.received():
        body = rec.body
        if not isinstance(body, dict):
            book.quarantine(rec, "not a BitMEX JSON object")
            continue
        if "error" in body:
            book.quarantine(rec, f"error: {body['error']}")
            continue
        table = body.get("table")
        if table is None or table in OTHER_TABLES:
            continue
        if table != TABLE:
            book.quarantine(rec, f"unknown table {table!r}")
            continue
        action = body.get("action")
        try:
            entries = [e for e in body["data"] if e["symbol"] == symbol]
            if not entries:
                continue
            sides: tuple[list, list] = ([], [])
            for e in entries:
                if action in ("partial", "insert"):
                    price_of[int(e["id"])] = str(e["price"])
                price = price_of.get(int(e["id"]))
                if price is None:
                    raise KeyError(f"level id {e['id']} was never announced by a partial or insert")
                size = "0" if action == "delete" else str(e["size"])
                sides[SIDES[e["side"]]].append((price, size))
        except (KeyError, TypeError, ValueError) as exc:
            book.quarantine(rec, f"malformed orderBookL2 {action} ({type(exc).__name__}: {exc})")
            continue
        if action == "partial":
            book.snapshot(rec, *sides)
        elif action in ("insert", "update", "delete"):
            book.diff(rec, *sides)
        else:
            book.quarantine(rec, f"orderBookL2 action {action!r}")
    return book


register_venue(Venue(names=("BITMEX",), symbols=symbols, load=load))
