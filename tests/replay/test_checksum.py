"""Checksum kernels against the venues' documented string algorithms run on the real strings."""

import gzip
import json
import zlib
from decimal import Decimal
from pathlib import Path

import pytest

from obrecon_pipeline.replay._checksum import checksum, kind_code
from tests.conftest import RAW

CRYPTOFEED = RAW / "cryptofeed"


def _first_message(path, predicate):
    with gzip.open(path, "rt") as fh:
        for line in fh:
            ts, sep, body = line.partition(": ")
            if sep and ts.replace(".", "").isdigit():
                msg = json.loads(body)
                if predicate(msg):
                    return msg
    raise AssertionError("no such message")


def _scaled(text, d):
    return int(Decimal(text).scaleb(d))


def test_kraken_snapshot_checksum_from_digits_matches_the_documented_string_crc():
    snap = _first_message(CRYPTOFEED / "2021-04-17" / "KRAKEN.ws.50.0.gz",
                          lambda m: isinstance(m, list) and m[-1] == "XMR/USD" and "as" in m[1])
    asks, bids = snap[1]["as"][:10], snap[1]["bs"][:10]
    # Kraken: "." removed and leading zeros stripped, asks then bids, price then volume
    text = "".join(s.replace(".", "").lstrip("0") for lv in asks + bids for s in lv[:2])
    expected = zlib.crc32(text.encode())
    pd = len(asks[0][0].split(".")[1])
    sd = len(asks[0][1].split(".")[1])
    got = checksum("kraken", [_scaled(b[0], pd) for b in bids], [_scaled(b[1], sd) for b in bids],
                   [_scaled(a[0], pd) for a in asks], [_scaled(a[1], sd) for a in asks], pd, sd)
    assert got == expected


def test_okx_snapshot_checksum_is_the_venue_value():
    snap = _first_message(CRYPTOFEED / "2022-05-13" / "OKX.ws.1.0.gz",
                          lambda m: m.get("action") == "snapshot" and m["arg"]["instId"] == "BTC-USDT")
    d = snap["data"][0]
    bids, asks = d["bids"], d["asks"]
    pd = max(len(x[0].partition(".")[2]) for x in bids + asks)
    sd = max(len(x[1].partition(".")[2]) for x in bids + asks)
    got = checksum("okx", [_scaled(b[0], pd) for b in bids[:25]], [_scaled(b[1], sd) for b in bids[:25]],
                   [_scaled(a[0], pd) for a in asks[:25]], [_scaled(a[1], sd) for a in asks[:25]], pd, sd)
    parts = []
    for i in range(25):
        parts += [f"{bids[i][0]}:{bids[i][1]}", f"{asks[i][0]}:{asks[i][1]}"]
    crc = zlib.crc32(":".join(parts).encode())
    assert got == d["checksum"] == (crc - (1 << 32) if crc >= 1 << 31 else crc)


@pytest.mark.parametrize(
    "bids, asks, price_decimals, size_decimals, text",
    [
        ([(3031600, 8000)], [(3031650, 5)], 2, 5, "30316:0.08:30316.5:0.00005"),  # no trailing zeros
        ([(1, 1)], [], 5, 5, "0.00001:0.00001"),  # a side that ran out is skipped
        ([], [(2, 100000)], 5, 5, "0.00002:1"),
    ],
)
def test_okx_text_is_canonical_decimals(bids, asks, price_decimals, size_decimals, text):
    crc = zlib.crc32(text.encode())
    signed = crc - (1 << 32) if crc >= 1 << 31 else crc
    got = checksum("okx", [b[0] for b in bids], [b[1] for b in bids], [a[0] for a in asks],
                   [a[1] for a in asks], price_decimals, size_decimals)
    assert got == signed


def test_unknown_algorithm_is_refused():
    with pytest.raises(ValueError, match="unknown checksum algorithm"):
        kind_code("crc64")
