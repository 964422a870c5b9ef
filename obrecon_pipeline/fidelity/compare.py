"""Comparisons of a rebuilt book with a reference book, and the stylized-fact verdicts.

Each statistic has a *rule* (see :data:`RULES`): its description, how it is computed from the
partition's :class:`Sample`, its test (value, details, thresholds -> ok), a human-readable
threshold and a minimum n; adding a statistic is one entry there (and its thresholds in
:class:`~obrecon_pipeline.fidelity.thresholds.Thresholds`: the Dagster resource and the checks
follow). :func:`result` turns a computed value into a
:class:`~obrecon_pipeline.fidelity.verdict.StatResult`, so the Dagster checks can re-judge a stored
value against configured thresholds with the same code.

Against a reference (rows aligned on ``seq``; reference rows usable; rebuilt rows with both quotes,
whether or not the replayer flagged them invalid: the comparison judges the book as published):

* spread correlation: Pearson ρ(s_1, s_1^ref) of the L1 quoted spreads;
* depth correlation: min over sides of ρ(D_N, D_N^ref), D_N the total visible depth;
* L1 spread error: mean_n 10^4 |s_{1,n} - s^ref_{1,n}| / m^ref_n (bp);
* KS: two-sample Kolmogorov-Smirnov D = sup_x |F_n(x) - G_m(x)| on interval returns
  (Smirnov 1948, *Table for estimating the goodness of fit of empirical distributions*, Ann. Math.
  Stat. 19), not rejected when p >= α;
* GARCH: max(|α̂ - α̂_ref| / α̂_ref, |β̂ - β̂_ref| / β̂_ref) (Bollerslev 1986);
* Hill: |α̂ - α̂_ref| / α̂_ref (Hill 1975);
* Ljung-Box: number of lags whose reject/accept verdict differs (Ljung & Box 1978).

On the rebuilt book alone (Cont 2001, *Empirical properties of asset returns: stylized facts and
statistical issues*, Quantitative Finance 1):

* volatility clustering: Ljung-Box on r² rejects at every lag (value: the largest p-value);
* tail index: Hill α̂ inside a plausible range (Gopikrishnan et al. 1998: α ≈ 3);
* GARCH persistence: α + β < 1 with a converged fit;
* VWAP prediction: median |VWAP_pred - VWAP| / m in bp of marketable orders (see
  :mod:`obrecon_pipeline.metrics.impact`).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from collections.abc import Iterator
from typing import Callable

import numpy as np
import polars as pl
from scipy.stats import ks_2samp

from obrecon_pipeline.book_schema import level_names, levels_of
from obrecon_pipeline.fidelity.garch import Garch11
from obrecon_pipeline.fidelity.hill import HillEstimate
from obrecon_pipeline.fidelity.ljung_box import LjungBox
from obrecon_pipeline.fidelity.statistics import ReturnStatistics
from obrecon_pipeline.fidelity.thresholds import Thresholds
from obrecon_pipeline.fidelity.verdict import StatResult, Verdict, judge
from obrecon_pipeline.metrics.batches import SLICE_ROWS, Batched, table_slices
from obrecon_pipeline.metrics.prices import lazy, mid_price, usable
from obrecon_pipeline.metrics.spreads import cumulative_depth

Details = dict
Rows = list[dict]


@dataclass(frozen=True)
class Sample:
    """What every statistic is computed from (built once per partition by
    :func:`obrecon_pipeline.fidelity.evaluate.evaluate`); the ``_ref`` fields are None without a
    reference book."""

    stats: ReturnStatistics  #: Ljung-Box, Hill, GARCH of the rebuilt book's interval returns
    returns: pl.DataFrame  #: the rebuilt book's interval returns (``ts_end``, ``log_return``)
    orders: pl.DataFrame  #: marketable orders walked through the book before them (:data:`VWAP_COLUMNS` at least)
    #: rows of both books with the same ``seq`` (:func:`aligned_batches`; a scan of them on a day)
    aligned: pl.DataFrame | pl.LazyFrame | None = None
    stats_ref: ReturnStatistics | None = None
    returns_ref: pl.DataFrame | None = None


@dataclass(frozen=True)
class Rule:
    """One fidelity statistic: how it is computed, judged and described (a new statistic is one
    entry of :data:`RULES`, with its thresholds in :class:`~.thresholds.Thresholds`)."""

    description: str  #: what the check says, as shown in the UI
    compute: Callable[[Sample, Thresholds], StatResult]
    ok: Callable[[float, Details, Thresholds], bool]  #: the test of a value with n >= min n
    threshold: Callable[[Thresholds], str]  #: the test in words, e.g. ">= 0.99"
    sample_size: str  #: the Thresholds field holding the minimum n
    needs_reference: bool

    def min_n(self, th: Thresholds) -> int:
        return getattr(th, self.sample_size)


_OPS = {">=": operator.ge, "<": operator.lt, "<=": operator.le}


def bound(op: str, field: str, text: str = "{op} {value}") -> dict:
    """``ok`` and ``threshold`` of a rule that compares the value with one Thresholds ``field``
    (``value op field``), so that the test and the words shown for it have one definition."""
    test = _OPS[op]
    return {"ok": lambda v, d, t: test(v, getattr(t, field)),
            "threshold": lambda t: text.format(op=op, value=getattr(t, field))}


def _both(s: Sample, attr: str) -> int:
    return min(getattr(s.stats, attr), getattr(s.stats_ref, attr))


RULES: dict[str, Rule] = {
    "spread_correlation": Rule(
        "Pearson correlation of the L1 quoted spread with the reference book's",
        lambda s, t: spread_correlation(s.aligned, t),
        **bound(">=", "spread_corr_min"), sample_size="min_n_corr", needs_reference=True),
    "depth_correlation": Rule(
        "Correlation of total visible depth with the reference book's (worst side)",
        lambda s, t: depth_correlation(s.aligned, t),
        **bound(">=", "depth_corr_min"), sample_size="min_n_corr", needs_reference=True),
    "l1_spread_error_bp": Rule(
        "Mean absolute L1 spread error against the reference book, bp of mid",
        lambda s, t: l1_spread_error(s.aligned, t),
        **bound("<", "l1_spread_error_bp_max", "{op} {value} bp"), sample_size="min_n_corr", needs_reference=True),
    "ks_returns": Rule(
        "Two-sample KS test of interval returns against the reference book's not rejected",
        lambda s, t: ks_returns(s.returns, s.returns_ref, t),
        **bound(">=", "ks_alpha", "p {op} {value} (not rejected)"), sample_size="min_n_ks", needs_reference=True),
    "garch_match": Rule(
        "GARCH(1,1) α and β within tolerance of the reference book's",
        lambda s, t: garch_match(s.stats.garch, s.stats_ref.garch, _both(s, "n"), t),
        **bound("<=", "garch_rel_tol", "max rel. diff of α, β {op} {value:.0%}"), sample_size="min_n_garch",
        needs_reference=True),
    "hill_match": Rule(
        "Hill tail index within tolerance of the reference book's",
        lambda s, t: hill_match(s.stats.hill, s.stats_ref.hill, _both(s, "n_nonzero"), t),
        **bound("<=", "hill_rel_tol", "rel. diff {op} {value:.0%}"), sample_size="min_n_hill", needs_reference=True),
    "ljung_box_match": Rule(
        "Ljung-Box verdicts on squared returns equal the reference book's",
        lambda s, t: ljung_box_match(s.stats.ljung_box, s.stats_ref.ljung_box, _both(s, "n"), t),
        ok=lambda v, d, t: v == 0, threshold=lambda t: "0 lags with a different verdict",
        sample_size="min_n_ljung_box", needs_reference=True),
    "volatility_clustering": Rule(
        "Stylized fact: Ljung-Box on squared returns rejects at every lag",
        lambda s, t: volatility_clustering(s.stats.ljung_box, s.stats.n, t),
        ok=lambda v, d, t: v < t.lb_alpha, threshold=lambda t: f"Ljung-Box p < {t.lb_alpha} at lags {list(t.lb_lags)}",
        sample_size="min_n_ljung_box", needs_reference=False),
    "tail_index": Rule(
        "Stylized fact: Hill tail index of absolute returns in a plausible range",
        lambda s, t: tail_index(s.stats.hill, s.stats.n_nonzero, t),
        ok=lambda v, d, t: t.hill_alpha_min <= v <= t.hill_alpha_max,
        threshold=lambda t: f"{t.hill_alpha_min} <= α <= {t.hill_alpha_max}",
        sample_size="min_n_hill", needs_reference=False),
    "garch_persistence": Rule(
        "Stylized fact: GARCH(1,1) persistence α + β below 1, converged fit",
        lambda s, t: garch_persistence(s.stats.garch, s.stats.n, t),
        ok=lambda v, d, t: bool(d.get("converged")) and v < t.garch_persistence_max,
        threshold=lambda t: f"α + β < {t.garch_persistence_max}, converged",
        sample_size="min_n_garch", needs_reference=False),
    "vwap_prediction": Rule(
        "Marketable orders: VWAP predicted by walking the book before matches the realised VWAP",
        lambda s, t: vwap_prediction(s.orders, t),
        **bound("<=", "vwap_median_error_bp_max", "median |error| {op} {value} bp"), sample_size="min_n_vwap",
        needs_reference=False),
}


def compute_all(sample: Sample, th: Thresholds) -> list[StatResult]:
    """Every statistic of :data:`RULES`, in its order (a comparison is NO_REFERENCE when the sample
    has no reference)."""
    return [rule.compute(sample, th) if sample.stats_ref is not None or not rule.needs_reference
            else no_reference(name, th) for name, rule in RULES.items()]


def result(name: str, value: float | None, n: int, th: Thresholds, details: Details | None = None,
           rows: list[dict] | None = None) -> StatResult:
    """Judge ``value`` with :data:`RULES` [name] (``rows``: the first divergent rows, if any)."""
    rule = RULES[name]
    details = dict(details or {})
    min_n = rule.min_n(th)
    ok = value is not None and n >= min_n and rule.ok(value, details, th)
    verdict = judge(value, ok, n, min_n)
    if verdict is Verdict.TOO_FEW:
        details["reason"] = f"too few observations: n = {n} < {min_n} required"
    return StatResult(name, verdict, value, rule.threshold(th), n, min_n, details, list(rows or []))


def no_reference(name: str, th: Thresholds) -> StatResult:
    rule = RULES[name]
    return StatResult(name, Verdict.NO_REFERENCE, None, rule.threshold(th), 0, rule.min_n(th),
                      {"reason": "the partition has no reference book"})


# ---------------------------------------------------------------------------------------------
# against a reference book


def _view(frame: pl.DataFrame, n: int, suffix: str) -> pl.DataFrame:
    """The compared columns of a slice of one book (rebuilt: quoted rows, with ``ts_event``;
    reference, ``_ref`` suffix: usable rows), depth over the first ``n`` levels."""
    return frame.filter(usable(valid_only=bool(suffix))).select(
        "seq",
        *(["ts_event"] if not suffix else []),
        (pl.col("ask_price_1") - pl.col("bid_price_1")).alias(f"spread{suffix}"),
        mid_price().alias(f"mid{suffix}"),
        cumulative_depth("bid", n).alias(f"bid_depth{suffix}"),
        cumulative_depth("ask", n).alias(f"ask_depth{suffix}"),
    )


def _in_seq_order(slices: Iterator[pl.DataFrame], what: str) -> Iterator[pl.DataFrame]:
    """The slices, checked to be in strictly ascending ``seq`` (as every book table is written)."""
    last = None
    for part in slices:
        seq = part["seq"]
        ascending = seq.is_sorted() and seq.n_unique() == part.height and (last is None or seq[0] > last)
        if part.height and not ascending:
            raise ValueError(f"{what} rows are not in ascending seq order")
        last = seq[-1] if part.height else last
        yield part


def _merge_on_seq(rebuilt: Iterator[pl.DataFrame], reference: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """Inner join on ``seq`` of two streams of slices in ascending ``seq``: each rebuilt slice
    joined with the reference rows up to its last ``seq`` (read ahead as far as needed), the
    reference rows before it dropped; at least one frame, with the joined schema."""
    pending = next(reference)
    ahead = True
    for part in rebuilt:
        if part.height:
            last = part["seq"][-1]
            while ahead and (pending.height == 0 or pending["seq"][-1] < last):
                more = next(reference, None)
                ahead = more is not None
                pending = pl.concat([pending.filter(pl.col("seq") >= part["seq"][0]), more]) if ahead else pending
        upto = pending.filter(pl.col("seq") <= last) if part.height else pending.head(0)
        yield part.join(upto, on="seq", how="inner", maintain_order="left")
        if part.height:
            pending = pending.filter(pl.col("seq") > last)


def aligned_batches(book: pl.DataFrame | pl.LazyFrame, reference: pl.DataFrame | pl.LazyFrame,
                    slice_rows: int = SLICE_ROWS) -> Batched:
    """Rows of both books with the same ``seq`` (reference usable, rebuilt quoted): ``seq,
    ts_event, spread, mid, bid_depth, ask_depth`` and the same with a ``_ref`` suffix (depth over
    the levels both books carry), in ``seq`` order, slice by slice: both books are read
    ``slice_rows`` rows at a time and merged on ``seq`` (each in ascending ``seq``, as written), so
    memory is a few slices whatever the day's length."""
    frame, ref = lazy(book), lazy(reference)
    n = min(levels_of(frame), levels_of(ref))
    columns = ["seq", "ts_event", "book_valid", *level_names(n)]
    rebuilt = (_view(p, n, "") for p in _in_seq_order(table_slices(frame.select(columns), slice_rows), "book"))
    refs = (_view(p, n, "_ref") for p in _in_seq_order(table_slices(ref.select(columns), slice_rows), "reference book"))
    return Batched(_merge_on_seq(rebuilt, refs))


def align(book: pl.DataFrame | pl.LazyFrame, reference: pl.DataFrame | pl.LazyFrame,
          slice_rows: int = SLICE_ROWS) -> pl.DataFrame:
    """:func:`aligned_batches` as one frame (memory: the aligned rows of the day)."""
    return aligned_batches(book, reference, slice_rows).collect()


def _divergence(aligned: pl.DataFrame | pl.LazyFrame, col: str, tol: float = 1e-9) -> tuple[Details, Rows]:
    """First row where ``col`` and ``col_ref`` differ by more than ``tol``, the count of such rows,
    and the first five of them (``aligned`` is read by Polars' streaming engine: never whole)."""
    ref = f"{col}_ref"
    bad = lazy(aligned).filter((pl.col(col) - pl.col(ref)).abs() > tol).select("seq", "ts_event", col, ref)
    count = bad.select(pl.len()).collect(engine="streaming").item()
    if count == 0:
        return {f"{col}_divergent_rows": 0}, []
    head = bad.head(5).collect(engine="streaming")
    first = head.row(0, named=True)
    details = {
        f"{col}_divergent_rows": count,
        "first_divergent_seq": int(first["seq"]),
        "first_divergent_ts_event": int(first["ts_event"]),
        f"first_divergent_{col}": first[col],
        f"first_divergent_{ref}": first[ref],
    }
    return details, head.to_dicts()


def _corr(aligned: pl.DataFrame | pl.LazyFrame, a: str, b: str) -> tuple[float | None, int]:
    n, value = (lazy(aligned).select(a, b).drop_nulls().select(pl.len(), pl.corr(a, b))
                .collect(engine="streaming").row(0))
    if n < 2:
        return None, n
    return (None if value is None or np.isnan(value) else float(value)), n


def spread_correlation(aligned: pl.DataFrame | pl.LazyFrame, th: Thresholds) -> StatResult:
    value, n = _corr(aligned, "spread", "spread_ref")
    details, rows = _divergence(aligned, "spread")
    return result("spread_correlation", value, n, th, details, rows)


def depth_correlation(aligned: pl.DataFrame | pl.LazyFrame, th: Thresholds) -> StatResult:
    bid, n_bid = _corr(aligned, "bid_depth", "bid_depth_ref")
    ask, n_ask = _corr(aligned, "ask_depth", "ask_depth_ref")
    value = None if bid is None or ask is None else min(bid, ask)
    worst = "bid" if (bid or 0.0) <= (ask or 0.0) else "ask"
    details, rows = _divergence(aligned, f"{worst}_depth")
    details.update({"bid_depth_corr": bid, "ask_depth_corr": ask, "worst_side": worst})
    return result("depth_correlation", value, min(n_bid, n_ask), th, details, rows)


def l1_spread_error(aligned: pl.DataFrame | pl.LazyFrame, th: Thresholds) -> StatResult:
    """Mean of 10^4 |s_1 - s_1^ref| / m^ref over aligned rows; details: the first row of the
    largest error."""
    err = lazy(aligned).select(
        "seq", "ts_event", (1e4 * (pl.col("spread") - pl.col("spread_ref")).abs() / pl.col("mid_ref")).alias("err_bp")
    ).drop_nulls()
    n, mean, largest = err.select(
        pl.len(), pl.col("err_bp").mean().alias("mean"), pl.col("err_bp").max().alias("max")
    ).collect(engine="streaming").row(0)
    value = float(mean) if n else None
    details, rows = _divergence(aligned, "spread")
    if n:
        worst = err.filter(pl.col("err_bp") == largest).head(1).collect(engine="streaming").row(0, named=True)
        details.update({"max_error_bp": worst["err_bp"], "max_error_seq": int(worst["seq"])})
    return result("l1_spread_error_bp", value, n, th, details, rows)


def _returns_divergence(returns: pl.DataFrame, returns_ref: pl.DataFrame) -> tuple[Details, Rows]:
    """First interval whose return differs from the reference's (joined on the interval end ``ts_end``)."""
    joined = returns.select("ts_end", "log_return").join(
        returns_ref.select("ts_end", pl.col("log_return").alias("log_return_ref")), on="ts_end", how="full",
        coalesce=True,
    ).sort("ts_end")
    bad = joined.filter(
        (pl.col("log_return") - pl.col("log_return_ref")).abs().fill_null(1.0) > 1e-12
    )
    if bad.height == 0:
        return {"divergent_intervals": 0}, []
    first = bad.row(0, named=True)
    return (
        {"divergent_intervals": bad.height, "first_divergent_interval_end": int(first["ts_end"])},
        bad.head(5).select("ts_end", "log_return", "log_return_ref").to_dicts(),
    )


def ks_returns(returns: pl.DataFrame, returns_ref: pl.DataFrame, th: Thresholds) -> StatResult:
    """Two-sample KS of interval ``log_return`` columns (frames from
    :func:`obrecon_pipeline.metrics.returns.interval_returns`)."""
    x, y = returns["log_return"].to_numpy(), returns_ref["log_return"].to_numpy()
    n = int(min(x.size, y.size))
    details, rows = _returns_divergence(returns, returns_ref)
    if n < th.min_n_ks:
        return result("ks_returns", None, n, th, details)
    test = ks_2samp(x, y)
    details.update({"ks_statistic": float(test.statistic), "n_rebuilt": int(x.size), "n_reference": int(y.size)})
    return result("ks_returns", float(test.pvalue), n, th, details, rows)


def _rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b) if b != 0 else (0.0 if a == b else float("inf"))


def garch_match(fit: Garch11 | None, fit_ref: Garch11 | None, n: int, th: Thresholds) -> StatResult:
    if fit is None or fit_ref is None:
        return result("garch_match", None, n, th)
    value = max(_rel(fit.alpha, fit_ref.alpha), _rel(fit.beta, fit_ref.beta))
    details = {"alpha": fit.alpha, "beta": fit.beta, "alpha_ref": fit_ref.alpha, "beta_ref": fit_ref.beta,
               "converged": fit.converged and fit_ref.converged}
    return result("garch_match", value, n, th, details)


def hill_match(est: HillEstimate | None, est_ref: HillEstimate | None, n: int, th: Thresholds) -> StatResult:
    if est is None or est_ref is None:
        return result("hill_match", None, n, th)
    details = {"alpha": est.alpha, "alpha_ref": est_ref.alpha, "se": est.se, "se_ref": est_ref.se, "k": est.k}
    return result("hill_match", _rel(est.alpha, est_ref.alpha), min(est.n, est_ref.n), th, details)


def ljung_box_match(lb: list[LjungBox] | None, lb_ref: list[LjungBox] | None, n: int, th: Thresholds) -> StatResult:
    if lb is None or lb_ref is None:
        return result("ljung_box_match", None, n, th)
    differ = [a.lag for a, b in zip(lb, lb_ref) if a.rejects(th.lb_alpha) != b.rejects(th.lb_alpha)]
    details: Details = {}
    for a, b in zip(lb, lb_ref):
        details.update({f"q_{a.lag}": a.statistic, f"p_{a.lag}": a.p_value, f"q_{a.lag}_ref": b.statistic,
                        f"p_{a.lag}_ref": b.p_value})
    if differ:
        details["lags_differing"] = ",".join(map(str, differ))
    return result("ljung_box_match", float(len(differ)), n, th, details)


# ---------------------------------------------------------------------------------------------
# on the rebuilt book alone


def volatility_clustering(lb: list[LjungBox] | None, n: int, th: Thresholds) -> StatResult:
    if lb is None:
        return result("volatility_clustering", None, n, th)
    details: Details = {}
    for a in lb:
        details.update({f"q_{a.lag}": a.statistic, f"p_{a.lag}": a.p_value})
    return result("volatility_clustering", max(a.p_value for a in lb), n, th, details)


def tail_index(est: HillEstimate | None, n: int, th: Thresholds) -> StatResult:
    if est is None:
        return result("tail_index", None, n, th)
    return result("tail_index", est.alpha, est.n, th, {"se": est.se, "k": est.k})


def garch_persistence(fit: Garch11 | None, n: int, th: Thresholds) -> StatResult:
    if fit is None:
        return result("garch_persistence", None, n, th)
    details = {"omega": fit.omega, "alpha": fit.alpha, "beta": fit.beta, "mu": fit.mu,
               "converged": fit.converged, "scale": fit.scale}
    return result("garch_persistence", fit.persistence, fit.n, th, details)


#: the columns of :func:`obrecon_pipeline.metrics.impact.marketable_orders` that
#: :func:`vwap_prediction` reads (a :class:`Sample` holds no others through the comparisons)
VWAP_COLUMNS = ("ts_event", "first_arrival", "side", "size", "vwap", "predicted_vwap", "beyond_book", "vwap_error_bp")


def vwap_prediction(orders: pl.DataFrame, th: Thresholds) -> StatResult:
    """Median |VWAP_pred - VWAP| in bp over marketable orders with a prediction (frame from
    :func:`obrecon_pipeline.metrics.impact.marketable_orders`)."""
    scored = orders.filter(pl.col("vwap_error_bp").is_not_null()).with_columns(
        pl.col("vwap_error_bp").abs().alias("abs_error_bp")
    )
    n = scored.height
    value = float(scored["abs_error_bp"].median()) if n else None
    details: Details = {"orders": orders.height, "beyond_book": int(orders["beyond_book"].sum())}
    rows: Rows = []
    if n:
        bad = scored.filter(pl.col("abs_error_bp") > th.vwap_median_error_bp_max)
        details["orders_over_threshold"] = bad.height
        if bad.height:
            first = bad.row(0, named=True)
            details.update({"first_bad_order_ts_event": int(first["ts_event"]),
                            "first_bad_order_arrival": int(first["first_arrival"]),
                            "first_bad_order_error_bp": first["vwap_error_bp"]})
            rows = bad.head(5).select(
                "ts_event", "first_arrival", "side", "size", "vwap", "predicted_vwap", "vwap_error_bp"
            ).to_dicts()
    return result("vwap_prediction", value, n, th, details, rows)
