"""REST snapshot, then websocket diffs chained by update ids (the Binance procedure; Binance
itself is in test_cryptofeed_binance.py): Gate.io spot and futures, KuCoin and Bitstamp on
their real captures. Expected figures were counted from the capture files; the final books
quoted were also rebuilt independently from the raw JSON with ``decimal.Decimal`` dicts and each
venue's documented rules. The KuCoin / Gate.io futures ticker messages whose update id ends an
applied diff (all 810 / 16) agree with the replayed best bid and ask."""

from __future__ import annotations

from cfhelpers import CRYPTOFEED, check_streams, lines, run, ticker_totals, top, write_capture

GATEIO = [CRYPTOFEED / "2021-04-22" / "GATEIO.ws.1.0.gz", CRYPTOFEED / "2021-04-22" / "GATEIO.http.0.0.gz"]
GATEIO_FUTURES = [CRYPTOFEED / "2023-05-24" / "GATEIO_FUTURES.ws.1.0.gz", CRYPTOFEED / "2023-05-24" / "GATEIO_FUTURES.http.0.0.gz"]
KUCOIN = [CRYPTOFEED / "2021-04-25" / "KUCOIN.ws.1.0.gz", CRYPTOFEED / "2021-04-25" / "KUCOIN.http.0.0.gz"]
BITSTAMP = [CRYPTOFEED / "2022-01-05" / "BITSTAMP.ws.1.0.gz", CRYPTOFEED / "2022-01-05" / "BITSTAMP.http.0.0.gz"]


# ---------------------------------------------------------------------------------- Gate.io
GATEIO_MESSAGES = {"HAI_ETH": (7, 1), "QTUM3S_USDT": (19, 2), "FAST_USDT": (22, 1), "OMG_USDT": (52, 1),
                   "ZKS_ETH": (13, 1), "NEO_BTC": (40, 3), "INK_USDT": (2, 1), "DIS_USDT": (18, 0),
                   "BTC_USDC": (3, 2), "NANO_USDT": (6, 1)}
GATEIO_FUTURES_MESSAGES = {"RDNT_USDT": (71, 9), "OMG_USDT": (110, 8), "PHB_USDT": (74, 4), "FRONT_USDT": (7, 1),
                           "QUICK_USDT": (17, 3), "WOO_USDT": (61, 3), "ZRX_USDT": (3, 1), "SFP_USDT": (10, 2),
                           "DIA_USDT": (3, 2), "LIT_USDT": (6, 3)}


def test_gateio_spot_syncs_every_pair():
    got = check_streams(GATEIO, GATEIO_MESSAGES)
    assert top(got["OMG_USDT"][1].book) == (7.899, 288.0, 7.927, 316.6)
    assert got["OMG_USDT"][2].window == 100


def test_gateio_futures_book_ticker_agrees():
    got = check_streams(GATEIO_FUTURES, GATEIO_FUTURES_MESSAGES)
    assert ticker_totals(got) == (16, 16)


def test_gateio_dropped_diff_is_a_located_gap(tmp_path):
    ws, http = GATEIO
    content = lines(ws)
    ks = [i for i, t in enumerate(content) if '"s":"OMG_USDT"' in t and '"event":"update"' in t]
    dropped = content[ks[20]]
    u = int(dropped.split('"u":')[1].split(",")[0])
    del content[ks[20]]
    path = write_capture(tmp_path, ws, content)
    bm, sq, loaded, res = run([path, http], "OMG_USDT")
    assert loaded.stats["gaps"] == 1
    gap = loaded.stats["gap_list"][0]
    assert (gap["src_row"], gap["expected"]) == (ks[21], u)  # the next diff's line (one line earlier now)
    assert not res.book["book_valid"][gap["row"]:].any()


# ----------------------------------------------------------------------------------- KuCoin
KUCOIN_MESSAGES = {"BCHSV-USDT": (2362, 19), "SNX-BTC": (605, 4), "CAPP-BTC": (94, 1), "ANKR-BTC": (246, 2),
                   "FET-BTC": (221, 2), "DAPPT-BTC": (171, 8), "NRG-BTC": (67, 6), "COV-BTC": (53, 4),
                   "EQZ-BTC": (43, 2)}


def test_kucoin_level2_ticker_agrees_810_times():
    got = check_streams(KUCOIN, KUCOIN_MESSAGES)
    assert sum(v[0] for v in KUCOIN_MESSAGES.values()) == 3853 + 9
    assert ticker_totals(got) == (810, 810)


# --------------------------------------------------------------------------------- Bitstamp
BITSTAMP_MESSAGES = {"bateur": (90, 14), "adaeur": (63, 5), "batbtc": (137, 25), "ethusd": (86, 12),
                     "xlmgbp": (74, 13), "xrpeur": (71, 6), "usdtusd": (75, 13), "usdteur": (102, 12),
                     "galaeur": (28, 2)}


def test_bitstamp_diffs_after_the_snapshot_microtimestamp():
    got = check_streams(BITSTAMP, BITSTAMP_MESSAGES)
    assert top(got["ethusd"][1].book) == (3800.78, 0.6, 3803.58, 15.09750054)
