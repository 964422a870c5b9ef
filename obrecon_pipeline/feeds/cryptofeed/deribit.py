"""Deribit JSON-RPC ``book.<instrument>.raw`` subscription (cryptofeed venue ``DERIBIT``).

Notifications (Deribit API v2, "book.{instrument_name}.{interval}"):
``{"method": "subscription", "params": {"channel": "book.X.raw", "data": {"type": "snapshot" |
"change", "timestamp": ms, "instrument_name", "change_id", "prev_change_id" (changes only),
"bids": [[action, price, amount], ...], "asks": [...]}}}`` with ``action`` ``"new"``, ``"change"``
or ``"delete"`` (the level's new ``amount``; delete removes it).

Integrity (same docs): every change carries ``prev_change_id``, the ``change_id`` of the previous
notification of that book; a mismatch means a notification was lost. A change therefore covers
the ids ``(prev_change_id, change_id]``: ``first_id = prev_change_id + 1``, ``last_id =
change_id``, the snapshot ``update_id = change_id``; with ``Sequencing(link="first",
sync_offset=1)`` a lost change is a located gap and the book is invalid until the next snapshot.
``ts_event`` is ``timestamp``. Other channels (ticker, trades, ...) and RPC replies carry no book
data; an RPC ``error`` is quarantined.
"""

from __future__ import annotations

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._common import MALFORMED, first_seen, malformed, message_of_kind, triaged
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing


def _book_data(body) -> dict | None:
    if isinstance(body, dict) and body.get("method") == "subscription":
        params = body.get("params") or {}
        if str(params.get("channel", "")).startswith("book."):
            return params.get("data")
    return None


def _levels(raw) -> list[tuple[str, str]]:
    """``[[action, price, amount], ...]`` -> ``(price, size)`` strings, delete -> size ``"0"``."""
    out = []
    for action, price, amount in raw:
        if action not in ("new", "change", "delete"):
            raise ValueError(f"level action {action!r}")
        out.append((str(price), "0" if action == "delete" else str(amount)))
    return out


def _problem(body) -> str | None:
    if isinstance(body, dict) and "error" in body:
        return f"RPC error {body['error']}"
    if not (isinstance(body, dict) and body.get("jsonrpc") == "2.0"):
        return "not a Deribit JSON-RPC message"
    return None


def symbols(ws: Capture) -> list[str]:
    books = (_book_data(rec.body) for rec in ws.received())
    return first_seen(data["instrument_name"] for data in books if isinstance(data, dict) and "instrument_name" in data)


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="first", sync_offset=1))
    for rec in triaged(book, ws.received(), _problem):
        data = _book_data(rec.body)
        if data is None or data.get("instrument_name") != symbol:
            continue
        try:
            bids, asks = _levels(data.get("bids", [])), _levels(data.get("asks", []))
            ts, change_id, kind = int(data["timestamp"]) * 1_000_000, int(data["change_id"]), data["type"]
            first_id = int(data["prev_change_id"]) + 1 if kind == "change" else None
        except MALFORMED as exc:
            book.quarantine(rec, malformed("book notification", exc))
        else:
            message_of_kind(book, rec, kind, "snapshot", "change", "book notification type", bids, asks,
                            first_id=first_id, last_id=change_id, ts_event=ts)
    return book


register_venue(Venue(names=("DERIBIT",), symbols=symbols, load=load))
