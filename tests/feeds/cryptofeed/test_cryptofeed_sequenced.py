"""A websocket snapshot, then diffs chained by a sequence number, a previous id or level ids:
Bitfinex, Deribit, HitBTC and Bequant, Poloniex, Kraken Futures, Blockchain.com, BitMEX, FMFW,
Bit.com and AscendEX on their real captures (expected figures counted from the capture files),
and each chain broken on purpose: a hole is a located gap, a duplicate is dropped."""

from __future__ import annotations

from cfhelpers import CRYPTOFEED, check_streams, lines, run, runs, top, write_capture
from obrecon_pipeline.feeds.cryptofeed import from_files

BITFINEX = CRYPTOFEED / "2021-04-17" / "BITFINEX.ws.11.0.gz"
DERIBIT = CRYPTOFEED / "2021-07-22" / "DERIBIT.ws.1.0.gz"
HITBTC = CRYPTOFEED / "2021-07-15" / "HITBTC.ws.1.0.gz"
BEQUANT = CRYPTOFEED / "2021-07-03" / "BEQUANT.ws.1.0.gz"
POLONIEX = CRYPTOFEED / "2022-08-21" / "POLONIEX.ws.1.0.gz"
KRAKEN_FUTURES = CRYPTOFEED / "2021-07-22" / "KRAKEN_FUTURES.ws.1.0.gz"
BLOCKCHAIN = CRYPTOFEED / "2021-07-22" / "BLOCKCHAIN.ws.1.0.gz"


# --------------------------------------------------------------------------------- Bitfinex
BITFINEX_MESSAGES = {"tTESTBTC:TESTUSD": (80, 0), "tDOGUSD": (385, 0), "tODEUSD": (18, 0), "tIOTETH": (784, 0),
                     "tMNABTC": (322, 0), "tBFTUSD": (1, 0), "tSNGUSD": (10, 0)}


def test_bitfinex_sequenced_books():
    got = check_streams([BITFINEX], BITFINEX_MESSAGES)
    assert sum(stats["messages_applied"] for stats, *_ in got.values()) == 1593
    stats, res, bm, sq = got["tIOTETH"]
    assert res.counters["rows"] == 784
    assert top(res.book) == (0.001026, 9.80717706, 0.0010272, 8.0)
    # tBFTUSD only has its snapshot: best bid [0.068965, 3, 6098.17017201], best ask amount -6662.31867263
    assert top(got["tBFTUSD"][1].book) == (0.068965, 6098.17017201, 0.0774, 6662.31867263)
    assert got["tIOTETH"][2].window == 100


def test_bitfinex_hole_in_connection_sequence_is_a_located_gap(tmp_path):
    content = lines(BITFINEX)
    assert content[801].startswith("1618677559.1553578: [232955,[0.001022,1,204.78848725],756]")
    del content[801]  # a tIOTETH update, connection seq 756
    path = write_capture(tmp_path, BITFINEX, content)
    bm, sq, loaded, res = run([path], "tIOTETH")
    assert loaded.stats["gaps"] == 1
    gap = loaded.stats["gap_list"][0]
    assert (gap["src_row"], gap["expected"], gap["received"]) == (802, 756, 757)
    valid = res.book["book_valid"]
    assert not valid[gap["row"]:].any() and valid[: gap["row"]].all()  # no later snapshot: invalid to the end
    # a book whose next message comes after the hole cannot know what it missed either
    assert run([path], "tMNABTC")[2].stats["gaps"] == 1


# ------------------------------------------------------------------------------------- Deribit
DERIBIT_MESSAGES = {"ETH-30JUL21-2800-C": (2, 0), "ETH-27AUG21-4000-P": (1, 0), "ETH-23JUL21-2300-C": (1, 0),
                    "BTC-31DEC21-34000-P": (4, 0), "BTC-31DEC21-300000-C": (2, 0), "BTC-30JUL21-24000-P": (1, 0),
                    "BTC-25MAR22-30000-C": (1, 0), "BTC-24SEP21-8000-P": (31, 0), "BTC-24SEP21-34000-P": (2, 0),
                    "BTC-24JUN22-15000-C": (1, 0)}


def test_deribit_prev_change_id_chain():
    got = check_streams([DERIBIT], DERIBIT_MESSAGES)
    assert sum(stats["messages_applied"] for stats, *_ in got.values()) == 36  # every change links
    assert top(got["BTC-24SEP21-8000-P"][1].book) == (0.0005, 153.1, 0.0015, 94.7)
    assert top(got["ETH-27AUG21-4000-P"][1].book) == (None, None, None, None)  # an empty book


def test_deribit_lost_change_is_a_gap(tmp_path):
    content = lines(DERIBIT)
    ks = [i for i, t in enumerate(content) if '"instrument_name":"BTC-24SEP21-8000-P","change_id"' in t
          or ('"prev_change_id"' in t and "BTC-24SEP21-8000-P" in t)]
    lost = content[ks[10]]
    del content[ks[10]]
    bm, sq, loaded, res = run([write_capture(tmp_path, DERIBIT, content)], "BTC-24SEP21-8000-P")
    gap = loaded.stats["gap_list"][0]
    assert loaded.stats["gaps"] == 1 and gap["src_row"] == ks[11]
    assert gap["expected"] == int(lost.split('"prev_change_id":')[1].split(",")[0]) + 1


# -------------------------------------------------------------------------- HitBTC and Bequant
HITBTC_MESSAGES = {"ORNBTC": (13, 0), "POLYBTC": (18, 0), "GVTETH": (2, 0), "INSURBTC": (36, 0), "DNTBTC": (10, 0),
                   "VETBTC": (227, 0), "CRDTETH": (7, 0), "GRTBTC": (166, 0), "MTXUSD": (2, 0), "EURSUSD": (56, 0)}


def check_resubscribed(files, expected):
    """HitBTC's capture subscribes twice: two snapshots per symbol, the second a resync."""
    out = {}
    for symbol, bm, sq, loaded, res in runs(files, expected):
        msgs = bm.messages()
        assert (msgs.height, int(msgs["snapshot"].sum())) == (expected[symbol][0], 2)
        assert (loaded.stats["gaps"], loaded.stats["duplicates"], loaded.stats["quarantined"]) == (0, 0, 0)
        assert res.book["book_valid"].all() and res.counters["crossed_rows"] == 0
        out[symbol] = res
    return out


def test_hitbtc_sequence_numbers():
    got = check_resubscribed([HITBTC], HITBTC_MESSAGES)
    assert sum(r.counters["rows"] for r in got.values()) == 20 + 517
    assert top(got["VETBTC"].book) == (2.2001e-06, 10360.0, 2.2032e-06, 10320.0)


def test_hitbtc_swapped_neighbours_are_reordered(tmp_path):
    content = lines(HITBTC)
    ks = [i for i, t in enumerate(content) if '"updateOrderbook"' in t and '"symbol":"VETBTC"' in t]
    content[ks[50]], content[ks[51]] = content[ks[51]], content[ks[50]]
    bm, sq, loaded, res = run([write_capture(tmp_path, HITBTC, content)], "VETBTC")
    assert (loaded.stats["reordered"], loaded.stats["gaps"]) == (1, 0)
    assert res.book["book_valid"].all()
    assert top(res.book) == (2.2001e-06, 10360.0, 2.2032e-06, 10320.0)


def test_bequant_runs_the_hitbtc_api():
    expected = {"BTCTUSD": (176, 0), "BTCDAI": (63, 0), "ETHEURS": (1, 0), "ETHDAI": (16, 0), "BTCUSDB": (275, 0),
                "MKRBTC": (122, 0), "BTCPAX": (96, 0), "BTCEURS": (3, 0), "BTCGUSD": (7, 0), "EOSBTC": (216, 0)}
    got = check_streams([BEQUANT], expected)
    assert sum(v[0] for v in expected.values()) == 10 + 965
    assert top(got["EOSBTC"][1].book) == (0.00011573, 230.0, 0.0001158, 230.0)


# ------------------------------------------------------------------------------------ Poloniex
def test_poloniex_book_lv2_id_chain():
    expected = {"USDJ_USDT": (4, 0), "DYP_USDT": (1, 0), "BCH_USDT": (57, 0), "GRT_USDT": (3, 0), "MDT_BTC": (1, 0),
                "ZEC_USDT": (1, 0), "BCH_BTC": (25, 0), "EFI_USDT": (1, 0), "BTC_USDT": (160, 0), "SOL_USDT": (40, 0),
                "GF_USDT": (1, 0)}
    got = check_streams([POLONIEX], expected)
    assert top(got["BTC_USDT"][1].book) == (21599.85, 0.68, 21602.02, 0.68)
    assert got["BTC_USDT"][2].window == 20


# ------------------------------------------------------------------------------ Kraken Futures
KRAKEN_FUTURES_MESSAGES = {"FI_BCHUSD_210730": (19, 0), "FI_XBTUSD_210730": (407, 0), "FI_XBTUSD_210924": (1241, 0),
                           "PI_XRPUSD": (236, 0), "FI_ETHUSD_210730": (347, 0), "PI_LTCUSD": (450, 0),
                           "FI_BCHUSD_210924": (45, 0), "FI_ETHUSD_211231": (350, 0), "FI_XRPUSD_210924": (38, 0),
                           "PI_ETHUSD": (3891, 0)}


def test_kraken_futures_seq():
    got = check_streams([KRAKEN_FUTURES], KRAKEN_FUTURES_MESSAGES)
    assert sum(v[0] for v in KRAKEN_FUTURES_MESSAGES.values()) == 10 + 7014
    assert top(got["PI_ETHUSD"][1].book) == (2002.05, 4387.0, 2003.05, 600.0)


def test_kraken_futures_duplicate_is_dropped(tmp_path):
    content = lines(KRAKEN_FUTURES)
    k = [i for i, t in enumerate(content) if '"feed":"book","product_id":"PI_ETHUSD"' in t][100]
    content.insert(k + 1, content[k])
    bm, sq, loaded, res = run([write_capture(tmp_path, KRAKEN_FUTURES, content)], "PI_ETHUSD")
    assert (loaded.stats["duplicates"], loaded.stats["gaps"], res.counters["rows"]) == (1, 0, 3891)
    assert res.book["book_valid"].all() and top(res.book) == (2002.05, 4387.0, 2003.05, 600.0)


# ------------------------------------------------------------------------------ Blockchain.com
def test_blockchain_connection_seqnum():
    expected = {"ALGO-BTC": (37, 0), "ENJ-USD": (1, 0), "USDC-USDT": (1, 0), "XLM-EUR": (9, 0), "AAVE-USDT": (1, 0),
                "AAVE-USD": (1, 0), "YFI-USDT": (13, 0), "DAI-USDT": (1, 0), "DGLD-USD": (1, 0), "ENJ-USDT": (13, 0)}
    got = check_streams([BLOCKCHAIN], expected)
    assert top(got["ALGO-BTC"][1].book) == (2.452e-05, 2531.78, 2.457e-05, 98.935902)
    # "px":1.6E-7 (exponent form) is read exactly: ALGO-BTC prices carry 8 decimals
    assert run([BLOCKCHAIN], "ALGO-BTC")[2].events["price_scale"][0] == 10**8


# ------------------------------------------------------------------------------------ BitMEX
BITMEX = CRYPTOFEED / "2021-07-22" / "BITMEX.ws.1.0.gz"
BITMEX_MESSAGES = {"XRPU21": (6, 0), "UNIUSDT": (80, 0), "XBTUSD": (1300, 0), "ADAUSDT": (120, 0), "SOLUSDT": (142, 0),
                   "TRXU21": (3, 0), "EOSUSDT": (86, 0), "TRXUSDT": (36, 0), "BCHUSD": (73, 0), "MATICUSDT": (133, 0)}


def test_bitmex_order_book_l2_ids():
    got = check_streams([BITMEX], BITMEX_MESSAGES)
    assert sum(v[0] for v in BITMEX_MESSAGES.values()) == 10 + 445 + 1090 + 434
    assert top(got["XBTUSD"][1].book) == (32186.5, 1407700.0, 32187.0, 36000.0)


def test_bitmex_update_of_an_unknown_id_is_quarantined(tmp_path):
    content = lines(BITMEX)
    k = next(i for i, t in enumerate(content) if '"action":"update"' in t and '"symbol":"XBTUSD"' in t)
    content.insert(k, '1626993370.5: {"table":"orderBookL2","action":"update","data":[{"symbol":"XBTUSD",'
                      '"id":1,"side":"Sell","size":5}]}\n')
    bm, sq, loaded, res = run([write_capture(tmp_path, BITMEX, content)], "XBTUSD")
    assert loaded.quarantine.rows() == [(str(tmp_path / "BITMEX.ws.1.0"), k + 1, "malformed orderBookL2 update "
                                         "(KeyError: 'level id 1 was never announced by a partial or insert')")]
    assert res.counters["rows"] == 1300 and top(res.book) == (32186.5, 1407700.0, 32187.0, 36000.0)


# ------------------------------------------------------------------------------- FMFW, Bit.com
FMFW = CRYPTOFEED / "2021-10-09" / "FMFW.ws.1.0.gz"
BITCOM_SPOT = CRYPTOFEED / "2024-01-07" / "BIT.COM.ws.1.0.gz"
BITCOM_PERP = CRYPTOFEED / "2024-01-07" / "BIT.COM.ws.2.0.gz"


def test_fmfw_orderbook_full_sequence():
    expected = {"NEOBTC": (145, 0), "EOSUSDT": (281, 0), "ATOMBCH": (36, 0), "DCRETH": (106, 0), "HTBTC": (59, 0),
                "XVSUSDT": (48, 0), "USDTUSDP": (59, 0), "TRVBCH": (1, 0), "BORUSDT": (7, 0), "DOGEUSDT": (137, 0)}
    got = check_streams([FMFW], expected)
    assert sum(v[0] for v in expected.values()) == 10 + 869
    assert top(got["EOSUSDT"][1].book) == (4.97951, 760.0, 4.98039, 760.0)


def test_bitcom_prev_sequence_chain():
    spot = {"ORDI-USDT": (1, 0), "COMP-USD": (1, 0), "DOSE-USDT": (1, 0), "OMG-USDT": (309, 0), "BTC-USD": (1, 0),
            "TUSD-USDT": (1, 0), "YFI-USDT": (5, 0), "FTM-USDT": (5, 0), "LTC-USD": (1, 0)}
    got = check_streams([BITCOM_SPOT], spot)
    assert top(got["OMG-USDT"][1].book) == (0.697, 599.8, 0.7, 599.6)
    streams = from_files([BITCOM_PERP])
    assert [s.symbol for s in streams] == ["NEAR-USDT-PERPETUAL"]
    bm, sq, loaded, res = run([BITCOM_PERP], "NEAR-USDT-PERPETUAL")
    msgs = bm.messages()
    assert (msgs.height, int(msgs["snapshot"].sum()), loaded.stats["gaps"]) == (717, 2, 0)  # a second snapshot resyncs
    assert res.book["book_valid"].all() and top(res.book) == (3.347, 110.0, 3.355, 390.0)


# ---------------------------------------------------------------------------------- AscendEX
ASCENDEX = CRYPTOFEED / "2021-04-17" / "ASCENDEX.ws.1.0.gz"
ASCENDEX_FUTURES = CRYPTOFEED / "2022-04-25" / "ASCENDEX_FUTURES.ws.1.0.gz"


def test_ascendex_seqnum_after_requested_snapshot():
    spot = {"CHZ/USDT": (67, 2), "ALTBULL/USDT": (22, 2), "NEO/USDT": (87, 2), "SRM/BTC": (48, 2), "DIVI/USDT": (1, 0),
            "CHR/USDT": (17, 0), "XDAI/USDT": (5, 0), "EGLD/USDT": (28, 0), "ROOM/USDT": (3, 0), "ZIG/USDT": (9, 0)}
    got = check_streams([ASCENDEX], spot)
    assert top(got["CHZ/USDT"][1].book) == (0.626579, 3292.0, 0.636898, 600.0)
    futures = {"BTC-PERP": (77, 2), "LINK-PERP": (44, 1), "UNI-PERP": (38, 1), "APE-PERP": (22, 1), "DOT-PERP": (51, 1),
               "PORT-PERP": (2, 0), "ATOM-PERP": (2, 0), "XPRT-PERP": (2, 0), "MATIC-PERP": (20, 0), "AKT-PERP": (9, 0)}
    got = check_streams([ASCENDEX_FUTURES], futures)
    assert top(got["BTC-PERP"][1].book) == (40483.0, 0.3241, 40491.0, 0.0113)
