"""The book-payload parser (:mod:`._book_scan`) and the venues read through it (:mod:`.book_lines`):
a capture read by lines takes the parsed payloads, the per-message path takes the held capture,
and both give the same streams, events, counters and quarantine — on the shipped capture and on
edited copies holding lines the parser must leave to the per-message path."""

import json
import re

import numpy as np
import pytest

from cfhelpers import KRAKEN, OKX, lines, run, write_capture
from obrecon_pipeline.errors import InputError
from obrecon_pipeline.feeds import cryptofeed
from obrecon_pipeline.feeds.cryptofeed import book_lines, capture, coinbase, from_files, kraken, load, okx
from obrecon_pipeline.feeds.cryptofeed._book_scan import COINBASE as COINBASE_SHAPE
from obrecon_pipeline.feeds.cryptofeed._book_scan import KRAKEN as KRAKEN_SHAPE
from obrecon_pipeline.feeds.cryptofeed._book_scan import OKX as OKX_SHAPE
from obrecon_pipeline.feeds.cryptofeed._book_scan import parse_books
from obrecon_pipeline.feeds.cryptofeed.coinbase import iso_ns
from tests.feeds.cryptofeed.test_cryptofeed_bad_input import COINBASE

NO_ID = -(2**63)


def parsed(payloads: list[str], shape: int = COINBASE_SHAPE):
    text = "".join(payloads).encode()
    ends = np.cumsum([len(p.encode()) for p in payloads]).astype(np.int64)
    body = np.concatenate([[0], ends[:-1]]).astype(np.int64)
    symbols: dict[bytes, int] = {}
    return (*parse_books(np.frombuffer(text, dtype=np.uint8), body, ends, shape, symbols, 64), symbols)


def test_coinbase_payloads_parse_exactly():
    snap = '{"type":"snapshot","product_id":"SKL-USD","bids":[["0.4012","10.50"]],"asks":[["0.4100","3"],["1","0.00002290"]]}'
    diff = ('{"type": "l2update", "product_id": "SKL-BTC", "changes": [["sell", "0.00001306", "660.5"], '
            '["buy", "12", "0"]], "time": "2021-04-17T16:43:37.075687Z"}')
    ok, sym, snapshot, ts, checksum, count, levels, symbols = parsed([snap, diff])
    assert ok.tolist() == [1, 1] and sym.tolist() == [0, 1] and symbols == {b"SKL-USD": 0, b"SKL-BTC": 1}
    assert snapshot.tolist() == [1, 0] and count.tolist() == [3, 2] and checksum.tolist() == [NO_ID, NO_ID]
    assert ts.tolist() == [NO_ID, iso_ns("2021-04-17T16:43:37.075687Z")]
    # bids then asks; the diff's buys before its sells, each in the order sent
    assert levels["side"].tolist() == [1, -1, -1, 1, -1]
    assert levels["price_m"].tolist() == [4012, 4100, 1, 12, 1306]
    assert levels["price_f"].tolist() == [4, 4, 0, 0, 8]
    assert levels["size_m"].tolist() == [1050, 3, 2290, 0, 6605]
    assert levels["size_f"].tolist() == [2, 0, 8, 0, 1]


LEFT = [  # payloads the parser must leave to the per-message path (which decides)
    '{"type":"snapshot","product_id":"A","bids":[["1e2","1"]]}',  # not a plain decimal
    '{"type":"snapshot","product_id":"A","bids":[["01","1"]]}',  # a leading zero
    '{"type":"snapshot","product_id":"A","bids":[[1.5,"1"]]}',  # a number, not a string
    '{"type":"snapshot","product_id":"A","bids":[["1","1"]],"bids":[]}',  # a member given twice
    '{"type":"snapshot","product_id":"A\\u0041","bids":[]}',  # an escape
    '{"type":"snapshot","product_id":7,"bids":[]}',  # a symbol that is not a string
    '{"type":"snapshot","product_id":"A","bids":[["1","1234567890.123456789"]]}',  # 19 digits
    '{"type":"l2update","product_id":"A","changes":[["hold","1","1"]],"time":"2021-04-17T16:43:37Z"}',
    '{"type":"l2update","product_id":"A","changes":[["buy","1","1","x"]],"time":"2021-04-17T16:43:37Z"}',
    '{"type":"l2update","product_id":"A","changes":[["buy","1","1"]]}',  # no time
    '{"type":"l2update","product_id":"A","changes":[],"time":"2021-02-30T16:43:37Z"}',  # no such day
    '{"type":"l2update","product_id":"A","changes":[],"time":"2021-04-17T16:43:37.0756871234Z"}',
    '{"type":"l2update","product_id":"A","changes":[],"time":"2021-04-17 16:43:37Z"}',
    '{"type":"ticker","product_id":"A"}',
    '["snapshot"]',
    '{"type":"snapshot","product_id":"A","bids":[]} x',
]


def test_coinbase_payloads_the_parser_leaves():
    ok, *_ = parsed(LEFT)
    assert ok.tolist() == [0] * len(LEFT)


def streams(files):
    capture._read_capture.cache_clear()
    cryptofeed._messages.cache_clear()
    book_lines._cache.clear()
    return [load(s) for s in from_files(files)]


def fast_equals_per_message(files, monkeypatch):
    """The streams of ``files`` held parsed (per message) and read by lines (the parser): equal."""
    held = streams(files)
    monkeypatch.setattr(capture, "STREAM_ABOVE", 0)
    by_lines = streams(files)
    assert isinstance(capture.read_capture(files[0]).records, capture._Pass)  # really read by lines
    assert [s.stream for s in by_lines] == [s.stream for s in held]
    for a, b in zip(held, by_lines):
        assert a.events.equals(b.events) and a.stats == b.stats and a.quarantine.equals(b.quarantine)
    return held


def taken(path, venue=coinbase, shape=COINBASE_SHAPE) -> tuple[int, int]:
    """``(payloads parsed, records left)`` of a capture of ``venue``."""
    bl = book_lines.book_lines(path, shape, venue._kept)
    return bl.n_messages, len(bl.others)


@pytest.mark.parametrize("path, venue, shape, events, messages", [
    (COINBASE, coinbase, COINBASE_SHAPE, 18091, 9729), (KRAKEN, kraken, KRAKEN_SHAPE, 11755, 4279),
    (OKX, okx, OKX_SHAPE, 8267, 290)], ids=["coinbase", "kraken", "okx"])
def test_fast_path_equals_per_message_on_the_shipped_capture(path, venue, shape, events, messages, monkeypatch):
    held = fast_equals_per_message([path], monkeypatch)
    assert sum(s.events.height for s in held) == events and sum(s.quarantine.height for s in held) == 0
    assert taken(path, venue, shape) == (messages, 0)  # every book message parsed


def test_coinbase_fast_path_equals_per_message_with_malformed_lines(tmp_path, monkeypatch):
    content = lines(COINBASE)
    diffs = [i for i, t in enumerate(content) if '"l2update","product_id":"SKL-USD"' in t]
    ts = content[diffs[5]].split(": ", 1)[0]
    edits = {
        diffs[3]: content[diffs[3]][:70] + "\n",  # cut: malformed JSON, quarantined by the line reader
        diffs[4]: re.sub(r'"time":"[^"]+"', '"time":"yesterday"', content[diffs[4]]),  # quarantined: bad time
        diffs[5]: content[diffs[5]].replace('"changes":[["', '"changes":[["hold","1","1"],["', 1),  # bad side
        diffs[6]: re.sub(r'"time":"([^"]+)\.\d+Z"', r'"time":"\1Z"', content[diffs[6]]),  # no fraction: parsed
        diffs[7]: content[diffs[7]].replace('"changes"', '"changes" ', 1).replace(",", ", "),  # spaces: parsed
        diffs[8]: content[diffs[8]].replace('"time"', '"extra":{"a":[1,2.5e3,null,true]},"time"', 1),  # parsed
        diffs[9]: content[diffs[9]].replace('"product_id":"SKL-USD"', '"product_id":"SKL\\u002dUSD"'),  # left
    }
    for i, text in edits.items():
        content[i] = text
    content.insert(diffs[10], f'{ts}: {{"type":"error","message":"slow down"}}\n')
    content.insert(diffs[10], f'{ts}: {json.dumps({"type": "l2update", "product_id": "SKL-USD", "changes": [], "time": "2021-04-17T16:43:38Z"})}\n')
    path = write_capture(tmp_path, COINBASE, content)
    held = fast_equals_per_message([path], monkeypatch)
    error_row, cut_row = diffs[10] + 2, diffs[3] + 1
    for s in held:  # the error and the cut line in every book, the bad time and side in SKL-USD's
        rows = sorted(s.quarantine["row"].to_list())
        skl = s.stream.symbol == "SKL-USD"
        assert rows == sorted([cut_row, error_row, *((diffs[4] + 1, diffs[5] + 1) if skl else ())])
        assert s.stats["quarantined"] == (4 if skl else 2)
    # parsed: the shipped ones, less the cut line, the bad time, the bad side and the escape, plus
    # the inserted empty diff; left to the per-message path: those three and the error
    assert taken(path) == (9729 - 4 + 1, 4)


def test_coinbase_located_error_is_the_same_on_both_paths(tmp_path, monkeypatch):
    content = lines(COINBASE)
    k = next(i for i, t in enumerate(content) if '"l2update","product_id":"SKL-USD"' in t)
    content[k] = re.sub(r'("changes":\[\["(?:buy|sell)",")', r"\g<1>1e", content[k], count=1)
    path = write_capture(tmp_path, COINBASE, content)
    errors = []
    for limit in (capture.STREAM_ABOVE, 0):
        monkeypatch.setattr(capture, "STREAM_ABOVE", limit)
        with pytest.raises(InputError) as err:
            streams([path])
        errors.append((err.value.path, err.value.row, err.value.reason))
    assert errors[0] == errors[1] and errors[0][1] == k + 1 and "is not a decimal number" in errors[0][2]


def test_kraken_all_4269_checksums_verify_on_the_fast_path(monkeypatch):
    monkeypatch.setattr(capture, "STREAM_ABOVE", 0)
    ok = failed = 0
    for s in streams([KRAKEN]):
        res = run([KRAKEN], s.stream.symbol)[3]
        ok, failed = ok + res.counters["checksum_ok"], failed + res.counters["checksum_failed"]
    assert (ok, failed) == (4269, 0)
    assert taken(KRAKEN, kraken, KRAKEN_SHAPE) == (4279, 0)


def test_kraken_payloads_parse_exactly():
    snap = '[12,{"as":[["5.1","1.0","1.5"]],"bs":[["5.0","2","1.5"],["4.9","0.00000000","1.6"]]},"book-10","XMR/USD"]'
    diff = '[12, {"a": [["5.2", "3", "1.7", "r"]]}, {"b": [["5.0", "0", "1.8"]], "c": "0012345"}, "book-10", "XMR/USD"]'
    ok, sym, snapshot, ts, checksum, count, levels, symbols = parsed([snap, diff], KRAKEN_SHAPE)
    assert ok.tolist() == [1, 1] and sym.tolist() == [0, 0] and symbols == {b"XMR/USD": 0}
    assert snapshot.tolist() == [1, 0] and count.tolist() == [3, 2] and ts.tolist() == [NO_ID, NO_ID]
    assert checksum.tolist() == [NO_ID, 12345]
    assert levels["side"].tolist() == [1, 1, -1, 1, -1]  # bids then asks
    assert levels["price_m"].tolist() == [50, 49, 51, 50, 52] and levels["price_f"].tolist() == [1, 1, 1, 1, 1]
    assert levels["size_m"].tolist() == [2, 0, 10, 0, 3] and levels["size_f"].tolist() == [0, 8, 1, 0, 0]


KRAKEN_LEFT = [
    '[12,{"a":[["5.2","3","1.7"]],"c":"12x"},"book-10","XMR/USD"]',  # a checksum not of digits
    '[12,{"a":[["5.2","3","1.7"]],"c":12},"book-10","XMR/USD"]',  # a checksum not a string
    '[12,{"a":[["5.2","3","1.7"]]},{"a":[]},"book-10","XMR/USD"]',  # a member in both payloads
    '[12,{"as":[],"a":[]},"book-10","XMR/USD"]',  # a snapshot and a diff
    '[12,{"x":[]},"book-10","XMR/USD"]',  # no levels
    '[12,{"a":[]},{"b":[]},{"c":"1"},"book-10","XMR/USD"]',  # three payloads
    '[12,{"a":[]},"trade","XMR/USD"]',  # not a book channel
    '[12,{"a":[]},"book-10",7]',  # a pair that is not a string
    '[12,{"a":[["5.2"]]},"book-10","XMR/USD"]',  # a level without a size
    '{"event":"heartbeat"}',
]


def test_kraken_payloads_the_parser_leaves():
    ok, *_ = parsed(KRAKEN_LEFT, KRAKEN_SHAPE)
    assert ok.tolist() == [0] * len(KRAKEN_LEFT)


def test_kraken_fast_path_equals_per_message_with_malformed_lines(tmp_path, monkeypatch):
    content = lines(KRAKEN)
    diffs = [i for i, t in enumerate(content) if '"book-1000","XMR/USD"]' in t and '"c":"' in t]
    ts = content[diffs[5]].split(": ", 1)[0]
    content[diffs[3]] = content[diffs[3]][:50] + "\n"  # cut: malformed JSON
    content[diffs[4]] = re.sub(r'"c":"\d+"', '"c":"12x"', content[diffs[4]])  # quarantined: bad checksum
    content[diffs[5]] = re.sub(r'"c":"(\d+)"', lambda m: f'"c":"{int(m.group(1)) ^ 1}"', content[diffs[5]])  # parsed: wrong CRC
    content[diffs[6]] = content[diffs[6]].replace('"]]', '","r"]]', 1)  # a republished level: parsed
    content[diffs[7]] = content[diffs[7]].replace('"b":', '"x":1,"b":', 1)  # an unread member: parsed
    content[diffs[8]] = content[diffs[8]].replace('"XMR/USD"]', '"XMR\\/USD"]')  # an escape: left
    content.insert(diffs[9], f'{ts}: [992,{{"a":[]}},"mystery","XMR/USD"]\n')  # unknown channel
    path = write_capture(tmp_path, KRAKEN, content)
    held = fast_equals_per_message([path], monkeypatch)
    cut_row, mystery_row = diffs[3] + 1, diffs[9] + 1
    for s in held:  # the cut line and the unknown channel in every book, the bad checksum in XMR/USD's
        xmr = s.stream.symbol == "XMR/USD"
        assert sorted(s.quarantine["row"].to_list()) == sorted([cut_row, mystery_row, *((diffs[4] + 1,) if xmr else ())])
    xmr = next(s for s in held if s.stream.symbol == "XMR/USD")
    assert xmr.stats["quarantined"] == 3
    counters = []
    for limit in (capture.STREAM_ABOVE, 0):  # the wrong CRC fails on both paths, the others verify
        monkeypatch.setattr(capture, "STREAM_ABOVE", limit)
        streams([path])
        counters.append({k: run([path], "XMR/USD")[3].counters[k] for k in ("checksum_ok", "checksum_failed")})
    assert counters[0] == counters[1] and counters[0]["checksum_failed"] >= 1
    # parsed: the shipped ones less the cut line, the bad checksum and the escape; left: those two
    # and the unknown channel
    assert taken(path, kraken, KRAKEN_SHAPE) == (4279 - 3, 3)


def test_coinbase_symbol_that_is_not_a_string_is_the_same_error_on_both_paths(tmp_path, monkeypatch):
    content = lines(COINBASE)
    i = next(k for k, t in enumerate(content) if '"type":"snapshot"' in t)
    content[i] = re.sub(r'"product_id":\s*"[^"]+"', '"product_id": null', content[i], count=1)
    path = write_capture(tmp_path, COINBASE, content)
    for limit in (capture.STREAM_ABOVE, 0):
        monkeypatch.setattr(capture, "STREAM_ABOVE", limit)
        with pytest.raises(InputError, match="names symbol None, which is not a symbol string"):
            streams([path])


def test_okx_all_290_checksums_verify_on_the_fast_path(monkeypatch):
    monkeypatch.setattr(capture, "STREAM_ABOVE", 0)
    per = {s.stream.symbol: run([OKX], s.stream.symbol, levels=25)[3].counters for s in streams([OKX])}
    assert {k: (c["checksum_ok"], c["checksum_failed"]) for k, c in per.items()} == {
        "BTC-USD-220527": (99, 0), "UNI-USD-SWAP": (93, 0), "BTC-USDT": (98, 0)}


def test_okx_payloads_parse_exactly():
    snap = ('{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[["30243.5","1.2112","0","4"]],'
            '"bids":[["30182.6","452","0","1"]],"ts":"1652459225464","checksum":-914047754}]}')
    ok, sym, snapshot, ts, checksum, count, levels, symbols = parsed([snap], OKX_SHAPE)
    assert ok.tolist() == [1] and snapshot.tolist() == [1] and symbols == {b"BTC-USDT": 0}
    assert ts.tolist() == [1652459225464 * 10**6] and checksum.tolist() == [-914047754] and count.tolist() == [2]
    assert levels["side"].tolist() == [1, -1] and levels["price_m"].tolist() == [301826, 302435]
    assert levels["size_m"].tolist() == [452, 12112] and levels["size_f"].tolist() == [0, 4]


def test_okx_fast_path_equals_per_message_with_malformed_lines(tmp_path, monkeypatch):
    content = lines(OKX)
    ups = [i for i, t in enumerate(content) if '"instId":"UNI-USD-SWAP"},"action":"update"' in t]
    ts = content[ups[5]].split(": ", 1)[0]
    content[ups[3]] = content[ups[3]][:60] + "\n"  # cut: malformed JSON
    content[ups[4]] = content[ups[4]].replace('"action":"update"', '"action":"partial"')  # quarantined
    content[ups[5]] = re.sub(r'"ts":"(\d+)"', r'"ts":\1', content[ups[5]])  # ts a number: left, taken
    content[ups[6]] = re.sub(r'"checksum":(-?\d+)', lambda m: f'"checksum":{int(m.group(1)) ^ 1}', content[ups[6]])  # parsed
    content[ups[7]] = content[ups[7]].replace('"ts":"', '"ts":"x', 1)  # quarantined: ts not digits
    content.insert(ups[8], f'{ts}: {{"event":"error","code":"60012"}}\n')  # an event: nothing
    content.insert(ups[8], f'{ts}: {{"arg":{{"channel":"books5","instId":"UNI-USD-SWAP"}},"data":[]}}\n')  # unknown
    path = write_capture(tmp_path, OKX, content)
    held = fast_equals_per_message([path], monkeypatch)
    cut_row, unknown_row = ups[3] + 1, ups[8] + 1
    for s in held:  # the cut line and the unknown channel in every book, the bad action and ts in UNI's
        uni = s.stream.symbol == "UNI-USD-SWAP"
        assert sorted(s.quarantine["row"].to_list()) == sorted([cut_row, unknown_row, *((ups[4] + 1, ups[7] + 1) if uni else ())])
    counters = []
    for limit in (capture.STREAM_ABOVE, 0):  # the wrong checksum fails on both paths alike
        monkeypatch.setattr(capture, "STREAM_ABOVE", limit)
        streams([path])
        counters.append({k: run([path], "UNI-USD-SWAP", levels=25)[3].counters[k] for k in ("checksum_ok", "checksum_failed")})
    assert counters[0] == counters[1] and counters[0]["checksum_failed"] >= 1
    # parsed: the shipped ones less the cut line, the bad action, the numeric ts and the bad ts;
    # left: those three and the unknown channel (the event is not kept)
    assert taken(path, okx, OKX_SHAPE) == (290 - 4, 4)


def test_kraken_truncated_gzip_is_the_same_located_error_on_both_paths(tmp_path, monkeypatch):
    cut = tmp_path / KRAKEN.name
    data = KRAKEN.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    errors = []
    for limit in (capture.STREAM_ABOVE, 0):
        monkeypatch.setattr(capture, "STREAM_ABOVE", limit)
        with pytest.raises(InputError) as err:
            streams([cut])
        errors.append((err.value.row, err.value.reason))
    assert errors[0] == errors[1] and "truncated or corrupt gzip" in errors[0][1]
