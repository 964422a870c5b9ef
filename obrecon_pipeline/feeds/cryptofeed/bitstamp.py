"""Bitstamp WebSocket v2 ``diff_order_book_<pair>`` with the REST ``order_book`` snapshot
(cryptofeed venue ``BITSTAMP``).

* diff (Bitstamp docs, "Websocket API v2"): ``{"event": "data", "channel":
  "diff_order_book_<pair>", "data": {"timestamp", "microtimestamp", "bids": [[price, amount], ...],
  "asks": [...]}}``; amount ``"0..."`` removes the level.
* snapshot: the REST ``/api/v2/order_book/<pair>`` response ``{"timestamp", "microtimestamp",
  "bids", "asks"}`` (full book).

Bitstamp has no update ids. Its documented procedure orders the two by ``microtimestamp``: apply
the diffs newer than the snapshot. Each diff is therefore identified by the microsecond interval
it covers, ``first_id = previous diff's microtimestamp + 1``, ``last_id = microtimestamp``, the
snapshot by ``update_id = microtimestamp``; with ``Sequencing(link="first", sync_offset=1)`` the
diffs at or before the snapshot are stale (dropped, counted) and the first one after it syncs.
This cannot reveal a lost diff (there is nothing to reveal it with); it does order and sync
exactly as documented. ``ts_event`` is ``microtimestamp``. Subscription events and
``live_trades_*`` carry no book data; anything else is quarantined.
"""

from __future__ import annotations

import re

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._common import MALFORMED, first_seen, malformed, rest_symbol
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

PREFIX = "diff_order_book_"
_REST_BOOK = re.compile(r"/order_book/([a-z0-9]+)/?(?:\?|$)")
CONTROL_EVENTS = ("bts:subscription_succeeded", "bts:unsubscription_succeeded", "bts:heartbeat")


def _problem(body) -> str | None:
    if not isinstance(body, dict):
        return "not a Bitstamp JSON object"
    if body.get("event") in CONTROL_EVENTS:
        return None
    channel = str(body.get("channel", ""))
    if body.get("event") == "data" and channel.startswith(PREFIX):
        return None
    if body.get("event") == "trade" and channel.startswith("live_trades_"):
        return None
    return f"event {body.get('event')!r} on channel {channel!r}"


def symbols(ws: Capture) -> list[str]:
    return first_seen(rec.body["channel"][len(PREFIX):] for rec in ws.received()
                      if isinstance(rec.body, dict) and rec.body.get("event") == "data"
                      and str(rec.body.get("channel", "")).startswith(PREFIX))


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="first", sync_offset=1))
    prev = None  # microtimestamp of the previous diff
    for rec in ws.merged_with(rest):
        try:
            if rec.kind == "rest":
                if rest_symbol(rec, _REST_BOOK) != symbol:
                    continue
                mts = int(rec.body["microtimestamp"])
                book.snapshot(rec, rec.body["bids"], rec.body["asks"], update_id=mts, ts_event=mts * 1000)
                continue
            problem = _problem(rec.body)
            if problem is not None:
                book.quarantine(rec, problem)
                continue
            if rec.body.get("event") != "data" or rec.body.get("channel") != PREFIX + symbol:
                continue
            data = rec.body["data"]
            mts = int(data["microtimestamp"])
            book.diff(rec, data["bids"], data["asks"], first_id=mts if prev is None else prev + 1, last_id=mts,
                      ts_event=mts * 1000)
            prev = mts
        except MALFORMED as exc:
            book.quarantine(rec, malformed("Bitstamp message", exc))
    return book


register_venue(Venue(names=("BITSTAMP",), symbols=symbols, load=load))
