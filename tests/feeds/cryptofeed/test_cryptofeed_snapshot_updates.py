"""A snapshot, then updates without a sequence, or whole-book snapshots only: Coinbase, Gemini,
Bybit v2, Delta, ProBit, bitFlyer (its own mid price on every message) and Phemex (scaled
integers) on their real captures. Expected figures were counted from the capture files; the
final books quoted were also rebuilt independently from the raw JSON with ``decimal.Decimal``
dicts and each venue's documented rules."""

from __future__ import annotations

from decimal import Decimal as D

import polars as pl
import pytest

from cfhelpers import CRYPTOFEED, check_streams, run, top
from obrecon_pipeline.errors import InputError
from obrecon_pipeline.feeds.cryptofeed import from_files

COINBASE = CRYPTOFEED / "2021-04-17" / "COINBASE.ws.28.0.gz"
GEMINI = CRYPTOFEED / "2021-06-24" / "GEMINI.ws.1.0.gz"
BYBIT_USDT = CRYPTOFEED / "2021-04-17" / "BYBIT.ws.25.0.gz"
BYBIT_INVERSE = CRYPTOFEED / "2021-04-17" / "BYBIT.ws.26.0.gz"


# --------------------------------------------------------------------- Coinbase and Gemini
COINBASE_MESSAGES = {"BAND-GBP": (472, 0), "SKL-GBP": (290, 0), "NU-GBP": (77, 0), "YFI-BTC": (488, 0),
                     "SKL-BTC": (1540, 0), "CRV-EUR": (671, 0), "BAND-BTC": (1006, 0), "DASH-BTC": (1926, 0),
                     "NMR-EUR": (666, 0), "SKL-USD": (2593, 0)}
GEMINI_MESSAGES = {"ALCXUSD": (22, 0), "ANKRUSD": (107, 0), "GRTUSD": (76, 0), "LTCETH": (3, 0), "ETHEUR": (56, 0),
                   "BATBTC": (47, 0), "ZECLTC": (7, 0), "FILUSD": (168, 0), "LINKETH": (16, 0), "BTCGBP": (153, 0)}


#: line 39: {"type":"l2update","product_id":"SKL-USD",...,"time":"2021-04-17T16:43:37.075351Z"} received 1618677817.1292548
FIRST_SKL_USD_UPDATE = (39, 1618677817_075351000, 1618677817_129254800)


def test_coinbase_level2():
    got = check_streams([COINBASE], COINBASE_MESSAGES)
    assert sum(v[0] for v in COINBASE_MESSAGES.values()) == 10 + 9719
    stats, res, bm, sq = got["SKL-USD"]
    assert top(res.book) == (0.7902, 468.0, 0.7911, 450.0)
    ev = run([COINBASE], "SKL-USD")[2].events
    # the snapshot has no time (receive time); an l2update's "time" is its ts_event, exactly
    assert ev.row(0, named=True)["ts_event"] == ev.row(0, named=True)["ts_recv"]
    first_diff = ev.filter(pl.col("src_row") == FIRST_SKL_USD_UPDATE[0]).row(0, named=True)
    assert (first_diff["ts_event"], first_diff["ts_recv"]) == FIRST_SKL_USD_UPDATE[1:]


def test_gemini_l2():
    got = check_streams([GEMINI], GEMINI_MESSAGES)
    assert top(got["BTCGBP"][1].book) == (24175.82, 0.14802333, 24204.04, 0.04)


# ------------------------------------------------------------------------------------ Bybit v2
def test_bybit_l2_25_keeps_exactly_25_levels_a_side():
    usdt = {"BCHUSDT": (478, 0), "XTZUSDT": (449, 0), "UNIUSDT": (219, 0), "LTCUSDT": (647, 0), "DOTUSDT": (407, 0),
            "LINKUSDT": (396, 0), "ADAUSDT": (375, 0), "ETHUSDT": (289, 0)}
    got = check_streams([BYBIT_USDT], usdt, levels=26)
    got.update(check_streams([BYBIT_INVERSE], {"EOSUSD": (511, 0), "BTCUSD": (507, 0)}, levels=26))
    for symbol, (stats, res, bm, sq) in got.items():
        book = res.book
        # after every delete/update/insert message the window holds 25 levels a side, never 26
        assert book["bid_price_25"].null_count() == book["ask_price_25"].null_count() == 0, symbol
        assert book["bid_price_26"].null_count() == book["ask_price_26"].null_count() == book.height, symbol
    assert top(got["BTCUSD"][1].book) == (60622.5, 12836512.0, 60623.0, 1656505.0)


# --------------------------------------------------------------------------- Delta, ProBit
DELTA = CRYPTOFEED / "2021-11-29" / "DELTA.ws.1.0.gz"
PROBIT = CRYPTOFEED / "2021-04-17" / "PROBIT.ws.66.0.gz"


def test_delta_every_message_is_the_whole_book():
    streams = from_files([DELTA])
    assert len(streams) == 10
    total = 0
    for s in streams:
        bm, sq, loaded, res = run([DELTA], s.symbol)
        msgs = bm.messages()
        assert msgs["snapshot"].all() and loaded.stats["quarantined"] == 0
        assert res.book["book_valid"].all() and res.counters["crossed_rows"] == 0
        total += msgs.height
        if s.symbol == "C-ETH-3200-311221":
            assert msgs.height == 31 and top(res.book) == (1237.0, 1432.0, 1239.5, 1116.0)
    assert total == 309


def test_probit_reset_then_updates():
    expected = {"DMX-USDT": (1, 0), "CP-USDT": (1, 0), "RM-USDT": (1, 0), "XEM-USDT": (9, 0), "CUR-KRW": (4, 0),
                "ETN-KRW": (3, 0), "MONA-KRW": (1, 0), "CORX-USDT": (5, 0), "MDM-KRW": (1, 0), "BTCV-KRW": (1, 0)}
    got = check_streams([PROBIT], expected)
    assert top(got["XEM-USDT"][1].book) == (0.4668, 12.5938, 0.4695, 30.7433)


# ---------------------------------------------------------------------------------- bitFlyer
BITFLYER = CRYPTOFEED / "2021-12-12" / "BITFLYER.ws.1.0.gz"


def test_bitflyer_mid_price_agrees_748_of_749_times():
    """bitFlyer stamps every board message with its own ``mid_price``, truncated to the product's
    price tick. The replayed (best bid + best ask) / 2, truncated the same way, equals it after
    748 of the 749 messages with both sides; the one exception is FX_BTC_JPY line 811, the first
    diff after the snapshot re-sent at line 804 (whose own mid, 5869709, the replay matches):
    bitFlyer's snapshot and diff channels are not ordered with respect to each other."""
    from obrecon_pipeline.feeds.cryptofeed.bitflyer import mid_prices
    from obrecon_pipeline.feeds.cryptofeed.capture import read_capture

    cap = read_capture(BITFLYER)
    streams = from_files([BITFLYER])
    assert len(streams) == 10
    agree, disagree, messages = 0, [], 0
    for s in streams:
        bm, sq, loaded, res = run([BITFLYER], s.symbol)
        messages += bm.messages().height
        assert loaded.stats["gaps"] == 0 and res.counters["crossed_rows"] == 0
        ev = loaded.events
        scale = int(ev["price_scale"][0])
        prices = ev.filter(pl.col("action") == 7)["price"].to_numpy()
        unit = scale
        while unit > 1 and (prices % unit).any():
            unit //= 10  # scaled units per price tick: the coarsest power of ten dividing every price
        mids = dict(mid_prices(cap, s.symbol))
        ends = ev.filter((pl.col("flags") & 1) == 1)["src_row"].to_list()
        for line, bid, ask in zip(ends, res.cells[:, 0], res.cells[:, 2]):
            if bid < 0 or ask < 0:
                continue
            ours = (int(bid) + int(ask)) // 2 // unit * unit
            if ours == int(D(mids[line]) * scale):
                agree += 1
            else:
                disagree.append((s.symbol, line, ours / scale, mids[line]))
    assert messages == 782
    assert agree == 748
    assert disagree == [("FX_BTC_JPY", 811, 5869709.0, "5869789.0")]


# ------------------------------------------------------------------------------------ Phemex
PHEMEX = [CRYPTOFEED / "2021-07-03" / "PHEMEX.ws.1.0.gz", CRYPTOFEED / "2021-07-03" / "PHEMEX.0.gz"]


def test_phemex_scaled_integers_with_product_scales():
    expected = {"YFIUSD": (109, 0), "XMRUSD": (144, 0), "ENJUSD": (157, 0), "sGRTUSDT": (156, 0),
                "sSUSHIUSDT": (10, 0), "sENJUSDT": (49, 0), "XTZUSD": (393, 0), "sBCHUSDT": (29, 0),
                "ATOMUSD": (116, 0), "sLINKUSDT": (174, 0)}
    streams = from_files(PHEMEX)
    assert [s.symbol for s in streams] == list(expected)
    total = 0
    for s in streams:
        bm, sq, loaded, res = run(PHEMEX, s.symbol)
        msgs = bm.messages()
        assert msgs.height == expected[s.symbol][0]
        assert (loaded.stats["gaps"], loaded.stats["quarantined"]) == (0, 0)
        assert res.book["book_valid"].all() and res.counters["crossed_rows"] == 0
        total += msgs.height
        if s.symbol == "sGRTUSDT":  # spot: priceEp 67180000 at 10^8 (USDT), base qty at 10^8 (GRT)
            assert int(msgs["snapshot"].sum()) == 2 and top(res.book) == (0.6718, 5278.09, 0.67436, 8646.2)
        if s.symbol == "YFIUSD":  # contract: priceScale 4, whole contracts
            assert top(res.book) == (32936.0, 5488.0, 32999.0, 2396.0)
    assert total == 13 + 1324


def test_phemex_without_product_list_is_an_input_error():
    with pytest.raises(InputError) as err:
        run(PHEMEX[:1], "YFIUSD")
    assert err.value.path == str(PHEMEX[0]) and "no Phemex product definition for 'YFIUSD'" in err.value.reason
