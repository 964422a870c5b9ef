"""The Cython capture scanner and Binance diff-depth and bookTicker parsers on the shipped captures:
every line and every parsed payload against what the per-line reader (``capture.read_capture``,
``json.loads``) reads from it, exact values of the first message, payloads left to the per-line
path, and a malformed diff located by file, row and reason."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from obrecon_pipeline.codes import NULL_ID
from obrecon_pipeline.feeds.cryptofeed import _binance_scan, _capture_scan, get_venue
from obrecon_pipeline.feeds.cryptofeed.binance import _kept
from obrecon_pipeline.feeds.cryptofeed.binance_lines import depth_lines
from obrecon_pipeline.feeds.cryptofeed.capture import read_capture
from tests.feeds.cryptofeed.cfhelpers import binance_files, lines, write_capture
from tests.feeds.cryptofeed.test_cryptofeed_sync_faults import replay_cli

WS, REST = binance_files("BINANCE")


def _exact(text: str) -> tuple[int, int]:
    whole, _, frac = text.partition(".")
    return int(whole + frac), len(frac)


def test_the_pass_spills_its_columns_and_keeps_the_listing():
    dl = depth_lines(WS, _kept)
    venue, ws, rest = get_venue("BINANCE"), read_capture(WS), [read_capture(REST)]
    assert dl.n_messages == 177 and dl.spill.lengths["side"] == 422 and not dl.has_prev and dl.recv_in_order
    p = dl.parsed()
    level_sym = np.repeat(p.sym, np.diff(p.level_start))
    for k, sym in enumerate(dl.symbols):  # each symbol's largest mantissa per number of decimals, off its levels
        for col in ("price", "size"):
            m, f = p.levels[f"{col}_m"][level_sym == k], p.levels[f"{col}_f"][level_sym == k]
            assert dl.mantissa_max[sym][col] == {int(d): int(m[f == d].max()) for d in np.unique(f)}
    assert {sym: mm["price"] for sym, mm in dl.mantissa_max.items()} == {
        "NKNUSDT": {8: 37000000}, "BLZETH": {8: 6615}, "LRCBTC": {8: 641}, "RUNEEUR": {8: 624800000}}
    counts = {sym: venue.load(ws, rest, sym).n_messages for sym in dl.symbols}
    assert counts == {"NKNUSDT": 151, "BLZETH": 11, "LRCBTC": 16, "RUNEEUR": 3}
    assert depth_lines(WS, _kept) is dl and venue.symbols(ws) == ["NKNUSDT", "BLZETH", "LRCBTC", "RUNEEUR"]
    assert {sym: venue.load(ws, rest, sym).n_messages for sym in dl.symbols} == counts  # the spill read again


def test_scanner_finds_every_line_time_and_payload():
    buf = gzip.open(WS).read()
    found = _capture_scan.scan_lines(np.frombuffer(buf, dtype=np.uint8))
    assert np.bincount(found["kind"]).tolist() == [1, 265, 1]  # a blank line, 265 received, the configuration
    recv = [r for r in read_capture(WS).records if r.kind == "recv"]
    at = np.flatnonzero(found["kind"] == _capture_scan.RECV)
    assert [r.ts_ns for r in recv] == found["ts"][at].tolist()
    assert [r.body for r in recv] == [json.loads(buf[b:e], parse_float=str) for b, e in zip(found["body"][at], found["end"][at])]
    streams = [buf[c:e].decode() for c, e in zip(found["chan"][at], found["chan_end"][at])]
    assert streams == [r.body["stream"] for r in recv]
    assert found["ts"][at[0]] == 1633998512063356900 and streams[0] == "nknusdt@depth@100ms"


def test_parser_reads_every_diff_exactly():
    listing = depth_lines(WS, _kept)
    dl = listing.parsed()
    dl.symbols, dl.first_lines, dl.others, dl.quarantine = (listing.symbols, listing.first_lines, listing.others,
                                                            listing.quarantine)
    assert dl.symbols == ["NKNUSDT", "BLZETH", "LRCBTC", "RUNEEUR"]
    assert np.bincount(dl.sym).tolist() == [150, 10, 15, 2] and len(dl.levels["side"]) == 422
    assert dl.first_lines == {"NKNUSDT": 2, "BLZETH": 15, "LRCBTC": 28, "RUNEEUR": 75}
    assert dl.others == [] and dl.quarantine == []  # the 84 bookTicker messages are parsed too
    # line 2: {"e":"depthUpdate","E":1633998512068,"s":"NKNUSDT","U":499869750,"u":499869752,
    #          "b":[["0.35130000","6195.00000000"],["0.34750000","5548.00000000"],["0.34640000","6222.00000000"]],"a":[]}
    assert (dl.line[0], dl.ts_recv[0], dl.event_ms[0], dl.first[0], dl.last[0], dl.prev[0]) == (
        2, 1633998512063356900, 1633998512068, 499869750, 499869752, NULL_ID)
    assert {k: v[:3].tolist() for k, v in dl.levels.items()} == {
        "side": [1, 1, 1], "price_m": [35130000, 34750000, 34640000], "price_f": [8, 8, 8],
        "size_m": [619500000000, 554800000000, 622200000000], "size_f": [8, 8, 8]}
    text = lines(WS)
    for k in range(len(dl.sym)):
        data = json.loads(text[dl.line[k] - 1].split(": ", 1)[1], parse_float=str)["data"]
        assert (dl.symbols[dl.sym[k]], dl.event_ms[k], dl.first[k], dl.last[k]) == (data["s"], data["E"], data["U"], data["u"])
        levels = [(1, *_exact(p), *_exact(q)) for p, q in data["b"]] + [(-1, *_exact(p), *_exact(q)) for p, q in data["a"]]
        at = slice(dl.level_start[k], dl.level_start[k + 1])
        assert list(zip(*(dl.levels[c][at].tolist() for c in ("side", "price_m", "price_f", "size_m", "size_f")))) == levels


def test_every_book_ticker_is_parsed_exactly():
    dl = depth_lines(WS, _kept)
    assert dl.ticker_symbols == ["NKNUSDT", "LRCBTC", "BLZETH"] and dl.tickers["sym"].value_counts().sort("sym").rows() == [
        (0, 74), (1, 9), (2, 1)]
    text = lines(WS)
    for row in dl.tickers.iter_rows(named=True):
        ts, _, body = text[row["src_row"] - 1].partition(": ")
        data = json.loads(body, parse_float=str)["data"]
        assert json.loads(body)["stream"].endswith("@bookTicker")
        assert (dl.ticker_symbols[row["sym"]], row["update_id"], row["bid_price"], row["bid_size"], row["ask_price"],
                row["ask_size"]) == (data["s"], data["u"], data["b"], data["B"], data["a"], data["A"])
    # line 9: 1633998513.377805: {"stream":"nknusdt@bookTicker","data":{"u":499869768,"s":"NKNUSDT",
    #          "b":"0.35210000","B":"672.00000000","a":"0.35260000","A":"3199.00000000"}}
    assert dl.tickers_of("NKNUSDT").row(0, named=True) == {
        "src_row": 9, "ts_recv": 1633998513377805000, "update_id": 499869768, "bid_price": "0.35210000",
        "bid_size": "672.00000000", "ask_price": "0.35260000", "ask_size": "3199.00000000", "file": dl.path}


@pytest.mark.parametrize("payload", [
    '{"stream":"x@bookTicker","data":{"s":"X","u":"7","b":"1","B":"2","a":"3","A":"4"}}',  # u a string
    '{"stream":"x@bookTicker","data":{"s":"X","u":7,"b":"1","B":"2","a":"3"}}',  # no A
    '{"stream":"x@bookTicker","data":{"s":"X","u":7,"u":7,"b":"1","B":"2","a":"3","A":"4"}}',  # a member twice
    '{"stream":"x@bookTicker","data":{"s":"X","u":7,"b":"1\\u0030","B":"2","a":"3","A":"4"}}',  # an escape
    '{"stream":"x@bookTicker","data":{"s":"X","u":7,"b":1,"B":"2","a":"3","A":"4"}}',  # a number, not a string
    '{"stream":"x@bookTickers","data":{"s":"X","u":7,"b":"1","B":"2","a":"3","A":"4"}}',  # another stream
    '{"stream":"x@bookTicker","data":{"s":"X","u":7,"b":"1","B":"2","a":"3","A":"4"}} x',  # not JSON
])
def test_ticker_parser_leaves_other_shapes_to_the_line_reader(payload):
    buf = np.frombuffer(payload.encode(), dtype=np.uint8)
    ok, sym, _, text = _binance_scan.parse_tickers(buf, np.array([0]), np.array([len(payload)]), {})
    assert (ok.tolist(), sym.tolist(), [len(data) for _, data in text.values()]) == ([0], [-1], [0, 0, 0, 0])


def test_ticker_parser_takes_what_json_takes():
    payload = ' { "stream" : "x@bookTicker" , "data" : { "e":"bookTicker", "u" : 12, "s":"X", "b":"0.10", ' \
              '"B":"5", "x": [null, true, {"k": -1.5e+3}], "a":"0.11", "A":"", "T": 1 } } '
    buf = np.frombuffer(payload.encode(), dtype=np.uint8)
    symbols: dict = {}
    ok, sym, u, text = _binance_scan.parse_tickers(buf, np.array([0]), np.array([len(payload)]), symbols)
    assert (ok.tolist(), sym.tolist(), u.tolist(), symbols) == ([1], [0], [12], {b"X": 0})
    assert {k: (off.tolist(), bytes(data)) for k, (off, data) in text.items()} == {
        "b": ([0, 4], b"0.10"), "B": ([0, 1], b"5"), "a": ([0, 4], b"0.11"), "A": ([0, 0], b"")}


@pytest.mark.parametrize("payload", [
    '{"stream":"x@depth","data":{"s":"X","U":1,"u":2,"b":[["1e-5","1"]],"a":[]}}',  # exponent
    '{"stream":"x@depth","data":{"s":"X","U":1,"u":2,"b":[["01.5","1"]],"a":[]}}',  # leading zero
    '{"stream":"x@depth","data":{"s":"X","U":1,"u":2,"b":[[1.5,"1"]],"a":[]}}',  # a number, not a string
    '{"stream":"x@depth","data":{"s":"X","U":1.0,"u":2,"b":[],"a":[]}}',  # an id that is not an integer
    '{"stream":"x@depth","data":{"s":"X","U":1,"u":9223372036854775808,"b":[],"a":[]}}',  # beyond int64
    '{"stream":"x@depth","data":{"s":"X","u":2,"b":[],"a":[]}}',  # no U
    '{"stream":"x@depth","data":{"s":"X","U":1,"U":1,"u":2}}',  # a member twice
    '{"stream":"x@depth","data":{"s":"X\\u0041","U":1,"u":2}}',  # an escape
    '{"stream":"x@depth","data":{"s":"X","U":1,"u":2,"b":[["1","1"],]}}',  # not JSON
    '{"stream":"x@depth","data":{"s":"X","U":1,"u":2}} x',  # not JSON
    '{"stream":"x@bookTicker","data":{"s":"X","U":1,"u":2}}',  # not a depth stream
])
def test_parser_leaves_other_shapes_to_the_line_reader(payload):
    buf = np.frombuffer(payload.encode(), dtype=np.uint8)
    ok, sym, _, _, _, _, count, levels = _binance_scan.parse_depth(
        buf, np.array([0]), np.array([len(payload)]), {}, 10)
    assert (ok.tolist(), sym.tolist(), count.tolist(), len(levels["side"])) == ([0], [-1], [0], 0)


def test_parser_takes_what_json_takes():
    payload = ' { "stream" : "x@depth@100ms" , "data" : { "e" : "depthUpdate", "s":"X", "u" : -3, "U":-4, ' \
              '"pu": 7, "x": [null, true, false, {"k": -1.5e+3}], "a": [["0.10", "2", 5]], "b": [["3", "0.0"]] } } '
    buf = np.frombuffer(payload.encode(), dtype=np.uint8)
    symbols: dict = {}
    ok, sym, e_ms, first, last, prev, count, levels = _binance_scan.parse_depth(
        buf, np.array([0]), np.array([len(payload)]), symbols, 10)
    assert (ok.tolist(), sym.tolist(), e_ms.tolist(), first.tolist(), last.tolist(), prev.tolist(), count.tolist()) == (
        [1], [0], [NULL_ID], [-4], [-3], [7], [2])
    assert symbols == {b"X": 0}
    assert {k: v.tolist() for k, v in levels.items()} == {  # bids first, as the per-line reader orders them
        "side": [1, -1], "price_m": [3, 10], "price_f": [0, 2], "size_m": [0, 2], "size_f": [1, 0]}


def test_a_malformed_diff_is_located(capsys, tmp_path):
    ws = lines(WS)
    i = next(k for k, line in enumerate(ws) if '"s":"NKNUSDT"' in line and "depthUpdate" in line) + 3
    bad = write_capture(tmp_path, WS, ws[:i] + [ws[i].replace('"U":', '"V":', 1)] + ws[i + 1:])
    rc, err, _, _ = replay_cli(capsys, tmp_path, [bad, REST])
    assert rc == 2
    assert err == f"obrecon: error: {bad}, row {i + 1}: depthUpdate update id U None is not a 64-bit integer"
