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
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.cryptofeed.messages import BookMessages, Sequencing


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


def symbols(ws: Capture) -> list[str]:
    found: dict[str, None] = {}
    for rec in ws.received():
        data = _book_data(rec.body)
        if isinstance(data, dict) and "instrument_name" in data:
            found.setdefault(data["instrument_name"])
    return list(found)


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="first", sync_offset=1))
    for rec in ws.received():
        body = rec.body
        if isinstance(body, dict) and "error" in body:
            book.quarantine(rec, f"RPC error {body['error']}")
            continue
        if not (isinstance(body, dict) and body.get("jsonrpc") == "2.0"):
            book.quarantine(rec, "not a Deribit JSON-RPC message")
            continue
        data = _book_data(body)
        if data is None or data.get("instrument_name") != symbol:
            continue
        try:
            bids, asks = _levels(data.get("bids", [])), _levels(data.get("asks", []))
            ts = int(data["timestamp"]) * 1_000_000
            change_id = int(data["change_id"])
            if data["type"] == "snapshot":
                book.snapshot(rec, bids, asks, update_id=change_id, ts_event=ts)
            elif data["type"] == "change":
                book.diff(rec, bids, asks, first_id=int(data["prev_change_id"]) + 1, last_id=change_id, ts_event=ts)
            else:
                book.quarantine(rec, f"book notification type {data['type']!r}")
        except (KeyError, TypeError, ValueError) as exc:
            book.quarantine(rec, f"malformed book notification ({type(exc).__name__}: {exc})")
    return book


register_venue(Venue(names=("DERIBIT",), symbols=symbols, load=load))
