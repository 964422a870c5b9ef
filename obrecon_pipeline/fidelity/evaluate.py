"""Every fidelity statistic of one partition, and the one-row report table.

:func:`return_statistics` fits Ljung-Box, Hill and GARCH(1,1) on the interval returns only where n
reaches each statistic's minimum (fewer observations give TOO_FEW, never an estimate on noise);
:func:`evaluate` runs the stylized-fact verdicts on the rebuilt book and, when a reference book is
given, the comparisons of :mod:`.compare`, both on the book as published (rows the replayer flagged
invalid included and counted, so a damaged book cannot hide behind its flags); :func:`report_row`
flattens the results into the ``fidelity_report`` row.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import polars as pl

from obrecon_pipeline.fidelity import compare
from obrecon_pipeline.fidelity.garch import fit_garch11
from obrecon_pipeline.fidelity.hill import hill_k, hill_tail_index
from obrecon_pipeline.fidelity.ljung_box import ljung_box_squared
from obrecon_pipeline.fidelity.statistics import ReturnStatistics
from obrecon_pipeline.fidelity.thresholds import Thresholds
from obrecon_pipeline.fidelity.verdict import StatResult
from obrecon_pipeline.metrics.impact import marketable_orders
from obrecon_pipeline.metrics.returns import interval_returns


@dataclass(frozen=True)
class Evaluation:
    results: list[StatResult]
    #: Ljung-Box, Hill and GARCH estimates of the rebuilt book and (``ref_`` prefix) the reference
    estimates: dict[str, float | None]


def return_statistics(returns: np.ndarray, th: Thresholds) -> ReturnStatistics:
    """Ljung-Box, Hill and GARCH(1,1) of ``returns``, each None below its minimum n."""
    r = np.asarray(returns, dtype=float)
    nonzero = int(np.count_nonzero(r))
    lb = ljung_box_squared(r, th.lb_lags) if r.size >= th.min_n_ljung_box else None
    hill = (
        hill_tail_index(r, th.hill_fraction)
        if nonzero >= th.min_n_hill and hill_k(nonzero, th.hill_fraction) >= 1
        else None
    )
    garch = fit_garch11(r) if r.size >= th.min_n_garch and np.std(r) > 0 else None
    return ReturnStatistics(int(r.size), nonzero, lb, hill, garch)


def flagged_rows(book: pl.DataFrame | pl.LazyFrame) -> dict[str, int]:
    """How many rows the replayer flagged invalid, and the first one (``seq``, ``ts_event``)."""
    frame = book.lazy() if isinstance(book, pl.DataFrame) else book
    bad = frame.filter(~pl.col("book_valid")).select("seq", "ts_event").collect()
    out = {"rows_flagged_invalid": bad.height}
    if bad.height:
        out.update({"first_flagged_seq": int(bad["seq"][0]), "first_flagged_ts_event": int(bad["ts_event"][0])})
    return out


def evaluate(
    book: pl.DataFrame | pl.LazyFrame,
    events: pl.DataFrame | pl.LazyFrame,
    reference: pl.DataFrame | pl.LazyFrame | None,
    th: Thresholds,
) -> Evaluation:
    """All fidelity statistics of a partition (reference comparisons NO_REFERENCE without one).

    Every statistic judges the book as published: rows the replayer flagged invalid are included
    (a damaged book cannot hide behind its flags) and counted in each result's details.

    Memory does not grow with the day's rows: the marketable orders and the alignment with the
    reference read the books slice by slice (:mod:`obrecon_pipeline.metrics.batches`), the aligned
    rows go to a scratch Parquet file (the system's temporary directory, removed on return) that
    the comparisons scan; the whole-series statistics (Ljung-Box, Hill, GARCH, KS) take the
    interval returns, one float per interval of ``stats_interval_s`` (86,400 at most for a 1 s day),
    not per event, so they are exact and bounded without sampling.
    """
    flagged = flagged_rows(book)
    returns = interval_returns(book, th.stats_interval_s, valid_only=False).collect(engine="streaming")
    stats = return_statistics(returns["log_return"].to_numpy(), th)
    orders = marketable_orders(events, book, valid_only=False).select(compare.VWAP_COLUMNS)
    sample = compare.Sample(stats, returns, orders)
    estimates = stats.estimates(th.lb_lags)
    with tempfile.TemporaryDirectory(prefix="obrecon-aligned-") as scratch:
        if reference is None:
            estimates |= {k: None for k in stats.estimates(th.lb_lags, "ref_")}
        else:
            returns_ref = interval_returns(reference, th.stats_interval_s).collect(engine="streaming")
            ref = return_statistics(returns_ref["log_return"].to_numpy(), th)
            estimates |= ref.estimates(th.lb_lags, "ref_")
            aligned = Path(scratch) / "aligned.parquet"
            compare.aligned_batches(book, reference).write_parquet(aligned)
            sample = replace(sample, aligned=pl.scan_parquet(aligned), stats_ref=ref, returns_ref=returns_ref)
        results = compare.compute_all(sample, th)
    for r in results:
        r.details.update(flagged)
    return Evaluation(results, estimates)


def report_row(evaluation: Evaluation, **partition: str | int | float) -> pl.DataFrame:
    """One row: the ``partition`` fields, the estimates (``lb_q_10``, ``hill_alpha``,
    ``garch_beta``, ..., and ``ref_...``), then per statistic ``<name>_value``, ``_verdict``,
    ``_threshold``, ``_n``, ``_min_n``, ``_details`` and ``_rows`` (JSON)."""
    row: dict[str, object] = dict(partition)
    schema: dict[str, pl.DataType] = {k: pl.Utf8 if isinstance(v, str) else pl.Float64 for k, v in partition.items()}
    row.update(evaluation.estimates)
    schema.update({k: pl.Float64 for k in evaluation.estimates})
    for r in evaluation.results:
        row.update({
            f"{r.name}_value": r.value,
            f"{r.name}_verdict": r.verdict.value,
            f"{r.name}_threshold": r.threshold,
            f"{r.name}_n": r.n,
            f"{r.name}_min_n": r.min_n,
            f"{r.name}_details": json.dumps(r.details, default=float),
            f"{r.name}_rows": json.dumps(r.rows, default=float),
        })
        schema.update({
            f"{r.name}_value": pl.Float64, f"{r.name}_verdict": pl.Utf8, f"{r.name}_threshold": pl.Utf8,
            f"{r.name}_n": pl.Int64, f"{r.name}_min_n": pl.Int64, f"{r.name}_details": pl.Utf8,
            f"{r.name}_rows": pl.Utf8,
        })
    return pl.DataFrame([row], schema=schema)
