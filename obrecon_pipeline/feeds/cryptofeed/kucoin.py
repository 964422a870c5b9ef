"""KuCoin spot ``/market/level2`` channel with the REST level-2 snapshot (cryptofeed venue ``KUCOIN``).

* diff (KuCoin docs, "Level2 Market Data"): ``{"type": "message", "topic": "/market/level2:SYM",
  "data": {"sequenceStart", "sequenceEnd", "changes": {"asks": [[price, size, sequence], ...],
  "bids": [...]}}}``; size ``"0"`` removes the level; a change with price ``"0"`` only advances the
  sequence (no book change) and is skipped.
* snapshot: the REST ``/api/v3/market/orderbook/level2?symbol=SYM`` response
  ``{"data": {"sequence", "time", "bids", "asks"}}`` (full depth).
* ``/market/ticker:SYM`` (``sequence`` in the same numbering, ``bestBid``/``bestBidSize``/``bestAsk``
  /``bestAskSize``) is an independent top-of-book reference.

Sync (same docs, "calibration"): with the snapshot's ``sequence`` S, drop diffs whose
``sequenceEnd <= S``; the first diff applied has ``sequenceStart <= S + 1 <= sequenceEnd``, and
within it only the changes with their own sequence ``> S`` apply; afterwards ``sequenceStart`` is
the previous ``sequenceEnd`` + 1 (``Sequencing(link="first", sync_offset=1)``). Level-2 diffs have
no venue time: ``ts_event`` is the receive time (the snapshot's is its ``time``). ``welcome``,
``ack``, ``pong`` and the match / candles channels carry no book data; anything else is quarantined.
"""

from __future__ import annotations

import re

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed._common import MALFORMED, first_seen, malformed, rest_symbol
from obrecon_pipeline.feeds.cryptofeed.capture import Capture
from obrecon_pipeline.feeds.l2.messages import BookMessages, Sequencing

CONTROL_TYPES = ("welcome", "ack", "pong")
OTHER_TOPICS = ("/market/match", "/market/candles", "/market/snapshot")
_REST_BOOK = re.compile(r"/market/orderbook/level2\?(?:.*&)?symbol=([^&]+)")


def _problem(body) -> str | None:
    if not isinstance(body, dict):
        return "not a KuCoin JSON object"
    if body.get("type") in CONTROL_TYPES:
        return None
    if body.get("type") != "message":
        return f"message type {body.get('type')!r}: {body.get('data')}"
    topic = str(body.get("topic", "")).split(":")[0]
    if topic in ("/market/level2", "/market/ticker") or topic in OTHER_TOPICS:
        return None
    return f"unknown topic {topic!r}"


def _topic_symbol(body, topic: str) -> str | None:
    t = str(body.get("topic", "")) if isinstance(body, dict) else ""
    return t.split(":", 1)[1] if t.startswith(topic + ":") else None


def symbols(ws: Capture) -> list[str]:
    books = (_topic_symbol(rec.body, "/market/level2") for rec in ws.received())
    return first_seen(sym for sym in books if sym is not None)


def load(ws: Capture, rest: list[Capture], symbol: str) -> BookMessages:
    book = BookMessages(symbol, Sequencing(link="first", sync_offset=1))
    base = None  # sequence of the last REST snapshot
    for rec in ws.merged_with(rest):
        try:
            if rec.kind == "rest":
                if rest_symbol(rec, _REST_BOOK) != symbol:
                    continue
                data = rec.body["data"]
                base = int(data["sequence"])
                book.snapshot(rec, data["bids"], data["asks"], update_id=base,
                              ts_event=int(data["time"]) * 1_000_000)
                continue
            problem = _problem(rec.body)
            if problem is not None:
                book.quarantine(rec, problem)
                continue
            data = rec.body.get("data")
            if _topic_symbol(rec.body, "/market/level2") == symbol:
                changes = data["changes"]
                # price "0": a sequence-only change; own sequence <= snapshot: already in the snapshot
                keep = [
                    [(p, s) for p, s, seq in changes.get(side, []) if p != "0" and (base is None or int(seq) > base)]
                    for side in ("bids", "asks")
                ]
                book.diff(rec, keep[0], keep[1], first_id=int(data["sequenceStart"]), last_id=int(data["sequenceEnd"]))
            elif _topic_symbol(rec.body, "/market/ticker") == symbol:
                book.ticker(rec, int(data["sequence"]), data["bestBid"], data["bestBidSize"], data["bestAsk"],
                            data["bestAskSize"])
        except MALFORMED as exc:
            book.quarantine(rec, malformed("KuCoin message", exc))
    return book


register_venue(Venue(names=("KUCOIN",), symbols=symbols, load=load))
