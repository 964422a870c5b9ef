"""Pure-Python reference for Kraken's ``book`` channel: dict books keyed by ``Decimal`` price that
keep the venue's own strings, and the checksum computed from those strings as Kraken documents it
(WebSocket API v1, "Book checksum": top 10 asks ascending then top 10 bids descending, price then
volume, ``.`` removed and leading zeros stripped, CRC32).

Independent of the project's parser, sequencer and replayer: used by the tests as an oracle and by
``benchmarks/replay_cryptofeed.py`` as the speed baseline.
"""

from __future__ import annotations

import gzip
import json
import zlib
from decimal import Decimal
from pathlib import Path


def _digits(text: str) -> str:
    return text.replace(".", "").lstrip("0")


def replay_kraken(path: Path, depth: int = 10) -> dict[str, list[tuple]]:
    """Per pair, one row per book message: ``(bids, asks, venue_checksum, our_checksum)`` with
    ``bids``/``asks`` the top ``depth`` levels as ``(price, volume)`` strings, best first."""
    books: dict[str, dict[str, dict[Decimal, tuple[str, str]]]] = {}
    rows: dict[str, list[tuple]] = {}
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            ts, sep, body = line.partition(": ")
            if not sep or not ts[:1].isdigit():
                continue
            msg = json.loads(body)
            if not (isinstance(msg, list) and len(msg) >= 4 and str(msg[-2]).startswith("book")):
                continue
            pair = msg[-1]
            book = books.setdefault(pair, {"a": {}, "b": {}})
            checksum = None
            for payload in msg[1:-2]:
                for key, side in (("as", "a"), ("bs", "b")):
                    if key in payload:
                        book[side] = {Decimal(p): (p, v) for p, v, *_ in payload[key]}
                for side in ("a", "b"):
                    for p, v, *_ in payload.get(side, []):
                        if Decimal(v) == 0:
                            book[side].pop(Decimal(p), None)
                        else:
                            book[side][Decimal(p)] = (p, v)
                if "c" in payload:
                    checksum = int(payload["c"])
            asks = [book["a"][k] for k in sorted(book["a"])[:depth]]
            bids = [book["b"][k] for k in sorted(book["b"], reverse=True)[:depth]]
            ours = zlib.crc32("".join(_digits(s) for lv in asks[:10] + bids[:10] for s in lv).encode())
            rows.setdefault(pair, []).append((bids, asks, checksum, ours))
    return rows
