"""An hftbacktest partition through the Dagster layer: landing zone -> book -> feed_integrity, whose
metadata carries the bookTicker comparison and which fails on a ticker that disagrees."""


from tests.assets.conftest import landing_day
from tests.feeds.hftbacktest_captures import wrong_best_bid_capture

KEY = "hftbacktest/spot-BTCUSDT/2024-08-08"


def test_spot_partition_passes_with_every_ticker_agreeing(tmp_path, shipped_integrity):
    evaluation, meta = shipped_integrity(tmp_path, KEY)
    assert evaluation.passed
    assert (meta["rows"], meta["gaps"], meta["quarantined"], meta["tickers_compared"], meta["tickers_disagreeing"]) == (
        1655, 0, 0, 278, 0)


def test_a_ticker_that_disagrees_fails_the_check_at_its_line(tmp_path, materialize_integrity):
    day = landing_day(tmp_path, KEY)
    faulty, line, _, best_bid = wrong_best_bid_capture(day)
    evaluation, meta = materialize_integrity(tmp_path, KEY)
    assert not evaluation.passed and meta["tickers_disagreeing"] >= 1
    assert meta["first_ticker_disagreement_line"] == f"{faulty.resolve()}, row {line}"
    assert meta["first_ticker_disagreement"]["theirs"]["bid_price"] == float(best_bid)
