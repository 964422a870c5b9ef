"""Bad input: an error or a counted quarantine naming file, line and reason; never a silent skip."""

import gzip
import re

import pytest

from cfhelpers import CRYPTOFEED, KRAKEN, binance_files, lines, run, top, write_capture
from obrecon_pipeline.errors import InputError
from obrecon_pipeline.feeds.cryptofeed import from_files, load
from obrecon_pipeline.feeds.cryptofeed.capture import read_capture
from tests.conftest import RAW


def nkn_depth(ws):
    return [i for i, t in enumerate(ws) if '"nknusdt@depth@100ms"' in t]


def test_malformed_json_line_is_quarantined_and_the_lost_diff_is_a_gap(tmp_path):
    ws_path, rest_path = binance_files("BINANCE")
    ws = lines(ws_path)
    i = nkn_depth(ws)[30]
    ws[i] = ws[i][: len(ws[i]) // 2] + "\n"  # the line is cut in the middle of its JSON
    faulty = write_capture(tmp_path, ws_path, ws)
    bm, sq, loaded, res = run([faulty, rest_path], "NKNUSDT")
    q = loaded.quarantine.rows(named=True)
    assert len(q) == loaded.stats["quarantined"] == 1
    assert q[0]["file"].endswith("BINANCE.ws.1.0") and q[0]["row"] == i + 1
    assert q[0]["reason"].startswith("malformed JSON in a 'recv' line")
    assert loaded.stats["gaps"] == 1 and sq.gaps["src_row"][0] == nkn_depth(ws)[31] + 1


def test_unknown_channel_is_quarantined(tmp_path):
    ws_path, rest_path = binance_files("BINANCE")
    ws = lines(ws_path)
    ws.insert(5, '1633998512.6: {"stream":"nknusdt@depth@1ms","data":{"e":"x"}}\n')
    ws.insert(5, '1633998512.6: {"stream":"nknusdt@mystery","data":{"e":"x"}}\n')
    faulty = write_capture(tmp_path, ws_path, ws)
    bm, sq, loaded, res = run([faulty, rest_path], "NKNUSDT")
    assert loaded.quarantine.rows() == [
        (str(faulty.resolve()), 6, "unknown channel 'nknusdt@mystery'"),
        (str(faulty.resolve()), 7, "depth message without a symbol 's'"),
    ]
    assert loaded.stats["quarantined"] == 2 and loaded.stats["gaps"] == 0


def test_kraken_unknown_channel_is_quarantined(tmp_path):
    ws = lines(KRAKEN)
    ws.insert(20, '1618678134.2: [992,{"x":1},"mystery-5","XMR/USD"]\n')
    faulty = write_capture(tmp_path, KRAKEN, ws)
    loaded = load(next(s for s in from_files([faulty]) if s.symbol == "XMR/USD"))
    assert loaded.quarantine.rows() == [(str(faulty.resolve()), 21, "unknown channel 'mystery-5'")]


def test_price_with_letters_is_an_input_error_naming_file_and_line(tmp_path):
    ws_path, rest_path = binance_files("BINANCE")
    ws = lines(ws_path)
    i = nkn_depth(ws)[3]
    assert '"0.34920000"' in ws[i]
    ws[i] = ws[i].replace('"0.34920000"', '"0.34g20000"')
    faulty = write_capture(tmp_path, ws_path, ws)
    with pytest.raises(InputError) as err:
        run([faulty, rest_path], "NKNUSDT")
    assert err.value.path == str(faulty.resolve()) and err.value.row == i + 1
    assert err.value.reason == "price '0.34g20000' is not a decimal number"


def test_truncated_gzip_is_an_input_error_with_the_line_where_reading_stopped(tmp_path):
    data = KRAKEN.read_bytes()
    cut = tmp_path / "KRAKEN.ws.50.0.gz"
    cut.write_bytes(data[: len(data) // 2])
    with gzip.open(cut, "rt") as fh:  # how many whole lines survive the cut
        good = 0
        try:
            for _ in fh:
                good += 1
        except EOFError:
            pass
    with pytest.raises(InputError) as err:
        read_capture(cut)
    assert err.value.path == str(cut.resolve())
    assert err.value.row == good + 1 and "truncated or corrupt gzip" in err.value.reason


def test_lines_in_no_capture_layout_and_bad_bytes_are_quarantined(tmp_path):
    cap_path = tmp_path / "KRAKEN.ws.1.0"
    cap_path.write_bytes(
        b"wss://ws.kraken.com <-> 1618678132.3858151\n"
        b"hello world\n"
        b"1618678133.2: {\"event\":\"heartbeat\"}\n"
        b"1618678133.3: {\"event\":\"heart\xffbeat\"}\n"
    )
    cap = read_capture(cap_path)
    assert [r.kind for r in cap.records] == ["connect", "recv"]
    assert cap.records[1].ts_ns == 1618678133_200000000
    assert [(row, reason.split(":")[0]) for _, row, reason in cap.quarantine] == [
        (2, "line matches no cryptofeed capture layout"),
        (4, "not UTF-8"),
    ]


def test_missing_and_empty_files_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_capture(tmp_path / "KRAKEN.ws.1.0")
    (tmp_path / "KRAKEN.ws.2.0").write_text("\n\n")
    with pytest.raises(InputError, match="empty capture file"):
        read_capture(tmp_path / "KRAKEN.ws.2.0")
    with pytest.raises(InputError, match="expected exactly one websocket capture"):
        from_files([binance_files("BINANCE")[1]])


def test_message_of_unexpected_shape_names_file_and_line(tmp_path):
    """A venue module meeting JSON of a shape it does not expect (here Bybit's ``topic`` as a list)
    stops with an InputError at that line, not a crash trace."""
    from pathlib import Path

    ws_path = next(RAW.glob("cryptofeed/*/BYBIT.ws.25.0.gz"))
    ws = lines(ws_path)
    i = next(k for k, t in enumerate(ws) if '"topic":"trade.BCHUSDT"' in t)
    ws[i] = ws[i].replace('"topic":"trade.BCHUSDT"', '"topic":["trade.BCHUSDT"]', 1)
    faulty = write_capture(tmp_path, ws_path, ws)
    with pytest.raises(InputError) as err:
        from_files([faulty])
    assert err.value.row == i + 1
    assert err.value.path == str(faulty.resolve()) or err.value.path.endswith(faulty.name)
    assert "unexpected message shape (AttributeError" in err.value.reason


def test_symbol_that_is_not_a_string_is_an_input_error(tmp_path):
    from pathlib import Path

    ws_path = next(RAW.glob("cryptofeed/*/COINBASE.ws.28.0.gz"))
    ws = lines(ws_path)
    i = next(k for k, t in enumerate(ws) if '"type":"snapshot"' in t.replace(" ", ""))
    ws[i] = re.sub(r'"product_id":\s*"[^"]+"', '"product_id": null', ws[i], count=1)
    faulty = write_capture(tmp_path, ws_path, ws)
    with pytest.raises(InputError, match="names symbol None, which is not a symbol string"):
        from_files([faulty])


# ------------------------------------------------------------------- Coinbase, Gate.io, KuCoin
COINBASE = CRYPTOFEED / "2021-04-17" / "COINBASE.ws.28.0.gz"
GATEIO = [CRYPTOFEED / "2021-04-22" / "GATEIO.ws.1.0.gz", CRYPTOFEED / "2021-04-22" / "GATEIO.http.0.0.gz"]
KUCOIN = [CRYPTOFEED / "2021-04-25" / "KUCOIN.ws.1.0.gz", CRYPTOFEED / "2021-04-25" / "KUCOIN.http.0.0.gz"]


def test_price_with_letters_names_file_and_line(tmp_path):
    content = lines(COINBASE)
    k = next(i for i, t in enumerate(content) if '"l2update","product_id":"SKL-USD"' in t)
    content[k] = re.sub(r'("changes":\[\["(?:buy|sell)",")', r"\g<1>1x", content[k], count=1)
    path = write_capture(tmp_path, COINBASE, content)
    with pytest.raises(InputError) as err:
        run([path], "SKL-USD")
    assert (err.value.path, err.value.row) == (str(path), k + 1)
    assert "is not a decimal number" in err.value.reason and "'1x" in err.value.reason


def test_malformed_json_and_unknown_channel_are_counted_quarantine(tmp_path):
    ws, http = GATEIO
    content = lines(ws)
    k = next(i for i, t in enumerate(content) if '"s":"OMG_USDT"' in t and '"event":"update"' in t)
    content.insert(k, content[k][:60] + "\n")  # a line cut in the middle of its JSON
    content.insert(k, '1619093533.5: {"time":1619093533,"channel":"spot.books_x","event":"update","result":{}}\n')
    path = write_capture(tmp_path, ws, content)
    bm, sq, loaded, res = run([path, http], "OMG_USDT")
    q = loaded.quarantine.sort("row")
    assert q["row"].to_list() == [k + 1, k + 2]
    assert q["reason"][0] == "unknown channel 'spot.books_x'"
    assert q["reason"][1].startswith("malformed JSON")
    assert loaded.stats["quarantined"] == 2 and loaded.stats["gaps"] == 0
    assert top(res.book) == (7.899, 288.0, 7.927, 316.6)  # the rest of the file is still used


def test_truncated_gzip_capture(tmp_path):
    data = KUCOIN[0].read_bytes()
    path = tmp_path / KUCOIN[0].name
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as err:
        from_files([path, KUCOIN[1]])
    assert err.value.path == str(path) and "truncated or corrupt gzip" in err.value.reason
    with gzip.open(KUCOIN[0], "rt") as fh:
        assert sum(1 for _ in fh) == 4736  # the intact file reads to its end
