"""Upbit WebSocket ``orderbook`` type in the ``SIMPLE`` format (cryptofeed venue ``UPBIT``).

Upbit sends JSON in binary frames (decoded by :mod:`.capture`); cryptofeed subscribes with
``{"format": "SIMPLE"}``, Upbit's abbreviated field names. Messages (Upbit API, "WebSocket:
Orderbook"): ``{"ty": "orderbook", "cd": market code, "tms": ms, "tas", "tbs" (total ask / bid
size), "obu": [{"ap", "as", "bp", "bs"}, ...], "st"}``, where unit ``k`` of ``obu`` holds the
``k``-th best ask (price ``ap``, size ``as``) and bid (``bp``, ``bs``). ``obu`` lists the 15 best
units and every message is that whole book, so each one is a snapshot of the 15-level window.

Upbit sends no sequence numbers (``Sequencing(link="none")``); ``ts_event`` is ``tms``. ``trade``
and ``ticker`` messages carry no book data; an error reply (``{"error": {...}}``), a message in the
unabbreviated ``DEFAULT`` format and any other type are quarantined.
"""

from __future__ import annotations

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._common import MALFORMED, first_seen, malformed, object_problem, triaged
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

OTHER_TYPES = ("trade", "ticker")
WINDOW = 15  #: units in ``obu``


def _problem(body) -> str | None:
    problem = object_problem(body, "an Upbit JSON object")
    if problem is not None:
        return problem
    if "ty" not in body:
        return f"not a SIMPLE-format message (type {body.get('type')!r})"
    kind = body["ty"]
    return None if kind == "orderbook" or kind in OTHER_TYPES else f"message type {kind!r}"


def symbols(ws: Capture) -> list[str]:
    return first_seen(rec.body.get("cd") for rec in ws.received()
                      if isinstance(rec.body, dict) and rec.body.get("ty") == "orderbook")


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="none"), window=WINDOW)
    for rec in triaged(book, ws.received(), _problem):
        body = rec.body
        if body["ty"] != "orderbook" or body.get("cd") != symbol:
            continue
        try:
            units = body["obu"]
            bids = [(u["bp"], u["bs"]) for u in units]
            asks = [(u["ap"], u["as"]) for u in units]
            book.snapshot(rec, bids, asks, ts_event=int(body["tms"]) * 1_000_000)
        except MALFORMED as exc:
            book.quarantine(rec, malformed("orderbook message", exc))
    return book


register_venue(Venue(names=("UPBIT",), symbols=symbols, load=load))
