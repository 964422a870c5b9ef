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
from obrecon_pipeline.feeds.cryptofeed._common import (
    MALFORMED, first_seen, malformed, object_problem, split_sides, triaged,
)
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

TABLE = "orderBookL2"
OTHER_TABLES = ("quote", "trade", "instrument", "funding", "liquidation")
SIDES = {"Buy": 0, "Sell": 1}
ACTIONS = ("partial", "insert", "update", "delete")


def _problem(body) -> str | None:
    problem = object_problem(body, "a BitMEX JSON object", "error: {}")
    if problem is None and body.get("table") not in (None, TABLE, *OTHER_TABLES):
        return f"unknown table {body['table']!r}"
    return problem


def symbols(ws: Capture) -> list[str]:
    return first_seen(entry["symbol"] for rec in ws.received()
                      if isinstance(rec.body, dict) and rec.body.get("table") == TABLE
                      and rec.body.get("action") == "partial"
                      for entry in rec.body.get("data", []))


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="none"))
    price_of: dict[int, str] = {}  # the venue's level key table: id -> price text
    for rec in triaged(book, ws.received(), _problem):
        if rec.body.get("table") != TABLE:
            continue
        action = rec.body.get("action")
        try:
            entries = [e for e in rec.body["data"] if e["symbol"] == symbol]
            if not entries:
                continue
            changes = []
            for e in entries:
                if action in ("partial", "insert"):
                    price_of[int(e["id"])] = str(e["price"])
                price = price_of.get(int(e["id"]))
                if price is None:
                    raise KeyError(f"level id {e['id']} was never announced by a partial or insert")
                changes.append((e["side"], price, "0" if action == "delete" else str(e["size"])))
            sides = split_sides(changes, SIDES)
        except MALFORMED as exc:
            book.quarantine(rec, malformed(f"orderBookL2 {action}", exc))
            continue
        if action in ACTIONS:
            book.message(rec, action == "partial", *sides)
        else:
            book.quarantine(rec, f"orderBookL2 action {action!r}")
    return book


register_venue(Venue(names=("BITMEX",), symbols=symbols, load=load))
