"""Reference comparisons and verdicts on hand-made books: exact values, the first divergent row,
too-few verdicts with n and the minimum."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "metrics"))
from handmade_books import T0, book_frame  # noqa: E402

from obrecon_pipeline.fidelity import compare  # noqa: E402
from obrecon_pipeline.fidelity.evaluate import evaluate, report_row  # noqa: E402
from obrecon_pipeline.fidelity.thresholds import Thresholds  # noqa: E402
from obrecon_pipeline.fidelity.verdict import Verdict  # noqa: E402

TH = Thresholds()
N = 200


def spread_path(seed: int) -> list[dict]:
    """A random walk of mid and spread: 200 rows, 2 levels."""
    rng = np.random.default_rng(seed)
    mid = 100.0 + np.cumsum(rng.choice([-0.01, 0.0, 0.01], N))
    half = rng.choice([0.01, 0.02, 0.03], N)
    depth = rng.integers(1, 10, (N, 4)) * 100.0
    return [
        {
            "bid": [(round(m - h, 2), d[0]), (round(m - h - 0.01, 2), d[1])],
            "ask": [(round(m + h, 2), d[2]), (round(m + h + 0.01, 2), d[3])],
        }
        for m, h, d in zip(mid, half, depth)
    ]


REFERENCE = book_frame(spread_path(1), levels=2)


def test_identical_books_pass_with_exact_values():
    aligned = compare.align(REFERENCE, REFERENCE)
    spread = compare.spread_correlation(aligned, TH)
    depth = compare.depth_correlation(aligned, TH)
    error = compare.l1_spread_error(aligned, TH)
    assert (spread.verdict, spread.value, spread.n) == (Verdict.PASS, pytest.approx(1.0), N)
    assert (depth.verdict, depth.value) == (Verdict.PASS, pytest.approx(1.0))
    assert (error.verdict, error.value, error.threshold) == (Verdict.PASS, 0.0, "< 2.0 bp")
    assert spread.details["spread_divergent_rows"] == 0 and spread.rows == []


def test_a_damaged_row_fails_and_is_located():
    rows = spread_path(1)
    for i in range(120, N):  # from row 120 on the ask side is one level too deep
        rows[i] = {"bid": rows[i]["bid"], "ask": [rows[i]["ask"][1], rows[i]["ask"][1]]}
    aligned = compare.align(book_frame(rows, levels=2), REFERENCE)
    error = compare.l1_spread_error(aligned, TH)
    depth = compare.depth_correlation(aligned, TH)
    assert error.details["first_divergent_seq"] == 120
    assert error.details["first_divergent_ts_event"] == T0 + 120 * 1_000_000
    assert error.details["spread_divergent_rows"] == 80
    # mean over 200 rows of 1 cent / mid in bp: 80 rows * ~1 bp / 200
    expected = float(np.mean([1e4 * 0.01 / ((r["bid"][0][0] + r["ask"][0][0]) / 2) for r in spread_path(1)][120:])) * 80 / N
    assert error.value == pytest.approx(expected, rel=1e-6)
    assert depth.verdict is Verdict.FAIL and depth.details["worst_side"] == "ask"
    assert depth.details["first_divergent_seq"] == 120
    seqs = [r["seq"] for r in depth.rows]
    assert len(seqs) == 5 and seqs[0] == 120 and seqs == sorted(seqs)
    assert list(depth.rows[0]) == ["seq", "ts_event", "ask_depth", "ask_depth_ref"]


def test_rows_missing_from_the_rebuilt_book_shrink_n_and_too_few_says_so():
    short = REFERENCE.head(20)
    result = compare.spread_correlation(compare.align(short, REFERENCE), TH)
    assert (result.verdict, result.n, result.min_n) == (Verdict.TOO_FEW, 20, 30)
    assert result.details["reason"] == "too few observations: n = 20 < 30 required"


def test_rules_rejudge_a_stored_value_against_other_thresholds():
    strict = Thresholds(spread_corr_min=0.999)
    assert compare.result("spread_correlation", 0.995, 1000, TH).verdict is Verdict.PASS
    assert compare.result("spread_correlation", 0.995, 1000, strict).verdict is Verdict.FAIL
    assert compare.result("garch_persistence", 0.98, 1000, TH, {"converged": False}).verdict is Verdict.FAIL
    assert compare.result("tail_index", 1.2, 1000, TH).verdict is Verdict.FAIL


def test_without_a_reference_the_comparisons_say_so_and_short_books_are_too_few():
    events = pl.DataFrame(
        schema={"ts_event": pl.Int64, "arrival": pl.Int64, "action": pl.Int8, "side": pl.Int8, "price": pl.Int64,
                "size": pl.Int64, "price_scale": pl.Int64, "size_scale": pl.Int64}
    )
    evaluation = evaluate(REFERENCE, events, None, TH)
    results = {r.name: r for r in evaluation.results}
    assert set(results) == set(compare.RULES)
    for name, rule in compare.RULES.items():
        expected = Verdict.NO_REFERENCE if rule.needs_reference else Verdict.TOO_FEW
        assert results[name].verdict is expected, name
    # 200 rows over 0.2 s: no 1 s return at all
    assert results["volatility_clustering"].details["reason"] == "too few observations: n = 0 < 200 required"
    assert results["vwap_prediction"].details["reason"] == "too few observations: n = 0 < 20 required"
    row = report_row(evaluation, partition="x")
    assert row.height == 1 and row["spread_correlation_verdict"][0] == "no_reference"
    assert row["volatility_clustering_min_n"][0] == 200
    assert row["n_returns"][0] == 0 and row["garch_alpha"][0] is None and row["ref_hill_alpha"][0] is None


def test_a_book_without_both_quotes_is_too_few_everywhere():
    one_sided = book_frame([{"bid": [(100.0, 1.0)]}] * 50, levels=2)
    events = pl.DataFrame(
        schema={"ts_event": pl.Int64, "arrival": pl.Int64, "action": pl.Int8, "side": pl.Int8, "price": pl.Int64,
                "size": pl.Int64, "price_scale": pl.Int64, "size_scale": pl.Int64}
    )
    results = evaluate(one_sided, events, REFERENCE, TH).results
    assert {r.name: r.verdict for r in results} == {name: Verdict.TOO_FEW for name in compare.RULES}
    assert {r.n for r in results} == {0}


def _whole_join(book: pl.DataFrame, reference: pl.DataFrame) -> pl.DataFrame:
    """The alignment by definition: one inner join on ``seq`` of the two whole views, sorted."""
    n = min(compare.levels_of(book), compare.levels_of(reference))
    return compare._view(book, n, "").join(compare._view(reference, n, "_ref"), on="seq").sort("seq")


@pytest.mark.parametrize("slice_rows", [1, 2, 7, 4096])
def test_alignment_in_slices_is_the_whole_join(slice_rows):
    """Rebuilt rows missing, a rebuilt book one level deeper and a reference that starts later:
    the slice-by-slice merge on seq gives the whole join cell for cell."""
    rows = spread_path(2)
    book = book_frame(rows, levels=2).filter(pl.col("seq") % 3 != 0)
    reference = REFERENCE.filter(pl.col("seq") >= 17)
    aligned = compare.align(book, reference, slice_rows=slice_rows)
    assert aligned.height > 100 and aligned.equals(_whole_join(book, reference))
    assert compare.align(book.head(0), reference, slice_rows=slice_rows).equals(_whole_join(book.head(0), reference))
    assert compare.align(book, reference.head(0), slice_rows=slice_rows).equals(_whole_join(book, reference.head(0)))


def test_a_book_out_of_seq_order_is_refused():
    with pytest.raises(ValueError, match="book rows are not in ascending seq order"):
        compare.align(REFERENCE.reverse(), REFERENCE, slice_rows=7)


@pytest.fixture(scope="module")
def goog() -> tuple[pl.DataFrame, pl.DataFrame]:
    """LOBSTER's GOOG day: its reference book, and a rebuilt book whose rows from seq 60,000 on have
    their best ask one tick higher."""
    from obrecon_pipeline.feeds import get_feed
    from obrecon_pipeline.pipeline import reference_frame
    from tests.conftest import RAW

    feed = get_feed("lobster")
    (stream,) = [s for s in feed.discover(RAW / "lobster" / "2012-06-21", "2012-06-21") if s.name == "GOOG-L10"]
    reference = reference_frame(feed.load(stream))
    damaged = reference.with_columns(
        pl.when(pl.col("seq") >= 60_000).then(pl.col("ask_price_1") + 0.01).otherwise(pl.col("ask_price_1"))
        .alias("ask_price_1"))
    return damaged, reference


@pytest.mark.parametrize("slice_rows", [4096, 100_000])
def test_goog_alignment_and_comparisons_in_slices_equal_the_whole_day(goog, slice_rows, tmp_path):
    """On GOOG's day the merge in slices is the whole join, and the comparisons read from its
    scratch Parquet scan are the comparisons of the whole aligned frame: details, rows, n and
    verdict exactly, the value to the last bits (Polars' streaming engine sums in another order
    than one in-memory pass)."""
    book, reference = goog
    whole = _whole_join(book, reference)
    assert whole.height == 147_916
    batched = compare.aligned_batches(book.lazy(), reference.lazy(), slice_rows=slice_rows)
    batched.write_parquet(tmp_path / "aligned.parquet")
    scan = pl.scan_parquet(tmp_path / "aligned.parquet")
    assert scan.collect().equals(whole)
    for rule in (compare.spread_correlation, compare.depth_correlation, compare.l1_spread_error):
        streamed, in_memory = rule(scan, TH), rule(whole, TH)
        assert streamed.value == pytest.approx(in_memory.value, rel=1e-14, abs=0.0), rule.__name__
        assert replace(streamed, value=None) == replace(in_memory, value=None), rule.__name__
    error = compare.l1_spread_error(scan, TH)
    assert error.details["first_divergent_seq"] == 60_000 and error.details["spread_divergent_rows"] > 80_000
