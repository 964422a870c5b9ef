"""Captures whose websocket frames are recorded as Python bytes literals: Huobi spot and swaps
(gzip-compressed JSON) and Upbit (JSON bytes).

Expected figures were counted from the capture files. The final tops of book are checked against
an independent decode in this file: the literal's escapes undone with ``codecs.escape_decode``
(not ``ast``), ``gzip`` + ``json`` and ``decimal.Decimal``, the last push of the symbol read
straight from the file.
"""

from __future__ import annotations

import codecs
import gzip
import json
import re
from decimal import Decimal as D

import pytest

from cfhelpers import CRYPTOFEED, lines, run, runs, write_capture
from obrecon_pipeline.errors import InputError
from obrecon_pipeline.feeds.cryptofeed import from_files
from obrecon_pipeline.feeds.cryptofeed.capture import read_capture

HUOBI = CRYPTOFEED / "2021-04-17" / "HUOBI.ws.44.0.gz"
HUOBI_SWAP = CRYPTOFEED / "2022-02-19" / "HUOBI_SWAP.ws.1.0.gz"
HUOBI_LINEAR_SWAP = CRYPTOFEED / "2022-02-19" / "HUOBI_SWAP.ws.2.0.gz"
UPBIT = CRYPTOFEED / "2021-04-17" / "UPBIT.ws.62.0.gz"
_RECV = re.compile(r"""^\d+(?:\.\d+)?: b(['"])(.*)\1$""", re.S)


def frames(path):
    """``(line, json)`` of every received frame, decoded independently of the parser."""
    out = []
    for n, text in enumerate(lines(path), start=1):
        m = _RECV.match(text.rstrip("\n"))
        if m is None:
            continue
        raw = codecs.escape_decode(m.group(2).encode("latin-1"))[0]
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        out.append((n, json.loads(raw, parse_float=D, parse_int=D)))
    return out


def final_top(res) -> tuple[int, int, int, int]:
    """Last book row's best bid / ask as the scaled integers of the event table."""
    return tuple(int(v) for v in res.cells[-1, :4])


def scaled(ev, bid_px, bid_sz, ask_px, ask_sz) -> tuple[int, int, int, int]:
    p, s = int(ev["price_scale"][0]), int(ev["size_scale"][0])
    return int(bid_px * p), int(bid_sz * s), int(ask_px * p), int(ask_sz * s)


def check_snapshots(files, expected: dict, window: int) -> dict:
    """Every stream: every message a snapshot of the window, valid, uncrossed, nothing quarantined."""
    out = {}
    for symbol, bm, sq, loaded, res in runs(files, expected, window):
        msgs = bm.messages()
        assert msgs.height == int(msgs["snapshot"].sum()) == res.counters["rows"] == expected[symbol], symbol
        assert (loaded.stats["gaps"], loaded.stats["quarantined"], loaded.options.window) == (0, 0, window)
        assert res.book["book_valid"].all() and res.counters["crossed_rows"] == res.counters["locked_rows"] == 0
        out[symbol] = (bm, loaded, res)
    return out


# --------------------------------------------------------------------------------- capture
def test_bytes_literal_frames_are_decoded_exactly():
    huobi, upbit = read_capture(HUOBI), read_capture(UPBIT)
    assert [sum(r.kind == k for r in huobi.records) for k in ("connect", "sent", "recv")] == [1, 26, 362]
    assert [sum(r.kind == k for r in upbit.records) for k in ("connect", "sent", "recv")] == [1, 1, 449]
    assert huobi.quarantine == upbit.quarantine == []
    for path, cap in ((HUOBI, huobi), (UPBIT, upbit)):
        ours = {r.line: r.body for r in cap.records if r.kind == "recv"}
        ref = frames(path)
        assert len(ref) == len(ours)
        for line, body in ref:  # floats as their literal text: the same values as the Decimal decode
            assert _same(ours[line], body), line
    assert next(r.body for r in huobi.records if r.line == 93) == {"ping": 1618678073643}


def _same(ours, ref) -> bool:
    """Parser body (float literals as strings) equals the Decimal decode, value for value."""
    if isinstance(ref, dict):
        return isinstance(ours, dict) and ours.keys() == ref.keys() and all(_same(ours[k], ref[k]) for k in ref)
    if isinstance(ref, list):
        return isinstance(ours, list) and len(ours) == len(ref) and all(map(_same, ours, ref))
    if isinstance(ref, D):
        return D(str(ours)) == ref
    return ours == ref


def test_corrupt_bytes_literals_are_counted_quarantine(tmp_path):
    content = lines(HUOBI)
    doge = [n - 1 for n, b in frames(HUOBI) if b.get("ch") == "market.dogeeth.depth.step0"]
    assert len(doge) == 30
    literal = content[doge[3]].split(": ", 1)
    raw = codecs.escape_decode(literal[1].rstrip("\n")[2:-1].encode("latin-1"))[0]
    content[doge[3]] = f"{literal[0]}: {raw[: len(raw) // 2]!r}\n"  # a gzip frame cut in half
    content[doge[5]] = content[doge[5]].rstrip("\n")[:-1] + "\n"  # the closing quote lost
    content[doge[7]] = content[doge[7]].split(": ", 1)[0] + ": b'{}', 1\n"  # not one bytes literal
    error = gzip.compress(b'{"status":"error","err-code":"bad-request","err-msg":"invalid topic","ts":1}')
    unknown = gzip.compress(b'{"ch":"market.dogeeth.kline.1min","ts":1618678080000,"tick":{}}')
    content.insert(doge[9], f"1618678080.6: {error!r}\n")
    content.insert(doge[9], f"1618678080.5: {unknown!r}\n")
    path = write_capture(tmp_path, HUOBI, content)
    bm, sq, loaded, res = run([path], "dogeeth", 150)
    q = loaded.quarantine.sort("row").rows()
    name = str(path.resolve())
    assert [(f, row) for f, row, _ in q] == [(name, doge[3] + 1), (name, doge[5] + 1), (name, doge[7] + 1),
                                             (name, doge[9] + 1), (name, doge[9] + 2)]
    reasons = [r for _, _, r in q]
    assert reasons[0].startswith("corrupt gzip frame in a 'recv' line")
    assert reasons[1].startswith("undecodable bytes literal in a 'recv' line: SyntaxError")
    assert reasons[2] == "a 'recv' body starting b' evaluates to tuple, not one bytes literal"
    assert reasons[3:] == ["unknown channel 'market.dogeeth.kline.1min'", "error 'bad-request': invalid topic"]
    assert loaded.stats["quarantined"] == 5
    assert bm.messages().height == 30 - 3 and res.book["book_valid"].all()


# ----------------------------------------------------------------------------- Huobi spot
HUOBI_MESSAGES = {"trioeth": 26, "borusdt": 27, "omgbtc": 31, "xvgeth": 31, "yfihusd": 31, "zeneth": 31,
                  "dogeeth": 30, "fil3susdt": 31, "propyeth": 25, "nesteth": 29}
#: sizes sent with float noise ('0.575610404535042') beside large ones: no Int64 scale holds both;
#: the error names the value whose decimals set the scale (its row), and the one that overflows
HUOBI_TOO_PRECISE = {
    "borusdt": (25, "size '0.575610404535042' has 15 decimals: at scale 10^15 size '1500.0' (row 25) "
                    "does not fit a 64-bit integer"),
    "xvgeth": (29, "size '3307.9982700421942' has 13 decimals: at scale 10^13 size '142898.78' (row 29) "
                   "does not fit a 64-bit integer"),
    "fil3susdt": (251, "size '436947.11845272494' has 11 decimals: at scale 10^11 size '2.32792177092E7' "
                       "(row 37) does not fit a 64-bit integer"),
}


def test_huobi_spot_every_push_is_the_150_level_book():
    assert sum(HUOBI_MESSAGES.values()) == 292
    for symbol, (row, reason) in HUOBI_TOO_PRECISE.items():
        with pytest.raises(InputError) as err:
            run([HUOBI], symbol, 150)
        assert (err.value.path, err.value.row, err.value.reason) == (str(HUOBI.resolve()), row, reason)
    streams = from_files([HUOBI])
    assert [s.symbol for s in streams] == list(HUOBI_MESSAGES) and streams[0].name == "HUOBI-trioeth"
    streams = [s for s in streams if s.symbol not in HUOBI_TOO_PRECISE]
    got = {}
    for s in streams:
        bm, sq, loaded, res = run([HUOBI], s.symbol, 150)
        msgs = bm.messages()
        assert msgs.height == int(msgs["snapshot"].sum()) == HUOBI_MESSAGES[s.symbol]
        assert loaded.stats["quarantined"] == loaded.stats["gaps"] == 0 and loaded.options.window == 150
        assert res.book["book_valid"].all() and res.counters["crossed_rows"] == 0
        got[s.symbol] = (loaded, res)
    assert sum(HUOBI_MESSAGES[s] for s in got) == 203
    last = [b for _, b in frames(HUOBI) if b.get("ch") == "market.dogeeth.depth.step0"][-1]
    bids, asks = last["tick"]["bids"], last["tick"]["asks"]
    loaded, res = got["dogeeth"]
    assert final_top(res) == scaled(loaded.events, *bids[0], *asks[0])
    assert (len(bids), len(asks)) == (150, 150)  # the whole window, every level replaced
    assert res.book.row(-1, named=True)["bid_price_150"] == float(bids[149][0])
    assert res.book.row(-1, named=True)["ts_event"] == int(last["tick"]["ts"]) * 1_000_000


def test_huobi_spot_with_the_symbol_list_rounds_to_the_venue_precision():
    """With HUOBI.0 (the venue's symbol list) every value is rounded half-even to the symbol's
    published precision: the float-noise streams load, the others are unchanged."""
    rest = HUOBI.with_name("HUOBI.0.gz")
    rounded = {"borusdt": 27, "omgbtc": 31, "xvgeth": 31, "fil3susdt": 73}
    for symbol, n in HUOBI_MESSAGES.items():
        bm, sq, loaded, res = run([HUOBI, rest], symbol, 150)
        assert bm.messages().height == n and res.book["book_valid"].all()
        assert loaded.stats["values_rounded_to_venue_precision"] == rounded.get(symbol, 0)
    # borusdt: price-precision 2, amount-precision 6 in HUOBI.0; the last book, rounded independently
    last = [b for _, b in frames(HUOBI) if b.get("ch") == "market.borusdt.depth.step0"][-1]
    (bp, bs), (ap, asz) = last["tick"]["bids"][0], last["tick"]["asks"][0]
    q = lambda v, p: D(v).quantize(D(1).scaleb(-p))  # noqa: E731  (Decimal's default rounding is half-even)
    bm, sq, loaded, res = run([HUOBI, rest], "borusdt", 150)
    assert final_top(res) == scaled(loaded.events, q(bp, 2), q(bs, 6), q(ap, 2), q(asz, 6))


# ----------------------------------------------------------------------------- Huobi swaps
def test_huobi_swaps_every_push_is_the_whole_book():
    inverse = {"ATOM-USD": 426, "SHIB-USD": 332, "ICP-USD": 163, "ANT-USD": 139, "GALA-USD": 214}
    linear = {"GRT-USDT": 243, "SNX-USDT": 303, "BTT-USDT": 195, "SOS-USDT": 573, "ACH-USDT": 274}
    got = check_snapshots([HUOBI_SWAP], inverse, 150)
    check_snapshots([HUOBI_LINEAR_SWAP], linear, 150)
    assert (sum(inverse.values()), sum(linear.values())) == (1274, 1588)
    last = [b for _, b in frames(HUOBI_SWAP) if b.get("ch") == "market.ATOM-USD.depth.step0"][-1]
    bm, loaded, res = got["ATOM-USD"]
    tick = last["tick"]
    assert final_top(res) == scaled(loaded.events, *tick["bids"][0], *tick["asks"][0])
    assert loaded.events["update_id"][-1] == int(tick["mrid"])  # the swaps' version is only the second


# ----------------------------------------------------------------------------------- Upbit
def test_upbit_every_orderbook_is_the_15_unit_book():
    expected = {"KRW-LAMB": 87, "KRW-WAVES": 26, "BTC-XTZ": 16, "BTC-ITAM": 8, "BTC-PAX": 8}
    got = check_snapshots([UPBIT], expected, 15)
    assert sum(expected.values()) == 145
    last = [b for _, b in frames(UPBIT) if b.get("ty") == "orderbook" and b.get("cd") == "KRW-LAMB"][-1]
    best = last["obu"][0]
    bm, loaded, res = got["KRW-LAMB"]
    assert final_top(res) == scaled(loaded.events, best["bp"], best["bs"], best["ap"], best["as"])
    deeper = run([UPBIT], "KRW-LAMB", 16)[3].book.row(-1, named=True)
    assert deeper["bid_price_15"] == float(last["obu"][14]["bp"]) and deeper["bid_price_16"] is None


def test_upbit_default_format_and_errors_are_quarantined(tmp_path):
    content = lines(UPBIT)
    content.insert(10, "1618678264.1: b'{\"type\":\"orderbook\",\"code\":\"KRW-LAMB\",\"orderbook_units\":[]}'\n")
    content.insert(10, "1618678264.0: b'{\"error\":{\"name\":\"INVALID_PARAM\"}}'\n")
    path = write_capture(tmp_path, UPBIT, content)
    bm, sq, loaded, res = run([path], "KRW-LAMB", 15)
    assert loaded.quarantine.rows() == [
        (str(path.resolve()), 11, "error {'name': 'INVALID_PARAM'}"),
        (str(path.resolve()), 12, "not a SIMPLE-format message (type 'orderbook')"),
    ]
    assert bm.messages().height == 87
