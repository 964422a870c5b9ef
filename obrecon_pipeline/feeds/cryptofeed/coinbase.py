"""Coinbase Pro (Exchange) WebSocket ``level2`` channel (cryptofeed venue ``COINBASE``).

Messages (Coinbase Exchange docs, "Level2 channel"): ``{"type": "snapshot", "product_id",
"bids": [[price, size], ...], "asks": [...]}`` once per product, then ``{"type": "l2update",
"product_id", "changes": [[side, price, size], ...], "time": ISO-8601}`` with ``side`` ``"buy"``
(bid) or ``"sell"`` (ask) and ``size`` the level's new aggregate (``"0"`` removes it).

The channel has no sequence numbers and no checksum (``Sequencing(link="none")``): diffs apply in
arrival order after the snapshot. ``ts_event`` is the update's ``time`` (the snapshot has none:
its receive time). ``subscriptions``, ``ticker``, ``match``, ``last_match`` and ``heartbeat``
messages carry no level-2 data; an ``error`` or any other type is quarantined.

A capture read by lines (:func:`.capture.scanned`) is parsed by :mod:`.book_lines` (the
``COINBASE`` shape of :mod:`._book_scan`): the payloads it takes are added as columns, the lines it
leaves are translated one by one in file order (:func:`_translate`, the per-message path of a
capture held parsed), so both give the same messages, quarantine and errors.
"""

from __future__ import annotations

import numpy as np

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._common import MALFORMED, malformed, split_sides, symbols_where, type_problem
from obrecon_pipeline.feeds.cryptofeed._book_scan import COINBASE as COINBASE_SHAPE
from obrecon_pipeline.feeds.cryptofeed.book_lines import loader, symbols_of
from obrecon_pipeline.feeds.cryptofeed.capture import Capture, Record
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

BOOK_TYPES = ("snapshot", "l2update")
OTHER_TYPES = ("subscriptions", "ticker", "match", "last_match", "heartbeat", "received", "open", "done", "change")


def iso_ns(text: str) -> int:
    """``"2021-04-17T16:43:37.075687Z"`` -> ns since the epoch (exact; ``ValueError`` if not ISO)."""
    return int(np.datetime64(text.removesuffix("Z"), "ns").astype(np.int64))


_problem = type_problem(BOOK_TYPES + OTHER_TYPES)


_symbols = symbols_where("product_id", type=("snapshot",))


def _snapshot_symbol(rec: Record) -> tuple[bool, object]:
    """Whether a record left by the parser is a snapshot, and the product it names."""
    hit = isinstance(rec.body, dict) and rec.body.get("type") == "snapshot"
    return hit, rec.body.get("product_id") if hit else None


def symbols(ws: Capture) -> list:
    """The products of the snapshots, in order of appearance."""
    if not ws.from_file:
        return _symbols(ws)
    return symbols_of(ws, COINBASE_SHAPE, _kept, _snapshot_symbol, snapshots=True)


def _translate(book: BookMessages, rec: Record, symbol: str) -> None:
    """One received record into ``book`` (the per-message path)."""
    reason = _problem(rec.body)
    if reason is not None:
        book.quarantine(rec, reason)
        return
    body = rec.body
    if body["type"] not in BOOK_TYPES or body.get("product_id") != symbol:
        return
    if body["type"] == "snapshot":
        book.snapshot(rec, body.get("bids", []), body.get("asks", []))
        return
    try:
        ts, sides = iso_ns(body["time"]), split_sides(body["changes"])
    except MALFORMED as exc:
        book.quarantine(rec, malformed("l2update", exc))
        return
    book.diff(rec, *sides, ts_event=ts)


def _kept(rec: Record) -> bool:
    """The records the parser left that :func:`_translate` can use: received ones, but for those of
    a known type without level-2 data (they give nothing)."""
    return rec.kind == "recv" and not (isinstance(rec.body, dict) and rec.body.get("type") in OTHER_TYPES)


def _is_book(rec: Record, symbol: str) -> bool:
    """Whether ``rec`` may be a message of ``symbol``'s book (its place among the parsed ones matters)."""
    return isinstance(rec.body, dict) and rec.body.get("type") in BOOK_TYPES and rec.body.get("product_id") == symbol


load = loader(COINBASE_SHAPE, _kept, _translate, _is_book, sequencing=Sequencing(link="none"))


register_venue(Venue(names=("COINBASE",), symbols=symbols, load=load))
